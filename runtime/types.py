"""WebAssembly types: value types, function types, limits, and the table/memory/global types.

Value types are plain strings ('i32', 'i64', 'f32', 'f64', 'v128', 'funcref', 'externref'):
readable in error messages and generated code, and compared by identity of interned strings.
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


def is_ref(valtype):
    return valtype in REF_TYPES


def default_value(valtype):
    """The zero value of a type, as the engines represent values (refs: None)."""
    if valtype in REF_TYPES:
        return None
    if valtype in (F32, F64):
        return 0      # floats are carried as their bit patterns, see docs/values.md
    return 0
