"""Tags and exception objects of compiled code, and exceptions crossing Python
(docs/aot-abi.md, "Exceptions").

A tag is a `TagDesc` record; its address is its identity, which compiled code compares: an
instance's `ctx->tags` holds the records of the tags it defines and, for the tags it
imports, the exporter's. An exception object is the tag's address followed by the payload
in u64 slots (an argv's layout). Compiled code asks for one through the helper
HELPER_NEW_EXCEPTION and fills in the payload; Python makes one for an exception a host
function raises. There is no garbage collector to say when compiled code has dropped its
last exnref, which it may keep in any table, global or local, so objects are kept for the
life of the process, as externref handles are: they are carved out of large buffers, 8
bytes plus 8 per payload slot each, without a Python object per exception.

An exception reaches Python when nothing caught it (the array call returns with
TRAP_EXCEPTION and ExecEnv.exception set; `exception_from`) and leaves Python when a host
function raises one (`throw_from_host`): its import adapter then throws it on in compiled
code, where handlers of the wasm that called the host function may catch it.
"""

import ctypes
import weakref

from pywamr.runtime.aot_abi import EXCEPTION_PAYLOAD, TRAP_EXCEPTION, TagDesc, slot_count
from .slots import read_slots, write_slots

_ARENA_SIZE = 1 << 16
_arenas = []                # the buffers exception objects are carved from, never freed
_free = [0, 0]              # address and size left in the newest buffer

_tags = weakref.WeakValueDictionary()   # TagDesc address -> AotTag


class AotTag:
    """A tag of compiled code: `type` is its function type (structural_types' form), whose
    params are the payload's types."""

    def __init__(self, functype):
        self.type = functype
        self.desc = TagDesc()
        self.address = ctypes.addressof(self.desc)
        self.keepalive = set()      # instances that import it
        _tags[self.address] = self


def new_exception(tag):
    """The address of a new exception object of `tag`, its payload zero."""
    size = EXCEPTION_PAYLOAD + 8 * slot_count(tag.type.params)
    size = (size + 7) & ~7
    address, left = _free
    if left < size:
        arena = (ctypes.c_uint64 * (max(size, _ARENA_SIZE) // 8))()
        _arenas.append(arena)
        address, left = ctypes.addressof(arena), ctypes.sizeof(arena)
    _free[0], _free[1] = address + size, left - size
    ctypes.c_uint64.from_address(address).value = tag.address
    return address


def tag_of(address):
    """The AotTag of exception object `address`."""
    return _tags[ctypes.c_uint64.from_address(address).value]


def payload_of(address):
    """The payload values of exception object `address` (as read_slots gives them)."""
    params = tag_of(address).type.params
    slots = (ctypes.c_uint64 * max(slot_count(params), 1)).from_address(
        address + EXCEPTION_PAYLOAD)
    return read_slots(params, slots)


def exception_from(env):
    """The Python exception for the exception object an uncaught throw left in `env`."""
    address = env.exception
    env.exception = 0
    return WasmException(tag_of(address), payload_of(address), address)


def throw_from_host(env, exception):
    """Make the import adapter of the host function that raised `exception` throw it on."""
    address = getattr(exception, "address", None)
    if address is None:
        address = new_exception(exception.tag)
        params = exception.tag.type.params
        slots = (ctypes.c_uint64 * max(slot_count(params), 1)).from_address(
            address + EXCEPTION_PAYLOAD)
        write_slots(params, exception.payload, slots)
    env.exception = address
    env.trap_code = TRAP_EXCEPTION


def is_wasm_exception(exception):
    return isinstance(exception, WasmException)


class WasmException(Exception):
    """Placeholder until the embedding API's exception class lands."""

    def __init__(self, tag, payload, address=None):
        self.tag = tag
        self.payload = payload
        self.address = address
        super().__init__(f"uncaught wasm exception ({len(payload)} values)")
