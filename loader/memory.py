"""A linear memory whose base never moves: 10 GiB of address space reserved up front, 8 GiB
from the base (a 32-bit address plus a 32-bit offset) and 2 GiB below it (a sign-extended
address, docs/aot-abi.md "Addresses"), of which memory.grow only makes more pages
accessible. Code compiled for guard pages relies on the rest faulting (guard_pages.py).
Compiled code reaches it through its MemoryDesc; Python through the api.Memory methods.

A 64-bit memory (memory64) reserves only its maximum: compiled code checks every access to
it (docs/aot-abi.md, "Memories"), so it needs no guard region, and as much address space as
a 64-bit address can reach could not be had. Without a maximum, or with a larger one, it
grows to MEMORY64_LIMIT_PAGES at most (memory.grow returns -1 past it)."""

import ctypes
import os
import weakref

from pywamr.runtime.aot_abi import MemoryDesc
from pywamr.runtime.api import Memory, memory_growth_limit
from pywamr.runtime.errors import ResourceError
from pywamr.runtime.types import MAX_PAGES, PAGE_SIZE, Limits, MemoryType

from . import guard_pages
from .mapping import PROT_READ, PROT_WRITE, Mapping

GUARD_BELOW = 2 << 30
RESERVATION = GUARD_BELOW + (8 << 30)
MEMORY64_LIMIT_PAGES = 1 << 18      # 16 GiB


def _reservation(address_type, max_pages):
    """(bytes below the base, bytes in all) of a memory's reservation."""
    if address_type == "i64":
        return 0, max(max_pages, 1) * PAGE_SIZE
    return GUARD_BELOW, RESERVATION


class AotMemory(Memory):
    def __init__(self, memtype: MemoryType, limit_pages=MAX_PAGES, max_size=None):
        """`limit_pages`: the most pages the code that defines it can address (a 32-bit
        memory's); `max_size`: the embedder's limit in bytes (api.memory_growth_limit)."""
        self.declared_max = memtype.limits.max
        self.address_type = memtype.address_type
        if self.address_type == "i64":
            limit_pages = MEMORY64_LIMIT_PAGES
        self.max_pages = memory_growth_limit(memtype.limits, limit_pages, max_size)
        self.below, reservation = _reservation(self.address_type, self.max_pages)
        try:
            self.mapping = Mapping(reservation, reserve_only=True)
        except (OSError, OverflowError) as error:
            reason = os.strerror(error.errno) if isinstance(error, OSError) else "too large"
            raise ResourceError(f"cannot reserve {reservation} bytes of address space for "
                                f"linear memory: {reason}") from None
        guard_pages.register_reservation(self.mapping.address, reservation)
        weakref.finalize(self, guard_pages.unregister_reservation, self.mapping.address)
        self.desc = MemoryDesc(self.mapping.address + self.below, 0)
        self.desc_address = ctypes.addressof(self.desc)
        if self.grow(memtype.limits.min) < 0:
            pages = memtype.limits.min
            raise ResourceError(f"cannot allocate a linear memory of {pages} pages")

    @property
    def type(self):
        """The memory's type now: its current size is the minimum imports are checked against."""
        return MemoryType(Limits(self.size(), self.declared_max), self.address_type)

    @property
    def base(self):
        return self.desc.base

    @property
    def size_bytes(self):
        return self.desc.size_bytes

    def size(self):
        return self.desc.size_bytes // PAGE_SIZE

    @property
    def buffer(self):
        return self.mapping.view(self.below, self.desc.size_bytes)

    def grow(self, delta):
        old = self.size()
        if not 0 <= delta <= self.max_pages - old:
            return -1
        try:
            self.mapping.protect(self.below + old * PAGE_SIZE, delta * PAGE_SIZE,
                                 PROT_READ | PROT_WRITE)
        except OSError:
            return -1
        self.desc.size_bytes = (old + delta) * PAGE_SIZE
        return old

    def in_bounds(self, address, length):
        return address + length <= self.desc.size_bytes
