"""What a 64-bit memory costs compiled code: the kernels of benchmarks/memory64/kernels.c
built for wasm32 and for wasm64 (build-benchmarks.sh), compiled by pyaotc for this machine
(its defaults: guard pages behind the 32-bit build's checks), each exported function timed
alone in this process through the embedding API, as CPU time. The two builds must return
the same checksum. report.py puts them in the table "memory64 against memory32".

    pytest benchmarks/test_memory64.py
"""

import time

import pytest

from programs import BUILD_DIR
from results import Case

# kernel -> its argument: about 10 to 50 ms per call on the wasm32 build.
KERNELS = {"sieve": 16 << 20, "matmul": 512, "histogram": 16 << 20}
BUILDS = ("memory32", "memory64")
CASES = [Case("memory64", kernel, build) for kernel in KERNELS for build in BUILDS]


def wasm_path(build):
    return BUILD_DIR / f"kernels-wasm{build.removeprefix('memory')}.wasm"


_exports = {}


def exports(build):
    """The instance of a build's kernels, compiled once per session."""
    if build not in _exports:
        pywamr = pytest.importorskip("pywamr")
        pytest.importorskip("llvmlite")
        engine = pywamr.Engine("aot")
        module = pywamr.Module.from_file(engine, str(wasm_path(build)))
        _exports[build] = pywamr.Linker(engine).instantiate(module).exports
    return _exports[build]


def checksum(kernel):
    """The wasm32 build's answer, which the wasm64 build must give too."""
    return exports("memory32")[kernel](KERNELS[kernel])


@pytest.mark.parametrize("case", CASES, ids=str)
def test_memory64_kernel(case, benchmark, rounds, results):
    function = exports(case.column)[case.row]
    argument = KERNELS[case.row]
    expected = checksum(case.row)
    times = []

    def run_once():
        started = time.process_time()
        answer = function(argument)
        times.append(time.process_time() - started)
        assert answer == expected, f"{case.column} {case.row} returned {answer}, not {expected}"

    benchmark.group = f"memory64: {case.row}({argument})"
    benchmark.pedantic(run_once, rounds=rounds("memory64"), iterations=1, warmup_rounds=1)
    results.ok_seconds(case, times[1:])
