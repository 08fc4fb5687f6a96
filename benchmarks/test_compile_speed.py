"""Compile speed: pyaotc at each opt level and wasmtime's Cranelift, over every program.

The report divides the total time by the total size of the wasm compiled: seconds per MB.
"""

import pytest

import compilers
import programs
from results import Case

CASES = [Case("compile", compiler.name, program.name)
         for compiler in compilers.COMPILERS for program in programs.PROGRAMS + [programs.HELLO]]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_compile(case, benchmark, rounds, results):
    compiler = compilers.BY_NAME[case.row]
    program = programs.BY_NAME[case.column]
    why = compiler.unavailable()
    if why:
        pytest.skip(why)
    runs = []
    benchmark.group = f"compile {compiler.name}"
    try:
        benchmark.pedantic(lambda: runs.append(compiler.compile(program)),
                           rounds=rounds("compile"), iterations=1)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    results.ok(case, benchmark.stats, max(run.max_rss_kb for run in runs),
               [run.cpu_seconds for run in runs], wasm_bytes=program.wasm.stat().st_size)
