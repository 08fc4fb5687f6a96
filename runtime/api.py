"""The interface both engines implement, under the public API (`import pywamr`, api/).

An engine turns module bytes into instances; an instance exposes its exports as `Func`,
`Memory`, `Table` and `Global` objects with the interface below. The interpreter
(`pywamr.runtime.interp`) and the AOT loader (`pywamr.loader`) each provide classes with these
methods; embedders and the spec-test runner only rely on what is written here.

    instance = engine.instantiate(module, imports={"env": {"log": HostFunc(ty, fn)}})
    instance.exports["add"](1, 2)            # friendly values in and out
    instance.exports["add"].call_bits([1, 2])  # bit patterns in and out (values.py)

Imports are given as {module name: {field name: extern}}, where an extern is a `HostFunc` or
an export object taken from another instance of the same engine.
Both engines' `instantiate` take `max_memory_size=BYTES`: the memories the instance defines
grow to at most that many bytes (whole pages; never below their initial size), memory.grow
returning -1 beyond, as the spec allows any implementation limit.

Limits on calls, the same on both engines, are a context manager (runtime/limits.py):

    with Limits(timeout=1.0, fuel=10**6) as run:   # fuel: pyaotc --fuel / Module(fuel=True)
        instance.exports["work"]()
    run.fuel_consumed                               # exact, equal on both engines
    run.interrupt()                                 # from any thread, while the block runs

A call ends with `Interrupted` ("interrupted", "interrupted: timeout of 1 s") or
`FuelExhausted` ("all fuel consumed"), both `Trap`s; the instance stays usable. Ctrl-C
raises KeyboardInterrupt in the calling thread, compiled code included.

Errors: `LinkError` for a missing or mistyped import, `Trap` for a trap (also during
instantiation: out-of-bounds segments, a trapping start function), `ResourceError` for a
memory or table that cannot be allocated, `WasmException` for a wasm exception no handler
caught (errors.py); an exception raised by a host function reaches the caller as it is, but
a `WasmException` it raises is thrown into wasm, where handlers may catch it.

Tags (exception handling) are `Tag` objects, the same class on both engines: an instance
exports its tags as Tags, and a Tag made in Python may be imported by any module.

Threads: any number of threads may call into instances at once, each with exact results,
traps and stack limits, as long as no two of them are in the same group at once. An
instance and the instances it imports from (functions, memories, tables, globals) form one
group, as a wasmtime Store does; a call from Python into a group that another thread is
running in raises `ConcurrentCallError` ("instance is running on another thread") at once,
without waiting, and so does instantiating a module that links to it. The thread running in
a group may call into it again (a host function calling back into wasm). Compiled code runs
without the GIL, so threads in different groups use different cores. The Memory, Table and
Global objects are not checked: use them from Python only while no other thread runs their
group.
"""

from .types import PAGE_SIZE, FuncType
from .values import from_bits, to_bits


