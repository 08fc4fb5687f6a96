"""The steps of instantiation (spec 2.0, section 4.5.4) that do not depend on the engine:
matching imports, evaluating constant expressions, initialising segments.

Design note. Both engines instantiate a `runtime.module.Module` the same way and differ only
in how they hold what it makes: the interpreter keeps Python lists, bytearrays and
`Function` objects, the AOT loader ctypes arrays, mappings and FuncRef records. So each step
here takes the engine's part as a few plain arguments rather than a class hierarchy:

- `match_imports(module, imports, classes)`: `classes` maps each extern kind to the engine's
  class for it; the rest (a HostFunc is a function on both engines, a runtime.api.Tag a
  tag, an extern of the other engine is refused) is decided here, so a link error reads the same from either engine:
  `unknown import: M.N`, or `incompatible import type: M.N (...)` saying what was expected
  and what was given, types in the spec's notation (`[i32] -> []`, `{min 1, max 2}
  funcref`, `mut i64`), as wasmtime's messages do.
- `evaluate_constant(expr, global_get, ref_func, null_ref)`: the engine reads its globals and
  makes its references; numbers come back as bit patterns (values.py), references as the
  engine's own (interpreter: a Function or None; AOT: a FuncRef address or 0).
- `initialise_segments(module, instance)`: `instance` offers `evaluate(expr)` and the four
  bulk operations of the segment instructions, which compiled or generated code also needs.

Import cost matters: the loader imports this on every `pyiwasm` start, so it takes the
constant instructions' opcode numbers from aot_layout, not from opcodes.py's tables.
"""

from . import api
from .aot_layout import (F32_CONST, F64_CONST, GLOBAL_GET, I32_ADD, I32_CONST, I32_MUL,
                         I32_SUB, I64_ADD, I64_CONST, I64_MUL, I64_SUB, REF_FUNC, REF_NULL,
                         V128_CONST)
from .errors import LinkError
from .types import (FuncType, GlobalType, TableType, is_subtype, structural_extern,
                    structural_types)

_U32 = 0xFFFF_FFFF
_U64 = 0xFFFF_FFFF_FFFF_FFFF
# The arithmetic of extended constant expressions: opcode -> (operation, mask).
_ARITHMETIC = {I32_ADD: (int.__add__, _U32), I32_SUB: (int.__sub__, _U32),
               I32_MUL: (int.__mul__, _U32), I64_ADD: (int.__add__, _U64),
               I64_SUB: (int.__sub__, _U64), I64_MUL: (int.__mul__, _U64)}

# What each extern kind is called in messages, and the api class every engine's extern of
# that kind derives from (which tells an extern of another engine from a stray object).
_NOUNS = {"func": "a function", "table": "a table", "memory": "a memory", "global": "a global",
          "tag": "a tag"}
_API_CLASSES = {"func": api.Func, "table": api.Table, "memory": api.Memory,
                "global": api.Global, "tag": api.Tag}


# Import matching

def match_imports(module, imports, classes):
    """The extern for each import of `module`, in order. `imports` is {module name: {field
    name: extern}}; `classes` is the engine's {kind: class} for "func", "table", "memory"
    and "global" (a tag is a runtime.api.Tag on every engine). LinkError if an import is
    missing or its extern does not match."""
    imports = imports or {}
    types = structural_types(module.types)
    externs = []
    for imp in module.imports:
        extern = imports.get(imp.module, {}).get(imp.name)
        if extern is None:
            raise LinkError.unknown_import(imp.module, imp.name)
        expected = (types[imp.desc] if imp.kind in ("func", "tag") else
                    structural_extern(imp.desc, types))
        problem = _mismatch(imp.kind, expected, extern, classes)
        if problem:
            raise LinkError(f"incompatible import type: {imp.module}.{imp.name} ({problem})")
        externs.append(extern)
    return externs


def _mismatch(kind, expected, extern, classes):
    """Why `extern` cannot be imported as a `kind` of type `expected`, or None if it can."""
    if _kind(extern, classes) != kind:
        return (f"expected {_NOUNS[kind]} {_describe_type(expected, kind)}, "
                f"got {_describe_extern(extern, classes)}")
    actual = extern.type
    match kind:
        case "func":
            if actual != expected:
                return f"expected func {expected}, got func {actual}"
        case "tag":             # tag types are invariant: equivalent, or no match
            if actual != expected:
                same = actual.params == expected.params     # a type of another rec group
                return (f"expected tag {expected.params_text()}, got tag "
                        f"{actual.params_text()}{' of a different type' if same else ''}")
        case "table":
            if actual.elem_type != expected.elem_type:      # invariant: tables are written
                return f"table: expected {expected.elem_type}, got {actual.elem_type}"
            problem = (_address_mismatch(actual, expected)
                       or _limits_mismatch(actual.limits, expected.limits, "element"))
            return problem and f"table: {problem}"
        case "memory":
            problem = (_address_mismatch(actual, expected)
                       or _limits_mismatch(actual.limits, expected.limits, "page"))
            return problem and f"memory: {problem}"
        case "global":
            # An immutable global may be read as any supertype of its type.
            if actual.mutable != expected.mutable or not (
                    is_subtype(actual.valtype, expected.valtype) if not actual.mutable
                    else actual.valtype == expected.valtype):
                return (f"global: expected {_describe_type(expected)}, "
                        f"got {_describe_type(actual)}")
    return None


