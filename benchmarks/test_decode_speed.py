"""Decoding speed: pywamr.runtime.decoder.decode_module on a generated ~10 MB module
(big_module.py), in a child process so its peak memory is measured too; decoding followed by
validation; and the interpreter's set-up before the first call (decoding, validation,
instantiation and the translation of the function called) of a generated ~1 MB module and of
a generated ~1 MB C program (big_c_program.py); and the AOT loader's set-up of that program
compiled by pyaotc (its MB/s per MB of wasm, as the others'). Each row is the CPU time of
the whole child, Python's start-up and the imports included, and beside it the step's own,
which the child measures and prints."""

import statistics
import subprocess
import sys

import pytest

import big_module
from compilers import missing_module
from measure import benchmark_command
from programs import BUILD_DIR
from results import Case

# step -> (the child's imports, its step, which reads the module from sys.argv[1]; module
# size in MB). The child prints the CPU time of the step alone (time.process_time() around
# it): the row's own figure is the whole process's, Python's start-up, the imports and the
# exit included.
STEPS = {
    "decode_module": ("from pywamr.runtime.decoder import decode_module",
                      "decode_module(open(sys.argv[1], 'rb').read())", 10),
    "decode_module + validate": ("from pywamr.runtime.decoder import decode_module\n"
                                 "from pywamr.runtime.validator import validate",
                                 "validate(decode_module(open(sys.argv[1], 'rb').read()))", 10),
    "interp set-up before the first call": (
        "from pywamr.runtime.interp import Module",
        "module = Module(open(sys.argv[1], 'rb').read())\n"
        "module.instantiate()\n"
        "module.function_code(module.decoded.export_map()['run'].index)", 1),
    # The same for a C program (big_c_program.py, ~1.0 MB): with its WASI imports, up to
    # the translation of _start.
    "interp set-up of a C program before the first call": (
        "from pywamr.runtime.interp import Module\n"
        "from pywamr.runtime.wasi import WasiHost",
        "module = Module(open(sys.argv[1], 'rb').read())\n"
        "with WasiHost([sys.argv[1]], {}, []) as host:\n"
        "    module.instantiate(host.imports_of(module.decoded))\n"
        "    module.function_code(module.decoded.export_map()['_start'].index)", "C"),
    # The AOT loader's set-up of the same program compiled by pyaotc -O3 (its .aot file):
    # reading it, checking and applying the relocations, mapping the code, instantiating.
    "pyiwasm (AOT) set-up of a C program before the first call": (
        "from pywamr.loader.aot_module import AotModule\n"
        "from pywamr.runtime.wasi import WasiHost",
        "module = AotModule(open(sys.argv[1], 'rb').read())\n"
        "with WasiHost([sys.argv[1]], {}, []) as host:\n"
        "    module.instantiate(host.imports_of(module.module))", "C.aot"),
}
NEEDS = {"decode_module": ["pywamr.runtime.decoder"],
         "decode_module + validate": ["pywamr.runtime.decoder", "pywamr.runtime.validator"],
         "interp set-up before the first call": ["pywamr.runtime.interp"],
         "interp set-up of a C program before the first call": ["pywamr.runtime.interp"],
         "pyiwasm (AOT) set-up of a C program before the first call": ["pywamr.compiler"]}
CASES = [Case("decode", step, "C program" if str(size).startswith("C") else f"{size} MB module")
         for step, (_, _, size) in STEPS.items()]


@pytest.fixture(scope="module")
def big_wasm():
    """big_wasm(megabytes) -> the path of a generated module of that size ("C": of the
    generated C program)."""
    paths = {}

    def path_of(megabytes):
        if megabytes == "C":            # built by build-scripts/build-benchmarks.sh
            return BUILD_DIR / "big_c_program.wasm"
        if megabytes == "C.aot":        # compiled anew in each session: today's compiler
            if megabytes not in paths:
                paths[megabytes] = BUILD_DIR / "compiled" / "big_c_program.aot"
                paths[megabytes].parent.mkdir(exist_ok=True)
                subprocess.run([sys.executable, "-m", "pywamr.compiler", "-o",
                                paths[megabytes], path_of("C")], check=True)
            return paths[megabytes]
        if megabytes not in paths:
            paths[megabytes] = BUILD_DIR / f"big{megabytes}.wasm"
            paths[megabytes].write_bytes(big_module.generate(megabytes))
        return paths[megabytes]

    return path_of


@pytest.mark.parametrize("case", CASES, ids=str)
def test_decode(case, benchmark, rounds, results, big_wasm):
    why = next(filter(None, map(missing_module, NEEDS[case.row])), None)
    if why:
        pytest.skip(why)
    imports, step, megabytes = STEPS[case.row]
    wasm = big_wasm(megabytes)
    argv = [sys.executable, "-c", child_code(imports, step), str(wasm)]
    benchmark.group = "decode"
    runs = benchmark_command(benchmark, argv, rounds("decode"))
    step_seconds = [float(run.stdout) for run in runs]
    results.ok(case, benchmark.stats, max(run.max_rss_kb for run in runs),
               [run.cpu_seconds for run in runs],
               wasm_bytes=big_wasm("C" if megabytes == "C.aot" else megabytes).stat().st_size,
               step_cpu_median=statistics.median(step_seconds), step_cpu_min=min(step_seconds))


def child_code(imports, step):
    """The child's program: the imports, then the step between two readings of its CPU
    time, whose difference it prints."""
    return "\n".join(["import sys, time", imports, "start = time.process_time()", step,
                      "print(time.process_time() - start)"])
