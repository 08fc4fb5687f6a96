"""WASI errno values: the failure a host call reports to the guest, and the host -> WASI map."""

import errno
import functools

from pywamr.runtime.errors import WasmError

from . import abi


class WasiError(Exception):
    """Raised inside a host function to make it return `errno` to the guest."""

    def __init__(self, errno_value):
        self.errno = errno_value
        super().__init__(errno_value)


class WasiConfigError(WasmError):
    """The host cannot be set up as asked (e.g. a preopened directory does not exist)."""


@functools.cache
def _host_to_wasi():
    """{host errno: WASI errno}, made on the first failure rather than at start-up. Each host
    errno maps to the WASI errno of the same name (ENOTCAPABLE has no host twin)."""
    table = {getattr(errno, name): value for name, value in vars(abi).items()
             if isinstance(value, int) and hasattr(errno, name)}
    # Aliases some hosts define as distinct numbers (on Linux they equal EAGAIN / ENOTSUP /
    # EDEADLK).
    for alias, wasi in (("EWOULDBLOCK", abi.EAGAIN), ("EOPNOTSUPP", abi.ENOTSUP),
                        ("EDEADLOCK", abi.EDEADLK)):
        if hasattr(errno, alias):
            table.setdefault(getattr(errno, alias), wasi)
    return table


def wasi_errno(host_errno):
    """The WASI errno for a host errno; EIO for anything preview1 has no name for."""
    return _host_to_wasi().get(host_errno, abi.EIO)
