"""The sock_* calls. Preview1 cannot open sockets; these work only on socket objects the
embedder hands to WasiHost(sockets=[...]) and on connections accepted from them. Any other
descriptor gets ENOTSOCK, and one that is not open EBADF, as wasmtime answers and the WASI
test suite expects (c/sock_shutdown-invalid_fd, c/sock_shutdown-not_sock).

A mixin of WasiHost (see fd_calls.py for the conventions).
"""

from . import abi
from .descriptors import socket_descriptor
from .errors import WasiError

# The socket module is imported inside the calls that need its constants: only programs
# that are handed sockets should pay for the import at start-up.


class SocketCalls:

    def _socket(self, fd, right):
        descriptor = self.fds.get(fd)
        if descriptor.socket is None:
            raise WasiError(abi.ENOTSOCK)
        descriptor.need(right)
        return descriptor

    def sock_accept(self, fd, fdflags, fd_ptr):
        listener = self._socket(fd, abi.RIGHT_SOCK_ACCEPT)
        if fdflags & ~abi.FDFLAGS_NONBLOCK:
            raise WasiError(abi.EINVAL)
        memory = self.memory()
        memory.check(fd_ptr, 4)
        connection, _address = listener.socket.accept()
        connection.setblocking(not fdflags & abi.FDFLAGS_NONBLOCK)
        memory.store_u32(fd_ptr, self.fds.add(socket_descriptor(connection)))
        return abi.ESUCCESS

    def sock_recv(self, fd, iovs, iovs_len, riflags, datalen_ptr, roflags_ptr):
        descriptor = self._socket(fd, abi.RIGHT_FD_READ)
        if riflags & ~(abi.RECV_PEEK | abi.RECV_WAITALL):
            raise WasiError(abi.EINVAL)
        memory = self.memory()
        memory.check(datalen_ptr, 4)
        memory.check(roflags_ptr, 2)
        views = memory.iovecs(iovs, iovs_len)
        import socket
        flags = ((socket.MSG_PEEK if riflags & abi.RECV_PEEK else 0)
                 | (socket.MSG_WAITALL if riflags & abi.RECV_WAITALL else 0))
        count, _ancillary, msg_flags, _address = descriptor.socket.recvmsg_into(views, 0, flags)
        memory.store_u32(datalen_ptr, count)
        memory.store_u16(roflags_ptr,
                         abi.RECV_DATA_TRUNCATED if msg_flags & socket.MSG_TRUNC else 0)
        return abi.ESUCCESS

    def sock_send(self, fd, iovs, iovs_len, siflags, datalen_ptr):
        descriptor = self._socket(fd, abi.RIGHT_FD_WRITE)
        if siflags:
            raise WasiError(abi.EINVAL)     # preview1 defines no send flags
        memory = self.memory()
        memory.check(datalen_ptr, 4)
        memory.store_u32(datalen_ptr,
                         descriptor.socket.sendmsg(memory.iovecs(iovs, iovs_len)))
        return abi.ESUCCESS

    def sock_shutdown(self, fd, how):
        descriptor = self._socket(fd, abi.RIGHT_SOCK_SHUTDOWN)
        import socket
        modes = {abi.SHUTDOWN_RD: socket.SHUT_RD, abi.SHUTDOWN_WR: socket.SHUT_WR,
                 abi.SHUTDOWN_RD | abi.SHUTDOWN_WR: socket.SHUT_RDWR}
        if how not in modes:
            raise WasiError(abi.EINVAL)
        descriptor.socket.shutdown(modes[how])
        return abi.ESUCCESS
