"""Import resolution: find each import of a module among the given externs and check its
type (spec 2.0, 4.5.4 "instantiation" and 4.5.2 "import matching")."""

from pywamr.runtime.api import HostFunc
from pywamr.runtime.errors import LinkError

from .func import AotFunc
from .global_var import AotGlobal
from .memory import AotMemory
from .table import AotTable


def resolve_imports(module, imports):
    """The extern for every import of `module`, in order; LinkError if one is missing or
    does not match. `imports` is {module name: {field name: extern}}."""
    externs = []
    for imp in module.imports:
        extern = (imports or {}).get(imp.module, {}).get(imp.name)
        where = f"{imp.module}.{imp.name}"
        if extern is None:
            raise LinkError.unknown_import(imp.module, imp.name)
        problem = _mismatch(module, imp, extern)
        if problem:
            raise LinkError(f"incompatible import type: {where} ({problem})")
        externs.append(extern)
    return externs


def _mismatch(module, imp, extern):
    """Why `extern` cannot satisfy `imp`, or None if it can."""
    match imp.kind:
        case "func":
            if not isinstance(extern, (HostFunc, AotFunc)):
                return f"expected a function, got {_kind(extern)}"
            expected = module.types[imp.desc]
            if (tuple(extern.type.params), tuple(extern.type.results)) != \
                    (tuple(expected.params), tuple(expected.results)):
                return f"expected {expected}, got {extern.type}"
        case "table":
            if not isinstance(extern, AotTable):
                return f"expected a table, got {_kind(extern)}"
            if extern.elem_type != imp.desc.elem_type:
                return f"expected {imp.desc.elem_type}, got {extern.elem_type}"
            return _limits_mismatch(extern.type.limits, imp.desc.limits, "elements")
        case "memory":
            if not isinstance(extern, AotMemory):
                return f"expected a memory, got {_kind(extern)}"
            return _limits_mismatch(extern.type.limits, imp.desc.limits, "pages")
        case "global":
            if not isinstance(extern, AotGlobal):
                return f"expected a global, got {_kind(extern)}"
            if extern.type != imp.desc:
                return f"expected {_global_type(imp.desc)}, got {_global_type(extern.type)}"
    return None


def _limits_mismatch(actual, expected, unit):
    """Limits subtyping: at least the minimum, and a maximum no larger than the expected one."""
    if actual.min < expected.min:
        return f"{actual.min} {unit}, expected at least {expected.min}"
    if expected.max is not None and (actual.max is None or actual.max > expected.max):
        limit = "no maximum" if actual.max is None else f"maximum {actual.max}"
        return f"{limit}, expected at most {expected.max}"
    return None


def _kind(extern):
    return {AotFunc: "a function", HostFunc: "a function", AotTable: "a table",
            AotMemory: "a memory", AotGlobal: "a global"}.get(type(extern),
                                                               type(extern).__name__)


def _global_type(globaltype):
    return f"{'mut ' if globaltype.mutable else ''}{globaltype.valtype}"
