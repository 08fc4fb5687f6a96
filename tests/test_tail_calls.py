"""Tail calls (return_call, return_call_indirect) on both engines: unbounded tail recursion
runs in constant stack, across signatures, through tables and imports, at every AOT
optimisation and size level; ordinary recursion still exhausts the stack, and traps keep
their message and backtrace. The spec files are run by tests/spec."""

import pytest

from module_text import wasm
from pywamr.runtime.errors import Exhaustion, FuelExhausted, Interrupted, Trap
from pywamr.runtime.interp import Module as InterpModule
from pywamr.runtime.limits import Limits

TEN_MILLION = 10_000_000

# count and other call each other with different signatures; even and odd through the table,
# odd's signature with more arguments than registers; swap returns two values; to_leaf ends
# its chain in a function without tail calls; deep recurses without tail calls.
MODULE = """
(module
  (type $pair (func (param i64 i64) (result i64)))
  (type $many (func (param i64 f64 i32 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)))
  (table funcref (elem $even $odd))
  (func $count (export "count") (param $n i64) (param $acc i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call $other (i32.wrap_i64 (local.get $n)) (f64.const 1)
                                (local.get $acc)))))
  (func $other (param i32 f64 i64) (result i64)
    (return_call $count (i64.extend_i32_u (i32.sub (local.get 0) (i32.const 1)))
                        (i64.add (local.get 2) (i64.trunc_f64_u (local.get 1)))))
  (func $even (export "even") (type $pair) (param $n i64) (param $acc i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call_indirect (type $many)
              (i64.sub (local.get $n) (i64.const 1)) (f64.const 0.5) (i32.const 2)
              (local.get $acc) (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4)
              (i64.const 5) (i64.const 6) (i64.const 7) (i32.const 1)))))
  (func $odd (type $many) (param $n i64) (param f64) (param i32) (param $acc i64)
        (param i64 i64 i64 i64 i64 i64 i64) (result i64)
    (return_call_indirect (type $pair)
      (i64.sub (local.get $n) (i64.const 1))
      (i64.add (local.get $acc) (i64.sub (local.get 10) (local.get 9)))
      (i32.const 0)))
  (func $swap (export "swap") (param $n i64) (param i32 i32) (result i32 i32)
    (if (result i32 i32) (i64.eqz (local.get $n))
      (then (local.get 1) (local.get 2))
      (else (return_call $swap (i64.sub (local.get $n) (i64.const 1))
                               (local.get 2) (local.get 1)))))
  (func $leaf (param i64) (result i64) (i64.mul (local.get 0) (i64.const 2)))
  (func (export "to_leaf") (param i64) (result i64) (return_call $leaf (local.get 0)))
  (func $deep (export "deep") (param i64) (result i64)
    (i64.add (call $deep (local.get 0)) (i64.const 1)))
  (func $trap_after (export "trap_after") (param $n i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n))
      (then (unreachable))
      (else (return_call $trap_after (i64.sub (local.get $n) (i64.const 1)))))))
"""
TRAP_AFTER = 8          # its function index

# Tail calls to an imported function, which goes on tail-calling in its own instance.
CLIENT = """
(module
  (import "m" "count" (func $count (param i64 i64) (result i64)))
  (func (export "via") (param i64) (result i64) (return_call $count (local.get 0) (i64.const 5))))
"""

# A tail call 120 `if`s deep: the interpreter outlines the constructs beyond Python's nesting
# limit into functions of their own (twice), which hand the request back to the body.
NESTED = ("(module (func $f (export \"f\") (param $n i64) (param $acc i64) (result i64)"
          + " (if (result i64) (i32.const 1) (then" * 120
          + " (if (result i64) (i64.eqz (local.get $n)) (then (local.get $acc))"
            " (else (return_call $f (i64.sub (local.get $n) (i64.const 1))"
            " (i64.add (local.get $acc) (i64.const 2)))))"
          + ") (else (i64.const -1)))" * 120 + "))")

# An endless chain of tail calls, with no loop and no ordinary call in it.
FOREVER = """
(module
  (func $ping (export "ping") (param i64) (result i64)
    (return_call $pong (i32.wrap_i64 (local.get 0))))
  (func $pong (param i32) (result i64)
    (return_call $ping (i64.extend_i32_u (i32.add (local.get 0) (i32.const 1))))))
"""

