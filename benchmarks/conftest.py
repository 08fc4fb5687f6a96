"""pytest set-up of the benchmark suite: `pytest benchmarks/` (not part of `pytest tests`).

Builds the programs first (build-scripts/build-benchmarks.sh), records every case, measured,
unavailable or failed, and writes build/results.json at the end for report.py.
"""

import subprocess

import pytest

import machine
from measure import run_child
from programs import BENCH_DIR
from results import Results

BUILD_SCRIPT = BENCH_DIR.parent / "build-scripts" / "build-benchmarks.sh"

# Timed runs per case. The full tier's runs are long and steady; start-up runs are short
# and noisy, so they get more; "pairs": pairs of full-tier runs of two rows compared;
# "memory64": calls of a kernel in process (test_memory64.py), 10-50 ms each.
ROUNDS = {"full": 3, "small": 3, "tiny": 2, "startup": 10, "startup-pairs": 30, "compile": 1,
          "decode": 2, "pairs": 10, "memory64": 7}

RESULTS = Results()


def pytest_addoption(parser):
    parser.addoption("--bench-rounds", type=int, metavar="N",
                     help="timed runs per benchmark case, instead of the default for its kind")


@pytest.fixture(scope="session")
def rounds(request):
    """rounds(kind) -> how many timed runs a case of that kind gets."""
    override = request.config.getoption("--bench-rounds")
    return lambda kind: override or ROUNDS[kind]


@pytest.fixture(scope="session")
def results():
    return RESULTS


@pytest.fixture(scope="session", autouse=True)
def built_programs():
    done = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.exit(f"{BUILD_SCRIPT.name} failed: {done.stderr.strip()[-500:]}", returncode=1)


@pytest.fixture(scope="session", autouse=True)
def compile_cache(tmp_path_factory):
    """The suite's own compile cache (PYWAMR_CACHE_DIR) for `pyiwasm FILE.wasm`: empty at the
    start, as no compiled output of an earlier session is reused, and never the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYWAMR_CACHE_DIR", str(tmp_path_factory.mktemp("compile-cache")))
        yield


@pytest.fixture(scope="session")
def native_output():
    """native_output(program, args) -> what the native build prints: every row must match."""
    cache = {}

    def output(program, args):
        key = (program.name, tuple(args))
        if key not in cache:
            run = run_child([str(program.native), *args])
            assert run.exit_code == 0, f"native {program.name} {' '.join(args)}: {run.failure()}"
            cache[key] = run.stdout
        return cache[key]

    return output


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Record a case that was skipped (unavailable) or failed, with its one-line reason."""
    report = (yield).get_result()
    case = getattr(item, "callspec", None) and item.callspec.params.get("case")
    if case is None:
        return
    if report.skipped:
        RESULTS.not_run(case, "unavailable", report.longrepr[2].removeprefix("Skipped: "))
    elif report.failed:
        lines = [line for line in report.longreprtext.strip().splitlines() if line.strip()]
        RESULTS.not_run(case, "failed", lines[-1].removeprefix("E ").strip() if lines else "")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    if RESULTS.records:
        RESULTS.save(machine.describe())
