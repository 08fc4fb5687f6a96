"""WebAssembly types: value types, function types, limits, and the table/memory/global types.

Value types are plain strings ('i32', 'i64', 'f32', 'f64', 'v128', 'funcref', 'externref'):
readable in error messages and generated code, and compared by identity of interned strings.
The reference types of typed function references (3.0) are strings in the text format's
notation: '(ref 3)', '(ref null 3)' (3: a type index), '(ref func)', '(ref extern)';
'(ref null func)' and '(ref null extern)' are 'funcref' and 'externref'. The engines
represent every reference to a function as a funcref and to an extern as an externref
(`representation`).
"""

I32, I64, F32, F64, V128 = "i32", "i64", "f32", "f64", "v128"
FUNCREF, EXTERNREF = "funcref", "externref"

NUM_TYPES = (I32, I64, F32, F64)
REF_TYPES = (FUNCREF, EXTERNREF)

# Binary encodings (spec 5.3.1 / 5.3.2).
VALTYPE_CODES = {0x7F: I32, 0x7E: I64, 0x7D: F32, 0x7C: F64, 0x7B: V128,
                 0x70: FUNCREF, 0x6F: EXTERNREF}
REFTYPE_CODES = {0x70: FUNCREF, 0x6F: EXTERNREF}

PAGE_SIZE = 65536
MAX_PAGES = 65536          # 4 GiB of 32-bit linear memory
MAX_TABLE_SIZE = 2**32 - 1


class Record:
    """A small value type: equality and hashing by fields, a readable repr. A subclass
    lists its fields in __slots__ and takes them in that order, by name too.

    Plain classes rather than dataclasses or namedtuples: `pyiwasm` makes these on every
    start, and the dataclasses module costs more to import than everything else here
    together, a namedtuple several times as much as a class to make."""
    __slots__ = ()

    def _fields(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other):
        return type(other) is type(self) and other._fields() == self._fields()

    def __hash__(self):
        return hash((type(self).__name__, self._fields()))

    def __repr__(self):
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({args})"

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def replace(self, **changes):
        """A copy with the fields named in `changes` changed."""
        return type(self)(**{**self.as_dict(), **changes})


class FuncType(Record):
    __slots__ = ("params", "results")

    def __init__(self, params, results):
        self.params = tuple(params)
        self.results = tuple(results)

    def __str__(self):
        return f"[{' '.join(self.params)}] -> [{' '.join(self.results)}]"


class Limits(Record):
    __slots__ = ("min", "max")

    def __init__(self, min, max=None):
        self.min = min
        self.max = max


class TableType(Record):
    __slots__ = ("elem_type", "limits")

    def __init__(self, elem_type, limits):
        self.elem_type = elem_type
        self.limits = limits


class MemoryType(Record):
    __slots__ = ("limits",)

    def __init__(self, limits):
        self.limits = limits


class GlobalType(Record):
    __slots__ = ("valtype", "mutable")

    def __init__(self, valtype, mutable):
        self.valtype = valtype
        self.mutable = mutable


def ref_type(heap, nullable):
    """The reference type to heap type `heap` ('func', 'extern' or a type index)."""
    if nullable and heap in ("func", "extern"):
        return FUNCREF if heap == "func" else EXTERNREF
    return f"(ref {'null ' if nullable else ''}{heap})"


def is_ref(valtype):
    return valtype in REF_TYPES or valtype.startswith("(ref ")


def is_nullable(reftype):
    return reftype in REF_TYPES or reftype.startswith("(ref null ")


def heap_type(reftype):
    """'func', 'extern', or the type index of a concrete reference type."""
    if reftype in REF_TYPES:
        return reftype[:-3]
    heap = reftype[5:-1].removeprefix("null ")
    return int(heap) if heap.isdigit() else heap


def representation(valtype):
    """The type the engines keep a value of `valtype` as: the numeric and vector types
    themselves, and funcref or externref for every reference type."""
    if valtype.startswith("(ref "):
        return EXTERNREF if valtype.endswith(" extern)") else FUNCREF
    return valtype


class ByRepresentation(dict):
    """A table by value type whose reference types are all found under the funcref or
    externref their values are (`representation`)."""

    def __missing__(self, valtype):
        kept = representation(valtype)
        if kept == valtype:
            raise KeyError(valtype)
        return self[kept]


def is_defaultable(valtype):
    return not valtype.startswith("(ref ") or valtype.startswith("(ref null ")


def structural_types(functypes):
    """`functypes` (a module's types) with the type index of every reference type replaced
    by the function type it names ('rec' for the type itself), so that equal types are equal
    FuncTypes across modules: what call_indirect and call_ref compare, and imports match."""
    done = []
    for functype in functypes:
        resolve = [structural(t, done, own=True) for t in functype.params + functype.results]
        done.append(FuncType(resolve[:len(functype.params)], resolve[len(functype.params):]))
    return done


def structural(valtype, types, own=False):
    """`valtype` with its type index replaced by the type `types` (structural_types) holds
    for it; with `own`, `types` stops before the type `valtype` is part of."""
    if not valtype.startswith("(ref "):
        return valtype
    heap = heap_type(valtype)
    if not isinstance(heap, int) or heap > len(types) or (heap == len(types) and not own):
        return valtype          # abstract, or not a valid type (the validator says)
    named = "rec" if heap == len(types) else f"(func {types[heap]})"
    return f"(ref {'null ' if is_nullable(valtype) else ''}{named})"


def structural_extern(externtype, types):
    """A table, memory or global type with its reference type made `structural`: what the
    engines' tables and globals carry, so that imports match them across modules."""
    if isinstance(externtype, TableType):
        return externtype.replace(elem_type=structural(externtype.elem_type, types))
    if isinstance(externtype, GlobalType):
        return externtype.replace(valtype=structural(externtype.valtype, types))
    return externtype


def is_subtype(actual, expected, equivalent=str.__eq__):
    """Whether a value of type `actual` may be used as one of type `expected` (3.0's
    subtyping: non-null references are nullable ones, and a reference to a function type is a
    `func` one); `equivalent` tells whether two concrete heap types are the same type."""
    if actual == expected:
        return True
    if not (is_ref(actual) and is_ref(expected)) or (
            is_nullable(actual) and not is_nullable(expected)):
        return False
    have, want = heap_type(actual), heap_type(expected)
    if have == want:
        return True
    if have in ("func", "extern"):
        return False
    return want == "func" or (want != "extern" and equivalent(have, want))


def default_value(valtype):
    """The zero value of a type, as the engines represent values (refs: None)."""
    if is_ref(valtype):
        return None
    if valtype in (F32, F64):
        return 0      # floats are carried as their bit patterns, see docs/values.md
    return 0
