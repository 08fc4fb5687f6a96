"""WebAssembly types: value types, function types, limits, and the table/memory/global types.

Value types are plain strings ('i32', 'i64', 'f32', 'f64', 'v128', 'funcref', 'externref'):
readable in error messages and generated code, and compared by identity of interned strings.
The reference types of typed function references (3.0) are strings in the text format's
notation: '(ref 3)', '(ref null 3)' (3: a type index), '(ref func)', '(ref extern)';
'(ref null func)' and '(ref null extern)' are 'funcref' and 'externref'. Exception handling
(3.0) adds the heap types 'exn' and 'noexn' (its bottom, a subtype of 'exn' that only null
inhabits): 'exnref' and 'nullexnref' are the nullable references to them, '(ref exn)' and
'(ref noexn)' the others. The engines represent every reference to a function as a funcref,
to an extern as an externref and to an exception as an exnref (`representation`).

Recursion groups and subtypes (3.0, `rec` and `sub` in the type section) are kept on the
FuncType, in `group` (see FuncType): a type that is not in a `rec` of several types and not
declared with `sub` has group None, so every 2.0 type is the FuncType it always was.
"""

I32, I64, F32, F64, V128 = "i32", "i64", "f32", "f64", "v128"
FUNCREF, EXTERNREF = "funcref", "externref"
EXNREF, NULLEXNREF = "exnref", "nullexnref"

NUM_TYPES = (I32, I64, F32, F64)
REF_TYPES = (FUNCREF, EXTERNREF, EXNREF, NULLEXNREF)
# The abstract heap type each abbreviated (nullable) reference type refers to.
ABBREVIATED_HEAPS = {FUNCREF: "func", EXTERNREF: "extern", EXNREF: "exn", NULLEXNREF: "noexn"}
_ABBREVIATIONS = {heap: reftype for reftype, heap in ABBREVIATED_HEAPS.items()}
# Every abstract heap type with the top of its hierarchy: a reference to one is a reference
# to the top, and to nothing of another hierarchy.
ABSTRACT_HEAPS = {"func": "func", "extern": "extern", "exn": "exn", "noexn": "exn"}

# Binary encodings (spec 5.3.1 / 5.3.2); heap types are these codes as negative s33s.
VALTYPE_CODES = {0x7F: I32, 0x7E: I64, 0x7D: F32, 0x7C: F64, 0x7B: V128,
                 0x70: FUNCREF, 0x6F: EXTERNREF, 0x69: EXNREF, 0x74: NULLEXNREF}
REFTYPE_CODES = {0x70: FUNCREF, 0x6F: EXTERNREF, 0x69: EXNREF, 0x74: NULLEXNREF}
HEAPTYPE_CODES = {code: ABBREVIATED_HEAPS[reftype] for code, reftype in REFTYPE_CODES.items()}

PAGE_SIZE = 65536
MAX_PAGES = 65536          # 4 GiB of 32-bit linear memory
MAX_TABLE_SIZE = 2**32 - 1
# The spec's largest memory (pages) and table (elements) by address type: memory64 (3.0)
# makes memories and tables 64-bit, their addresses and sizes i64s.
MAX_PAGES_OF = {I32: MAX_PAGES, I64: 2**48}
MAX_TABLE_SIZE_OF = {I32: MAX_TABLE_SIZE, I64: 2**64 - 1}
# The reference interpreter's messages for limits beyond those maxima, by address type.
TABLE_SIZE_MESSAGES = {I32: "table size must be at most 2^32-1",
                       I64: "table size must be at most 2^64-1"}
MEMORY_SIZE_MESSAGES = {I32: "memory size must be at most 65536 pages (4GiB)",
                        I64: "memory size must be at most 2^48 pages (16EiB)"}


class Record:
    """A small value type: equality and hashing by fields, a readable repr. A subclass
    lists its fields in __slots__ and takes them in that order, by name too.

    Plain classes rather than dataclasses or namedtuples: `pyiwasm` makes these on every
    start, and the dataclasses module costs more to import than everything else here
    together, a namedtuple several times as much as a class to make."""
    __slots__ = ()
    _defaults = {}      # fields the repr leaves out while they hold these values

    def _fields(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other):
        return type(other) is type(self) and other._fields() == self._fields()

    def __hash__(self):
        return hash((type(self).__name__, self._fields()))

    def __repr__(self):
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__
                         if name not in self._defaults
                         or getattr(self, name) != self._defaults[name])
        return f"{type(self).__name__}({args})"

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def replace(self, **changes):
        """A copy with the fields named in `changes` changed."""
        return type(self)(**{**self.as_dict(), **changes})


