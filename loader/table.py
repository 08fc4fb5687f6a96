"""A table: a TableDesc whose element array is replaced (never resized in place) when the
table grows, shared by pointer with every instance that imports it (docs/aot-abi.md)."""

import ctypes

from pywamr.runtime.aot_abi import TableDesc
from pywamr.runtime.api import Table
from pywamr.runtime.errors import ResourceError, Trap
from pywamr.runtime.types import MAX_TABLE_SIZE_OF, Limits, TableType

from .references import ref_to_python, ref_to_raw

# Growing past this many elements fails like growing past the maximum (a practical limit,
# as in other engines: 10 million elements take 80 MB).
MAX_ELEMENTS = 10_000_000


class AotTable(Table):
    def __init__(self, tabletype: TableType, init=0):
        self.elem_type = tabletype.elem_type
        self.address_type = tabletype.address_type
        self.declared_max = tabletype.limits.max
        self.desc = TableDesc(0, 0, MAX_TABLE_SIZE_OF[self.address_type]
                              if self.declared_max is None else self.declared_max)
        self.desc_address = ctypes.addressof(self.desc)
        self.elems = (ctypes.c_uint64 * 0)()
        self.keepalive = set()   # instances that import it, and so may store their funcrefs
        if self.grow_raw(tabletype.limits.min, init) < 0:
            raise ResourceError(f"cannot allocate a table of {tabletype.limits.min} elements")

    @property
    def type(self):
        """The table's type now: its current size is the minimum imports are checked against."""
        return TableType(self.elem_type, Limits(self.size(), self.declared_max),
                         self.address_type)

    def size(self):
        return self.desc.size

    def grow_raw(self, delta, init):
        old = self.desc.size
        if not 0 <= delta <= min(self.desc.max, MAX_ELEMENTS) - old:
            return -1
        try:
            elems = (ctypes.c_uint64 * (old + delta))()
            if init:
                elems[old:old + delta] = [init] * delta
        except MemoryError:
            return -1
        ctypes.memmove(elems, self.elems, old * 8)
        self.elems = elems
        self.desc.elems = ctypes.addressof(elems)
        self.desc.size = old + delta
        return old

    def check_range(self, start, count):
        if start + count > self.desc.size:
            from pywamr.runtime.trap_codes import TrapCode     # made only for a trap
            raise Trap(TrapCode.OUT_OF_BOUNDS_TABLE)

    def get(self, index):
        self.check_range(index, 1)
        return ref_to_python(self.elem_type, self.elems[index])

    def set(self, index, ref):
        self.check_range(index, 1)
        self.elems[index] = ref_to_raw(self.elem_type, ref)

    def grow(self, delta, init=None):
        return self.grow_raw(delta, ref_to_raw(self.elem_type, init))
