"""Threads: each thread calling into its own instances gets exact results, traps and stack
limits while the others run (the AOT loader gives every thread its own ExecEnv; the
interpreter keeps its call depth per thread), and a call into an instance that another
thread is running in is refused with ConcurrentCallError (runtime/instance_group.py)."""

import functools
import threading

import pytest

from pywamr.runtime.api import HostFunc
from pywamr.runtime.errors import ConcurrentCallError, Exhaustion, Trap
from pywamr.runtime.interp import Module
from pywamr.runtime.types import FuncType

from module_text import wasm

WAT = """
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory (export "memory") 1 6)
  (func (export "compute") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (local.set $acc (i32.const 7))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (i32.xor (i32.mul (local.get $acc) (i32.const 31)) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $acc))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "unreachable") (result i32) unreachable)
  (func $rec (export "rec") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $rec (i32.sub (local.get 0) (i32.const 1)))))))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "via_host") (param i32) (result i32) (call $host (local.get 0))))
"""
# Imports the first module's memory and compute: one group with the instance it links to.
LINKED_WAT = """
(module
  (import "m" "memory" (memory 1))
  (import "m" "compute" (func $compute (param i32) (result i32)))
  (func (export "twice") (param i32) (result i32)
    (i32.add (call $compute (local.get 0)) (call $compute (local.get 0)))))
"""
PAGE = 65536
MAX_PAGES = 6
HOST_TYPE = FuncType(("i32",), ("i32",))
ENGINES = ["aot", "aot-bounds-checks", "interp"]


def signed(value):
    value &= 0xFFFF_FFFF
    return value - (1 << 32) if value >> 31 else value


def compute(n):
    acc = 7
    for i in range(n):
        acc = (acc * 31 ^ i) & 0xFFFF_FFFF
    return signed(acc)


@functools.cache
def compiled(text, bounds_checks):
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    return compile_wasm(wasm(text), CompileOptions(bounds_checks=bounds_checks))


def instantiate(engine, text=WAT, host=lambda x: x, imports=None):
    imports = imports or {"env": {"host": HostFunc(HOST_TYPE, host)}}
    if engine == "interp":
        return Module(wasm(text)).instantiate(imports).exports
    from pywamr.loader.aot_module import AotModule
    aot = compiled(text, engine == "aot-bounds-checks")
    return AotModule(aot).instantiate(imports).exports


def expect_trap(message, call, *args):
    with pytest.raises(Trap) as trap:
        call(*args)
    assert type(trap.value) is Trap and trap.value.message == message


def exercise(exports, seed, rounds, exhaust_every):
    """Every kind of call, with the result each must have; returns how many were made."""
    calls = 0
    pages = exports["memory"].size()
    for r in range(rounds):
        n = (seed + r) % 40
        assert exports["compute"](n) == compute(n)
        address = (seed * 40 + r * 4) % (pages * PAGE - 4)
        exports["store"](address, seed * 1000 + r)
        assert exports["load"](address) == seed * 1000 + r
        expect_trap("out of bounds memory access", exports["load"], 0x7FFF0000)
        expect_trap("out of bounds memory access", exports["load"], pages * PAGE - 3)
        assert exports["div"](-7 * (r + 1), 7) == -(r + 1)
        expect_trap("integer divide by zero", exports["div"], r, 0)
        expect_trap("integer overflow", exports["div"], -(1 << 31), -1)
        expect_trap("unreachable", exports["unreachable"])
        assert exports["rec"](5000) == 5000
        calls += 10
        if r % exhaust_every == 0:
            with pytest.raises(Exhaustion):
                exports["rec"](1 << 30)
            assert exports["grow"](1) == (pages if pages < MAX_PAGES else -1)
            pages = min(pages + 1, MAX_PAGES)
            exports["store"](pages * PAGE - 4, r)
            assert exports["load"](pages * PAGE - 4) == r
            calls += 4
    return calls


