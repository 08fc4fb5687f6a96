"""Our engines under the plan (calls.py): the interpreter, the AOT engine from an .aot (this
machine, or the arm64 Python under qemu), each emitting outcome events (outcomes.py).

This module is loaded by path on the arm64 Python, whose pywamr has only runtime/ and
loader/: it imports nothing else at module level (the compiler is imported where needed).
"""

import json
import sys

try:
    from . import host, outcomes
except ImportError:    # loaded by path, outside the package
    import host
    import outcomes

from pywamr.runtime.errors import Trap, WasmError


def host_imports(plan, log):
    """The plan's imports as our engines take them, calling `log` (a host.Host)."""
    from pywamr.runtime.api import HostFunc
    from pywamr.runtime.types import FuncType
    functions = {}
    for name in plan["imports"]:
        params, results = host.SIGNATURES[name]

        def call(*args, name=name, results=results):
            out = log.call(name, args)
            return out[0] if len(results) == 1 else out

        functions[name] = HostFunc(FuncType(params, results), call, raw=True)
    return {"host": functions} if functions else {}


def run_instance(instantiate, plan, emit):
    """Instantiate, make every call of the plan, then report the state."""
    log = host.Host()
    try:
        instance = instantiate(host_imports(plan, log))
    except Trap as trap:
        emit(["instantiate", ["trap", outcomes.trap_kind(trap)]])
        return
    except WasmError as error:
        emit(["instantiate", ["error", f"{type(error).__name__}: {error}"]])
        return
    emit(["instantiate", ["ok"]])
    exports = instance.exports
    for i, call in enumerate(plan["calls"]):
        if plan["refuel"]:
            exports["fuzz:refuel"].call_bits([])
        try:
            out = exports[call["name"]].call_bits(call["args"])
        except Trap as trap:
            emit(["call", i, ["trap", outcomes.trap_kind(trap)]])
            continue
        except Exception as error:    # not a trap: an engine error, reported, not fatal
            emit(["call", i, ["error", f"{type(error).__name__}: {error}"]])
            continue
        emit(["call", i, ["ok", [outcomes.value(t, v) for t, v in zip(call["results"], out)]]])
    for name in plan["memories"]:
        emit(["state", f"memory {name}", outcomes.memory_digest(bytes(exports[name].buffer))])
    for name, valtype in plan["globals"]:
        emit(["state", f"global {name}", outcomes.value(valtype, exports[name].get_bits())])
    for name in plan["tables"]:
        table = exports[name]
        nulls = [table.get(k) is None for k in range(table.size())]
        emit(["state", f"table {name}", outcomes.table_digest(nulls)])
    if plan["imports"]:
        emit(["state", "host log", log.digest()])


def run_interp(wasm, plan, emit):
    from pywamr.runtime.interp import Module
    run_instance(lambda imports: Module(wasm).instantiate(imports), plan, emit)


def compile_aot(wasm, opt_level, bounds_checks, target=None):
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    return compile_wasm(wasm, CompileOptions(target=target, opt_level=opt_level,
                                             bounds_checks=bounds_checks))


def run_aot(aot, plan, emit):
    from pywamr.loader.aot_module import AotModule
    run_instance(lambda imports: AotModule(aot).instantiate(imports), plan, emit)


def main():
    """`python engines.py AOT_PATH < plan.json`: run an .aot, events on stdout (for qemu)."""
    plan = json.load(sys.stdin)
    with open(sys.argv[1], "rb") as file:
        aot = file.read()

    def emit(event):
        print(json.dumps(event), flush=True)

    run_aot(aot, plan, emit)


if __name__ == "__main__":
    main()
