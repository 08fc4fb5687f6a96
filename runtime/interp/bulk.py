"""The memory and table instructions that are too big for one Python expression.

Memories are bytearrays and tables are lists here. The bulk operations check their whole
range before touching anything, as the spec requires (a trapping copy writes nothing). Slice
assignment of equal length never resizes, and its right-hand side is a copy, so overlapping
copies come out right.
"""

from ..errors import Trap, TrapCode

__all__ = ["memory_fill", "memory_copy", "memory_init", "table_get", "table_set", "table_fill",
           "table_copy", "table_init", "call_indirect_fail"]


def _memory_oob():
    raise Trap(TrapCode.OUT_OF_BOUNDS_MEMORY)


def _table_oob():
    raise Trap(TrapCode.OUT_OF_BOUNDS_TABLE)


def memory_fill(mem, dest, value, n):
    if dest + n > len(mem):
        _memory_oob()
    mem[dest:dest + n] = bytes((value & 0xFF,)) * n


def memory_copy(dest_mem, src_mem, dest, src, n):
    """`dest_mem` and `src_mem` are one bytearray unless the copy is between two memories."""
    if dest + n > len(dest_mem) or src + n > len(src_mem):
        _memory_oob()
    dest_mem[dest:dest + n] = src_mem[src:src + n]


def memory_init(mem, data, dest, src, n):
    if src + n > len(data) or dest + n > len(mem):
        _memory_oob()
    mem[dest:dest + n] = data[src:src + n]


def table_get(table, index):
    if index >= len(table):
        _table_oob()
    return table[index]


def table_set(table, index, ref):
    if index >= len(table):
        _table_oob()
    table[index] = ref


def table_fill(table, dest, ref, n):
    if dest + n > len(table):
        _table_oob()
    table[dest:dest + n] = [ref] * n


def table_copy(dest_table, src_table, dest, src, n):
    if dest + n > len(dest_table) or src + n > len(src_table):
        _table_oob()
    dest_table[dest:dest + n] = src_table[src:src + n]


def table_init(table, elems, dest, src, n):
    if src + n > len(elems) or dest + n > len(table):
        _table_oob()
    table[dest:dest + n] = elems[src:src + n]


def call_indirect_fail(table, index, ref):
    """Raise the trap for a call_indirect whose element is missing, null or mistyped."""
    if index >= len(table):
        raise Trap(TrapCode.UNDEFINED_ELEMENT)
    if ref is None:
        raise Trap(TrapCode.UNINITIALIZED_ELEMENT, index)
    raise Trap(TrapCode.INDIRECT_CALL_TYPE_MISMATCH)
