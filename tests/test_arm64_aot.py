"""`.aot` files compiled for AArch64 on this x86_64 machine, run by the loader on arm64 under
qemu, at size levels 0, 1 and 3; the same module compiled for x86_64 runs here, and both must
give the results below. And an AArch64 `.aot` is refused on x86_64 with one line."""

import json
import subprocess
import sys

import pytest

from arm64_qemu import arm64, run_arm64_python
from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.loader.aot_module import AotModule
from pywamr.runtime.errors import AotFormatError

SIZE_LEVELS = (0, 1, 3)

MODULE = """
(module
  (memory 1)
  (global $total (mut i64) (i64.const 5))
  (type $i32_to_i32 (func (param i32) (result i32)))
  (table 4 funcref)
  (elem (i32.const 0) $square $add100 $halve)
  (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func $add100 (param i32) (result i32) (i32.add (local.get 0) (i32.const 100)))
  (func $halve (param f64) (result f64) (f64.mul (local.get 0) (f64.const 0.5)))
  (func $factorial (export "factorial") (param i64) (result i64)
    (if (result i64) (i64.le_s (local.get 0) (i64.const 1))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $factorial (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "call_indirect") (param i32 i32) (result i32)
    (call_indirect (type $i32_to_i32) (local.get 1) (local.get 0)))
  (func (export "memory_ops") (param i32) (result i32)
    (i32.store (i32.const 100) (local.get 0))
    (memory.fill (i32.const 200) (i32.const 7) (i32.const 50))
    (memory.copy (i32.const 300) (i32.const 100) (i32.const 4))
    (i32.add (i32.load (i32.const 300)) (i32.load8_u (i32.const 249))))
  (func (export "grow") (param i32) (result i32 i32)
    (memory.grow (local.get 0)) (memory.size))
  (func (export "accumulate") (param i64) (result i64)
    (global.set $total (i64.add (global.get $total) (local.get 0)))
    (global.get $total))
  (func (export "floats") (param f64 f32) (result f64)
    (f64.add (f64.nearest (local.get 0)) (f64.promote_f32 (f32.sqrt (local.get 1)))))
  (func (export "rounding") (param f64 f64) (result f64)
    (f64.div (f64.floor (local.get 0)) (f64.trunc (local.get 1))))
  (func (export "divide") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "far") (param i32) (result i32)
    (i32.load (i32.add (local.get 0) (i32.const 0x7FFFFFF0))))
  (func (export "to_int") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "unreachable") (unreachable))
)
"""

# (export, arguments, result or ("trap", message)), called in this order on one instance.
CALLS = [
    ("factorial", [20], 2432902008176640000),
    ("call_indirect", [0, 7], 49),
    ("call_indirect", [1, 7], 107),
    ("call_indirect", [2, 7], ("trap", "indirect call type mismatch")),
    ("call_indirect", [3, 7], ("trap", "uninitialized element")),
    ("call_indirect", [4, 7], ("trap", "undefined element")),
    ("memory_ops", [5], 12),
    # A sign-extended address (docs/aot-abi.md, "Addresses"): the sum wraps to 100, or is
    # 2^31 or more without wrapping (in the guard above memory, or below it).
    ("far", [0x80000074], 5),
    ("far", [0x10], ("trap", "out of bounds memory access")),
    ("far", [0x80000000], ("trap", "out of bounds memory access")),
    ("grow", [2], [1, 3]),
    ("grow", [70000], [-1, 3]),
    ("load", [3 * 65536 - 4], 0),
    ("load", [3 * 65536 - 3], ("trap", "out of bounds memory access")),
    ("accumulate", [10], 15),
    ("accumulate", [-20], -5),
    ("floats", [2.5, 16.0], 6.0),
    ("rounding", [7.9, 2.5], 3.5),
    ("divide", [-7, 2], -3),
    ("divide", [7, 0], ("trap", "integer divide by zero")),
    ("divide", [-2**31, -1], ("trap", "integer overflow")),
    ("to_int", [-2147483648.9], -2147483648),
    ("to_int", [2147483648.0], ("trap", "integer overflow")),
    ("to_int", [float("nan")], ("trap", "invalid conversion to integer")),
    ("recurse", [0], ("trap", "call stack exhausted")),
    ("unreachable", [], ("trap", "unreachable")),
    ("factorial", [5], 120),  # still usable after all those traps
]

