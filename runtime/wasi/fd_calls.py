"""The fd_* calls: I/O, seeking, metadata and directory listing on open descriptors.

A mixin of WasiHost: methods take the raw wasm arguments (unsigned bit patterns) and return
a WASI errno; failures are raised as WasiError/OSError and turned into errnos by the host.
"""

import fcntl
import os
import time

from . import abi
from .descriptors import IOV_MAX, filetype_of
from .errors import WasiError

_WHENCE = {abi.WHENCE_SET: os.SEEK_SET, abi.WHENCE_CUR: os.SEEK_CUR, abi.WHENCE_END: os.SEEK_END}

_ADVICE = (os.POSIX_FADV_NORMAL, os.POSIX_FADV_SEQUENTIAL, os.POSIX_FADV_RANDOM,
           os.POSIX_FADV_WILLNEED, os.POSIX_FADV_DONTNEED, os.POSIX_FADV_NOREUSE)

_SYNC_FDFLAGS = abi.FDFLAGS_DSYNC | abi.FDFLAGS_RSYNC | abi.FDFLAGS_SYNC


def signed64(bits):
    return bits - (1 << 64) if bits & (1 << 63) else bits


def pack_filestat(memory, addr, st):
    memory.pack(abi.FILESTAT, addr, st.st_dev, st.st_ino, filetype_of(st.st_mode), st.st_nlink,
                st.st_size, st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)


def new_times(st, atim, mtim, fstflags):
    """(atime_ns, mtime_ns) for os.utime from a filestat_set_times request; a time the flags
    do not mention keeps its current value."""
    if fstflags & ~0xF:
        raise WasiError(abi.EINVAL)
    times = []
    for given, value, now_flag, current in (
            (abi.FSTFLAGS_ATIM, atim, abi.FSTFLAGS_ATIM_NOW, st.st_atime_ns),
            (abi.FSTFLAGS_MTIM, mtim, abi.FSTFLAGS_MTIM_NOW, st.st_mtime_ns)):
        if fstflags & given and fstflags & now_flag:
            raise WasiError(abi.EINVAL)
        if fstflags & given:
            times.append(value)
        elif fstflags & now_flag:
            times.append(time.time_ns())
        else:
            times.append(current)
    return tuple(times)


def list_directory(host_fd):
    """The entries fd_readdir reports, in the host's order after "." and "..":
    [(name, inode, filetype)]. The inode of ".." is reported as 0: it may lie outside the
    sandbox, and the host does not look there."""
    entries = [(b".", os.fstat(host_fd).st_ino, abi.FILETYPE_DIRECTORY),
               (b"..", 0, abi.FILETYPE_DIRECTORY)]
    with os.scandir(host_fd) as listing:
        for entry in listing:
            if entry.is_symlink():
                filetype = abi.FILETYPE_SYMBOLIC_LINK
            elif entry.is_dir(follow_symlinks=False):
                filetype = abi.FILETYPE_DIRECTORY
            elif entry.is_file(follow_symlinks=False):
                filetype = abi.FILETYPE_REGULAR_FILE
            else:
                try:
                    filetype = filetype_of(entry.stat(follow_symlinks=False).st_mode)
                except OSError:
                    filetype = abi.FILETYPE_UNKNOWN
            entries.append((os.fsencode(entry.name), entry.inode(), filetype))
    return entries


