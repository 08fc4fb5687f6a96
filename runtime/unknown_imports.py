"""Functions for imports nobody defined, as wasmtime's `--trap-unknown-imports` and
`--default-values-unknown-imports` make them: a program often imports functions it never
calls on the path a run takes (a benchmark harness's `bench.start`), and refusing to
instantiate it for that is the strictest answer, not the only useful one.

Only functions are made up; a missing memory, table or global is still a link error.
"""

from .api import HostFunc
from .errors import Trap
from .types import is_ref

TRAP = "trap"                  # the function traps when called
DEFAULT_VALUES = "default"     # the function returns zeros (null for references)


def define_unknown_imports(module, imports, policy):
    """Add to `imports` ({module: {name: extern}}, changed in place) a function for each
    function `module` (a runtime Module) imports that `imports` lacks, made by `policy`."""
    for imp in module.imports:
        if imp.kind != "func" or imp.name in imports.get(imp.module, {}):
            continue
        functype = module.types[imp.desc]
        where = f"{imp.module}.{imp.name}"
        imports.setdefault(imp.module, {})[imp.name] = HostFunc(
            functype, _trapping(where) if policy == TRAP else _returning_zeros(functype))
    return imports


def _trapping(where):
    def call(*args):
        raise Trap(f"unknown import {where} was called")
    return call


def _returning_zeros(functype):
    zeros = tuple(None if is_ref(valtype) else 0 for valtype in functype.results)
    value = zeros[0] if len(zeros) == 1 else (zeros or None)
    return lambda *args: value
