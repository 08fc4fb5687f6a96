"""The guest's file descriptor table: what each WASI fd refers to on the host and its rights."""

import fcntl
import os
import stat

from . import abi
from .errors import WasiError

IOV_MAX = 1024        # readv/writev take at most this many buffers; WASI allows short I/O


def filetype_of(mode):
    """The WASI filetype of a host st_mode."""
    if stat.S_ISREG(mode):
        return abi.FILETYPE_REGULAR_FILE
    if stat.S_ISDIR(mode):
        return abi.FILETYPE_DIRECTORY
    if stat.S_ISLNK(mode):
        return abi.FILETYPE_SYMBOLIC_LINK
    if stat.S_ISCHR(mode):
        return abi.FILETYPE_CHARACTER_DEVICE
    if stat.S_ISBLK(mode):
        return abi.FILETYPE_BLOCK_DEVICE
    if stat.S_ISSOCK(mode):
        return abi.FILETYPE_SOCKET_STREAM
    return abi.FILETYPE_UNKNOWN        # FIFOs: preview1 has no type for them


def host_fdflags(host_fd):
    """The WASI fdflags an already open host fd has (append, nonblock)."""
    flags = fcntl.fcntl(host_fd, fcntl.F_GETFL)
    return ((abi.FDFLAGS_APPEND if flags & os.O_APPEND else 0)
            | (abi.FDFLAGS_NONBLOCK if flags & os.O_NONBLOCK else 0))


class Descriptor:
    """One open WASI fd.

    It refers to a host fd (`host_fd`), or, for a stdio stream given as a Python file object
    without a usable fileno(), to that object (`stream`). A handed-in socket also keeps its
    socket object (`socket`) for accept/recv/send/shutdown.
    """

    def __init__(self, filetype, rights, inheriting, host_fd=None, stream=None, socket=None,
                 fdflags=0, owns_fd=True, preopen_name=None):
        self.filetype = filetype
        self.rights = rights
        self.inheriting = inheriting
        self.host_fd = host_fd
        self.stream = stream
        self.socket = socket
        self.fdflags = fdflags
        self.owns_fd = owns_fd           # False for the process's stdio and borrowed fds
        self.preopen_name = preopen_name  # bytes: the guest path of a preopened directory
        self.dir_entries = None          # fd_readdir snapshot, taken at cookie 0

    def need(self, rights, errno_value=abi.ENOTCAPABLE):
        if self.rights & rights != rights:
            raise WasiError(errno_value)

    @property
    def is_directory(self):
        return self.filetype == abi.FILETYPE_DIRECTORY and self.host_fd is not None

    def require_fd(self):
        """The host fd, for calls that only make sense on one (seek, stat, sync...)."""
        if self.host_fd is None:
            raise WasiError(abi.ESPIPE)
        return self.host_fd

    def readv(self, views):
        if self.host_fd is not None:
            return os.readv(self.host_fd, views[:IOV_MAX])
        total = 0
        for view in views:
            count = self.stream.readinto(view) or 0
            total += count
            if count < len(view):
                break
        return total

    def writev(self, views):
        if self.stream is not None:
            # Python-level writes to the same object must come out before ours.
            self.stream.flush()
        if self.host_fd is not None:
            return os.writev(self.host_fd, views[:IOV_MAX])
        total = 0
        for view in views:
            total += self.stream.write(view) or 0
        self.stream.flush()
        return total

    def close(self):
        if self.socket is not None:
            self.socket.close()
        elif self.owns_fd and self.host_fd is not None:
            os.close(self.host_fd)


CLOSED = "closed"     # a stdio stream the guest does not get (WasiHost's stdin=CLOSED, ...)


def stdio_descriptor(target, default_fd):
    """A descriptor for stdin/stdout/stderr: `target` is None (the process's own fd), an
    int fd, a file object (its fileno() when it has one, else the object itself), or
    CLOSED. None when that fd is not open (CLOSED, or a program started with stdin
    closed)."""
    stream, host_fd = None, None
    if target is CLOSED:
        return None
    if target is None:
        host_fd = default_fd
    elif isinstance(target, int):
        host_fd = target
    else:
        stream = target
        try:
            host_fd = target.fileno()
        except (AttributeError, OSError, ValueError):
            host_fd = None
    if host_fd is None:
        rights = abi.RIGHT_FD_READ | abi.RIGHT_FD_WRITE | abi.RIGHT_POLL_FD_READWRITE
        return Descriptor(abi.FILETYPE_UNKNOWN, rights, 0, stream=stream, owns_fd=False)
    try:
        filetype = filetype_of(os.fstat(host_fd).st_mode)
    except OSError:
        return None
    rights = abi.FILE_RIGHTS
    if filetype == abi.FILETYPE_CHARACTER_DEVICE:
        # A terminal cannot seek; wasi-libc's isatty() checks exactly these two rights.
        rights &= ~(abi.RIGHT_FD_SEEK | abi.RIGHT_FD_TELL)
    return Descriptor(filetype, rights, 0, host_fd=host_fd, stream=stream,
                      fdflags=host_fdflags(host_fd), owns_fd=False)


def socket_descriptor(sock):
    """A descriptor for a socket object handed to the host (listening or connected)."""
    import socket as socket_module     # only hosts given sockets pay for the import
    filetype = (abi.FILETYPE_SOCKET_DGRAM if sock.type == socket_module.SOCK_DGRAM
                else abi.FILETYPE_SOCKET_STREAM)
    return Descriptor(filetype, abi.SOCKET_RIGHTS, 0, host_fd=sock.fileno(), socket=sock,
                      fdflags=host_fdflags(sock.fileno()))


class FdTable:
    """WASI fd number -> Descriptor. New descriptors take the lowest free number, as POSIX."""

    def __init__(self):
        self._table = {}

    def __iter__(self):
        return iter(self._table.values())

    def get(self, fd):
        try:
            return self._table[fd]
        except KeyError:
            raise WasiError(abi.EBADF) from None

    def add(self, descriptor):
        fd = 0
        while fd in self._table:
            fd += 1
        self._table[fd] = descriptor
        return fd

    def insert(self, fd, descriptor):
        """Place a descriptor at a fixed number (stdio at 0-2, preopens from 3)."""
        assert fd not in self._table
        self._table[fd] = descriptor

    def close(self, fd):
        self.get(fd).close()
        del self._table[fd]

    def renumber(self, fd, to):
        """fd_renumber: `to` (which must be open) is closed and replaced by `fd`."""
        descriptor = self.get(fd)
        self.get(to)
        if fd == to:
            return
        self.close(to)
        self._table[to] = descriptor
        del self._table[fd]

    def close_all(self):
        for descriptor in self._table.values():
            descriptor.close()
        self._table.clear()
