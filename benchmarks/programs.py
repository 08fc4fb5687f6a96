"""The benchmark programs (benchmarks/programs/NAME.c) and the inputs each tier runs them on.

A program's input size comes from its command line, so one binary serves every row:
  full   natively about 1 s; the compiled rows (native, pyaotc+pyiwasm, wasmtime, Node.js)
  small  a second or two in the interpreter; also native and hand-written CPython
  tiny   a second or a few in pywasm, the naive interpreter we compare against; also the others
Ratios are always to the native run of the same tier, so every ratio compares equal work.
"""

from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BUILD_DIR = BENCH_DIR / "build"
TIERS = ("full", "small", "tiny")


@dataclass(frozen=True)
class Program:
    name: str
    measures: str
    full: tuple
    small: tuple
    tiny: tuple

    @property
    def wasm(self):
        return BUILD_DIR / f"{self.name}.wasm"

    @property
    def native(self):
        return BUILD_DIR / f"{self.name}.native"

    def args(self, tier):
        return list(getattr(self, tier))


PROGRAMS = [
    Program("fib", "calls, i32 arithmetic", ("42",), ("30",), ("20",)),
    Program("nbody", "f64 arithmetic, sqrt", ("15000000",), ("20000",), ("400",)),
    Program("matmul", "f64 loads/stores over arrays", ("1500",), ("100",), ("30",)),
    Program("sieve", "byte array loops", ("10000000", "40"), ("1000000",), ("10000",)),
    Program("sha256", "32-bit rotates and shifts", ("4096", "60"), ("128",), ("4",)),
    Program("mandelbrot", "f64 loops with early exit", ("4000",), ("300",), ("25",)),
    Program("quicksort", "compares, swaps, recursion", ("1000000", "10"), ("100000",), ("3000",)),
    Program("hashtable", "malloc/free, strings", ("500000",), ("5000",), ("150",)),
    Program("blur", "SIMD (-msimd128): 8/16-bit lanes", ("4096", "30"), ("300",), ("64",)),
]
HELLO = Program("hello", "start-up", (), (), ())
BY_NAME = {p.name: p for p in PROGRAMS + [HELLO]}