def run_threads(target, count):
    """Run target(i) on `count` threads started together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(i):
        barrier.wait()
        try:
            outcomes[i] = target(i)
        except BaseException as error:      # re-raised below, on the main thread
            outcomes[i] = error
    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes


@pytest.mark.parametrize("engine, rounds, exhaust_every", [
    ("aot", 1300, 50), ("aot-bounds-checks", 1300, 50), ("interp", 25, 10)])
def test_threads_each_with_their_own_instances_get_exact_results(engine, rounds,
                                                                 exhaust_every):
    """4 threads x 2 instances each, every kind of call interleaved (for AOT, about 100k
    calls in all): any shared execution state shows up as a wrong result, a missing or
    spurious trap, or a crash."""
    threads, instances = 4, 2

    def work(t):
        mine = [instantiate(engine) for _ in range(instances)]
        calls = 0
        for r in range(0, rounds, 100):
            for k, exports in enumerate(mine):
                calls += exercise(exports, seed=t * instances + k, rounds=min(100, rounds - r),
                                  exhaust_every=exhaust_every)
        return calls

    calls = run_threads(work, threads)
    assert sum(calls) >= threads * instances * rounds * 10


@pytest.mark.parametrize("engine", ENGINES)
def test_a_call_into_an_instance_running_on_another_thread_is_refused(engine):
    inside, release = threading.Event(), threading.Event()

    def host(x):
        inside.set()
        release.wait()
        return x + 1

    exports = instantiate(engine, host=host)
    linked = instantiate(engine, LINKED_WAT, imports={"m": exports})
    other = instantiate(engine)
    results = []
    runner = threading.Thread(target=lambda: results.append(exports["via_host"](41)))
    runner.start()
    inside.wait()
    try:
        with pytest.raises(ConcurrentCallError, match="^instance is running on another "
                                                      "thread$"):
            exports["compute"](3)
        with pytest.raises(ConcurrentCallError):      # linked by import: the same group
            linked["twice"](3)
        with pytest.raises(ConcurrentCallError):      # nor may a new instance link to it
            instantiate(engine, LINKED_WAT, imports={"m": exports})
        assert other["compute"](3) == compute(3)      # another group runs meanwhile
    finally:
        release.set()
        runner.join()
    assert results == [42]
    assert exports["compute"](3) == compute(3)        # free again, from any thread
    assert run_threads(lambda _: linked["twice"](5), 1) == [signed(2 * compute(5))]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_running_thread_may_call_back_into_its_instance(engine):
    state = {}

    def host(x):
        return state["exports"]["compute"](x) + state["linked"]["twice"](x)

    exports = state["exports"] = instantiate(engine, host=host)
    state["linked"] = instantiate(engine, LINKED_WAT, imports={"m": exports})
    assert exports["via_host"](9) == signed(3 * compute(9))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_host_function_may_call_into_another_group_and_holds_it(engine):
    """Thread A runs in group 1, whose host function calls into group 2: while it is there,
    group 2 is A's too, and thread B is refused there."""
    inside, release = threading.Event(), threading.Event()

    def blocking_host(x):
        inside.set()
        release.wait()
        return x

    second = instantiate(engine, host=blocking_host)
    first = instantiate(engine, host=lambda x: second["via_host"](x))
    runner = threading.Thread(target=first["via_host"], args=(1,))
    runner.start()
    inside.wait()
    try:
        for group in (first, second):
            with pytest.raises(ConcurrentCallError):
                group["compute"](1)
    finally:
        release.set()
        runner.join()
    assert second["compute"](1) == first["compute"](1) == compute(1)


@pytest.mark.parametrize("engine", ["aot", "aot-bounds-checks"])
def test_a_thread_with_a_small_stack_traps_instead_of_overflowing_it(engine):
    """An 8 MiB budget on a 2 MiB thread: each thread's ExecEnv cuts the budget to what
    its own stack holds."""
    from pywamr.loader.aot_module import AotModule
    imports = {"env": {"host": HostFunc(HOST_TYPE, lambda x: x)}}
    exports = AotModule(compiled(WAT, engine == "aot-bounds-checks")).instantiate(
        imports, stack_size=8 << 20).exports
    previous = threading.stack_size(2 << 20)
    try:
        outcome = run_threads(lambda _: pytest.raises(Exhaustion, exports["rec"], 1 << 30), 1)
    finally:
        threading.stack_size(previous)
    assert outcome[0].type is Exhaustion
    assert exports["rec"](5000) == 5000
