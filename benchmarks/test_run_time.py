"""Run time of every program on every row of its tier (programs.py, runtimes.py).

Every run must print what the native build prints for the same input, so a fast wrong
answer fails instead of winning.
"""

import pytest

import programs
import runtimes
from measure import benchmark_command, output_failure, prepare_row, run_child
from results import Case

CASES = [Case("run", row.name, program.name, tier)
         for tier in programs.TIERS
         for program in programs.PROGRAMS
         for row in runtimes.ROWS_BY_TIER[tier]]
# Two rows of ours compared run for run (report.py's comparison columns): (tier, top, bottom).
PAIRED_ROWS = [("full", runtimes.PYIWASM, runtimes.PYIWASM_GENERIC)]
PAIRED_CASES = [Case("pairs", f"{top.name}/{bottom.name}", program.name, tier)
                for tier, top, bottom in PAIRED_ROWS for program in programs.PROGRAMS]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_run(case, benchmark, rounds, results, native_output):
    runtime = runtimes.BY_NAME[case.row]
    program = programs.BY_NAME[case.column]
    prepare_row(runtime, program)
    args = program.args(case.tier)
    benchmark.group = f"{case.tier}: {program.name} {' '.join(args)}"
    runs = benchmark_command(benchmark, runtime.command(program, args), rounds(case.tier),
                             native_output(program, args))
    results.ok(case, benchmark.stats, max(run.max_rss_kb for run in runs),
               [run.cpu_seconds for run in runs])


@pytest.mark.parametrize("case", PAIRED_CASES, ids=str)
def test_run_paired(case, rounds, results, native_output):
    """Two rows of ours in interleaved pairs, the ratio of each pair's CPU times. Their own
    rows are timed minutes apart, and a few per cent of load or of where the kernel placed
    the code then decide which comes out ahead even where both run the same instructions
    (fib's hot function is the same bytes for pyaotc's default and generic); a pair's two
    runs see the same machine, and the order alternates so that neither is always first."""
    top, bottom = (runtimes.BY_NAME[name] for name in case.row.split("/"))
    program = programs.BY_NAME[case.column]
    prepare_row(top, program)
    prepare_row(bottom, program)
    args = program.args(case.tier)
    expected = native_output(program, args)
    ratios = []
    for pair in range(rounds("pairs")):
        first, second = (top, bottom) if pair % 2 == 0 else (bottom, top)
        runs = {}
        for runtime in (first, second):
            run = run_child(runtime.command(program, args))
            failure = output_failure(run, expected)
            if failure:
                pytest.fail(f"{runtime.name}: {failure}", pytrace=False)
            runs[runtime] = run.cpu_seconds
        ratios.append(runs[top] / runs[bottom])
    results.ok_ratios(case, ratios)
