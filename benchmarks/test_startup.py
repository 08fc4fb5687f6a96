"""Start-up: hello world on each row, against `python3 -c pass`, the floor under every
Python-hosted row. pyiwasm runs hello.aot as `python3 -m pywamr.loader` and as the installed
`pyiwasm` command, whose start-up the issue's bound is about, and hello.wasm found in the
compile cache (docs/benchmarks.md)."""

import pytest

import runtimes
from measure import benchmark_command, output_failure, prepare_row, run_child
from programs import HELLO
from results import Case

CASES = [Case("startup", row.name, HELLO.name) for row in runtimes.STARTUP_ROWS]
PAIRED = Case("startup-pairs", runtimes.PYIWASM.name, HELLO.name)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_startup(case, benchmark, rounds, results, native_output):
    runtime = runtimes.BY_NAME[case.row]
    prepare_row(runtime, HELLO)
    expected = "" if isinstance(runtime, runtimes.PythonNothing) else native_output(HELLO, [])
    benchmark.group = "start-up: hello world"
    runs = benchmark_command(benchmark, runtime.command(HELLO, []), rounds("startup"), expected)
    results.ok(case, benchmark.stats, max(run.max_rss_kb for run in runs),
               [run.cpu_seconds for run in runs])


def test_startup_over_python_paired(rounds, results, native_output):
    """`python3 -c pass`, then `pyiwasm hello.aot`, in turn: the difference of each pair's
    CPU times. The rows above are timed one after the other, minutes apart on a loaded
    machine, so their medians also differ by whatever the load did meanwhile; runs in pairs
    see the same load."""
    floor, pyiwasm = runtimes.BY_NAME["python-pass"], runtimes.PYIWASM
    prepare_row(pyiwasm, HELLO)
    expected = native_output(HELLO, [])
    differences = []
    for _ in range(rounds("startup-pairs")):
        base = run_child(floor.command(HELLO, []))
        run = run_child(pyiwasm.command(HELLO, []))
        failure = base.failure() or output_failure(run, expected)
        if failure:
            pytest.fail(failure, pytrace=False)
        differences.append(run.cpu_seconds - base.cpu_seconds)
    results.ok_seconds(PAIRED, differences)
