"""The objects an interp instance exports and imports: functions, memories, tables, globals.

Inside the interpreter i32/i64/v128 values are unsigned ints and f32/f64 values are floats
(see `numeric.py`); these objects convert to and from the bit patterns of `runtime.api` at
their edges.
"""

from .. import api
from ..api import memory_growth_limit
from ..errors import ResourceError, Trap, TrapCode
from ..types import (MAX_PAGES_OF, MAX_TABLE_SIZE_OF, PAGE_SIZE, ByRepresentation, FuncType,
                     Limits, MemoryType, TableType)
from . import layout
from ..errors import WasmException
from .boundary import TRAP_EXCEPTIONS, call_into_wasm, host_error
from .exceptions import thrown_from_api
from .numeric import M32, M64, f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from .simd import M128


def _same(x):
    return x


def _exn_to_api(exn):
    return None if exn is None else exn.to_api()


def _exn_from_api(error):
    return None if error is None else thrown_from_api(error)


# An exnref is a Thrown inside, a runtime.errors.WasmException at the API (exceptions.py).
TO_BITS = ByRepresentation({"i32": int, "i64": int, "f32": f32_to_bits, "f64": f64_to_bits,
                            "v128": int, "funcref": _same, "externref": _same,
                            "exnref": _exn_to_api})
FROM_BITS = ByRepresentation({"i32": lambda b: b & M32, "i64": lambda b: b & M64,
                              "f32": f32_from_bits, "f64": f64_from_bits,
                              "v128": lambda b: b & M128, "funcref": _same, "externref": _same,
                              "exnref": _exn_from_api})

TABLE_LIMIT = 1 << 24         # elements; a list of them takes 8 bytes each

_canonical_types = {}
_canonical_ids = set()        # of the objects in _canonical_types, which keeps them alive


def canonical_type(functype):
    """One FuncType object per distinct signature, so call_indirect can compare with `is`.
    A canonical one is its own, found by its id without building the key."""
    if id(functype) in _canonical_ids:
        return functype
    key = (tuple(functype.params), tuple(functype.results), functype.group)
    found = _canonical_types.get(key)
    if found is None:
        found = _canonical_types[key] = FuncType(*key)
        _canonical_ids.add(id(found))
    return found


class Function(api.Func):
    """A function: defined in an interp instance, or a host function adapted to the
    interpreter's values. `call` is the Python callable generated code calls, `tail` the
    one a tail call asks a trampoline to call (tail_calls.py)."""

    def __init__(self, functype, call, instance=None, index=None):
        self.type = canonical_type(functype)
        self.call = call
        self.tail = call
        self.instance = instance      # the defining instance (None for a host function)
        self.index = index

    def resolve(self):
        """The callable, after translating the function if that has not happened yet."""
        if self.instance is not None:
            self.instance.translate_function(self.index)
        return self.call

    def call_bits(self, args):
        params, results = self.type.params, self.type.results
        if len(args) != len(params):
            raise TypeError(f"expected {len(params)} arguments, got {len(args)}")
        values = [FROM_BITS[t](a) for t, a in zip(params, args)]
        instance = self.instance
        if instance is None:
            out = call_into_wasm(self.resolve(), values)
        else:
            entered = instance.group.enter()
            try:
                out = call_into_wasm(self.resolve(), values, instance.max_call_depth,
                                     instance.module.fuel)
            finally:
                if entered is not None:
                    entered.leave()
        if not results:
            return []
        if len(results) == 1:
            return [TO_BITS[results[0]](out)]
        return [TO_BITS[t](v) for t, v in zip(results, out)]


def host_function(host):
    """Wrap a `runtime.api.HostFunc` as a Function. What the host raises reaches the caller
    unchanged, even an exception generated code would raise for a trap (see boundary.py),
    but a WasmException, which is thrown into wasm (exceptions.py)."""
    functype = host.type
    to_bits = [TO_BITS[t] for t in functype.params]
    from_bits = [FROM_BITS[t] for t in functype.results]
    n_results = len(from_bits)

    def call(*args):
        try:
            out = host.call_bits([convert(a) for convert, a in zip(to_bits, args)])
            if len(out) != n_results:
                raise TypeError(f"host function returned {len(out)} values, "
                                f"expected {n_results}")
            if n_results == 1:
                return from_bits[0](out[0])
            if n_results:
                return tuple(convert(v) for convert, v in zip(from_bits, out))
            return None
        except TRAP_EXCEPTIONS as error:
            raise host_error(error)
        except WasmException as error:
            raise thrown_from_api(error) from None

    return Function(functype, call)


