"""The runtime helpers compiled code calls through `ctx->helpers`, and the `host_call`
trampoline into Python host functions (docs/aot-abi.md).

One set serves the whole process: each entry point finds its instance from the VMContext
it is given. They are ctypes callbacks, so a Python exception must never escape one (ctypes
would print it and return garbage): any exception, a Trap included, is saved in the calling
thread's ExecEnv, whose trap code is set for the compiled code to unwind, and the call from
Python re-raises it. (A callback runs on the thread whose compiled code called it.)
"""

import ctypes
import weakref

from pywamr.runtime import aot_abi

from .exec_env import current, trap_with_exception

_u32 = ctypes.c_uint32
_u64 = ctypes.c_uint64
_i32 = ctypes.c_int32
_i64 = ctypes.c_int64

_instances = weakref.WeakValueDictionary()     # VMContext address -> Instance


def register_instance(ctx_address, instance):
    _instances[ctx_address] = instance


def _memory_grow(ctx, delta):
    return _instances[ctx].memory_grow(0, delta)


def _memory_init(ctx, segment, dst, src, n):
    _instances[ctx].memory_init(0, segment, dst, src, n)


def _memory_grow_at(ctx, memory, delta):
    return _instances[ctx].memory_grow(memory, delta)


def _memory_init_at(ctx, memory, segment, dst, src, n):
    _instances[ctx].memory_init(memory, segment, dst, src, n)


def _data_drop(ctx, segment):
    _instances[ctx].data_drop(segment)


def _table_init(ctx, table, segment, dst, src, n):
    _instances[ctx].table_init(table, segment, dst, src, n)


def _elem_drop(ctx, segment):
    _instances[ctx].elem_drop(segment)


def _table_copy(ctx, dst_table, src_table, dst, src, n):
    _instances[ctx].table_copy(dst_table, src_table, dst, src, n)


def _table_grow(ctx, table, init, delta):
    return _instances[ctx].table_grow(table, init, delta)


def _table_fill(ctx, table, dst, value, n):
    _instances[ctx].table_fill(table, dst, value, n)


def _exception_buffer(ctx, size):
    from . import exceptions        # loaded by the first throw, not at start-up
    exceptions.new_buffer(current(), size)


def _host_call(ctx, import_index, argv):
    _instances[ctx].call_host(import_index, argv)


def _entry_point(restype, argtypes, function):
    """A C-callable wrapper of `function` that turns any exception into a trap."""
    def guarded(*args):
        try:
            return function(*args)
        except BaseException as exception:     # re-raised when the call from Python returns
            trap_with_exception(exception)
            return 0 if restype is not None else None
    return ctypes.CFUNCTYPE(restype, _u64, *argtypes)(guarded)


_HELPERS = {
    aot_abi.HELPER_MEMORY_GROW: _entry_point(_i32, [_u32], _memory_grow),
    aot_abi.HELPER_MEMORY_INIT: _entry_point(None, [_u32, _u32, _u32, _u32], _memory_init),
    aot_abi.HELPER_DATA_DROP: _entry_point(None, [_u32], _data_drop),
    aot_abi.HELPER_TABLE_INIT: _entry_point(None, [_u32, _u32, _u32, _u32, _u32], _table_init),
    aot_abi.HELPER_ELEM_DROP: _entry_point(None, [_u32], _elem_drop),
    aot_abi.HELPER_TABLE_COPY: _entry_point(None, [_u32, _u32, _u32, _u32, _u32], _table_copy),
    aot_abi.HELPER_TABLE_GROW: _entry_point(_i32, [_u32, _u64, _u32], _table_grow),
    aot_abi.HELPER_TABLE_FILL: _entry_point(None, [_u32, _u32, _u64, _u32], _table_fill),
    aot_abi.HELPER_EXCEPTION_BUFFER: _entry_point(None, [_u64], _exception_buffer),
    aot_abi.HELPER_MEMORY_GROW_AT: _entry_point(_i32, [_u32, _u32], _memory_grow_at),
    aot_abi.HELPER_MEMORY_INIT_AT: _entry_point(None, [_u32, _u32, _u32, _u32, _u32],
                                                _memory_init_at),
    aot_abi.HELPER_MEMORY_GROW64: _entry_point(_i64, [_u32, _u64], _memory_grow_at),
    aot_abi.HELPER_MEMORY_INIT64: _entry_point(None, [_u32, _u32, _u64, _u32, _u32],
                                               _memory_init_at),
    aot_abi.HELPER_TABLE_INIT64: _entry_point(None, [_u32, _u32, _u64, _u32, _u32],
                                              _table_init),
    aot_abi.HELPER_TABLE_COPY64: _entry_point(None, [_u32, _u32, _u64, _u64, _u64],
                                              _table_copy),
    aot_abi.HELPER_TABLE_GROW64: _entry_point(_i64, [_u32, _u64, _u64], _table_grow),
    aot_abi.HELPER_TABLE_FILL64: _entry_point(None, [_u32, _u64, _u64, _u64], _table_fill),
}
HELPERS_TABLE = (ctypes.c_void_p * aot_abi.NUM_HELPERS)(
    *[ctypes.cast(_HELPERS[slot], ctypes.c_void_p) for slot in range(aot_abi.NUM_HELPERS)])
HELPERS_ADDRESS = ctypes.addressof(HELPERS_TABLE)

_HOST_CALL = _entry_point(None, [_u32, _u64], _host_call)
HOST_CALL_ADDRESS = ctypes.cast(_HOST_CALL, ctypes.c_void_p).value
