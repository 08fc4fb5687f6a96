"""Start-up: hello world on each row, against `python3 -c pass`, the floor under every
Python-hosted row. pyiwasm runs hello.aot as `python3 -m pywamr.loader` and as the installed
`pyiwasm` command, whose start-up the issue's bound is about, and hello.wasm found in the
compile cache (docs/benchmarks.md)."""

import pytest

import runtimes
from measure import benchmark_command, prepare_row
from programs import HELLO
from results import Case

CASES = [Case("startup", row.name, HELLO.name) for row in runtimes.STARTUP_ROWS]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_startup(case, benchmark, rounds, results, native_output):
    runtime = runtimes.BY_NAME[case.row]
    prepare_row(runtime, HELLO)
    expected = "" if isinstance(runtime, runtimes.PythonNothing) else native_output(HELLO, [])
    benchmark.group = "start-up: hello world"
    runs = benchmark_command(benchmark, runtime.command(HELLO, []), rounds("startup"), expected)
    results.ok(case, benchmark.stats, max(run.max_rss_kb for run in runs),
               [run.cpu_seconds for run in runs])
