"""The rows of the benchmark tables: each way of running a program, as a command line.

A row that cannot run on this machine (an engine not written yet, a tool not installed) says
why in `unavailable()`, and the report prints that reason in its cells.
"""

import os
import shutil
import sys
from pathlib import Path

from compilers import PYAOTC, PYAOTC_CHECKS, PYAOTC_HOST, WASMTIME, missing_module
from measure import run_child
from programs import BENCH_DIR


class Runtime:
    name: str        # the row's key in results.json
    label: str       # the row's title in results.md
    hosted_by_python = False   # its start-up includes `python3 -c pass`

    def unavailable(self):
        return None

    def prepare(self, program):
        """Work done before the timed runs (ahead-of-time compilation)."""

    def command(self, program, args):
        raise NotImplementedError


class Native(Runtime):
    name, label = "native", "native (clang -O2)"

    def command(self, program, args):
        return [str(program.native), *args]


class PyiwasmAot(Runtime):
    """pyiwasm on pyaotc's default output: code for this machine's CPU (docs/compiler.md)."""
    name, label = "pyiwasm", "pyiwasm on pyaotc -O3 (default: host CPU)"
    hosted_by_python = True
    compiler = PYAOTC_HOST

    def unavailable(self):
        return self.compiler.unavailable() or missing_module("pywamr.loader.__main__")

    def prepare(self, program):
        self.compiler.ensure_compiled(program)

    def command(self, program, args):
        return [sys.executable, "-m", "pywamr.loader", str(self.compiler.output(program)), *args]


class PyiwasmCommand(PyiwasmAot):
    """`pyiwasm FILE`, the console script installed next to this Python: no runpy, but the
    `import re` of pip's launcher (free where site.py has imported re already)."""
    name, label = "pyiwasm-command", "pyiwasm command (console script)"

    def script(self):
        return Path(sys.executable).parent / "pyiwasm"

    def unavailable(self):
        missing = None if self.script().exists() else f"no {self.script()}"
        return super().unavailable() or missing

    def command(self, program, args):
        return [str(self.script()), str(self.compiler.output(program)), *args]


class PyiwasmCached(PyiwasmAot):
    """`pyiwasm FILE.wasm` once the compile cache has its .aot file, pyaotc's default compile
    like PyiwasmAot's: the same code, found by the module's hash. The cache is the suite's
    own (benchmarks/conftest.py); the first run, in prepare(), compiles into it."""
    name, label = "pyiwasm-cached", "pyiwasm on the .wasm, from the compile cache"

    def prepare(self, program):
        failure = run_child(self.command(program, [])).failure()
        if failure:
            raise RuntimeError(f"pyiwasm failed to compile {program.name}.wasm: {failure}")

    def command(self, program, args):
        return [sys.executable, "-m", "pywamr.loader", str(program.wasm), *args]


class PyiwasmAotGeneric(PyiwasmAot):
    """The same for the architecture's generic CPU, the native build's instruction set."""
    name = "pyiwasm-generic"
    label = f"pyiwasm on pyaotc -O3 --target {os.uname().machine} (generic)"
    compiler = PYAOTC[3]


class PyiwasmAotChecked(PyiwasmAot):
    """The same without guard pages: what a host that allows no signal handler pays."""
    name, label = "pyiwasm-checks", "pyiwasm on pyaotc -O3 --bounds-checks on"
    compiler = PYAOTC_CHECKS


class Interpreter(Runtime):
    name, label = "interp", "pyiwasm --interp"
    hosted_by_python = True

    def unavailable(self):
        return missing_module("pywamr.loader.__main__")

    def command(self, program, args):
        return [sys.executable, "-m", "pywamr.loader", "--interp", str(program.wasm), *args]


class Wasmtime(Runtime):
    name, label = "wasmtime", "wasmtime-py (precompiled)"
    hosted_by_python = True
    compiler = WASMTIME

    def unavailable(self):
        return self.compiler.unavailable()

    def prepare(self, program):
        self.compiler.ensure_compiled(program)

    def command(self, program, args):
        return [sys.executable, str(BENCH_DIR / "wasmtime_run.py"), "run",
                str(self.compiler.output(program)), *args]


class Node(Runtime):
    name, label = "node", "Node.js (V8)"

    def unavailable(self):
        return None if shutil.which("node") else "node is not installed"

    def command(self, program, args):
        return ["node", "--experimental-wasi-unstable-preview1", "--no-warnings",
                str(BENCH_DIR / "node_wasi.mjs"), str(program.wasm), *args]


class CPython(Runtime):
    name, label = "cpython", "CPython, same algorithm by hand"
    hosted_by_python = True

    def command(self, program, args):
        return [sys.executable, str(BENCH_DIR / "python_kernels.py"), program.name, *args]


class Pywasm(Runtime):
    name, label = "pywasm", "pywasm (PyPI)"
    hosted_by_python = True

    def unavailable(self):
        return missing_module("pywasm")

    def command(self, program, args):
        wasi_args = [flag for arg in args for flag in ("--wasi-args", arg)]
        return [sys.executable, "-m", "pywasm", "--wasi", "preview1", *wasi_args, str(program.wasm)]


class PythonNothing(Runtime):
    """`python3 -c pass`: the floor under every Python-hosted row's start-up."""
    name, label = "python-pass", "python3 -c pass"

    def command(self, program, args):
        return [sys.executable, "-c", "pass"]


NATIVE, PYIWASM, INTERP = Native(), PyiwasmAot(), Interpreter()
PYIWASM_GENERIC, PYIWASM_CHECKS = PyiwasmAotGeneric(), PyiwasmAotChecked()
WASMTIME_ROW, NODE, CPYTHON, PYWASM = Wasmtime(), Node(), CPython(), Pywasm()

ROWS_BY_TIER = {
    "full": [NATIVE, PYIWASM, PYIWASM_GENERIC, PYIWASM_CHECKS, WASMTIME_ROW, NODE],
    "small": [NATIVE, INTERP, CPYTHON],
    "tiny": [NATIVE, INTERP, PYWASM, CPYTHON],
}
STARTUP_ROWS = [NATIVE, PythonNothing(), PYIWASM, PyiwasmCommand(), PyiwasmCached(), INTERP,
                WASMTIME_ROW, NODE, PYWASM]
BY_NAME = {row.name: row for row in STARTUP_ROWS + [CPYTHON, PYIWASM_GENERIC, PYIWASM_CHECKS]}
