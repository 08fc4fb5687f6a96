"""WasiHost: the wasi_snapshot_preview1 imports, shared by the interpreter and the AOT loader.

    host = WasiHost(["prog.wasm", "arg"], env={"HOME": "/"}, preopens=[(".", "/srv/data")])
    instance = module.instantiate(host.imports())
    host.bind_memory(instance.exports["memory"])
    instance.exports["_start"]()          # proc_exit raises WasiExit(code)

Secure by default: the guest sees no file system, environment or network unless the
embedder grants them here. The calls are grouped by concern in the mixins (fd_calls,
path_calls, poll, sock_calls); this class holds the state and the process-level calls.
Every call receives raw bit patterns and returns a WASI errno; a guest pointer outside
linear memory is EFAULT, never an access elsewhere.

The mixins of the calls most programs never make (path_*, poll_oneoff, sock_*) are imported
when one of their methods is first looked up (WasiHost.__getattr__): with what they import
they would cost every start of `pyiwasm` half a millisecond.
"""

import functools
import os

from pywamr.runtime.api import HostFunc
from pywamr.runtime.errors import WasiExit
from pywamr.runtime.types import FuncType

from . import abi
from .descriptors import Descriptor, FdTable, socket_descriptor, stdio_descriptor
from .errors import WasiConfigError, WasiError, wasi_errno
from .fd_calls import FdCalls
from .memory import GuestMemory

MODULE_NAME = "wasi_snapshot_preview1"
# emscripten's STANDALONE_WASM builds with ALLOW_MEMORY_GROWTH import this and call it after
# memory.grow. The host reads memory through a view taken afresh at every call, so it has
# nothing to do.
EMSCRIPTEN_MODULE = "env"
EMSCRIPTEN_GROWTH = "emscripten_notify_memory_growth"

_VALTYPES = {"i": "i32", "I": "i64"}

# proc_raise: signals whose default action is to do nothing (chld, cont, urg, winch) or to
# stop the process (stop, tstp, ttin, ttou), which a wasm program cannot do; see docs/wasi.md.
_HARMLESS_SIGNALS = {16, 17, 22, 27, 18, 19, 20, 21}
_MAX_SIGNAL = 30


def _guarded(call):
    """Turn a call's failure into the errno it returns to the guest. WasiExit, and Python
    errors (host bugs), pass through: the engine ends the run or reports a trap."""
    def guarded(*args):
        try:
            return call(*args)
        except WasiError as error:
            return error.errno
        except OSError as error:
            return wasi_errno(error.errno)
        except OverflowError:
            # A size, offset or time beyond the host's off_t / time_t.
            return abi.EINVAL
    guarded.__name__ = call.__name__
    return guarded


