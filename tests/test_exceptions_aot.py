"""Exception handling in compiled code (docs/aot-abi.md, "Exceptions"): wasm locals keep the
values a try body gave them when a throw lands in its catch, at every optimisation level on
x86_64 and under qemu on AArch64; exceptions cross host functions in both directions; an
uncaught one reaches Python as the API's exception naming its tag; a trap is no exception;
tail calls leave try bodies in constant stack. The spec files run in tests/spec."""

import subprocess

import pytest

import pywamr
import test_exceptions as interp_tests
from arm64_qemu import run_calls_on_arm64
from pyiwasm_support import TRAP_STATUS, pyiwasm
from pywamr.runtime.api import HostFunc
from pywamr.runtime.errors import Interrupted, Trap, WasmException
from pywamr.runtime.limits import Limits
from pywamr.runtime.types import FuncType

pytest.importorskip("llvmlite")

from pywamr.compiler.driver import CompileOptions, compile_wasm  # noqa: E402
from pywamr.loader.aot_module import AotModule  # noqa: E402

# Locals assigned in a try body, read after the catch: in a loop whose callee throws, by a
# throw in the function itself, sixteen at once (more than the callee-saved registers), in a
# legacy try whose catch rethrows, and in a try inside a loop.
LOCALS = """
(module
  (tag $e (param i32))
  (tag $e2 (param i64 f64))
  (func $thrower (param i32)
    (if (local.get 0) (then (throw $e (i32.const 7)))))
  (func (export "callee_throws") (param $n i32) (result i32 i32 i64 f64 i32)
    (local $a i32) (local $b i64) (local $c f64) (local $i i32)
    (local.set $a (i32.const 1))
    (block $h (result i32)
      (try_table (catch $e $h)
        (loop $l
          (local.set $a (i32.add (local.get $a) (local.get $i)))
          (local.set $b (i64.add (local.get $b) (i64.const 3)))
          (local.set $c (f64.add (local.get $c) (f64.const 0.5)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (call $thrower (i32.eq (local.get $i) (local.get $n)))
          (br $l)))
      (unreachable))
    (local.get $a) (local.get $b) (local.get $c) (local.get $i))
  (func (export "direct") (param $n i64) (result i64 f64 i64)
    (local $x i64) (local $y f64)
    (block $h (result i64 f64)
      (try_table (catch $e2 $h)
        (local.set $x (i64.mul (local.get $n) (i64.const 3)))
        (local.set $y (f64.convert_i64_s (local.get $x)))
        (throw $e2 (i64.add (local.get $x) (i64.const 1)) (local.get $y)))
      (unreachable))
    (local.get $x))
  (func (export "many") (param $n i32) (result i64)
    (local $l0 i64) (local $l1 i64) (local $l2 i64) (local $l3 i64) (local $l4 i64)
    (local $l5 i64) (local $l6 i64) (local $l7 i64) (local $l8 i64) (local $l9 i64)
    (local $l10 i64) (local $l11 i64) (local $l12 i64) (local $l13 i64) (local $l14 i64)
    (local $l15 i64) (local $i i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (loop $l
          (local.set $l0 (i64.add (local.get $l0) (i64.const 1)))
          (local.set $l1 (i64.add (local.get $l1) (i64.const 2)))
          (local.set $l2 (i64.add (local.get $l2) (i64.const 3)))
          (local.set $l3 (i64.add (local.get $l3) (i64.const 4)))
          (local.set $l4 (i64.add (local.get $l4) (i64.const 5)))
          (local.set $l5 (i64.add (local.get $l5) (i64.const 6)))
          (local.set $l6 (i64.add (local.get $l6) (i64.const 7)))
          (local.set $l7 (i64.add (local.get $l7) (i64.const 8)))
          (local.set $l8 (i64.add (local.get $l8) (i64.const 9)))
          (local.set $l9 (i64.add (local.get $l9) (i64.const 10)))
          (local.set $l10 (i64.add (local.get $l10) (i64.const 11)))
          (local.set $l11 (i64.add (local.get $l11) (i64.const 12)))
          (local.set $l12 (i64.add (local.get $l12) (i64.const 13)))
          (local.set $l13 (i64.add (local.get $l13) (i64.const 14)))
          (local.set $l14 (i64.add (local.get $l14) (i64.const 15)))
          (local.set $l15 (i64.add (local.get $l15) (i64.const 16)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (call $thrower (i32.eq (local.get $i) (local.get $n)))
          (br $l)))
      (unreachable))
    (drop)
    (i64.add (i64.add (i64.add (i64.add (local.get $l0) (local.get $l1))
                               (i64.add (local.get $l2) (local.get $l3)))
                      (i64.add (i64.add (local.get $l4) (local.get $l5))
                               (i64.add (local.get $l6) (local.get $l7))))
             (i64.add (i64.add (i64.add (local.get $l8) (local.get $l9))
                               (i64.add (local.get $l10) (local.get $l11)))
                      (i64.add (i64.add (local.get $l12) (local.get $l13))
                               (i64.add (local.get $l14) (local.get $l15))))))
  (func (export "legacy") (param $n i32) (result i32)
    (local $a i32)
    (try (result i32)
      (do
        (try
          (do
            (local.set $a (i32.mul (local.get $n) (i32.const 10)))
            (call $thrower (i32.const 1)))
          (catch $e
            (local.set $a (i32.add (local.get $a) (i32.const 1)))
            (rethrow 0)))
        (i32.const -1))
      (catch $e (i32.add (local.get $a) (i32.mul (i32.const 1000))))))
  (func (export "loop_catch") (param $n i32) (result i32)
    (local $sum i32) (local $i i32)
    (loop $l
      (block $h (result i32)
        (try_table (catch $e $h)
          (local.set $sum (i32.add (local.get $sum) (local.get $i)))
          (call $thrower (i32.and (local.get $i) (i32.const 1)))
          (local.set $sum (i32.add (local.get $sum) (i32.const 100))))
        (i32.const 0))
      (local.set $sum (i32.add (local.get $sum)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $sum)))
"""
LOCALS_CALLS = [("callee_throws", [5]), ("direct", [4]), ("many", [3]), ("legacy", [4]),
                ("loop_catch", [10])]