class Memory(api.Memory):
    """A linear memory: a bytearray of exactly the current size, and `views`, its typed
    views for aligned accesses (layout.MEMORY_VIEWS).

    Growing releases the views and extends the bytearray in place. If the host holds a
    memoryview of it (which forbids resizing), a new bytearray replaces it. Either way every
    instance namespace using this memory is rebound to the current bytearray and views.

    A 64-bit memory (memory64) is the same bytearray: nothing is reserved for its maximum,
    and growing past what the host can allocate fails (-1), as past any other limit."""

    def __init__(self, memtype, max_size=None):
        limits = memtype.limits
        self.address_type = memtype.address_type
        self.max = memory_growth_limit(limits, MAX_PAGES_OF[self.address_type], max_size)
        self.declared_max = limits.max
        try:
            self.data = bytearray(limits.min * PAGE_SIZE)
        except (MemoryError, OverflowError):    # OverflowError: beyond a Python size
            pages = limits.min
            raise ResourceError(f"cannot allocate a linear memory of {pages} pages") from None
        self.views = typed_views(self.data)
        self.namespaces = []

    def bind(self, namespace, index):
        """Make `namespace` see this memory as memory `index` of generated code (an imported
        memory may be another index in each instance that uses it)."""
        namespace[layout.memory_object(index)] = self
        self.namespaces.append((namespace, index))
        self._rebind(namespace, index)

    def _rebind(self, namespace, index):
        namespace[layout.memory(index)] = self.data
        for name, views in self.views.items():
            namespace[layout.memory_view(name, index)] = views

    @property
    def type(self):
        return MemoryType(Limits(self.size(), self.declared_max), self.address_type)

    @property
    def buffer(self):
        return self.data

    def size(self):
        return len(self.data) // PAGE_SIZE

    def grow(self, delta):
        old = self.size()
        if delta > self.max - old:
            return -1
        if not delta:
            return old
        for views in self.views.values():
            for view in views:
                view.release()
        try:
            try:
                self.data.extend(bytes(delta * PAGE_SIZE))
            except BufferError:
                data = bytearray(len(self.data) + delta * PAGE_SIZE)
                data[:len(self.data)] = self.data
                self.data = data
        except (MemoryError, OverflowError):
            return -1
        finally:
            self.views = typed_views(self.data)
            for namespace, index in self.namespaces:
                self._rebind(namespace, index)
        return old


def typed_views(data):
    """name -> the tuple of views layout.MEMORY_VIEWS describes, for the bytearray `data`
    (whose length is a multiple of every item size): view k covers the whole items from
    byte k on, so an access at a = size * q + k is in bounds exactly when q is an index."""
    whole = memoryview(data)
    views = {name: tuple(whole[k:k + size * ((len(data) - k) // size)].cast(fmt)
                         for k in range(size))
             for name, (fmt, size) in layout.MEMORY_VIEWS.items()}
    whole.release()
    return views


class Table(api.Table):
    """A table: a list of references (None is null), grown in place. Past TABLE_LIMIT
    elements growing fails, as the spec allows an implementation to, and so does creating
    one (ResourceError)."""

    def __init__(self, tabletype, init=None):
        self.elem_type = tabletype.elem_type
        self.address_type = tabletype.address_type
        self.declared_max = tabletype.limits.max
        self.max = min(TABLE_LIMIT, MAX_TABLE_SIZE_OF[self.address_type]
                       if self.declared_max is None else self.declared_max)
        size = tabletype.limits.min
        if size > TABLE_LIMIT:
            raise ResourceError(f"cannot allocate a table of {size} elements")
        try:
            self.elements = [init] * size
        except MemoryError:
            raise ResourceError(f"cannot allocate a table of {size} elements") from None

    @property
    def type(self):
        return TableType(self.elem_type, Limits(self.size(), self.declared_max),
                         self.address_type)

    def size(self):
        return len(self.elements)

    def get(self, index):
        if not 0 <= index < len(self.elements):
            raise Trap(TrapCode.OUT_OF_BOUNDS_TABLE)
        return self.elements[index]

    def set(self, index, ref):
        if not 0 <= index < len(self.elements):
            raise Trap(TrapCode.OUT_OF_BOUNDS_TABLE)
        self.elements[index] = ref

    def grow(self, delta, init=None):
        old = len(self.elements)
        if delta > self.max - old:
            return -1
        try:
            self.elements.extend([init] * delta)
        except MemoryError:
            return -1
        return old


class Global(api.Global):
    """A global shared between instances (or exported): generated code reads and writes
    `stored`, the value in the interpreter's representation."""

    def __init__(self, globaltype, stored):
        self.type = globaltype
        self.stored = stored

    def get_bits(self):
        return TO_BITS[self.type.valtype](self.stored)

    def set_bits(self, bits):
        if not self.type.mutable:
            raise TypeError("cannot set an immutable global")
        self.stored = FROM_BITS[self.type.valtype](bits)
