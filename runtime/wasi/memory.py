"""Bounds-checked access to the guest's linear memory for the WASI host.

Every guest pointer goes through here: an access that does not lie wholly inside the memory
raises WasiError(EFAULT) before anything is read or written. A `GuestMemory` is made per host
call around the memory's current buffer, because memory.grow may replace the buffer.
"""

import struct

from . import abi
from .errors import WasiError

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class GuestMemory:
    def __init__(self, buffer):
        self.buffer = buffer if buffer is not None else bytearray()
        self.size = len(self.buffer)

    def check(self, addr, length):
        if addr < 0 or length < 0 or addr + length > self.size:
            raise WasiError(abi.EFAULT)

    def read(self, addr, length):
        self.check(addr, length)
        return bytes(self.buffer[addr:addr + length])

    def write(self, addr, data):
        self.check(addr, len(data))
        self.buffer[addr:addr + len(data)] = data

    def view(self, addr, length):
        """A writable memoryview of guest memory (used for zero-copy readv/writev)."""
        self.check(addr, length)
        return memoryview(self.buffer)[addr:addr + length]

    def unpack(self, layout, addr):
        self.check(addr, layout.size)
        return layout.unpack_from(self.buffer, addr)

    def pack(self, layout, addr, *values):
        self.check(addr, layout.size)
        layout.pack_into(self.buffer, addr, *values)

    def store_u16(self, addr, value):
        self.pack(_U16, addr, value)

    def store_u32(self, addr, value):
        self.pack(_U32, addr, value)

    def store_u64(self, addr, value):
        self.pack(_U64, addr, value)

    def path(self, addr, length):
        """A guest path string: bytes, without NULs (the host APIs cannot carry them)."""
        data = self.read(addr, length)
        if b"\0" in data:
            raise WasiError(abi.EINVAL)
        return data

    def iovecs(self, addr, count):
        """The buffers of an iovec array, as memoryviews, all validated before any is used."""
        self.check(addr, count * abi.IOVEC.size)
        views = []
        for i in range(count):
            buf, buf_len = abi.IOVEC.unpack_from(self.buffer, addr + i * abi.IOVEC.size)
            views.append(self.view(buf, buf_len))
        return views
