"""Lowering of the table and reference instructions.

A table is reached through its TableDesc { u64 size; void** elems; u64 max; }; size and
elems change when the table grows, so they are loaded at every access. get/set/size are
inline; grow, fill, copy, init and elem.drop call runtime helpers.
"""

from pywamr.runtime import aot_abi as abi

from . import ir_text as ir
from .signatures import I32, I64, PTR, VOID


def element_pointer(fx, table, index, trap_code):
    """Pointer to element `index` (an i32) of `table`, trapping with `trap_code` when the
    index is not below the table's size."""
    desc = fx.table_desc(table)
    index = fx.builder.zext(index, I64)
    size = fx.load(desc, abi.TABLE_SIZE, I64)
    fx.trap_if(fx.builder.icmp_unsigned(">=", index, size), trap_code)
    elems = fx.load(desc, abi.TABLE_ELEMS, PTR)
    return fx.builder.gep(elems, [index], source_etype=PTR)


def table_get(fx, table, index):
    slot = element_pointer(fx, table, index, abi.TRAP_OUT_OF_BOUNDS_TABLE)
    return fx.builder.load(slot, typ=PTR)


def table_set(fx, table, index, value):
    slot = element_pointer(fx, table, index, abi.TRAP_OUT_OF_BOUNDS_TABLE)
    fx.builder.store(value, slot)


def table_size(fx, table):
    return fx.builder.trunc(fx.load(fx.table_desc(table), abi.TABLE_SIZE, I64), I32)


def _i32(value):
    return ir.Constant(I32, value)


def table_grow(fx, table, init, delta):
    return fx.call_helper(abi.HELPER_TABLE_GROW, I32, [_i32(table), init, delta])


def table_fill(fx, table, dst, value, length):
    fx.call_helper(abi.HELPER_TABLE_FILL, VOID, [_i32(table), dst, value, length],
                   may_trap=True)


def table_copy(fx, dst_table, src_table, dst, src, length):
    fx.call_helper(abi.HELPER_TABLE_COPY, VOID,
                   [_i32(dst_table), _i32(src_table), dst, src, length], may_trap=True)


def table_init(fx, segment, table, dst, src, length):
    fx.call_helper(abi.HELPER_TABLE_INIT, VOID, [_i32(table), _i32(segment), dst, src, length],
                   may_trap=True)


def elem_drop(fx, segment):
    fx.call_helper(abi.HELPER_ELEM_DROP, VOID, [_i32(segment)])


def ref_null(fx):
    return ir.Constant(PTR, None)


def ref_is_null(fx, ref):
    return fx.builder.zext(fx.builder.icmp_unsigned("==", ref, ref_null(fx)), I32)


def ref_func(fx, func_index):
    return fx.array_element(abi.CTX_FUNC_REFS, func_index)
