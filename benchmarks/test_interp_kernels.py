"""In-process speed of the interpreter against the same algorithm written by hand in Python,
and against pywasm.

The process-level rows of test_run_time.py include Python's start-up, decoding and
translation; this measures what translation buys: `_start` of each program run on an
instance whose functions are already translated (a second instance of the same Module, so
the code objects are cached), against python_kernels.py called in the same process, and
against pywasm's run of `_start` on an instance it has already loaded. Every run must print
what the native build prints. The times recorded are those of the run alone, not of the
set-up around it that pytest-benchmark's table includes.

    pytest benchmarks/test_interp_kernels.py
    python benchmarks/test_interp_kernels.py [small|tiny] [--pywasm]   # docs/interpreter.md
"""

import contextlib
import io
import sys
import tempfile
import time

import pytest

import programs
import python_kernels
import runtimes
from measure import RunFailed, short
from pywamr.runtime.errors import WasiExit
from pywamr.runtime.interp import Module
from pywamr.runtime.limits import Limits
from pywamr.runtime.wasi import WasiHost
from results import Case

TIER = "small"
# pywasm is some hundred times slower than the interpreter, too slow for the small inputs, so
# it runs the tiny ones, and the interpreter runs them too for the pywasm / interp ratio.
ROWS_BY_TIER = {"small": ("interp", "cpython"), "tiny": ("interp", "pywasm")}
CASES = [Case("in-process", row, program.name, tier)
         for tier, rows in ROWS_BY_TIER.items()
         for program in programs.PROGRAMS
         for row in rows]
# The interpreter runs a tiny input in milliseconds, where a shared machine's noise is as
# large as the run itself, so those cases take more runs (together well under a second).
TINY_INTERP_ROUNDS = 20


def run_interp(module, program, args):
    """Run `_start` on a fresh instance; return (seconds, output)."""
    with tempfile.TemporaryFile() as out:
        with WasiHost([program.name, *args], stdout=out.fileno()) as host:
            instance = module.instantiate(host.imports())
            host.bind_memory(instance.exports["memory"])
            started = time.perf_counter()
            try:
                instance.exports["_start"].call_bits([])
            except WasiExit:
                pass
            elapsed = time.perf_counter() - started
        out.seek(0)
        return elapsed, out.read().decode()


def instructions_executed(program, args):
    """How many wasm instructions a run of the program executes: the fuel it consumes
    (runtime/fuel.py: every instruction but the structural ones), counted by a run of its
    own on a module translated with fuel metering. With the time of an uncounted run it
    gives the interpreter's time per instruction, which tells a program that runs slowly
    from one that runs many instructions where CPython calls C (hashtable's snprintf)."""
    module = Module(program.wasm.read_bytes(), fuel=True)
    with Limits(fuel=1 << 62) as limits:             # more than any run consumes
        run_interp(module, program, args)
    return limits.fuel_consumed


def run_python(program, args):
    output = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(output):
        getattr(python_kernels, program.name)(*args)
    return time.perf_counter() - started, output.getvalue()


@contextlib.contextmanager
def process_standard_streams():
    """pywasm's WASI asks sys.stdin, sys.stdout and sys.stderr for their file descriptors,
    which pytest's capturing streams do not have: show it the process's own meanwhile."""
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = sys.__stdin__, sys.__stdout__, sys.__stderr__
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def run_pywasm(program, args):
    """pywasm, the naive pure-Python interpreter on PyPI, on the same program, its output
    collected by pywasm's own pipe for standard output."""
    import pywasm
    runtime = pywasm.core.Runtime()
    with process_standard_streams():
        wasi = pywasm.wasi.Preview1([program.name, *args], {}, {})
    output = io.BytesIO()
    wasi.fd[wasi.FD_STDOUT].pipe = output
    wasi.bind(runtime)
    instance = runtime.instance_from_file(str(program.wasm))
    started = time.perf_counter()
    wasi.main(runtime, instance)
    elapsed = time.perf_counter() - started
    return elapsed, output.getvalue().decode()


def translated_module(program, args):
    """The program's Module after one run, and the time that first run took."""
    module = Module(program.wasm.read_bytes())
    first, _ = run_interp(module, program, args)
    return module, first


def prepared_run(row, program, args):
    """A function that runs `program` once on `row` in this process -> (seconds, output),
    its set-up (translation for the interpreter) already done."""
    if row == "interp":
        module, _ = translated_module(program, args)
        return lambda: run_interp(module, program, args)
    if row == "cpython":
        return lambda: run_python(program, args)
    return lambda: run_pywasm(program, args)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_in_process(case, benchmark, rounds, results, native_output):
    why = runtimes.PYWASM.unavailable() if case.row == "pywasm" else None
    if why:
        pytest.skip(why)
    program = programs.BY_NAME[case.column]
    args = program.args(case.tier)
    expected = native_output(program, args)
    run = prepared_run(case.row, program, args)
    times = []

    def run_once():
        seconds, output = run()
        if output != expected:
            raise RunFailed(f"printed {short(output)}, native printed {short(expected)}")
        times.append(seconds)

    count = TINY_INTERP_ROUNDS if (case.tier, case.row) == ("tiny", "interp") else rounds(case.tier)
    benchmark.group = f"in-process {case.tier}: {program.name} {' '.join(args)}"
    try:
        benchmark.pedantic(run_once, rounds=count, iterations=1)
    except RunFailed as failed:
        pytest.fail(str(failed), pytrace=False)
    if (case.tier, case.row) == ("small", "interp"):
        results.ok_seconds(case, times, instructions=instructions_executed(program, args))
    else:
        results.ok_seconds(case, times)


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