LOCALS_RESULTS = [[7, 11, 15, 2.5, 5], [13, 12.0, 12], 3 * sum(range(1, 17)), 41 * 1000 + 7,
                  45 + 5 * 100 + 5 * 7]

# Host functions and exceptions: `outer` calls the host function inside a try; the host
# function throws $e itself, or calls `inner`, which throws and catches nothing.
HOSTS = """
(module
  (import "host" "call" (func $host (param i32) (result i32)))
  (tag $e (export "e") (param i32 i64))
  (func (export "inner") (param i32) (result i32)
    (throw $e (local.get 0) (i64.const -5)))
  (func (export "outer") (param i32) (result i32 i64)
    (local $before i32)
    (block $h (result i32 i64)
      (try_table (catch $e $h)
        (local.set $before (i32.const 99))
        (return (call $host (local.get 0)) (i64.const 0)))
      (unreachable))
    (i64.extend_i32_u (local.get $before))
    (i64.add))
  (func (export "throw_uncaught") (param i32) (throw $e (local.get 0) (i64.const 1)))
  (func (export "trap_in_try")
    (block $h
      (try_table (catch_all $h) (unreachable)))))
"""

# A try body that tail-calls out of itself, ten million times in a row.
TAIL = """
(module
  (tag $e)
  (func $count (export "count") (param $n i64) (result i64)
    (block $h
      (try_table (catch $e $h)
        (if (i64.eqz (local.get $n)) (then (throw $e)))
        (return_call $count (i64.sub (local.get $n) (i64.const 1)))))
    (i64.const 42)))
"""


def wat_to_wasm(text, tmp_path):
    """wat2wasm reads the legacy exception instructions, which wasm-tools no longer does."""
    source, binary = tmp_path / "module.wat", tmp_path / "module.wasm"
    source.write_text(text)
    subprocess.run(["wat2wasm", str(source), "-o", str(binary)], check=True)
    return binary.read_bytes()


def compiled(text, tmp_path, **options):
    return AotModule(compile_wasm(wat_to_wasm(text, tmp_path), CompileOptions(**options)))


@pytest.mark.parametrize("opt", [0, 1, 2, 3])
def test_locals_keep_their_last_values_across_a_throw(opt, tmp_path):
    exports = compiled(LOCALS, tmp_path, opt_level=opt).instantiate({}).exports
    results = [exports[name](*args) for name, args in LOCALS_CALLS]
    assert [list(r) if isinstance(r, tuple) else r for r in results] == LOCALS_RESULTS


