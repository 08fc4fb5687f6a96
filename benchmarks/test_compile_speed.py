"""Compile speed: pyaotc at each opt level and wasmtime's Cranelift, over every program; and
per module, pyaotc -O0/-O3 with one worker and one per core against Cranelift in the same
run, on every program and on a generated module of BIG_MEGABYTES MB (big_module.py): CPU
time (the compiler and its workers), wall time and peak memory.

The report divides the total time by the total size of the wasm compiled: seconds per MB.
"""

import pytest

import big_module
import compilers
import programs
from programs import BUILD_DIR, Program
from results import Case

BIG_MEGABYTES = 1
BIG = Program(f"big{BIG_MEGABYTES}mb", "generated module (big_module.py)", (), (), ())

CASES = [Case("compile", compiler.name, program.name)
         for compiler in compilers.COMPILERS for program in programs.PROGRAMS + [programs.HELLO]]
PER_MODULE_CASES = [Case("compile per module", compiler.name, program.name)
                    for program in programs.PROGRAMS + [BIG]
                    for compiler in compilers.PER_MODULE]


@pytest.fixture(scope="module")
def big_wasm():
    if not BIG.wasm.exists():
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        BIG.wasm.write_bytes(big_module.generate(BIG_MEGABYTES))
    return BIG.wasm


def compile_case(case, benchmark, rounds, results, program):
    compiler = compilers.BY_NAME[case.row]
    why = compiler.unavailable()
    if why:
        pytest.skip(why)
    runs = []
    benchmark.group = f"{case.table} {compiler.name}"
    try:
        benchmark.pedantic(lambda: runs.append(compiler.compile(program)),
                           rounds=rounds("compile"), iterations=1)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    results.ok(case, benchmark.stats, max(run.max_rss_kb for run in runs),
               [run.cpu_seconds for run in runs], wasm_bytes=program.wasm.stat().st_size)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_compile(case, benchmark, rounds, results):
    compile_case(case, benchmark, rounds, results, programs.BY_NAME[case.column])


@pytest.mark.parametrize("case", PER_MODULE_CASES, ids=str)
def test_compile_per_module(case, benchmark, rounds, results, big_wasm):
    program = BIG if case.column == BIG.name else programs.BY_NAME[case.column]
    compile_case(case, benchmark, rounds, results, program)
