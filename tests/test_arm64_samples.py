"""The C samples (tests/samples/*.c, built to wasm by build-scripts/build-samples.sh) compiled
for AArch64 and run by pyiwasm on arm64 under qemu: stdout, stderr, exit status and the files
left behind must be those of the same sample compiled for x86_64 and run here. Every run at the
default size level 3; the biggest programs and the deepest stack also at size levels 0 (large
code model) and 1 (small), since compiling a sample takes seconds."""

import re
import subprocess
import sys

import pytest

from arm64_qemu import arm64
from pyiwasm_support import build_samples
from pywamr.compiler.driver import CompileOptions, compile_wasm
from test_samples import tree

RUNS = {  # id: (sample, pyiwasm flags, program arguments, stdin)
    "hello": ("hello", [], [], b""),
    "args_env": ("args_env", ["--env=PYWAMR_SAMPLE=arm64", "--env=LANG=C"],
                 ["one", "two words", "ünïcödé"], b""),
    "exit_code": ("exit_code", [], ["exit"], b""),
    "fib": ("fib", [], [], b"22\n"),
    "fileio": ("fileio", ["--map-dir=/data::DIR"], ["/data"], b""),
    "clock_random": ("clock_random", [], [], b""),
    "trap_div0": ("trap", [], ["div0"], b""),
    "trap_oob": ("trap", [], ["oob"], b""),
    "trap_stack": ("trap", [], ["stack"], b""),
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """compiled(sample, arch, level) -> path of the .aot, compiled once."""
    samples = build_samples()
    folder = tmp_path_factory.mktemp("arm64-samples")
    cache = {}

    def compile_sample(sample, arch, level):
        if (sample, arch, level) not in cache:
            wasm = (samples / f"{sample}.wasm").read_bytes()
            path = folder / f"{sample}-{arch}-{level}.aot"
            path.write_bytes(compile_wasm(wasm, CompileOptions(target=arch, size_level=level)))
            cache[sample, arch, level] = path
        return cache[sample, arch, level]

    return compile_sample


def run(command, aot, run_id, folder):
    """Run the sample of `run_id` with pyiwasm (`command` + flags); the result, comparable."""
    _, flags, args, stdin = RUNS[run_id]
    folder.mkdir()
    flags = [flag.replace("DIR", str(folder)) for flag in flags]
    done = subprocess.run([*command, "-m", "pywamr.loader", *flags, str(aot), *args],
                          input=stdin, capture_output=True)
    stderr = re.sub(rb"time: \d+\.\d{3} ms", b"time: (varies)", done.stderr)  # fib's timing
    # How deep recursion gets before the stack is exhausted depends on each target's frames.
    stderr = re.sub(rb"\.\.\. \d+ more frames", b"... (some) more frames", stderr)
    return done.returncode, done.stdout, stderr, tree(folder)


CASES = [(run_id, 3) for run_id in RUNS] + [
    (run_id, level) for run_id in ("fib", "fileio", "trap_stack") for level in (0, 1)]


@pytest.mark.parametrize("run_id, level", CASES)
def test_sample_on_arm64_matches_x86_64(compiled, tmp_path, run_id, level):
    sample = RUNS[run_id][0]
    expected = run([sys.executable], compiled(sample, "x86_64", 3), run_id, tmp_path / "x86_64")
    assert expected[0] in (0, 3, 134), expected  # the sample ran (or trapped) on x86_64
    on_arm64 = run(arm64.python_command(), compiled(sample, "aarch64", level), run_id,
                   tmp_path / "aarch64")
    assert on_arm64 == expected