class FuncType(Record):
    """A function type. `group` says where it stands among the types (3.0's `rec` and
    `sub`): None for a type alone in its recursion group, final, without supertypes (every
    2.0 type); else, as decoded, a TypeGroup; and in `structural_types`' form a string that
    spells out its whole recursion group, so that equal strings are equivalent types."""
    __slots__ = ("params", "results", "group")

    def __init__(self, params, results, group=None):
        self.params = tuple(params)
        self.results = tuple(results)
        self.group = group

    def __str__(self):
        return f"{self.params_text()} -> [{' '.join(self.results)}]"

    def params_text(self):
        return f"[{' '.join(self.params)}]"

    def __repr__(self):         # as 2.0's, for a type without a group
        group = "" if self.group is None else f", group={self.group!r}"
        return f"FuncType(params={self.params!r}, results={self.results!r}{group})"


class TypeGroup(Record):
    """A decoded type's place among the module's types: its recursion group (the index of
    the group's first type and the group's size), whether it is final (a plain function type
    and `sub final` are; `sub` is not) and its declared supertypes (type indices)."""
    __slots__ = ("first", "size", "final", "supertypes")

    def __init__(self, first, size, final=True, supertypes=()):
        self.first = first
        self.size = size
        self.final = final
        self.supertypes = tuple(supertypes)


class Limits(Record):
    __slots__ = ("min", "max")

    def __init__(self, min, max=None):
        self.min = min
        self.max = max


class TableType(Record):
    """A table type; `address_type` is 'i64' for a 64-bit table (memory64), whose indices
    and sizes are i64s."""
    __slots__ = ("elem_type", "limits", "address_type")
    _defaults = {"address_type": I32}

    def __init__(self, elem_type, limits, address_type=I32):
        self.elem_type = elem_type
        self.limits = limits
        self.address_type = address_type


class MemoryType(Record):
    """A memory type; `address_type` is 'i64' for a 64-bit memory (memory64), whose
    addresses and sizes are i64s."""
    __slots__ = ("limits", "address_type")
    _defaults = {"address_type": I32}

    def __init__(self, limits, address_type=I32):
        self.limits = limits
        self.address_type = address_type


class TagType(Record):
    """The type of a tag, as the API describes imports and exports: `type`, a FuncType whose
    params are the payload's."""
    __slots__ = ("type",)

    def __init__(self, type):
        self.type = type


class GlobalType(Record):
    __slots__ = ("valtype", "mutable")

    def __init__(self, valtype, mutable):
        self.valtype = valtype
        self.mutable = mutable


def ref_type(heap, nullable):
    """The reference type to heap type `heap` (an abstract one, such as 'func' or 'exn', or a
    type index)."""
    if nullable and heap in _ABBREVIATIONS:
        return _ABBREVIATIONS[heap]
    return f"(ref {'null ' if nullable else ''}{heap})"


def is_ref(valtype):
    return valtype in REF_TYPES or valtype.startswith("(ref ")


def is_nullable(reftype):
    return reftype in REF_TYPES or reftype.startswith("(ref null ")


def heap_type(reftype):
    """The abstract heap type ('func', 'extern', 'exn', 'noexn'), or the type index of a
    concrete reference type."""
    if reftype in REF_TYPES:
        return ABBREVIATED_HEAPS[reftype]
    heap = reftype[5:-1].removeprefix("null ")
    return int(heap) if heap.isdigit() else heap


