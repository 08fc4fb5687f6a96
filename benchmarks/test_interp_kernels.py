"""In-process speed of the interpreter against the same algorithm written by hand in Python.

The process-level rows of test_run_time.py include Python's start-up, decoding and
translation; this measures what translation buys: `_start` of each program run on an
instance whose functions are already translated (a second instance of the same Module, so
the code objects are cached), against python_kernels.py called in the same process. Both
must print what the native build prints.

    pytest benchmarks/test_interp_kernels.py
    python benchmarks/test_interp_kernels.py [small|tiny] [--pywasm]   # docs/interpreter.md
"""

import contextlib
import io
import os
import sys
import tempfile
import time

import pytest

import programs
import python_kernels
from pywamr.runtime.errors import ProcExit
from pywamr.runtime.interp import Module
from pywamr.runtime.wasi import WasiHost

TIER = "small"


def run_interp(module, program, args):
    """Run `_start` on a fresh instance; return (seconds, output)."""
    with tempfile.TemporaryFile() as out:
        with WasiHost([program.name, *args], stdout=out.fileno()) as host:
            instance = module.instantiate(host.imports())
            host.bind_memory(instance.exports["memory"])
            started = time.perf_counter()
            try:
                instance.exports["_start"].call_bits([])
            except ProcExit:
                pass
            elapsed = time.perf_counter() - started
        out.seek(0)
        return elapsed, out.read().decode()


def run_python(program, args):
    output = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(output):
        getattr(python_kernels, program.name)(*args)
    return time.perf_counter() - started, output.getvalue()


@contextlib.contextmanager
def captured_stdout_fd():
    """Collect what is written to file descriptor 1 (pywasm's WASI writes there)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as out:
        os.dup2(out.fileno(), 1)
        captured = io.StringIO()
        try:
            yield captured
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            out.seek(0)
            captured.write(out.read().decode())


def run_pywasm(program, args):
    """pywasm, the naive pure-Python interpreter on PyPI, on the same program."""
    import pywasm
    with captured_stdout_fd() as output:
        runtime = pywasm.core.Runtime()
        wasi = pywasm.wasi.Preview1([program.name, *args], {}, {})
        wasi.bind(runtime)
        instance = runtime.instance_from_file(str(program.wasm))
        started = time.perf_counter()
        wasi.main(runtime, instance)
        elapsed = time.perf_counter() - started
    return elapsed, output.getvalue()


def translated_module(program, args):
    """The program's Module after one run, and the time that first run took."""
    module = Module(program.wasm.read_bytes())
    first, _ = run_interp(module, program, args)
    return module, first


@pytest.mark.parametrize("program", programs.PROGRAMS, ids=lambda p: p.name)
def test_interp_warm(program, benchmark, native_output):
    args = program.args(TIER)
    module, _ = translated_module(program, args)
    benchmark.group = f"interp in-process: {program.name} {' '.join(args)}"
    seconds, output = benchmark.pedantic(run_interp, (module, program, args), rounds=3)
    assert output == native_output(program, args)


@pytest.mark.parametrize("program", programs.PROGRAMS, ids=lambda p: p.name)
def test_cpython_by_hand(program, benchmark, native_output):
    args = program.args(TIER)
    benchmark.group = f"interp in-process: {program.name} {' '.join(args)}"
    seconds, output = benchmark.pedantic(run_python, (program, args), rounds=3)
    assert output == native_output(program, args)


def main(tier, with_pywasm):
    print("| program | interp warm | hand-written CPython | interp / CPython | translation"
          + (" | pywasm | pywasm / interp |" if with_pywasm else " |"))
    print("|---|---:|---:|---:|---:|" + ("---:|---:|" if with_pywasm else ""))
    for program in programs.PROGRAMS:
        args = program.args(tier)
        module, first = translated_module(program, args)
        warm, output = min(run_interp(module, program, args) for _ in range(3))
        by_hand = min(run_python(program, args)[0] for _ in range(3))
        row = (f"| {program.name} {' '.join(args)} | {warm:.3f} s | {by_hand:.3f} s | "
               f"{warm / by_hand:.1f}x | {max(first - warm, 0) * 1e3:.0f} ms |")
        if with_pywasm:
            naive, naive_output = run_pywasm(program, args)
            assert naive_output == output, (naive_output, output)
            row += f" {naive:.2f} s | {naive / warm:.0f}x |"
        print(row, flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else TIER, "--pywasm" in sys.argv)
