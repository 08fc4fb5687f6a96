"""The error types every part of pywamr raises.

One type per failure class, so callers (the CLIs, the spec-test runner, embedders) can tell a
malformed binary from an invalid one, a link failure from a trap, without parsing messages.

A trap also says which kind it is (`Trap.code`, a TrapCode: the one table of trap kinds and
the spec's wording of each, used by both engines, the loader and the fuzz harness) and where
it happened (`Trap.frames`, the wasm call stack, innermost first).
"""

import enum
from collections import namedtuple


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

    @classmethod
    def unknown_import(cls, module, name):
        """The one wording of a missing import, from both engines."""
        return cls(f"unknown import: {module}.{name}")


class TrapCode(enum.Enum):
    """The kinds of trap, each with the spec's wording as its value. The member's name is the
    stable, machine-readable identifier. A new kind is a line here (and, for compiled code
    to raise it, a TRAP_* code mapped to it in aot_abi.TRAP_KINDS)."""
    UNREACHABLE = "unreachable"
    INTEGER_DIVIDE_BY_ZERO = "integer divide by zero"
    INTEGER_OVERFLOW = "integer overflow"
    INVALID_CONVERSION_TO_INTEGER = "invalid conversion to integer"
    OUT_OF_BOUNDS_MEMORY = "out of bounds memory access"
    UNDEFINED_ELEMENT = "undefined element"
    UNINITIALIZED_ELEMENT = "uninitialized element"
    INDIRECT_CALL_TYPE_MISMATCH = "indirect call type mismatch"
    OUT_OF_BOUNDS_TABLE = "out of bounds table access"
    CALL_STACK_EXHAUSTED = "call stack exhausted"
    INTERRUPTED = "interrupted"
    OUT_OF_FUEL = "all fuel consumed"
    NULL_FUNCTION_REFERENCE = "null function reference"     # call_ref of null
    NULL_REFERENCE = "null reference"                       # ref.as_non_null of null
    NULL_EXCEPTION_REFERENCE = "null exception reference"   # throw_ref of null


MAX_FRAMES = 128    # frames a trap keeps, the innermost ones; it counts the others

# One wasm frame of a trap's backtrace: the function's index in the module's function index
# space, its name from the name section (or None), and the byte offset in the module of the
# instruction it was executing (or None where the engine does not know it).
Frame = namedtuple("Frame", "func_index name offset")


class Trap(WasmError):
    """A WebAssembly trap. `message` is the spec's wording, e.g. "integer divide by zero";
    `code` the TrapCode (None for a trap a host function raised with a message of its own).
    `frames` are the wasm frames the trap unwound, innermost first, and `more_frames` how
    many outer ones were not recorded (an engine keeps a bounded number)."""

    def __init__(self, what, detail=None):
        """`what` is a TrapCode, `detail` an operand the message may add ("uninitialized
        element 2"); a message string is taken as the TrapCode it is the wording of."""
        if isinstance(what, TrapCode):
            self.code, message = what, what.value
        else:
            self.code, message = _CODES_BY_MESSAGE.get(what), what
        if detail is not None:
            message = f"{message} {detail}"
        self.message = message
        self.frames = []
        self.more_frames = 0
        super().__init__(message)

    def add_frames(self, frames, more=0):
        """Record `frames`, callers further out the trap unwound through, and count `more`
        outer ones that were not recorded; keep at most MAX_FRAMES."""
        room = 0 if self.more_frames else MAX_FRAMES - len(self.frames)
        self.frames.extend(frames[:room])
        self.more_frames += len(frames[room:]) + more

    def backtrace(self):
        """The frames as text, one line each (wasmtime's layout), or "" without frames."""
        if not self.frames:
            return ""
        lines = ["wasm backtrace:"]
        for i, frame in enumerate(self.frames):
            line = f"    {i}: func {frame.func_index}"
            if frame.name is not None:
                line += f' "{frame.name}"'
            if frame.offset is not None:
                line += f" at {frame.offset:#x}"
            lines.append(line)
        if self.more_frames:
            lines.append(f"    ... {self.more_frames} more frames")
        return "\n".join(lines)


