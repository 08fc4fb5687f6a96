"""Decoding speed: pywamr.runtime.decoder.decode_module on a generated ~10 MB module
(big_module.py), in a child process so its peak memory is measured too; and decoding
followed by validation."""

import sys

import pytest

import big_module
from compilers import missing_module
from measure import benchmark_command
from programs import BUILD_DIR
from results import Case

MEGABYTES = 10
STEPS = {
    "decode_module": "from pywamr.runtime.decoder import decode_module\n"
                     "decode_module(open(sys.argv[1], 'rb').read())",
    "decode_module + validate": "from pywamr.runtime.decoder import decode_module\n"
                                "from pywamr.runtime.validator import validate\n"
                                "validate(decode_module(open(sys.argv[1], 'rb').read()))",
}
NEEDS = {"decode_module": ["pywamr.runtime.decoder"],
         "decode_module + validate": ["pywamr.runtime.decoder", "pywamr.runtime.validator"]}
CASES = [Case("decode", step, f"{MEGABYTES} MB module") for step in STEPS]


@pytest.fixture(scope="module")
def big_wasm():
    path = BUILD_DIR / "big.wasm"
    path.write_bytes(big_module.generate(MEGABYTES))
    return path


@pytest.mark.parametrize("case", CASES, ids=str)
def test_decode(case, benchmark, rounds, results, big_wasm):
    why = next(filter(None, map(missing_module, NEEDS[case.row])), None)
    if why:
        pytest.skip(why)
    argv = [sys.executable, "-c", "import sys\n" + STEPS[case.row], str(big_wasm)]
    benchmark.group = "decode"
    runs = benchmark_command(benchmark, argv, rounds("decode"), expected_stdout="")
    results.ok(case, benchmark.stats, max(run.max_rss_kb for run in runs),
               [run.cpu_seconds for run in runs], wasm_bytes=big_wasm.stat().st_size)
