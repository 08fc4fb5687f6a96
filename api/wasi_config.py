"""What a WASI program is given: its arguments, environment, directories and stdio.

Nothing by default, as in wasmtime: no arguments, no environment, no directories, and
stdin, stdout and stderr closed. Each stream is one of

    None                    closed (the default)
    INHERIT                 this process's own (inherit_stdout() and the others set it)
    a path (str, PathLike)  a file: stdin reads it; stdout and stderr create or truncate it
    a binary file object    e.g. io.BytesIO() to capture output: read it with getvalue()
    bytes (stdin only)      what the program reads

A config describes; each instance that a Linker makes with it gets a WASI host of its own,
opened at instantiation (so a missing directory is reported then).
"""

import io
import os



class _Inherit:
    def __repr__(self):
        return "pywamr.INHERIT"


INHERIT = _Inherit()


class WasiConfig:
    def __init__(self):
        self.argv: list[str] = []
        self.env: dict[str, str] = {}
        self.stdin: object = None
        self.stdout: object = None
        self.stderr: object = None
        self.preopens: list[tuple[str, str, bool]] = []    # (guest path, host path, read_only)

    # wasmtime-py's names for the same settings

    def inherit_argv(self) -> None:
        """The program's arguments are this process's (sys.argv)."""
        import sys
        self.argv = list(sys.argv)

    def inherit_env(self) -> None:
        """The program's environment is this process's, as it is now."""
        self.env = dict(os.environ)

    def inherit_stdin(self) -> None:
        self.stdin = INHERIT

    def inherit_stdout(self) -> None:
        self.stdout = INHERIT

    def inherit_stderr(self) -> None:
        self.stderr = INHERIT

    @property
    def stdin_file(self):
        return self.stdin

    @stdin_file.setter
    def stdin_file(self, path):
        self.stdin = os.fspath(path)

    @property
    def stdout_file(self):
        return self.stdout

    @stdout_file.setter
    def stdout_file(self, path):
        self.stdout = os.fspath(path)

    @property
    def stderr_file(self):
        return self.stderr

    @stderr_file.setter
    def stderr_file(self, path):
        self.stderr = os.fspath(path)

    def preopen_dir(self, path: "str | os.PathLike", guest_path: str,
                    read_only: bool = False) -> None:
        """Give the program the host directory `path`, which it sees as `guest_path`;
        with `read_only`, nothing under it can be created, changed or removed."""
        self.preopens.append((guest_path, os.fspath(path), read_only))

    def open_host(self):
        """A new WASI host with this configuration (runtime/wasi/host.py), for one
        instance, and the files opened for its stdio, which its user closes after the
        host; WasiConfigError if a directory or file cannot be opened."""
        from pywamr.runtime.wasi import WasiHost
        opened = []
        try:
            host = WasiHost(self.argv, env=self.env, preopens=self.preopens,
                            stdin=_stream(self.stdin, 0, "rb", opened),
                            stdout=_stream(self.stdout, 1, "wb", opened),
                            stderr=_stream(self.stderr, 2, "wb", opened))
        except BaseException:
            for file in opened:
                file.close()
            raise
        return host, opened


def _stream(setting, fd, mode, opened):
    """What WasiHost takes for one stdio stream: CLOSED, an fd, or a file object."""
    if setting is None:
        from pywamr.runtime.wasi.descriptors import CLOSED
        return CLOSED
    if setting is INHERIT:
        return fd
    if isinstance(setting, (bytes, bytearray)):
        if fd != 0:
            raise TypeError("bytes can only be given as stdin")
        return io.BytesIO(setting)
    if isinstance(setting, (str, os.PathLike)):
        from pywamr.runtime.wasi import WasiConfigError
        try:
            file = open(setting, mode)
        except OSError as error:
            raise WasiConfigError(f"cannot open {os.fspath(setting)!r} for the program's "
                                  f"{('stdin', 'stdout', 'stderr')[fd]}: {error.strerror}") \
                from None
        opened.append(file)
        return file
    return setting
