"""Running one benchmark command as a child process: its peak memory, CPU time and output
(pytest-benchmark times its wall time).

The command runs under build/peak_rss (peak_rss.c), which reports the command's own peak
resident set size and CPU time; the launcher adds one exec (well under a millisecond) to
every row's wall time alike.
"""

import os
import tempfile
from dataclasses import dataclass

import pytest

from programs import BUILD_DIR

PEAK_RSS = BUILD_DIR / "peak_rss"


@dataclass
class ChildRun:
    max_rss_kb: int
    cpu_seconds: float  # user + system time of the command (and the processes it waited for)
    exit_code: int      # negative: killed by that signal
    stdout: str
    stderr: str

    def failure(self):
        """One line saying why this run failed, or None if it exited 0."""
        if self.exit_code == 0:
            return None
        last_line = (self.stderr.strip().splitlines() or ["(no error output)"])[-1]
        how = (f"killed by signal {-self.exit_code}" if self.exit_code < 0
               else f"exit code {self.exit_code}")
        return f"{how}: {last_line[:200]}"


def run_child(argv):
    """Run argv to completion with stdin from /dev/null; capture stdout and stderr."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out_path, err_path = os.path.join(tmp, "out"), os.path.join(tmp, "err")
        rss_path = os.path.join(tmp, "rss")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        file_actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, out_path, flags, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, err_path, flags, 0o644),
        ]
        launcher = [str(PEAK_RSS), rss_path, *argv]
        pid = os.posix_spawn(launcher[0], launcher, os.environ, file_actions=file_actions)
        _, status = os.waitpid(pid, 0)
        with open(out_path, errors="replace") as out, open(err_path, errors="replace") as err:
            stdout, stderr = out.read(), err.read()
        with open(rss_path) as rss:
            max_rss_kb, cpu_us = map(int, rss.read().split())
    return ChildRun(max_rss_kb=max_rss_kb, cpu_seconds=cpu_us / 1e6,
                    exit_code=os.waitstatus_to_exitcode(status),
                    stdout=stdout, stderr=stderr)


def output_failure(run, expected_stdout=None):
    """One line saying why `run` failed: its exit, or printing other than `expected_stdout`
    (None: anything goes); None if it did not."""
    failure = run.failure()
    if failure is None and expected_stdout is not None and run.stdout != expected_stdout:
        failure = f"printed {short(run.stdout)}, native printed {short(expected_stdout)}"
    return failure


def short(text, limit=80):
    text = " | ".join(text.strip().splitlines())
    return repr(text if len(text) <= limit else text[:limit] + "...")


class RunFailed(Exception):
    """A run exited non-zero or printed the wrong thing. An Exception, not pytest's Failed,
    so that pytest-benchmark marks the case as an error and leaves it out of its JSON."""


def benchmark_command(benchmark, argv, rounds, expected_stdout=None):
    """Time `rounds` runs of argv with pytest-benchmark; fail the test at the first run that
    exits non-zero or prints other than `expected_stdout`. Returns the ChildRuns."""
    runs = []

    def run_once():
        run = run_child(argv)
        failure = output_failure(run, expected_stdout)
        if failure:
            raise RunFailed(failure)
        runs.append(run)

    try:
        benchmark.pedantic(run_once, rounds=rounds, iterations=1)
    except RunFailed as failed:
        pytest.fail(str(failed), pytrace=False)
    return runs


def prepare_row(runtime, program):
    """Skip the test if `runtime` cannot run here; fail it if its compile step fails."""
    why = runtime.unavailable()
    if why:
        pytest.skip(why)
    try:
        runtime.prepare(program)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
