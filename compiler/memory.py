"""Lowering of the memory instructions: loads, stores, memory.size/grow and bulk memory.

Accesses are unaligned (align 1): wasm alignment is only a hint. How an access's address is
formed and checked is addresses.py.
"""

from pywamr.runtime import aot_abi as abi

from . import ir_text as ir
from .addresses import (effective_address, load_at, load_at_wide, memory_base,
                        memory_size_bytes)
from .signatures import F32, F64, I1, I8, I16, I32, I64, PTR, VOID

# name -> (bytes accessed, type in memory, type on the stack, signed extension?)
LOADS = {
    "i32.load": (4, I32, I32, None), "i64.load": (8, I64, I64, None),
    "f32.load": (4, F32, F32, None), "f64.load": (8, F64, F64, None),
    "i32.load8_s": (1, I8, I32, True), "i32.load8_u": (1, I8, I32, False),
    "i32.load16_s": (2, I16, I32, True), "i32.load16_u": (2, I16, I32, False),
    "i64.load8_s": (1, I8, I64, True), "i64.load8_u": (1, I8, I64, False),
    "i64.load16_s": (2, I16, I64, True), "i64.load16_u": (2, I16, I64, False),
    "i64.load32_s": (4, I32, I64, True), "i64.load32_u": (4, I32, I64, False),
}

# name -> (bytes accessed, type in memory)
STORES = {
    "i32.store": (4, I32), "i64.store": (8, I64), "f32.store": (4, F32), "f64.store": (8, F64),
    "i32.store8": (1, I8), "i32.store16": (2, I16),
    "i64.store8": (1, I8), "i64.store16": (2, I16), "i64.store32": (4, I32),
}


def _i64(value):
    return ir.Constant(I64, value)


def load(fx, name, memarg, addr, guarded=False, wide=None):
    """`guarded`: in a scan loop (scan_loops.py); `wide`: there, the 64-bit copy of the
    pointer `addr` is (scan_loops.py, "Wide pointers")."""
    size, mem_type, stack_type, signed = LOADS[name]
    _, offset, memory = memarg
    if wide is not None:
        value = load_at_wide(fx, addr, wide, size, mem_type)
    else:
        value = load_at(fx, addr, offset, size, mem_type, guarded, memory)
    if signed is None:
        return value
    return fx.builder.sext(value, stack_type) if signed else fx.builder.zext(value, stack_type)


def store(fx, name, memarg, addr, value):
    size, mem_type = STORES[name]
    _, offset, memory = memarg
    if value.type != mem_type:
        value = fx.builder.trunc(value, mem_type)
    fx.builder.store(value, effective_address(fx, addr, offset, size, memory), align=1)


def memory_size(fx, memory):
    pages = fx.builder.lshr(memory_size_bytes(fx, memory), _i64(16))
    return pages if fx.menv.memory64[memory] else fx.builder.trunc(pages, I32)


def memory_grow(fx, memory, delta):
    """Memory 0 through its own helper, which code without multi-memory has always called;
    another memory through the helper that takes its index; a 64-bit memory through the one
    that takes an i64 delta."""
    if fx.menv.memory64[memory]:
        old_pages = fx.call_helper(abi.HELPER_MEMORY_GROW64, I64,
                                   [ir.Constant(I32, memory), delta])
    elif memory:
        old_pages = fx.call_helper(abi.HELPER_MEMORY_GROW_AT, I32,
                                   [ir.Constant(I32, memory), delta])
    else:
        old_pages = fx.call_helper(abi.HELPER_MEMORY_GROW, I32, [delta])
    fx.refresh_memory_size()    # also after another memory's: two imports may be one memory
    return old_pages


def _check_range(fx, memory, start, length):
    """Trap unless [start, start + length) lies in the memory. Also with guard pages: a bulk
    operation that is out of bounds must not write anything. For i32 operands their sum in
    64 bits; with an i64 (memory64), which may wrap, length <= size and start <= size -
    length."""
    b = fx.builder
    if start.type == length.type == I32:
        end = b.add(b.zext(start, I64), b.zext(length, I64))
        fx.trap_if(b.icmp_unsigned(">", end, memory_size_bytes(fx, memory)),
                   abi.TRAP_OUT_OF_BOUNDS_MEMORY)
        return
    start, length = _wide(fx, start), _wide(fx, length)
    size = memory_size_bytes(fx, memory)
    fx.trap_if(b.or_(b.icmp_unsigned(">", length, size),
                     b.icmp_unsigned(">", start, b.sub(size, length))),
               abi.TRAP_OUT_OF_BOUNDS_MEMORY)


def _wide(fx, value):
    """An address or length as an i64: an i32 zero-extended."""
    return fx.builder.zext(value, I64) if value.type == I32 else value


def _pointer(fx, memory, addr):
    return fx.builder.gep(memory_base(fx, memory), [_wide(fx, addr)], source_etype=I8)


def memory_fill(fx, memory, dst, value, length):
    _check_range(fx, memory, dst, length)
    fx.call_intrinsic("llvm.memset.p0.i64", VOID,
                      [_pointer(fx, memory, dst), fx.builder.trunc(value, I8),
                       _wide(fx, length), ir.Constant(I1, 0)],
                      arg_types=[PTR, I8, I64, I1])


def memory_copy(fx, memories, dst, src, length):
    """Within one memory or between two: memmove either way, as two memories never overlap.
    Between a 32- and a 64-bit memory the length is an i32 (memory64)."""
    dst_memory, src_memory = memories
    _check_range(fx, src_memory, src, length)
    _check_range(fx, dst_memory, dst, length)
    fx.call_intrinsic("llvm.memmove.p0.p0.i64", VOID,
                      [_pointer(fx, dst_memory, dst), _pointer(fx, src_memory, src),
                       _wide(fx, length), ir.Constant(I1, 0)],
                      arg_types=[PTR, PTR, I64, I1])


def memory_init(fx, imm, dst, src, length):
    segment, memory = imm
    if fx.menv.memory64[memory]:
        fx.call_helper(abi.HELPER_MEMORY_INIT64, VOID,
                       [ir.Constant(I32, memory), ir.Constant(I32, segment), dst, src, length],
                       may_trap=True)
    elif memory:
        fx.call_helper(abi.HELPER_MEMORY_INIT_AT, VOID,
                       [ir.Constant(I32, memory), ir.Constant(I32, segment), dst, src, length],
                       may_trap=True)
    else:
        fx.call_helper(abi.HELPER_MEMORY_INIT, VOID,
                       [ir.Constant(I32, segment), dst, src, length], may_trap=True)


def data_drop(fx, segment):
    fx.call_helper(abi.HELPER_DATA_DROP, VOID, [ir.Constant(I32, segment)])
