"""Drive a WasiHost the way a wasm program does, without an engine: through the HostFuncs of
`host.imports()`, with arguments that are pointers into a linear memory (a bytearray)."""

import struct

from pywamr.runtime.api import Memory
from pywamr.runtime.types import PAGE_SIZE
from pywamr.runtime.wasi import abi
from pywamr.runtime.wasi import WasiHost


class ByteArrayMemory(Memory):
    """A linear memory backed by a bytearray, grown in place like the interpreter's."""

    def __init__(self, pages=1):
        self.data = bytearray(pages * PAGE_SIZE)

    def size(self):
        return len(self.data) // PAGE_SIZE

    @property
    def buffer(self):
        return self.data

    def grow(self, delta):
        old = self.size()
        self.data.extend(bytes(delta * PAGE_SIZE))    # BufferError if a view is still held
        return old


class Guest:
    """A WasiHost plus a memory and a bump allocator for arguments."""

    def __init__(self, *args, **kwargs):
        self.host = WasiHost(*args, **kwargs)
        self.memory = ByteArrayMemory()
        self.host.bind_memory(self.memory)
        self.funcs = self.host.imports()["wasi_snapshot_preview1"]
        self.top = 64

    def close(self):
        self.host.close()

    def call(self, name, *args):
        results = self.funcs[name].call_bits(list(args))
        return results[0] if results else None

    # Memory.

    def alloc(self, size):
        addr = self.top
        self.top = (self.top + size + 7) & ~7
        assert self.top < len(self.memory.data)
        return addr

    def put(self, data):
        addr = self.alloc(len(data))
        self.memory.data[addr:addr + len(data)] = data
        return addr

    def get(self, addr, length):
        return bytes(self.memory.data[addr:addr + length])

    def u32(self, addr):
        return struct.unpack_from("<I", self.memory.data, addr)[0]

    def u64(self, addr):
        return struct.unpack_from("<Q", self.memory.data, addr)[0]

    def path(self, text):
        data = text.encode() if isinstance(text, str) else text
        return self.put(data), len(data)

    # The calls tests use most, returning (errno, result).

    def open(self, dirfd, path, oflags=0, rights=abi.FILE_RIGHTS | abi.DIRECTORY_RIGHTS,
             fdflags=0, follow=True):
        """path_open with `rights` inheritable, and as the base rights but for those only a
        file has when `oflags` asks for a directory (opened with write rights, it fails)."""
        base = rights & abi.DIRECTORY_RIGHTS if oflags & abi.OFLAGS_DIRECTORY else rights
        ptr, length = self.path(path)
        fd_ptr = self.alloc(4)
        errno = self.call("path_open", dirfd, abi.LOOKUP_SYMLINK_FOLLOW if follow else 0,
                          ptr, length, oflags, base, rights, fdflags, fd_ptr)
        return errno, self.u32(fd_ptr) if errno == 0 else None

    def write(self, fd, *chunks):
        iovs = self.alloc(8 * len(chunks))
        for index, chunk in enumerate(chunks):
            struct.pack_into("<II", self.memory.data, iovs + 8 * index, self.put(chunk),
                             len(chunk))
        count_ptr = self.alloc(4)
        errno = self.call("fd_write", fd, iovs, len(chunks), count_ptr)
        return errno, self.u32(count_ptr) if errno == 0 else None

    def read(self, fd, *sizes):
        iovs = self.alloc(8 * len(sizes))
        bufs = []
        for index, size in enumerate(sizes):
            bufs.append(self.alloc(size))
            struct.pack_into("<II", self.memory.data, iovs + 8 * index, bufs[-1], size)
        count_ptr = self.alloc(4)
        errno = self.call("fd_read", fd, iovs, len(sizes), count_ptr)
        if errno:
            return errno, None
        count, data = self.u32(count_ptr), b""
        for buf, size in zip(bufs, sizes):
            data += self.get(buf, min(size, count - len(data)))
        return errno, data

    def path_call(self, name, dirfd, path, *rest):
        """A path_* call taking (fd, path, path_len, ...)."""
        ptr, length = self.path(path)
        return self.call(name, dirfd, ptr, length, *rest)

    def filestat(self, dirfd, path, follow=True):
        """(errno, (dev, ino, filetype, nlink, size, atim, mtim, ctim))."""
        ptr, length = self.path(path)
        buf = self.alloc(64)
        errno = self.call("path_filestat_get", dirfd, abi.LOOKUP_SYMLINK_FOLLOW if follow else 0,
                          ptr, length, buf)
        return errno, abi.FILESTAT.unpack_from(self.memory.data, buf) if errno == 0 else None

    def symlink(self, target, dirfd, path):
        target_ptr, target_len = self.path(target)
        ptr, length = self.path(path)
        return self.call("path_symlink", target_ptr, target_len, dirfd, ptr, length)

    def rename(self, old_fd, old, new_fd, new):
        old_ptr, old_len = self.path(old)
        new_ptr, new_len = self.path(new)
        return self.call("path_rename", old_fd, old_ptr, old_len, new_fd, new_ptr, new_len)

    def link(self, old_fd, old, new_fd, new, follow=False):
        old_ptr, old_len = self.path(old)
        new_ptr, new_len = self.path(new)
        return self.call("path_link", old_fd, abi.LOOKUP_SYMLINK_FOLLOW if follow else 0,
                         old_ptr, old_len, new_fd, new_ptr, new_len)

    def readlink(self, dirfd, path):
        ptr, length = self.path(path)
        buf, used = self.alloc(256), self.alloc(4)
        errno = self.call("path_readlink", dirfd, ptr, length, buf, 256, used)
        return errno, self.get(buf, self.u32(used)) if errno == 0 else None

    def readdir_names(self, fd, buf_len=4096):
        """All names fd_readdir reports, following cookies, with a buffer of buf_len."""
        names, cookie = [], 0
        buf, used_ptr = self.alloc(buf_len), self.alloc(4)
        while True:
            errno = self.call("fd_readdir", fd, buf, buf_len, cookie, used_ptr)
            assert errno == 0, errno
            used = self.u32(used_ptr)
            offset = 0
            while offset + 24 <= used:
                d_next, _ino, namlen, _type = abi.DIRENT.unpack_from(self.memory.data,
                                                                     buf + offset)
                if offset + 24 + namlen > used:
                    break              # cut entry: ask again from its cookie
                names.append(self.get(buf + offset + 24, namlen).decode())
                cookie = d_next
                offset += 24 + namlen
            if used < buf_len:
                return names