def test_locals_keep_their_last_values_across_a_throw_on_arm64(tmp_path):
    wasm = wat_to_wasm(LOCALS, tmp_path)
    paths = []
    for opt in (0, 3):
        path = tmp_path / f"locals-O{opt}.aot"
        path.write_bytes(compile_wasm(wasm, CompileOptions(target="aarch64", opt_level=opt)))
        paths.append(path)
    assert run_calls_on_arm64(paths, LOCALS_CALLS) == [LOCALS_RESULTS, LOCALS_RESULTS]


def test_exceptions_consume_the_same_fuel_on_both_engines(tmp_path):
    from pywamr.runtime.interp import Module as InterpModule
    wasm = wat_to_wasm(LOCALS, tmp_path)
    consumed = []
    for module in (InterpModule(wasm, fuel=True),
                   AotModule(compile_wasm(wasm, CompileOptions(opt_level=0, fuel=True))),
                   AotModule(compile_wasm(wasm, CompileOptions(opt_level=3, fuel=True)))):
        exports = module.instantiate({}).exports
        runs = []
        for name, args in LOCALS_CALLS:
            with Limits(fuel=10**9) as run:
                exports[name](*args)
            runs.append(run.fuel_consumed)
        consumed.append(runs)
    assert consumed[0] == consumed[1] == consumed[2]


def host_instance(tmp_path, host):
    module = compiled(HOSTS, tmp_path)
    imports = {"host": {"call": HostFunc(FuncType(["i32"], ["i32"]), host)}}
    return module.instantiate(imports)


def test_a_host_function_throws_into_wasm(tmp_path):
    tags = {}

    def host(x):
        raise WasmException(tags["e"], [x * 2, 7])

    instance = host_instance(tmp_path, host)
    tags["e"] = instance.exports["e"]
    assert instance.exports["outer"](21) == (42, 7 + 99)


def test_an_uncaught_exception_crosses_a_host_function(tmp_path):
    """`inner` throws in a call from Python that catches nothing: the exception leaves it,
    passes through the host function and lands in `outer`'s catch."""
    exports = {}
    instance = host_instance(tmp_path, lambda x: exports["inner"](x + 1))
    exports.update(instance.exports)
    assert instance.exports["outer"](10) == (11, -5 + 99)
    assert instance.exports["outer"](-3) == (-2, -5 + 99)


def test_a_host_function_that_catches_the_exception_returns_normally(tmp_path):
    exports = {}
    caught = []

    def host(x):
        if caught:      # the second time: throw into outer
            raise WasmException(exports["e"], [x, 3])
        try:
            exports["inner"](x)
        except WasmException as exception:
            caught.append(exception)
            return exception.values[0] + 1000
        return 0

    instance = host_instance(tmp_path, host)
    exports.update(instance.exports)
    assert instance.exports["outer"](5) == (1005, 0)
    # The handler the inner call replaced is back: a throw in outer's try lands there.
    assert instance.exports["outer"](8) == (8, 3 + 99)


def test_an_uncaught_exception_names_its_tag_and_payload(tmp_path):
    instance = host_instance(tmp_path, lambda x: x)
    with pytest.raises(WasmException) as raised:
        instance.exports["throw_uncaught"](17)
    assert raised.value.tag is instance.exports["e"]
    assert raised.value.values == (17, 1)


def test_a_trap_in_a_try_body_is_no_exception(tmp_path):
    """catch_all does not catch the trap, and the trap leaves no stale handler: a throw
    without a try after it is uncaught, as it should be."""
    instance = host_instance(tmp_path, lambda x: x)
    with pytest.raises(Trap, match="unreachable"):
        instance.exports["trap_in_try"]()
    with pytest.raises(WasmException):
        instance.exports["throw_uncaught"](1)
    assert instance.exports["outer"](4) == (4, 0)


@pytest.mark.parametrize("opt", [0, 3])
def test_tail_calls_out_of_try_bodies_run_in_constant_stack(opt, tmp_path):
    count = compiled(TAIL, tmp_path, opt_level=opt).instantiate({}).exports["count"]
    assert count(10_000_000) == 42


