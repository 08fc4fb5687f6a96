"""The ahead-of-time compile steps: pyaotc at each opt level, and wasmtime's Cranelift.

Both run as a command, so a compile is measured like a run (wall time and peak RSS of the
child). A program is compiled at most once per session: the compile-speed benchmark compiles
everything it times, and the run rows reuse those outputs or compile what is missing.
Outputs from an earlier session are never reused; the compiler may have changed since.
"""

import importlib.util
import os
import sys

from measure import run_child
from programs import BENCH_DIR, BUILD_DIR


def missing_module(name):
    """Why `name` cannot be imported without importing it (which would cost start-up), or None."""
    try:
        found = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        found = None
    return None if found else f"{name} is not installed or not written yet"


class Compiler:
    """One compiler configuration: its command, where its outputs go, and whether it can run."""

    name: str
    suffix: str

    def __init__(self):
        self.compiled = set()     # names of the programs compiled in this session

    def unavailable(self):
        raise NotImplementedError

    def command(self, wasm, out):
        raise NotImplementedError

    def output(self, program):
        return BUILD_DIR / "compiled" / f"{program.name}{self.suffix}"

    def compile(self, program):
        """Compile now; return the ChildRun. Raises RuntimeError if the compiler failed."""
        out = self.output(program)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)
        run = run_child(self.command(program.wasm, out))
        failure = run.failure()
        if failure is None and not out.exists():
            failure = f"wrote no {out.name}"
        if failure:
            raise RuntimeError(f"{self.name} failed on {program.name}.wasm: {failure}")
        self.compiled.add(program.name)
        return run

    def ensure_compiled(self, program):
        """The output for `program`, compiled in this session."""
        if program.name not in self.compiled:
            self.compile(program)
        return self.output(program)


class Pyaotc(Compiler):
    """pyaotc at `opt_level`, for this machine's architecture: with `--target`, i.e. its
    generic CPU, the instruction set of the native clang -O2 build the ratios are to; or
    with pyaotc's own default (host=True), which adds this machine's features
    (docs/benchmarks.md)."""

    def __init__(self, opt_level, bounds_checks=False, host=False, jobs=None):
        super().__init__()
        self.opt_level = opt_level
        self.bounds_checks = bounds_checks
        self.host = host
        self.jobs = jobs        # pyaotc -j; None: its default, one worker per core
        self.name = (f"pyaotc -O{opt_level}" + (f" -j{jobs}" if jobs else "")
                     + (" --bounds-checks on" if bounds_checks else "")
                     + (" (host default)" if host else ""))
        self.suffix = (f".O{opt_level}" + (f".j{jobs}" if jobs else "")
                       + (".checks" if bounds_checks else "")
                       + (".host" if host else "") + ".aot")

    def unavailable(self):
        return missing_module("llvmlite") or missing_module("pywamr.compiler.__main__")

    def command(self, wasm, out):
        checks = ["--bounds-checks", "on"] if self.bounds_checks else []
        target = [] if self.host else ["--target", os.uname().machine]
        jobs = ["-j", str(self.jobs)] if self.jobs else []
        return [sys.executable, "-m", "pywamr.compiler", "--opt-level", str(self.opt_level),
                *target, *checks, *jobs, "-o", str(out), str(wasm)]


class WasmtimeCompile(Compiler):
    name = "wasmtime (Cranelift)"
    suffix = ".cwasm"

    def unavailable(self):
        return missing_module("wasmtime")

    def command(self, wasm, out):
        return [sys.executable, str(BENCH_DIR / "wasmtime_run.py"), "compile", str(wasm), str(out)]


PYAOTC = {level: Pyaotc(level) for level in range(4)}
# The run-time table's pyaotc default and its explicit checks without guard pages: rows of
# that table, not of compile speed.
PYAOTC_HOST = Pyaotc(3, host=True)
PYAOTC_CHECKS = Pyaotc(3, bounds_checks=True, host=True)
WASMTIME = WasmtimeCompile()
COMPILERS = [*PYAOTC.values(), WASMTIME]
# The compile-speed table per module: one worker and one per core, at -O0 (what the Python
# side costs) and -O3, against Cranelift in the same run.
CORES = len(os.sched_getaffinity(0))
PER_MODULE = [Pyaotc(level, jobs=jobs) for level in (0, 3) for jobs in (1, CORES)] + [WASMTIME]
BY_NAME = {compiler.name: compiler for compiler in COMPILERS + PER_MODULE}