def _open_preopen(guest_path, host_path, read_only=False):
    try:
        host_fd = os.open(host_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise WasiConfigError(
            f"cannot preopen directory {os.fsdecode(host_path)!r}: {error.strerror}") from None
    taken = abi.WRITE_RIGHTS if read_only else 0
    return Descriptor(abi.FILETYPE_DIRECTORY, abi.DIRECTORY_RIGHTS & ~taken,
                      (abi.FILE_RIGHTS | abi.DIRECTORY_RIGHTS) & ~taken, host_fd=host_fd,
                      preopen_name=os.fsencode(guest_path))


@functools.cache
def _later_mixins():
    from .path_calls import PathCalls
    from .poll import PollCalls
    from .sock_calls import SocketCalls
    return PathCalls, PollCalls, SocketCalls


class WasiHost(FdCalls):

    def __init__(self, args, env=None, preopens=(), stdin=None, stdout=None, stderr=None,
                 sockets=()):
        """`args`: the program's argv (argv[0] included); `env`: {name: value};
        `preopens`: [(guest path, host directory)] or [(guest path, host directory,
        read_only)], fds 3, 4, ... in this order; stdin/stdout/stderr: file objects, fds
        or descriptors.CLOSED (default: the process's own 0, 1, 2);
        `sockets`: socket objects handed to the guest, numbered after the preopens."""
        self.args = [os.fsencode(arg) for arg in args]
        self.environ = []
        for name, value in (env or {}).items():
            if not name or "=" in name:
                raise WasiConfigError(f"invalid environment variable name {name!r}")
            self.environ.append(os.fsencode(name) + b"=" + os.fsencode(value))
        self.fds = FdTable()
        try:
            for fd, target in enumerate((stdin, stdout, stderr)):
                descriptor = stdio_descriptor(target, fd)
                if descriptor is not None:
                    self.fds.insert(fd, descriptor)
            # Preopens are numbered from 3 even if a stdio fd is missing: wasi-libc looks
            # for them from fd 3 up to the first that is not one.
            for fd, preopen in enumerate(preopens, start=3):
                self.fds.insert(fd, _open_preopen(*preopen))
            for sock in sockets:
                self.fds.add(socket_descriptor(sock))
        except BaseException:
            self.fds.close_all()
            raise
        self._memory = None

    def __getattr__(self, name):
        """A method of the mixins imported on first use, bound to this host, as if they
        were base classes of it (module docstring)."""
        for mixin in _later_mixins():
            if name in vars(mixin):
                return vars(mixin)[name].__get__(self, type(self))
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def bind_memory(self, memory):
        """Give the host the instance's exported memory (a runtime.api.Memory)."""
        self._memory = memory

    def memory(self):
        """Bounds-checked access to the memory as it is now (memory.grow replaces buffers)."""
        return GuestMemory(self._memory.buffer if self._memory is not None else None)

    def imports_of(self, module):
        """The imports object of what a runtime Module imports from the host: its
        wasi_snapshot_preview1 calls, and emscripten's memory growth notice."""
        names = [imp.name for imp in module.imports if imp.module == MODULE_NAME]
        imports = self.imports(names)
        if any(imp.module == EMSCRIPTEN_MODULE and imp.name == EMSCRIPTEN_GROWTH
               for imp in module.imports):
            imports[EMSCRIPTEN_MODULE] = {
                EMSCRIPTEN_GROWTH: HostFunc(FuncType(("i32",), ()), lambda pages: None)}
        return imports

    def imports(self, names=None):
        """{MODULE_NAME: {name: HostFunc}} for the calls `names` (by default every call);
        a program imports a few of them, and each costs a type and two functions to make."""
        functions = {}
        for name in abi.SIGNATURES if names is None else names:
            signature = abi.SIGNATURES.get(name)
            if signature is None:
                continue
            params, results = signature
            functype = FuncType(tuple(_VALTYPES[p] for p in params),
                                tuple(_VALTYPES[r] for r in results))
            functions[name] = HostFunc(functype, _guarded(getattr(self, name)), raw=True)
        return {MODULE_NAME: functions}

    def close(self):
        """Close every host fd the guest still has open (the process's stdio stays open)."""
        self.fds.close_all()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # Arguments and environment.

    def args_sizes_get(self, count_ptr, size_ptr):
        return self._string_list_sizes(self.args, count_ptr, size_ptr)

    def args_get(self, argv_ptr, buf_ptr):
        return self._string_list(self.args, argv_ptr, buf_ptr)

    def environ_sizes_get(self, count_ptr, size_ptr):
        return self._string_list_sizes(self.environ, count_ptr, size_ptr)

    def environ_get(self, environ_ptr, buf_ptr):
        return self._string_list(self.environ, environ_ptr, buf_ptr)

    def _string_list_sizes(self, strings, count_ptr, size_ptr):
        memory = self.memory()
        memory.store_u32(count_ptr, len(strings))
        memory.store_u32(size_ptr, sum(len(s) + 1 for s in strings))
        return abi.ESUCCESS

    def _string_list(self, strings, pointers_ptr, buf_ptr):
        """Write NUL-terminated strings back to back at buf_ptr and a pointer to each at
        pointers_ptr (the C argv/environ layout)."""
        memory = self.memory()
        blob = b"".join(s + b"\0" for s in strings)
        memory.check(pointers_ptr, 4 * len(strings))
        memory.check(buf_ptr, len(blob))
        offset = 0
        for index, string in enumerate(strings):
            memory.store_u32(pointers_ptr + 4 * index, buf_ptr + offset)
            offset += len(string) + 1
        memory.write(buf_ptr, blob)
        return abi.ESUCCESS

    # Clocks and randomness.

    def clock_res_get(self, clock_id, resolution_ptr):
        from .clocks import clock_resolution    # not imported by programs that never ask
        self.memory().store_u64(resolution_ptr, clock_resolution(clock_id))
        return abi.ESUCCESS

    def clock_time_get(self, clock_id, _precision, time_ptr):
        from .clocks import clock_now
        self.memory().store_u64(time_ptr, clock_now(clock_id))
        return abi.ESUCCESS

    def random_get(self, buf, buf_len):
        memory = self.memory()
        memory.check(buf, buf_len)
        memory.write(buf, os.urandom(buf_len))
        return abi.ESUCCESS

    # The process.

    def proc_exit(self, code):
        raise WasiExit(code)

    def proc_raise(self, sig):
        """A signal with a terminating default action ends the program with status 128+sig,
        what a shell reports for a process killed by that signal."""
        if sig > _MAX_SIGNAL:
            raise WasiError(abi.EINVAL)
        if sig == 0 or sig in _HARMLESS_SIGNALS:
            return abi.ESUCCESS
        raise WasiExit(128 + sig)

    def sched_yield(self):
        os.sched_yield()
        return abi.ESUCCESS
