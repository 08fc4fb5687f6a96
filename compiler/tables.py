"""Lowering of the table and reference instructions.

A table is reached through its TableDesc { u64 size; void** elems; u64 max; }; size and
elems change when the table grows, so they are loaded at every access. get/set/size are
inline; grow, fill, copy, init and elem.drop call runtime helpers. A 64-bit table
(memory64) takes i64 indices, sizes and counts, and the helpers for them.
"""

from pywamr.runtime import aot_abi as abi

from . import ir_text as ir
from .signatures import I32, I64, PTR, VOID


def element_pointer(fx, table, index, trap_code):
    """Pointer to element `index` (an i32, or an i64 of a 64-bit table) of `table`,
    trapping with `trap_code` when the index is not below the table's size."""
    desc = fx.table_desc(table)
    index = _wide(fx, index)
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
    size = fx.load(fx.table_desc(table), abi.TABLE_SIZE, I64)
    return size if fx.menv.table64[table] else fx.builder.trunc(size, I32)


def _i32(value):
    return ir.Constant(I32, value)


def _wide(fx, value):
    """An index or count as an i64: an i32 zero-extended."""
    return fx.builder.zext(value, I64) if value.type == I32 else value


def table_grow(fx, table, init, delta):
    if fx.menv.table64[table]:
        return fx.call_helper(abi.HELPER_TABLE_GROW64, I64, [_i32(table), init, delta])
    return fx.call_helper(abi.HELPER_TABLE_GROW, I32, [_i32(table), init, delta])


def table_fill(fx, table, dst, value, length):
    if fx.menv.table64[table]:
        fx.call_helper(abi.HELPER_TABLE_FILL64, VOID, [_i32(table), dst, value, length],
                       may_trap=True)
        return
    fx.call_helper(abi.HELPER_TABLE_FILL, VOID, [_i32(table), dst, value, length],
                   may_trap=True)


def table_copy(fx, dst_table, src_table, dst, src, length):
    """Between a 32- and a 64-bit table the 64-bit one's index is an i64, the others i32s."""
    if fx.menv.table64[dst_table] or fx.menv.table64[src_table]:
        fx.call_helper(abi.HELPER_TABLE_COPY64, VOID,
                       [_i32(dst_table), _i32(src_table), _wide(fx, dst), _wide(fx, src),
                        _wide(fx, length)], may_trap=True)
        return
    fx.call_helper(abi.HELPER_TABLE_COPY, VOID,
                   [_i32(dst_table), _i32(src_table), dst, src, length], may_trap=True)


def table_init(fx, segment, table, dst, src, length):
    helper = abi.HELPER_TABLE_INIT64 if fx.menv.table64[table] else abi.HELPER_TABLE_INIT
    fx.call_helper(helper, VOID, [_i32(table), _i32(segment), dst, src, length],
                   may_trap=True)


def elem_drop(fx, segment):
    fx.call_helper(abi.HELPER_ELEM_DROP, VOID, [_i32(segment)])


def ref_null(fx):
    return ir.Constant(PTR, None)


def ref_is_null(fx, ref):
    return fx.builder.zext(fx.builder.icmp_unsigned("==", ref, ref_null(fx)), I32)


def ref_func(fx, func_index):
    return fx.array_element(abi.CTX_FUNC_REFS, func_index)