def _address_mismatch(actual, expected):
    """Why a table or memory of type `actual` is not of `expected`'s address type, or None."""
    if actual.address_type != expected.address_type:
        return f"expected {_bits(expected)}, got {_bits(actual)}"
    return None


def _bits(externtype):
    return "64-bit" if externtype.address_type == "i64" else "32-bit"


def _limits_mismatch(actual, expected, unit):
    """Why limits `actual` do not match `expected` (the spec's import matching of limits: at
    least the minimum, and a maximum no larger than the expected one, if that has one), or
    None."""
    if actual.min < expected.min:
        return f"{_count(actual.min, unit)}, expected at least {expected.min}"
    if expected.max is not None and (actual.max is None or actual.max > expected.max):
        limit = "no maximum" if actual.max is None else f"maximum {actual.max}"
        return f"{limit}, expected at most {expected.max}"
    return None


def _describe_type(externtype, kind=None):
    """An extern type in the spec's notation: `[i32] -> []`, `{min 1, max 2} funcref`,
    `{min 1}` (a memory), `i64 {min 1}` (a 64-bit memory), `mut i64`."""
    match externtype:
        case FuncType() if kind == "tag":
            return externtype.params_text()
        case FuncType():
            return str(externtype)
        case GlobalType():
            return f"mut {externtype.valtype}" if externtype.mutable else externtype.valtype
        case TableType():
            return f"{_describe_limits(externtype)} {externtype.elem_type}"
    return _describe_limits(externtype)


def _describe_limits(externtype):
    """The limits of a table or memory type, after `i64` if it is 64-bit."""
    limits = externtype.limits
    address = "i64 " if externtype.address_type == "i64" else ""
    if limits.max is None:
        return f"{address}{{min {limits.min}}}"
    return f"{address}{{min {limits.min}, max {limits.max}}}"


def _kind(extern, classes):
    """The kind of `extern` if this engine can import it, else None."""
    if isinstance(extern, api.HostFunc):
        return "func"
    if isinstance(extern, api.Tag):
        return "tag"
    for kind, cls in classes.items():
        if isinstance(extern, cls):
            return kind
    return None


def _describe_extern(extern, classes):
    """What `extern` is, for a message."""
    kind = _kind(extern, classes)
    if kind is not None:
        return _NOUNS[kind]
    for kind, cls in _API_CLASSES.items():
        if isinstance(extern, cls):
            return f"{_NOUNS[kind]} of another engine"
    return f"a Python {type(extern).__name__}, not an extern"


def _count(n, unit):
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


# Constant expressions

def evaluate_constant(expr, global_get, ref_func, null_ref):
    """The value of the constant expression `expr` (Instrs without the final `end`): a number
    as its bit pattern, a reference as the engine's own. The engine gives `global_get(index)`
    (a global's value, as bits or its reference), `ref_func(index)` (a reference to a
    function) and `null_ref`.

    2.0 allows one instruction; WebAssembly 3.0's extended constant expressions add
    i32/i64 add, sub and mul, which pop two values and push one, and global.get of any
    immutable global defined before (the engines evaluate globals in order)."""
    stack = []
    for instr in expr:
        op, imm = instr.op, instr.imm
        if op == I32_CONST:
            stack.append(imm & _U32)
        elif op == I64_CONST:
            stack.append(imm & _U64)
        elif op in (F32_CONST, F64_CONST, V128_CONST):
            stack.append(imm)          # the decoder gives floats and vectors as bits already
        elif op == REF_NULL:
            stack.append(null_ref)
        elif op == REF_FUNC:
            stack.append(ref_func(imm))
        elif op == GLOBAL_GET:
            stack.append(global_get(imm))
        elif op in _ARITHMETIC:
            operation, mask = _ARITHMETIC[op]
            right = stack.pop()
            stack.append(operation(stack.pop(), right) & mask)
        else:
            raise ValueError(f"not a constant instruction: opcode {op:#x}")
    (value,) = stack        # validation guarantees exactly one
    return value


# Segments

def initialise_segments(module, instance):
    """Element segments, then data segments, each in order: an active one is copied into its
    table or memory and dropped, a declarative one dropped. A trap leaves what earlier
    segments wrote in place; in an imported table or memory others see it.

    `instance` offers evaluate(expr), table_init(table, segment, dst, src, n),
    elem_drop(segment), memory_init(memory, segment, dst, src, n) and data_drop(segment)."""
    for i, seg in enumerate(module.elems):
        if seg.mode == "active":
            instance.table_init(seg.table, i, instance.evaluate(seg.offset), 0, len(seg.init))
        if seg.mode != "passive":
            instance.elem_drop(i)
    for i, seg in enumerate(module.datas):
        if seg.mode == "active":
            instance.memory_init(seg.memory, i, instance.evaluate(seg.offset), 0, len(seg.data))
            instance.data_drop(i)