def representation(valtype):
    """The type the engines keep a value of `valtype` as: the numeric and vector types
    themselves, and funcref, externref or exnref for every reference type."""
    if valtype.startswith("(ref ") or valtype == NULLEXNREF:
        top = ABSTRACT_HEAPS.get(heap_type(valtype), "func")
        return _ABBREVIATIONS[top]
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
    FuncTypes across modules: what call_indirect and call_ref compare, and imports match.

    A type with a TypeGroup (3.0's `rec` and `sub`) gets as `group` a string spelling out
    its recursion group, in which the types of the group are `rec.N` (N: the position in
    the group), and its own position: two such types are equivalent when the strings are
    equal (the spec's iso-recursive equivalence)."""
    done = []
    for index, functype in enumerate(functypes):
        group = functype.group
        if group is None:
            resolve = [structural(t, done, own=True) for t in functype.params + functype.results]
            done.append(FuncType(resolve[:len(functype.params)],
                                 resolve[len(functype.params):]))
        elif index == group.first:
            done.extend(_structural_group(functypes[index:index + group.size], index, done))
    return done


def _structural_group(members, first, done):
    """The structural FuncTypes of the recursion group `members`, whose first type has index
    `first`; `done` holds the structural types before it."""

    def resolve(valtype):
        heap = heap_type(valtype) if valtype.startswith("(ref ") else None
        if isinstance(heap, int) and first <= heap < first + len(members):
            return f"(ref {'null ' if is_nullable(valtype) else ''}rec.{heap - first})"
        return structural(valtype, done)

    def name(index):
        return f"rec.{index - first}" if index >= first else _type_name(done[index])

    resolved = []
    for functype in members:
        params = [resolve(t) for t in functype.params]
        results = [resolve(t) for t in functype.results]
        group = functype.group
        supers = "".join(f" {name(i)}" for i in group.supertypes if i < len(done) + len(members))
        head = "sub final" if group.final else "sub"
        resolved.append((params, results, f"({head}{supers} (func {FuncType(params, results)}))"))
    spelled = "(rec " + " ".join(text for _, _, text in resolved) + ")"
    return [FuncType(params, results, f"{spelled}.{position}")
            for position, (params, results, _) in enumerate(resolved)]


def _type_name(functype):
    """A structural FuncType as a heap type, in the strings of `structural`."""
    if functype.group is None:
        return f"(func {functype})"
    return f"(func {functype} {functype.group})"


def structural(valtype, types, own=False):
    """`valtype` with its type index replaced by the type `types` (structural_types) holds
    for it; with `own`, `types` stops before the type `valtype` is part of."""
    if not valtype.startswith("(ref "):
        return valtype
    heap = heap_type(valtype)
    if not isinstance(heap, int) or heap > len(types) or (heap == len(types) and not own):
        return valtype          # abstract, or not a valid type (the validator says)
    named = "rec" if heap == len(types) else _type_name(types[heap])
    return f"(ref {'null ' if is_nullable(valtype) else ''}{named})"


def structural_extern(externtype, types):
    """A table, memory or global type with its reference type made `structural`: what the
    engines' tables and globals carry, so that imports match them across modules."""
    if isinstance(externtype, TableType):
        return externtype.replace(elem_type=structural(externtype.elem_type, types))
    if isinstance(externtype, GlobalType):
        return externtype.replace(valtype=structural(externtype.valtype, types))
    return externtype


def is_subtype(actual, expected, concrete_subtype=str.__eq__):
    """Whether a value of type `actual` may be used as one of type `expected` (3.0's
    subtyping: non-null references are nullable ones, a reference to a function type is a
    `func` one, and a bottom type such as `noexn` is a subtype of its hierarchy's top);
    `concrete_subtype` tells whether one concrete heap type (a type index) is a subtype of
    another: the same type, or one it declares as a supertype."""
    if actual == expected:
        return True
    if not (is_ref(actual) and is_ref(expected)) or (
            is_nullable(actual) and not is_nullable(expected)):
        return False
    have, want = heap_type(actual), heap_type(expected)
    if have == want:
        return True
    if want in ABSTRACT_HEAPS:
        if have in ABSTRACT_HEAPS:
            return ABSTRACT_HEAPS[have] == want
        return want == "func"
    return not isinstance(have, str) and concrete_subtype(have, want)


def default_value(valtype):
    """The zero value of a type, as the engines represent values (refs: None)."""
    if is_ref(valtype):
        return None
    if valtype in (F32, F64):
        return 0      # floats are carried as their bit patterns, see docs/values.md
    return 0
