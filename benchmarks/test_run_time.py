"""Run time of every program on every row of its tier (programs.py, runtimes.py).

Every run must print what the native build prints for the same input, so a fast wrong
answer fails instead of winning.
"""

import pytest

import programs
import runtimes
from measure import benchmark_command, prepare_row
from results import Case

CASES = [Case("run", row.name, program.name, tier)
         for tier in programs.TIERS
         for program in programs.PROGRAMS
         for row in runtimes.ROWS_BY_TIER[tier]]


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