LEVELS = [(opt, size) for opt in (0, 1, 2, 3) for size in (0, 1, 2, 3)]


def aot_module(text, opt, size, fuel=False):
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    from pywamr.loader.aot_module import AotModule
    options = CompileOptions(opt_level=opt, size_level=size, fuel=fuel)
    return AotModule(compile_wasm(wasm(text), options))


def check_constant_stack(module, client, iterations):
    exports = module.instantiate({}).exports
    assert exports["count"](iterations, 0) == iterations
    assert exports["even"](iterations, 0) == iterations // 2
    assert tuple(exports["swap"](iterations + 1, 1, 2)) == (2, 1)
    assert exports["to_leaf"](21) == 42
    via = client.instantiate({"m": {"count": exports["count"]}}).exports["via"]
    assert via(iterations) == iterations + 5


def check_stack_and_traps(module):
    exports = module.instantiate({}).exports
    with pytest.raises(Exhaustion):
        exports["deep"](0)
    with pytest.raises(Trap) as trapped:
        exports["trap_after"](100_000)
    assert trapped.value.message == "unreachable"
    assert [frame.func_index for frame in trapped.value.frames] == [TRAP_AFTER]


def test_interpreter_tail_calls_run_in_constant_stack():
    """Ten times the default call depth limit, and ten million calls of count (14 s)."""
    module = InterpModule(wasm(MODULE))
    check_constant_stack(module, InterpModule(wasm(CLIENT)), 200_000)
    assert module.instantiate({}).exports["count"](TEN_MILLION, 0) == TEN_MILLION


def test_interpreter_traps_and_exhaustion_are_unchanged():
    check_stack_and_traps(InterpModule(wasm(MODULE)))


def test_tail_calls_from_outlined_constructs():
    module = InterpModule(wasm(NESTED))
    assert "def f0_1(" in module.function_source(0)
    assert module.instantiate({}).exports["f"](100_000, 0) == 200_000
    assert aot_module(NESTED, 0, 3).instantiate({}).exports["f"](100_000, 0) == 200_000


@pytest.mark.parametrize("opt, size", LEVELS, ids=[f"O{o}-s{s}" for o, s in LEVELS])
def test_aot_tail_calls_run_in_constant_stack(opt, size):
    module = aot_module(MODULE, opt, size)
    check_constant_stack(module, aot_module(CLIENT, opt, size), TEN_MILLION)
    check_stack_and_traps(module)


def test_tail_call_source_of_the_interpreter():
    """A function that makes tail calls is a body that returns requests, run by a trampoline;
    one that makes none is translated as before."""
    module = InterpModule(wasm(MODULE))
    assert "return TAIL_CALL(FUNCS[1].tail, (" in module.function_source(0)
    assert "f0 = TRAMPOLINE(t0)" in module.function_source(0)
    assert "TAIL_CALL" not in module.function_source(5) and "def f5(" in module.function_source(5)


@pytest.mark.parametrize("engine", ["interp", "aot"])
def test_an_endless_chain_of_tail_calls_is_interrupted(engine):
    """No loop and no ordinary call: in compiled code the tail entries' stack check sees the
    interruption, in the interpreter the trampoline's loop."""
    module = InterpModule(wasm(FOREVER)) if engine == "interp" else aot_module(FOREVER, 3, 3)
    ping = module.instantiate({}).exports["ping"]
    with pytest.raises(Interrupted):
        with Limits(timeout=0.2):
            ping(0)


def test_tail_calls_consume_the_same_fuel_on_both_engines():
    """A tail call ends a run, as return does (runtime/fuel.py)."""
    consumed = []
    for module in (InterpModule(wasm(MODULE), fuel=True), aot_module(MODULE, 0, 3, fuel=True),
                   aot_module(MODULE, 3, 3, fuel=True)):
        exports = module.instantiate({}).exports
        with Limits(fuel=10**9) as run:
            assert exports["even"](1000, 0) == 500
        consumed.append(run.fuel_consumed)
        with pytest.raises(FuelExhausted):
            with Limits(fuel=10_000):
                exports["count"](TEN_MILLION, 0)
    assert consumed[0] > 1000 and consumed == [consumed[0]] * 3