_CODES_BY_MESSAGE = {code.value: code for code in TrapCode}


class Exhaustion(Trap):
    """The call stack is exhausted (spec `assert_exhaustion`)."""

    def __init__(self):
        super().__init__(TrapCode.CALL_STACK_EXHAUSTED)


class WasmException(WasmError):
    """A WebAssembly exception (3.0's exception handling): `tag` is its runtime.api.Tag and
    `values` its payload, friendly Python values of the tag's parameter types.

    Raised by a call into wasm that throws an exception no wasm handler catches. A host
    function raises one to throw into wasm, where `try_table` and `catch` can catch it: made
    with a Tag the module imports (or exports) and values of its types. It is also how an
    `exnref` value crosses the API: a function returning an exnref gives one (not raised),
    and one passed as an exnref argument is thrown again by `throw_ref`. Not a Trap: wasm
    code may catch it, and it does not unwind wasm frames into a backtrace."""

    def __init__(self, tag, values=()):
        self.tag = tag
        self.values = tuple(values)
        params = tag.type.params
        if len(self.values) != len(params):
            raise TypeError(f"tag {tag.describe()} takes {len(params)} values, got "
                            f"{len(self.values)}")
        # What the exception is: its tag and payload, e.g. 'tag "e" [i32], i32 7'.
        self.detail = f"tag {tag.describe()}" + "".join(
            f", {t} {v!r}" for t, v in zip(params, self.values))
        super().__init__(f"uncaught wasm exception: {self.detail}")

    @classmethod
    def from_bits(cls, tag, bits):
        """The exception of `tag` whose payload is `bits`, bit patterns (values.py)."""
        from .values import from_bits
        return cls(tag, [from_bits(t, b) for t, b in zip(tag.type.params, bits)])

    def bits(self):
        """The payload as bit patterns."""
        from .values import to_bits
        return [to_bits(t, v) for t, v in zip(self.tag.type.params, self.values)]


class ConcurrentCallError(WasmError):
    """A call into an instance while another thread is running in its group (the instances
    linked to it by imports): refused at once, never waited for (runtime/instance_group.py)."""

    def __init__(self, message="instance is running on another thread"):
        super().__init__(message)


class Interrupted(Trap):
    """The call was interrupted: by `Limits.interrupt()` or its timeout (runtime/limits.py),
    or by Ctrl-C in compiled code when Python's SIGINT handler raised nothing. `detail`
    names why, e.g. "timeout of 1 s"."""

    def __init__(self, detail=None):
        super().__init__(TrapCode.INTERRUPTED)
        if detail:
            self.message = f"{self.message}: {detail}"
            self.args = (self.message,)


class FuelExhausted(Trap):
    """The call used up the instruction budget it was given (runtime/fuel.py)."""

    def __init__(self):
        super().__init__(TrapCode.OUT_OF_FUEL)


class ResourceError(WasmError):
    """The engine cannot get the memory a module needs: a linear memory or a table cannot be
    allocated at its initial size, or address space cannot be reserved for a memory. Not a
    trap, and not a bug: the module is valid, and may run where there is more memory.
    (Growing at run time fails differently: memory.grow and table.grow return -1.)"""


class WasiExit(Exception):
    """The program ended itself with WASI proc_exit (or proc_raise): not an error, and so not
    a WasmError, which `except WasmError` around a call would otherwise take for a failure.
    `code` is the exit status."""

    def __init__(self, code):
        self.code = code
        super().__init__(f"exit status {code}")


class AotFormatError(WasmError):
    """An `.aot` file cannot be loaded: bad magic, unknown version, wrong architecture,
    truncated or corrupt (checksum), unsupported CPU features, unknown relocation."""