# Runs on both machines: instantiate each .aot and make the calls, as JSON.
CALL_EXPORTS = r"""
import json, sys
from pywamr.loader.aot_module import AotModule
from pywamr.runtime.errors import Trap

request = json.load(sys.stdin)
answers = []
for path in request["files"]:
    with open(path, "rb") as file:
        instance = AotModule(file.read()).instantiate({})
    results = []
    for name, args in request["calls"]:
        try:
            result = instance.exports[name](*args)
            results.append(list(result) if isinstance(result, tuple) else result)
        except Trap as trap:
            results.append(["trap", trap.message])
    answers.append(results)
json.dump(answers, sys.stdout)
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """{(arch, size level): path of the .aot}."""
    folder = tmp_path_factory.mktemp("aot")
    (folder / "module.wat").write_text(MODULE)
    subprocess.run(["wat2wasm", str(folder / "module.wat"), "-o", str(folder / "module.wasm")],
                   check=True)
    wasm = (folder / "module.wasm").read_bytes()
    paths = {}
    for arch in ("x86_64", "aarch64"):
        for level in SIZE_LEVELS:
            path = paths[arch, level] = folder / f"module-{arch}-{level}.aot"
            path.write_bytes(compile_wasm(wasm, CompileOptions(target=arch, size_level=level)))
    return paths


def expected_results():
    return [list(result) if isinstance(result, tuple) else result for *_, result in CALLS]


def call_request(paths):
    return json.dumps({"files": [str(p) for p in paths],
                       "calls": [[name, args] for name, args, _ in CALLS]})


def test_exports_on_x86_64(compiled):
    paths = [compiled["x86_64", level] for level in SIZE_LEVELS]
    process = subprocess.run([sys.executable, "-c", CALL_EXPORTS], input=call_request(paths),
                             capture_output=True, text=True, check=True)
    for level, results in zip(SIZE_LEVELS, json.loads(process.stdout), strict=True):
        assert results == expected_results(), f"size level {level}"


def test_exports_on_arm64(compiled):
    paths = [compiled["aarch64", level] for level in SIZE_LEVELS]
    answers = json.loads(run_arm64_python(["-c", CALL_EXPORTS], input=call_request(paths)))
    for level, results in zip(SIZE_LEVELS, answers, strict=True):
        assert results == expected_results(), f"size level {level}"


def test_pyiwasm_on_arm64(compiled):
    output = run_arm64_python(["-m", "pywamr.loader", "-f", "factorial",
                               compiled["aarch64", 3], "20"])
    assert output == "2432902008176640000\n"


def test_aarch64_aot_is_refused_on_x86_64(compiled):
    process = subprocess.run([sys.executable, "-m", "pywamr.loader", "-f", "factorial",
                              str(compiled["aarch64", 3]), "5"], capture_output=True, text=True)
    assert_one_line_error(process, "compiled for aarch64, this machine is x86_64")
    with pytest.raises(AotFormatError, match="aarch64"):
        AotModule(compiled["aarch64", 3].read_bytes())


def test_x86_64_aot_is_refused_on_arm64(compiled):
    process = arm64.run_arm64(["-m", "pywamr.loader", "-f", "factorial", compiled["x86_64", 3],
                               "5"], capture_output=True, text=True)
    assert_one_line_error(process, "compiled for x86_64, this machine is aarch64")


def assert_one_line_error(process, message):
    assert process.returncode == 1
    assert process.stdout == ""
    assert process.stderr.startswith("pyiwasm: error: ")
    assert process.stderr.endswith(f"{message}\n") and process.stderr.count("\n") == 1
