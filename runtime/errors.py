"""The error types every part of pywamr raises.

One type per failure class, so callers (the CLIs, the spec-test runner, embedders) can tell a
malformed binary from an invalid one, a link failure from a trap, without parsing messages.
"""


class WasmError(Exception):
    """Base class of every error pywamr raises on purpose."""


class MalformedModule(WasmError):
    """The bytes are not a well-formed WebAssembly binary (decoding failed)."""

    def __init__(self, message, offset=None):
        self.reason = message
        self.offset = offset
        if offset is not None:
            message = f"{message} (at byte offset {offset:#x})"
        super().__init__(message)


class InvalidModule(WasmError):
    """The module decodes but does not validate."""

    def __init__(self, message, func_index=None, offset=None):
        self.reason = message
        self.func_index = func_index
        self.offset = offset
        where = []
        if func_index is not None:
            where.append(f"function {func_index}")
        if offset is not None:
            where.append(f"byte offset {offset:#x}")
        if where:
            message = f"{message} (in {', at '.join(where)})"
        super().__init__(message)


class LinkError(WasmError):
    """Instantiation failed because an import is missing or has the wrong type."""


class Trap(WasmError):
    """A WebAssembly trap. `message` is the spec's wording, e.g. "integer divide by zero"."""

    def __init__(self, message):
        self.message = message
        super().__init__(message)


class Exhaustion(Trap):
    """The call stack is exhausted (spec `assert_exhaustion`)."""

    def __init__(self, message="call stack exhausted"):
        super().__init__(message)


class Interrupted(Trap):
    """The call was interrupted: by `Limits.interrupt()` or its timeout (runtime/limits.py),
    or by Ctrl-C in compiled code when Python's SIGINT handler raised nothing."""

    def __init__(self, message="interrupted"):
        super().__init__(message)


class FuelExhausted(Trap):
    """The call used up the instruction budget it was given (runtime/fuel.py)."""

    def __init__(self, message="all fuel consumed"):
        super().__init__(message)


class ResourceError(WasmError):
    """The engine cannot get the memory a module needs: a linear memory or a table cannot be
    allocated at its initial size, or address space cannot be reserved for a memory. Not a
    trap, and not a bug: the module is valid, and may run where there is more memory.
    (Growing at run time fails differently: memory.grow and table.grow return -1.)"""


class ProcExit(WasmError):
    """WASI proc_exit: not an error, the program asked to end with this status."""

    def __init__(self, code):
        self.code = code
        super().__init__(f"exit status {code}")


class AotFormatError(WasmError):
    """An `.aot` file cannot be loaded: bad magic, unknown version, wrong architecture,
    truncated or corrupt (checksum), unsupported CPU features, unknown relocation."""