def memory_growth_limit(limits, engine_pages, max_size=None):
    """The most pages a memory of `limits` may grow to: its declared maximum, the engine's
    limit, and `max_size` bytes (instantiate's max_memory_size), but not below its minimum."""
    pages = engine_pages if limits.max is None else min(limits.max, engine_pages)
    if max_size is not None:
        pages = max(min(pages, max_size // PAGE_SIZE), limits.min)
    return pages


class HostFunc:
    """A Python function offered to wasm as an imported function.

    With raw=False (the default) `fn` receives friendly Python values and returns None, one
    value, or a tuple of values; with raw=True it receives and returns bit patterns, which is
    what system interfaces such as WASI want (unsigned pointers, exact floats).
    """

    def __init__(self, functype: FuncType, fn, raw=False):
        self.type = functype
        self.fn = fn
        self.raw = raw

    def call_bits(self, args):
        """Call with bit patterns, return a list of result bit patterns."""
        params, results = self.type.params, self.type.results
        if self.raw:
            out = self.fn(*args)
        else:
            out = self.fn(*[from_bits(t, a) for t, a in zip(params, args)])
        if not results:
            return []
        if len(results) == 1:
            out = (out,)
        if self.raw:
            return list(out)
        return [to_bits(t, v) for t, v in zip(results, out)]


def host_functions(module, name, namespace, adapt=None):
    """{field: HostFunc} for the functions `module` (a runtime Module) imports from module
    `name`, found by field name in `namespace` (a dict): each callable typed as the import
    declares it (a HostFunc is taken as it is), after `adapt(where, function)` if given.
    This is how a whole Python module becomes a host module (pyiwasm --preload,
    Linker.define_host_module): the wasm side says the types."""
    functions = {}
    for imp in module.imports:
        if imp.module != name or imp.kind != "func":
            continue
        function = namespace.get(imp.name)
        if isinstance(function, HostFunc):
            functions[imp.name] = function
        elif callable(function):
            if adapt is not None:
                function = adapt(f"{name}.{imp.name}", function)
            functions[imp.name] = HostFunc(module.types[imp.desc], function)
    return functions


class Tag:
    """A tag: what a wasm exception is thrown with and caught by. `type` is a FuncType whose
    params are the payload's types (its results are empty). A tag is its identity: two tags
    of one type are different tags, and an imported tag is the exporter's own object.

    `Tag(FuncType(["i32"], []))` makes a new tag in Python, to import into modules: a host
    function then throws `WasmException(tag, [42])`, and Python can tell the module's
    exceptions of it apart. `name` is for messages; an instance that exports a tag it defines
    names it by the export, if it has no name yet."""

    def __init__(self, functype, name=None):
        if functype.results:
            raise ValueError(f"a tag's type has no results, not {functype}")
        self.type = functype
        self.name = name

    def describe(self):
        """How messages name the tag: "name" [types] or [types]."""
        return f'"{self.name}" {self.type.params_text()}' if self.name is not None else (
            self.type.params_text())

    def __repr__(self):
        return f"Tag({self.describe()})"


class Func:
    """Interface of an exported (or imported) function."""
    type: FuncType

    def call_bits(self, args: list) -> list:
        """Call with a list of bit patterns, return a list of result bit patterns."""
        raise NotImplementedError

    def __call__(self, *args):
        params, results = self.type.params, self.type.results
        if len(args) != len(params):
            raise TypeError(f"expected {len(params)} arguments, got {len(args)}")
        out = self.call_bits([to_bits(t, a) for t, a in zip(params, args)])
        values = [from_bits(t, v) for t, v in zip(results, out)]
        if not values:
            return None
        return values[0] if len(values) == 1 else tuple(values)


class Memory:
    """Interface of a linear memory.

    `buffer` is a writable buffer (bytearray or memoryview) of exactly the current size;
    memory.grow may replace it, so fetch it again after anything that can grow memory.
    """

    def size(self) -> int:
        """Current size in pages."""
        raise NotImplementedError

    @property
    def buffer(self):
        raise NotImplementedError

    def grow(self, delta: int) -> int:
        """Grow by `delta` pages; return the old size in pages, or -1 on failure."""
        raise NotImplementedError

    def data_len(self) -> int:
        """Current size in bytes."""
        return len(self.buffer)

    def read(self, start: int = 0, stop: "int | None" = None) -> bytearray:
        """A copy of the bytes from `start` up to `stop` (default: the end), as a bytearray.
        IndexError if the range is not inside memory: a guest's pointer that does not fit
        must not be read short."""
        buffer = self.buffer
        stop = len(buffer) if stop is None else stop
        _check_range(start, stop, len(buffer))
        return bytearray(buffer[start:stop])

    def write(self, value: bytes, start: int = 0) -> int:
        """Write the bytes `value` at `start`; return how many were written. IndexError if
        they do not fit."""
        buffer = self.buffer
        stop = start + len(value)
        _check_range(start, stop, len(buffer))
        buffer[start:stop] = value
        return len(value)


def _check_range(start, stop, size):
    if not 0 <= start <= stop <= size:
        raise IndexError(f"out of bounds memory access: [{start}, {stop}) in memory of "
                         f"{size} bytes")


class Global:
    """Interface of a global: `type` is a GlobalType."""

    def get_bits(self):
        raise NotImplementedError

    def set_bits(self, bits):
        raise NotImplementedError

    @property
    def value(self):
        return from_bits(self.type.valtype, self.get_bits())

    @value.setter
    def value(self, v):
        if not self.type.mutable:
            raise AttributeError("cannot set an immutable global")
        self.set_bits(to_bits(self.type.valtype, v))


class Table:
    """Interface of a table: `type` is a TableType; elements are references (None = null)."""

    def size(self):
        raise NotImplementedError

    def get(self, index):
        raise NotImplementedError

    def set(self, index, ref):
        raise NotImplementedError

    def grow(self, delta, init=None):
        raise NotImplementedError
