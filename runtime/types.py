"""WebAssembly types: value types, function types, limits, and the table/memory/global types.

Value types are plain strings ('i32', 'i64', 'f32', 'f64', 'v128', 'funcref', 'externref'):
readable in error messages and generated code, and compared by identity of interned strings.
"""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class FuncType:
    params: tuple
    results: tuple

    def __str__(self):
        return f"[{' '.join(self.params)}] -> [{' '.join(self.results)}]"


@dataclass(frozen=True)
class Limits:
    min: int
    max: int | None = None


@dataclass(frozen=True)
class TableType:
    elem_type: str
    limits: Limits


@dataclass(frozen=True)
class MemoryType:
    limits: Limits


@dataclass(frozen=True)
class GlobalType:
    valtype: str
    mutable: bool


def is_ref(valtype):
    return valtype in REF_TYPES


def default_value(valtype):
    """The zero value of a type, as the engines represent values (refs: None)."""
    if valtype in REF_TYPES:
        return None
    if valtype in (F32, F64):
        return 0      # floats are carried as their bit patterns, see docs/values.md
    return 0
