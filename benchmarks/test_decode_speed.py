"""Decoding speed: pywamr.runtime.decoder.decode_module on a generated ~10 MB module
(big_module.py), in a child process so its peak memory is measured too; decoding followed by
validation; and the interpreter's set-up before the first call (decoding, validation,
instantiation and the translation of the function called) of a generated ~1 MB module and of
a generated ~1 MB C program (big_c_program.py)."""

import sys

import pytest

import big_module
from compilers import missing_module
from measure import benchmark_command
from programs import BUILD_DIR
from results import Case

# step -> (the child's code, which reads the module from sys.argv[1]; module size in MB)
STEPS = {
    "decode_module": ("from pywamr.runtime.decoder import decode_module\n"
                      "decode_module(open(sys.argv[1], 'rb').read())", 10),
    "decode_module + validate": ("from pywamr.runtime.decoder import decode_module\n"
                                 "from pywamr.runtime.validator import validate\n"
                                 "validate(decode_module(open(sys.argv[1], 'rb').read()))", 10),
    "interp set-up before the first call": (
        "from pywamr.runtime.interp import Module\n"
        "module = Module(open(sys.argv[1], 'rb').read())\n"
        "module.instantiate()\n"
        "module.function_code(module.decoded.export_map()['run'].index)", 1),
    # The same for a C program (big_c_program.py, ~1.0 MB): with its WASI imports, up to
    # the translation of _start.
    "interp set-up of a C program before the first call": (
        "from pywamr.runtime.interp import Module\n"
        "from pywamr.runtime.wasi import WasiHost\n"
        "module = Module(open(sys.argv[1], 'rb').read())\n"
        "with WasiHost([sys.argv[1]], {}, []) as host:\n"
        "    module.instantiate(host.imports_of(module.decoded))\n"
        "    module.function_code(module.decoded.export_map()['_start'].index)", "C"),
}
NEEDS = {"decode_module": ["pywamr.runtime.decoder"],
         "decode_module + validate": ["pywamr.runtime.decoder", "pywamr.runtime.validator"],
         "interp set-up before the first call": ["pywamr.runtime.interp"],
         "interp set-up of a C program before the first call": ["pywamr.runtime.interp"]}
CASES = [Case("decode", step, "C program" if size == "C" else f"{size} MB module")
         for step, (_, size) in STEPS.items()]


@pytest.fixture(scope="module")
def big_wasm():
    """big_wasm(megabytes) -> the path of a generated module of that size ("C": of the
    generated C program)."""
    paths = {}

    def path_of(megabytes):
        if megabytes == "C":            # built by build-scripts/build-benchmarks.sh
            return BUILD_DIR / "big_c_program.wasm"
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
    code, megabytes = STEPS[case.row]
    wasm = big_wasm(megabytes)
    argv = [sys.executable, "-c", "import sys\n" + code, str(wasm)]
    benchmark.group = "decode"
    runs = benchmark_command(benchmark, argv, rounds("decode"), expected_stdout="")
    results.ok(case, benchmark.stats, max(run.max_rss_kb for run in runs),
               [run.cpu_seconds for run in runs], wasm_bytes=wasm.stat().st_size)
