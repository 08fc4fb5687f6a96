"""Compiled code on two threads: the speed-up of two threads over one.

ctypes releases the GIL for the length of a foreign call, and each thread has its own
ExecEnv (docs/aot-abi.md), so two threads calling a CPU-bound export of two instances run
on two cores. Both cases do the same work, two calls of `spin`: one thread makes both in
turn, two threads make one each at once. The ratio of their wall times is the speed-up (2.0
at best); docs/benchmarks.md reports it.

    pytest benchmarks/test_threads.py
    python benchmarks/test_threads.py        # prints the two times and the ratio
"""

import subprocess
import threading
import time

import pytest

from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.loader.aot_module import AotModule

SPIN_WAT = """
(module
  (func (export "spin") (param $n i32) (result i32)
    (local $acc i32)
    (local.set $acc (i32.const 7))
    (block (loop
      (br_if 1 (i32.eqz (local.get $n)))
      (local.set $acc (i32.xor (i32.mul (local.get $acc) (i32.const 31)) (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br 0)))
    (local.get $acc)))
"""
ITERATIONS = 400_000_000     # about 0.3 s per call


def spin_exports(count):
    """`count` instances' spin functions, and the result each call must give."""
    wasm = subprocess.run(["wasm-tools", "parse", "-"], input=SPIN_WAT.encode(),
                          capture_output=True, check=True).stdout
    module = AotModule(compile_wasm(wasm, CompileOptions(opt_level=3)))
    spins = [module.instantiate().exports["spin"] for _ in range(count)]
    return spins, spins[0](ITERATIONS)


def on_threads(spins, expected):
    """One call of each spin function, each on its own thread, all at once."""
    results = []
    threads = [threading.Thread(target=lambda f=f: results.append(f(ITERATIONS)))
               for f in spins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * len(spins)


def one_thread(spins, expected):
    for spin in spins:
        assert spin(ITERATIONS) == expected


CASES = {"1 thread, 2 calls in turn": one_thread, "2 threads, 1 call each": on_threads}


@pytest.mark.parametrize("case", CASES)
def test_two_calls(case, benchmark):
    spins, expected = spin_exports(2)
    benchmark.group = "threads: 2 calls of a CPU-bound export"
    benchmark.pedantic(CASES[case], args=(spins, expected), rounds=3)


def main():
    spins, expected = spin_exports(2)
    best = {}
    for _ in range(5):                      # interleaved, best of 5
        for name, run in CASES.items():
            started = time.perf_counter()
            run(spins, expected)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
    for name, seconds in best.items():
        print(f"{name}: {seconds:.3f} s")
    one, two = best.values()
    print(f"speed-up of 2 threads over 1: {one / two:.2f}x")


if __name__ == "__main__":
    main()
