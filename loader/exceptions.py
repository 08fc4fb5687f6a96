"""Tags and exception objects of compiled code, and exceptions crossing Python
(docs/aot-abi.md, "Exceptions").

A tag is a runtime.api.Tag, the same object on both engines; compiled code knows it by the
address of a `TagDesc` record the loader keeps for it (`tag_address`), which it compares:
an instance's `ctx->tags` holds the records of the tags it defines and, for the tags it
imports, the exporter's (or the Python-made Tag's). An exception object is the record's
address followed by the payload in u64 slots (an argv's layout). A throw in compiled code
carves one out of its thread's buffer (ExecEnv.exception_next/end), asking for a new buffer
(`new_buffer`, the helper HELPER_EXCEPTION_BUFFER) when that one is used up; Python makes
its own for an exception a host function raises or an exnref it passes in. No garbage
collector says when compiled code has dropped its last exnref, which it may keep in any
table, global or local, so buffers are never freed, as externref handles are kept for the
life of the process: a throw costs 8 bytes plus 8 per payload slot.

At the API an exception is a runtime.errors.WasmException: the loader raises one when a
call from Python ends with an exception nothing caught (`exception_from`, TRAP_EXCEPTION),
a host function raises one to throw into wasm (`throw_from_host`: its import adapter throws
it on in compiled code), and an exnref crosses the API as one (`exnref_to_python`,
`exnref_to_raw`).
"""

import ctypes

from pywamr.runtime.aot_abi import (EXCEPTION_PAYLOAD, EXCEPTION_TAG, TRAP_EXCEPTION, TagDesc,
                                    slot_count)
from pywamr.runtime.errors import WasmException

from . import slots

BUFFER_SIZE = 1 << 16
_buffers = []           # every buffer exception objects were carved from, never freed
_python_free = [0, 0]   # address and size of what is left of Python's own buffer

# Tag -> its TagDesc, and TagDesc address -> Tag. Kept for good, as the exception objects
# that point at the records are: an exnref may outlive the instance that threw it.
_descs = {}
_tags = {}


def tag_address(tag):
    """The address compiled code knows `tag` by."""
    desc = _descs.get(tag)
    if desc is None:
        desc = _descs[tag] = TagDesc()
        _tags[ctypes.addressof(desc)] = tag
    return ctypes.addressof(desc)


def _buffer(size):
    """(address, size) of a new buffer of at least `size` bytes, kept forever."""
    buffer = (ctypes.c_uint64 * (max(size, BUFFER_SIZE) // 8 + 1))()
    _buffers.append(buffer)
    return ctypes.addressof(buffer), ctypes.sizeof(buffer)


def new_buffer(env, size):
    """HELPER_EXCEPTION_BUFFER: a new buffer for the throws of `env`'s thread."""
    address, length = _buffer(size)
    env.exception_next, env.exception_end = address, address + length


def _payload_slots(address, params):
    return (ctypes.c_uint64 * max(slot_count(params), 1)).from_address(
        address + EXCEPTION_PAYLOAD)


def _new_exception(exception):
    """The address of a new exception object holding `exception` (a WasmException)."""
    params = exception.tag.type.params
    size = EXCEPTION_PAYLOAD + 8 * slot_count(params)
    address, left = _python_free
    if left < size:
        address, left = _buffer(size)
    _python_free[:] = [address + size, left - size]
    ctypes.c_uint64.from_address(address + EXCEPTION_TAG).value = tag_address(exception.tag)
    slots.write_slots(params, exception.bits(), _payload_slots(address, params))
    return address


def exnref_to_python(address):
    """The WasmException of exception object `address`; None for null."""
    if not address:
        return None
    tag = _tags[ctypes.c_uint64.from_address(address + EXCEPTION_TAG).value]
    payload = _payload_slots(address, tag.type.params)
    return WasmException.from_bits(tag, slots.read_slots(tag.type.params, payload))


def exnref_to_raw(exception):
    """An exception object holding the WasmException `exception`; 0 for None."""
    if exception is None:
        return 0
    if not isinstance(exception, WasmException):
        raise TypeError(f"an exnref must be None or a WasmException, not "
                        f"{type(exception).__name__}")
    return _new_exception(exception)


def exception_from(env):
    """The WasmException of the exception an uncaught throw left in `env`."""
    address, env.exception = env.exception, 0
    return exnref_to_python(address)


def throw_from_host(env, exception):
    """Make the import adapter of the host function that raised the WasmException
    `exception` throw it on in compiled code."""
    env.exception = _new_exception(exception)
    env.trap_code = TRAP_EXCEPTION
