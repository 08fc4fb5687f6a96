"""pyaotc -j N (compiler/partition.py, part_compiler.py, object_merge.py): the module is
split by size alone, so the .aot file is the same bytes for any number of workers, and the
objects of the parts merge into code that runs as the unsplit module's does."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from pyiwasm_support import build_samples, pyiwasm

pytest.importorskip("llvmlite")

from pywamr.compiler.driver import CompileOptions, cache_options_text, compile_wasm  # noqa: E402
from pywamr.compiler.partition import split_functions  # noqa: E402
from pywamr.runtime.decoder import decode_module  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ["hello", "fib", "wordstats", "simd_blur", "trap"]   # wordstats: a library
# Small parts (in bytes of code), so that the samples (a few thousand instructions) are
# split too.
SMALL_PARTS = 1_000


@pytest.fixture(scope="module")
def samples():
    return build_samples()


@pytest.fixture(scope="module")
def generated_wasm():
    """A module of benchmarks/big_module.py: 1800 functions, each calling the one before
    (compiled, not run: its loops run for ages)."""
    spec = importlib.util.spec_from_file_location("big_module", ROOT / "benchmarks" / "big_module.py")
    big_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(big_module)
    return big_module.generate(0.3)


def compile_split(wasm, jobs, part_bytes=SMALL_PARTS, opt_level=0):
    return compile_wasm(wasm, CompileOptions(opt_level=opt_level, jobs=jobs,
                                             part_bytes=part_bytes))


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_same_bytes_for_any_jobs(samples, name):
    wasm = (samples / f"{name}.wasm").read_bytes()
    assert len(split_functions(decode_module(wasm), SMALL_PARTS)) > 2
    one = compile_split(wasm, jobs=1, opt_level=2)
    assert compile_split(wasm, jobs=2, opt_level=2) == one
    assert compile_split(wasm, jobs=4, opt_level=2) == one


def test_generated_module_same_bytes_for_any_jobs(generated_wasm):
    """The default split, on a module big enough to have several parts."""
    assert len(split_functions(decode_module(generated_wasm))) >= 3
    one = compile_split(generated_wasm, jobs=1, part_bytes=50_000)
    assert compile_split(generated_wasm, jobs=2, part_bytes=50_000) == one
    assert compile_split(generated_wasm, jobs=4, part_bytes=50_000) == one


@pytest.mark.parametrize("name, args, stdin", [
    ("hello", [], b""), ("fib", [], b"25\n"), ("exit_code", ["7"], b""),
    ("simd_blur", [], b""), ("trap", [], b""),
])
def test_split_samples_run_as_unsplit(samples, tmp_path, name, args, stdin):
    """The samples, every function a part of its own compiled by two workers: the same
    output, status and backtrace as the one-part build."""
    wasm = samples / f"{name}.wasm"
    runs = []
    for label, part_bytes in (("split", 1), ("whole", 10**9)):
        aot = tmp_path / f"{name}.{label}.aot"
        aot.write_bytes(compile_split(wasm.read_bytes(), jobs=2, opt_level=2,
                                      part_bytes=part_bytes))
        done = pyiwasm(aot, *args, input=stdin)
        # fib times itself on stderr.
        stderr = [line for line in done.stderr.replace(bytes(aot), b"FILE").splitlines()
                  if not line.startswith(b"time: ")]
        runs.append((done.returncode, done.stdout, stderr))
    split, whole = runs
    assert split == whole


def test_split_is_consecutive_and_covers_every_function(generated_wasm):
    module = decode_module(generated_wasm)
    parts = split_functions(module, 10_000)
    assert [part.index for part in parts] == list(range(len(parts)))
    assert [i for part in parts for i in part.codes] == list(range(len(module.codes)))
    assert all(part.size >= 10_000 for part in parts[:-1])


def test_module_without_code_is_one_part():
    assert len(split_functions(decode_module(b"\0asm\1\0\0\0"))) == 1


def test_jobs_are_not_in_the_cache_key():
    assert cache_options_text(CompileOptions(jobs=3)) == cache_options_text(CompileOptions())


def test_cli_jobs_same_bytes(tmp_path, samples):
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"fib.j{jobs}.aot"
        done = subprocess.run([sys.executable, "-m", "pywamr.compiler", "-j", jobs, "-o",
                               str(out), str(samples / "fib.wasm")], capture_output=True)
        assert done.returncode == 0, done.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