# Payloads of every kind of value: a v128 takes two slots, references one.
PAYLOADS = """
(module
  (tag $e (param i32 v128 f32 funcref externref i64))
  (func $five (result i32) (i32.const 5))
  (elem declare func $five)
  (func (export "roundtrip") (param $x externref) (result i32 i64 i64 f32 funcref externref i64)
    (local $a i32) (local $v v128) (local $s f32) (local $fn funcref) (local $r externref)
    (local $b i64)
    (block $h (result i32 v128 f32 funcref externref i64)
      (try_table (catch $e $h)
        (throw $e (i32.const -1) (v128.const i64x2 0x1122334455667788 -2) (f32.const -0.5)
                  (ref.func $five) (local.get $x) (i64.const 9)))
      (unreachable))
    (local.set $b) (local.set $r) (local.set $fn) (local.set $s) (local.set $v) (local.set $a)
    (local.get $a) (i64x2.extract_lane 0 (local.get $v)) (i64x2.extract_lane 1 (local.get $v))
    (local.get $s) (local.get $fn) (local.get $r) (local.get $b)))
"""


@pytest.mark.parametrize("opt", [0, 3])
def test_payloads_of_every_type(opt, tmp_path):
    roundtrip = compiled(PAYLOADS, tmp_path, opt_level=opt).instantiate({}).exports["roundtrip"]
    marker = object()
    a, low, high, single, function, reference, b = roundtrip(marker)
    assert (a, low, high, single, b) == (-1, 0x1122334455667788, -2, -0.5, 9)
    assert function() == 5 and reference is marker


# A loop that throws and catches forever, with no call but the throws: its header checks
# for an interruption as any loop's does.
FOREVER = """
(module
  (tag $e)
  (func (export "spin")
    (loop $l
      (block $h
        (try_table (catch $e $h) (throw $e)))
      (br $l))))
"""


def test_a_loop_of_throws_is_interrupted(tmp_path):
    spin = compiled(FOREVER, tmp_path).instantiate({}).exports["spin"]
    with pytest.raises(Interrupted):
        with Limits(timeout=0.2):
            spin()


# The embedding-API tests of tests/test_exceptions.py (uncaught exceptions, exnrefs and
# payloads across the API, host functions that throw, tags across instances, legacy
# handlers, recursion groups) again on compiled code: they ask for the `interp` fixture,
# which in this module gives the AOT engine.
@pytest.fixture
def interp():
    return pywamr.Engine("aot")


test_api_uncaught = interp_tests.test_an_uncaught_exception_names_its_tag_and_carries_the_payload
test_api_exnref = interp_tests.test_an_exnref_crosses_the_api_and_is_thrown_again
test_api_host_throws = interp_tests.test_a_host_function_throws_into_wasm
test_api_host_error = interp_tests.test_a_host_exception_other_than_a_wasm_one_is_not_caught
test_api_tag_type = interp_tests.test_a_tag_of_the_wrong_type_does_not_link
test_api_traps = interp_tests.test_traps_are_not_caught
test_api_instances = interp_tests.test_exceptions_cross_instances_and_tail_calls
test_api_exnref_storage = interp_tests.test_exnref_in_globals_tables_and_loops
test_api_legacy = interp_tests.test_legacy_handlers_delegate_and_rethrow
test_api_rec_groups = interp_tests.test_types_of_different_recursion_groups_are_different_types
test_api_deep_nesting = interp_tests.test_try_tables_nested_beyond_pythons_limits


def test_pyiwasm_reports_an_uncaught_exception_of_compiled_code_in_one_line(tmp_path):
    from module_text import wasm
    program, compiled_program = tmp_path / "throws.wasm", tmp_path / "throws.aot"
    program.write_bytes(wasm("""(module
      (tag $oops (export "oops") (param i32 f64))
      (func (export "_start") (throw $oops (i32.const -3) (f64.const 0.5))))"""))
    compiled_program.write_bytes(compile_wasm(program.read_bytes()))
    done = pyiwasm(compiled_program)
    assert done.returncode == TRAP_STATUS
    assert done.stderr.decode().splitlines() == [
        'pyiwasm: uncaught wasm exception: tag "oops" [i32 f64], i32 -3, f64 0.5']
    assert done.stdout == b""
