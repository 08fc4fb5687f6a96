"""One module through every configuration, and the differences from the reference.

The reference for each item (instantiation, a call, a piece of final state) is wasmtime's
outcome, or the interpreter's for what wasmtime-py cannot read (v128 globals). A
configuration diverges on a module when any item differs, when it lacks an item
(it crashed, hung or failed before it), or when it reports an error of its own.
"""

import importlib
import os
import tempfile
from pathlib import Path

from . import engines, oracle
from .calls import make_plan
from .sandbox import run_forked

REPO = Path(__file__).resolve().parent.parent
ARM64_ROOT = Path(os.environ.get("PYWAMR_ARM64_ROOT") or REPO / "build" / "arm64-root")

AOT = {f"aot-O{level}-{mode}": (level, mode == "checks")
       for mode in ("checks", "guard") for level in (0, 3)}
ARM64 = {"arm64-O3-guard": (3, False), "arm64-O0-checks": (0, True)}
CONFIGS = ["interp", *AOT, *ARM64]
TIMEOUT = {"wasmtime": 60, "interp": 120, "aot": 120, "arm64": 600}


def arm64_available():
    return (ARM64_ROOT / ".pywamr-arm64-root").exists()


def run_config(config, wasm, plan, emit):
    """The body of a configuration's child process."""
    if config == "wasmtime":
        return oracle.run_wasmtime(wasm, plan, emit)
    if config == "interp":
        return engines.run_interp(wasm, plan, emit)
    target = "aarch64" if config in ARM64 else None
    level, checks = AOT.get(config) or ARM64[config]
    try:
        aot = engines.compile_aot(wasm, level, checks, target)
    except Exception as error:
        emit(["instantiate", ["error", f"compile: {type(error).__name__}: {error}"]])
        return
    if target is None:
        return engines.run_aot(aot, plan, emit)
    run_arm64(aot, plan, emit)


def run_arm64(aot, plan, emit):
    """The .aot on the arm64 Python under qemu, running engines.py by path, with the loader
    of the same checkout as the compiler that made it."""
    import importlib.util
    import json
    import pywamr.loader
    checkout = Path(pywamr.loader.__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location(
        "pywamr_arm64_runner", checkout / "build-scripts" / "arm64.py")
    arm64 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(arm64)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "module.aot")
        path.write_bytes(aot)
        process = arm64.run_arm64([Path(engines.__file__), path], root=ARM64_ROOT,
                                  input=json.dumps(plan), capture_output=True, text=True,
                                  timeout=TIMEOUT["arm64"] - 10)
    for line in process.stdout.splitlines():
        emit(json.loads(line))
    if process.returncode != 0:
        tail = process.stderr.strip().splitlines()[-1:] or [""]
        emit(["crash", f"arm64 python exit status {process.returncode}: {tail[0]}"])


def run(config, wasm, plan):
    kind = "aot" if config in AOT else "arm64" if config in ARM64 else config
    return run_forked(run_config, (config, wasm, plan), TIMEOUT[kind])


def items(events):
    """{item: outcome}; the events that end a run early go under "end"."""
    out = {}
    for event in events:
        if event[0] == "instantiate":
            out["instantiate"] = event[1]
        elif event[0] == "call":
            out[f"call {event[1]}"] = event[2]
        elif event[0] == "state":
            out[event[1]] = event[2]
        else:
            out["end"] = event
    return out


def reference(oracle_items, interp_items):
    ref = dict(interp_items)
    ref.pop("end", None)
    if oracle_items.get("instantiate") != ["ok"]:
        return {k: v for k, v in oracle_items.items() if k == "instantiate"}
    ref.update(oracle_items)
    return ref


def differences(ref, got):
    """[(item, expected, got)] in the order of the reference."""
    out = []
    for key, expected in ref.items():
        actual = got.get(key, got.get("end", ["missing"]))
        if actual != expected:
            out.append((key, expected, actual))
    if "end" in got and not out:
        out.append(("end", None, got["end"]))
    return out


def describe(plan, key):
    """An item's name for people: a call with its export name and arguments."""
    if key.startswith("call "):
        call = plan["calls"][int(key.split()[1])]
        args = ", ".join("null" if a is None else hex(a) for a in call["args"])
        return f"{key}: {call['name']!r}({args})"
    return key


class ModuleResult:
    def __init__(self, seed, plan, diffs, skipped=None):
        self.seed = seed
        self.plan = plan
        self.diffs = diffs            # {config: [(item, expected, got)]}, diverging ones only
        self.skipped = skipped        # why the oracle could not judge the module, or None

    def report(self, config):
        lines = [f"{config} differs from the reference (wasmtime; interp for v128 globals):"]
        for key, expected, got in self.diffs[config][:5]:
            lines.append(f"  {describe(self.plan, key)}: expected {expected}, got {got}")
        more = len(self.diffs[config]) - 5
        if more > 0:
            lines.append(f"  ... and {more} more")
        return "\n".join(lines)


def preload():
    """Import the engines once in the parent, so that the children forked for each run do not
    (the compiler alone takes a tenth of a second: llvmlite). An import that fails here is
    left to the children, which report it as their outcome."""
    for name in ("wasmtime", "pywamr.runtime.interp", "pywamr.loader.aot_module",
                 "pywamr.compiler.driver"):
        try:
            importlib.import_module(name)
        except Exception:
            pass


def check_module(wasm, seed, configs):
    """Run the module everywhere and compare each configuration with the reference."""
    preload()
    plan = make_plan(wasm, seed)
    oracle_items = items(run("wasmtime", wasm, plan))
    if "end" in oracle_items:
        return ModuleResult(seed, plan, {}, skipped=f"wasmtime: {oracle_items['end']}")
    needed = "interp" in configs or any(t == "v128" for _, t in plan["globals"])
    interp_items = items(run("interp", wasm, plan)) if needed else {}
    ref = reference(oracle_items, interp_items)
    diffs = {}
    for config in configs:
        got = interp_items if config == "interp" else items(run(config, wasm, plan))
        found = differences(ref, got)
        if found:
            diffs[config] = found
    return ModuleResult(seed, plan, diffs)
