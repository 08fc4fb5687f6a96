"""Anonymous memory mappings made through libc, because the loader needs what Python's mmap
module cannot do: choose where a mapping goes (the low 2 GB), change the protection of
some of its pages, and know its address.

A Mapping is unmapped when it is garbage-collected (or closed), never earlier.
"""

import ctypes
import os
import sys
import weakref

# Linux's values (those of the mmap module, which costs a shared library to load).
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
PROT_NONE = 0
PROT_READ = 1
PROT_WRITE = 2
PROT_EXEC = 4

_MAP_PRIVATE = 0x02
_MAP_ANONYMOUS = 0x20
_MAP_NORESERVE = 0x4000      # Linux: do not reserve swap for the pages
_MAP_32BIT = 0x40            # Linux x86_64: place the mapping in the first 2 GB
_MAP_FAILED = ctypes.c_void_p(-1).value
_LOW_2GB = 1 << 31

_libc = ctypes.CDLL(None, use_errno=True)
_mmap = _libc.mmap
_mmap.restype = ctypes.c_void_p
_mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                  ctypes.c_long)
_mprotect = _libc.mprotect
_mprotect.restype = ctypes.c_int
_mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
_munmap = _libc.munmap
_munmap.restype = ctypes.c_int
_munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)


def round_up(value, alignment):
    return (value + alignment - 1) // alignment * alignment


class Mapping:
    """`size` bytes (rounded up to whole pages) of private anonymous memory.

    low_2gb: the whole mapping lies below 2 GB, where 32-bit absolute addresses reach it.
    reserve_only: address space only (PROT_NONE, no swap reserved); pages become usable
    through protect().
    """

    def __init__(self, size, *, low_2gb=False, reserve_only=False):
        self.size = round_up(max(size, 1), PAGE_SIZE)
        prot = PROT_NONE if reserve_only else PROT_READ | PROT_WRITE
        flags = _MAP_PRIVATE | _MAP_ANONYMOUS | (_MAP_NORESERVE if reserve_only else 0)
        if low_2gb:
            self.address = _map_low_2gb(self.size, prot, flags)
        else:
            self.address = _map(None, self.size, prot, flags)
        self._unmap = weakref.finalize(self, _munmap, self.address, self.size)

    def protect(self, offset, length, prot):
        """Set the protection of the pages covering [offset, offset + length)."""
        start = offset - offset % PAGE_SIZE
        end = round_up(offset + length, PAGE_SIZE)
        if end > start and _mprotect(self.address + start, end - start, prot) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"mprotect of {end - start} bytes failed: {os.strerror(error)}")

    def view(self, offset=0, length=None):
        """A writable memoryview of [offset, offset + length); it keeps the mapping alive."""
        if length is None:
            length = self.size - offset
        array = (ctypes.c_ubyte * length).from_address(self.address + offset)
        array.owner = self        # the view must not outlive the pages it shows
        return memoryview(array).cast("B")

    def close(self):
        """Unmap now; every view of the mapping must be gone."""
        self._unmap()


def _map(hint, size, prot, flags):
    address = _mmap(hint, size, prot, flags, -1, 0)
    if address in (None, _MAP_FAILED):
        error = ctypes.get_errno()
        raise OSError(error, f"mmap of {size} bytes failed: {os.strerror(error)}")
    return address


def _map_low_2gb(size, prot, flags):
    """Map below 2 GB: MAP_32BIT where Linux x86_64 offers it, else by address hints."""
    if sys.platform.startswith("linux") and os.uname().machine == "x86_64":
        address = _mmap(None, size, prot, flags | _MAP_32BIT, -1, 0)
        if address not in (None, _MAP_FAILED) and address + size <= _LOW_2GB:
            return address
        if address not in (None, _MAP_FAILED):
            _munmap(address, size)
    for hint in range(0x1000_0000, _LOW_2GB - size, 0x1000_0000):
        address = _mmap(hint, size, prot, flags, -1, 0)
        if address in (None, _MAP_FAILED):
            continue
        if address + size <= _LOW_2GB:
            return address
        _munmap(address, size)
    raise OSError(f"cannot map {size} bytes below 2 GB, which this code model needs")