class FdCalls:

    def fd_read(self, fd, iovs, iovs_len, nread_ptr):
        descriptor = self.fds.get(fd)
        if descriptor.is_directory:
            raise WasiError(abi.EISDIR)
        descriptor.need(abi.RIGHT_FD_READ, abi.EBADF)
        memory = self.memory()
        memory.check(nread_ptr, 4)
        views = memory.iovecs(iovs, iovs_len)
        memory.store_u32(nread_ptr, descriptor.readv(views))
        return abi.ESUCCESS

    def fd_write(self, fd, iovs, iovs_len, nwritten_ptr):
        descriptor = self.fds.get(fd)
        descriptor.need(abi.RIGHT_FD_WRITE, abi.EBADF)
        memory = self.memory()
        memory.check(nwritten_ptr, 4)
        views = memory.iovecs(iovs, iovs_len)
        memory.store_u32(nwritten_ptr, descriptor.writev(views))
        return abi.ESUCCESS

    def fd_pread(self, fd, iovs, iovs_len, offset, nread_ptr):
        descriptor = self.fds.get(fd)
        if descriptor.is_directory:
            raise WasiError(abi.EISDIR)
        descriptor.need(abi.RIGHT_FD_READ, abi.EBADF)
        descriptor.need(abi.RIGHT_FD_SEEK)
        memory = self.memory()
        memory.check(nread_ptr, 4)
        views = memory.iovecs(iovs, iovs_len)
        count = os.preadv(descriptor.require_fd(), views[:IOV_MAX], offset)
        memory.store_u32(nread_ptr, count)
        return abi.ESUCCESS

    def fd_pwrite(self, fd, iovs, iovs_len, offset, nwritten_ptr):
        descriptor = self.fds.get(fd)
        descriptor.need(abi.RIGHT_FD_WRITE, abi.EBADF)
        descriptor.need(abi.RIGHT_FD_SEEK)
        memory = self.memory()
        memory.check(nwritten_ptr, 4)
        views = memory.iovecs(iovs, iovs_len)
        count = os.pwritev(descriptor.require_fd(), views[:IOV_MAX], offset)
        memory.store_u32(nwritten_ptr, count)
        return abi.ESUCCESS

    def fd_seek(self, fd, offset, whence, newoffset_ptr):
        descriptor = self.fds.get(fd)
        asks_position = whence == abi.WHENCE_CUR and offset == 0
        if not (asks_position and descriptor.rights & abi.RIGHT_FD_TELL):
            descriptor.need(abi.RIGHT_FD_SEEK)
        if whence not in _WHENCE:
            raise WasiError(abi.EINVAL)
        memory = self.memory()
        memory.check(newoffset_ptr, 8)
        position = os.lseek(descriptor.require_fd(), signed64(offset), _WHENCE[whence])
        memory.store_u64(newoffset_ptr, position)
        return abi.ESUCCESS

    def fd_tell(self, fd, offset_ptr):
        descriptor = self.fds.get(fd)
        descriptor.need(abi.RIGHT_FD_TELL)
        memory = self.memory()
        memory.check(offset_ptr, 8)
        memory.store_u64(offset_ptr, os.lseek(descriptor.require_fd(), 0, os.SEEK_CUR))
        return abi.ESUCCESS

    def fd_close(self, fd):
        self.fds.close(fd)
        return abi.ESUCCESS

    def fd_renumber(self, fd, to):
        self.fds.renumber(fd, to)
        return abi.ESUCCESS

    def fd_sync(self, fd):
        descriptor = self.fds.get(fd)
        descriptor.need(abi.RIGHT_FD_SYNC)
        os.fsync(descriptor.require_fd())
        return abi.ESUCCESS

    def fd_datasync(self, fd):
        descriptor = self.fds.get(fd)
        descriptor.need(abi.RIGHT_FD_DATASYNC)
        os.fdatasync(descriptor.require_fd())
        return abi.ESUCCESS

    def fd_advise(self, fd, offset, length, advice):
        descriptor = self.fds.get(fd)
        descriptor.need(abi.RIGHT_FD_ADVISE)
        if advice >= len(_ADVICE):
            raise WasiError(abi.EINVAL)
        os.posix_fadvise(descriptor.require_fd(), offset, length, _ADVICE[advice])
        return abi.ESUCCESS

    def fd_allocate(self, fd, offset, length):
        descriptor = self.fds.get(fd)
        descriptor.need(abi.RIGHT_FD_ALLOCATE)
        os.posix_fallocate(descriptor.require_fd(), offset, length)
        return abi.ESUCCESS

    def fd_fdstat_get(self, fd, fdstat_ptr):
        descriptor = self.fds.get(fd)
        self.memory().pack(abi.FDSTAT, fdstat_ptr, descriptor.filetype, descriptor.fdflags,
                           descriptor.rights, descriptor.inheriting)
        return abi.ESUCCESS

    def fd_fdstat_set_flags(self, fd, fdflags):
        """Only append and nonblock can change on an open host fd; asking to change a sync
        flag is ENOTSUP (as on Linux, where fcntl silently ignores them)."""
        descriptor = self.fds.get(fd)
        descriptor.need(abi.RIGHT_FD_FDSTAT_SET_FLAGS)
        if fdflags & ~0x1F:
            raise WasiError(abi.EINVAL)
        if (fdflags ^ descriptor.fdflags) & _SYNC_FDFLAGS:
            raise WasiError(abi.ENOTSUP)
        host_fd = descriptor.require_fd()
        flags = fcntl.fcntl(host_fd, fcntl.F_GETFL) & ~(os.O_APPEND | os.O_NONBLOCK)
        if fdflags & abi.FDFLAGS_APPEND:
            flags |= os.O_APPEND
        if fdflags & abi.FDFLAGS_NONBLOCK:
            flags |= os.O_NONBLOCK
        fcntl.fcntl(host_fd, fcntl.F_SETFL, flags)
        descriptor.fdflags = fdflags
        return abi.ESUCCESS

    def fd_fdstat_set_rights(self, fd, rights, inheriting):
        """Rights can only be dropped, never gained."""
        descriptor = self.fds.get(fd)
        if rights & ~descriptor.rights or inheriting & ~descriptor.inheriting:
            raise WasiError(abi.ENOTCAPABLE)
        descriptor.rights, descriptor.inheriting = rights, inheriting
        return abi.ESUCCESS

    def fd_filestat_get(self, fd, filestat_ptr):
        descriptor = self.fds.get(fd)
        descriptor.need(abi.RIGHT_FD_FILESTAT_GET)
        memory = self.memory()
        if descriptor.host_fd is None:
            memory.pack(abi.FILESTAT, filestat_ptr, 0, 0, descriptor.filetype, 1, 0, 0, 0, 0)
        else:
            pack_filestat(memory, filestat_ptr, os.fstat(descriptor.host_fd))
        return abi.ESUCCESS

    def fd_filestat_set_size(self, fd, size):
        descriptor = self.fds.get(fd)
        descriptor.need(abi.RIGHT_FD_FILESTAT_SET_SIZE)
        os.ftruncate(descriptor.require_fd(), size)
        return abi.ESUCCESS

    def fd_filestat_set_times(self, fd, atim, mtim, fstflags):
        descriptor = self.fds.get(fd)
        descriptor.need(abi.RIGHT_FD_FILESTAT_SET_TIMES)
        host_fd = descriptor.require_fd()
        os.utime(host_fd, ns=new_times(os.fstat(host_fd), atim, mtim, fstflags))
        return abi.ESUCCESS

    def fd_prestat_get(self, fd, prestat_ptr):
        descriptor = self.fds.get(fd)
        if descriptor.preopen_name is None:
            raise WasiError(abi.EBADF)
        self.memory().pack(abi.PRESTAT, prestat_ptr, abi.PREOPENTYPE_DIR,
                           len(descriptor.preopen_name))
        return abi.ESUCCESS

    def fd_prestat_dir_name(self, fd, path_ptr, path_len):
        descriptor = self.fds.get(fd)
        name = descriptor.preopen_name
        if name is None:
            raise WasiError(abi.EBADF)
        if path_len < len(name):
            raise WasiError(abi.ENAMETOOLONG)
        self.memory().write(path_ptr, name)
        return abi.ESUCCESS

    def fd_readdir(self, fd, buf, buf_len, cookie, bufused_ptr):
        """Entries from index `cookie` of a listing snapshot taken when cookie is 0, packed
        as dirent headers followed by names; the last one is cut at buf_len (the guest then
        knows to call again with a bigger buffer, as wasi-libc does)."""
        descriptor = self.fds.get(fd)
        if not descriptor.is_directory:
            raise WasiError(abi.ENOTDIR)
        descriptor.need(abi.RIGHT_FD_READDIR)
        memory = self.memory()
        memory.check(buf, buf_len)
        memory.check(bufused_ptr, 4)
        if cookie == 0 or descriptor.dir_entries is None:
            descriptor.dir_entries = list_directory(descriptor.host_fd)
        out = bytearray()
        for index in range(cookie, len(descriptor.dir_entries)):
            if len(out) >= buf_len:
                break
            name, inode, filetype = descriptor.dir_entries[index]
            out += abi.DIRENT.pack(index + 1, inode, len(name), filetype) + name
        used = min(len(out), buf_len)
        memory.write(buf, out[:used])
        memory.store_u32(bufused_ptr, used)
        return abi.ESUCCESS
