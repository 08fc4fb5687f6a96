"""Real C programs (tests/samples/*.c) run through pyiwasm with each engine, compared with the
same source built natively with gcc: stdout, stderr, exit status and the files left behind
must be the same. Traps are the exception by nature: natively the program dies by a signal,
under pyiwasm it exits with 134 after one `pyiwasm: wasm trap: ...` line and the wasm
backtrace on stderr.

The samples are built on demand by build-scripts/build-samples.sh into build/samples/."""

import os
import re
import signal
import stat
import subprocess

import pytest

from pyiwasm_support import ENGINES, TRAP_STATUS, build_samples, program, pyiwasm

SAMPLE_ENV = {"PYWAMR_SAMPLE": "yes", "EMPTY": "", "WITH_EQUALS": "a=b=c", "LANG": "C"}


@pytest.fixture(scope="session")
def samples():
    return build_samples()


@pytest.fixture(scope="session")
def aot_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("aot")


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


def run_native(samples, name, args=(), stdin=b"", env=None):
    return subprocess.run([str(samples / name), *args], input=stdin, capture_output=True,
                          env=env if env is not None else {})


@pytest.fixture
def run_wasm(samples, engine, aot_dir):
    """run_wasm(name, args, stdin, env, flags): run a sample through pyiwasm with `engine`."""
    def run(name, args=(), stdin=b"", env=None, flags=()):
        env_flags = [f"--env={key}={value}" for key, value in (env or {}).items()]
        return pyiwasm(*flags, *env_flags, *program(engine, samples / f"{name}.wasm", aot_dir),
                       *args, input=stdin)
    return run


def same_run(native, wasm):
    assert wasm.stdout == native.stdout
    assert wasm.stderr == native.stderr
    assert wasm.returncode == native.returncode


def tree(root):
    """{relative path: (kind, contents or link target)} of everything under root."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                found[os.path.relpath(path, root)] = ("link", os.readlink(path))
            elif stat.S_ISDIR(mode):
                found[os.path.relpath(path, root)] = ("dir", None)
            else:
                with open(path, "rb") as file:
                    found[os.path.relpath(path, root)] = ("file", file.read())
    return found


def test_hello(samples, run_wasm):
    wasm = run_wasm("hello")
    assert wasm.stdout == b"Hello, world!\n"
    same_run(run_native(samples, "hello"), wasm)


def test_fib_reads_stdin(samples, run_wasm):
    native = run_native(samples, "fib", stdin=b"18\n")
    wasm = run_wasm("fib", stdin=b"18\n")
    assert wasm.stdout == native.stdout == b"fib(18) = 2584\n"
    assert wasm.returncode == native.returncode == 0
    # The time on stderr changes from run to run; only its form is compared.
    for run in (native, wasm):
        assert re.fullmatch(rb"time: \d+\.\d{3} ms\n", run.stderr), run.stderr


def test_fib_without_input(samples, run_wasm):
    same_run(run_native(samples, "fib"), run_wasm("fib"))


@pytest.mark.parametrize("args", [[], ["one", "two words", "", "ünïcödé", "--flag", "-f"]])
def test_args_and_environment(samples, run_wasm, args):
    wasm = run_wasm("args_env", args, env=SAMPLE_ENV)
    assert b"getenv PYWAMR_SAMPLE: yes\n" in wasm.stdout
    same_run(run_native(samples, "args_env", args, env=SAMPLE_ENV), wasm)


def test_a_bare_env_name_passes_on_pyiwasms_value(samples, engine, aot_dir):
    """`--env NAME` (wasmtime's form) gives the program pyiwasm's own NAME, if it has one."""
    done = pyiwasm("--env", "PYWAMR_SAMPLE", "--env", "PYWAMR_UNSET",
                   *program(engine, samples / "args_env.wasm", aot_dir),
                   env={**os.environ, "PYWAMR_SAMPLE": "yes"})
    assert b"getenv PYWAMR_SAMPLE: yes\n" in done.stdout
    assert b"env count: 1\n" in done.stdout


def test_no_environment_is_inherited(samples, run_wasm):
    wasm = run_wasm("args_env")
    assert b"env count: 0\n" in wasm.stdout
    same_run(run_native(samples, "args_env", env={}), wasm)


@pytest.mark.parametrize("grant", ["dir", "map-dir"])
def test_file_io(samples, run_wasm, tmp_path, grant):
    native_dir, wasm_dir = tmp_path / "native", tmp_path / "wasm"
    native_dir.mkdir()
    wasm_dir.mkdir()
    native = run_native(samples, "fileio", [str(native_dir)])
    if grant == "dir":
        wasm = run_wasm("fileio", [str(wasm_dir)], flags=["--dir", wasm_dir])
    else:
        wasm = run_wasm("fileio", ["/data"],
                        flags=["--map-dir", f"/data::{wasm_dir}"])
    assert native.returncode == 0 and native.stdout.endswith(b"done\n")
    same_run(native, wasm)
    assert tree(wasm_dir) == tree(native_dir)
    assert os.stat(wasm_dir / "work" / "a.txt").st_mtime == 1234567890


def test_file_io_without_a_preopen_fails_cleanly(samples, run_wasm, tmp_path):
    wasm = run_wasm("fileio", [str(tmp_path)])
    assert wasm.returncode == 1
    assert wasm.stdout.startswith(b"FAILED: mkdir work")
    assert list(tmp_path.iterdir()) == []


def test_clock_and_random(samples, run_wasm):
    wasm = run_wasm("clock_random")
    assert b"NO" not in wasm.stdout and wasm.stdout.count(b": yes\n") == 9
    same_run(run_native(samples, "clock_random"), wasm)


@pytest.mark.parametrize("how, status", [("exit", 3), ("return", 5)])
def test_non_zero_exit(samples, run_wasm, how, status):
    wasm = run_wasm("exit_code", [how])
    assert wasm.returncode == status
    assert b"atexit handler ran\n" in wasm.stdout
    same_run(run_native(samples, "exit_code", [how]), wasm)


@pytest.mark.parametrize("how, native_signal, message", [
    ("oob", signal.SIGSEGV, "out of bounds memory access"),
    ("div0", signal.SIGFPE, "integer divide by zero"),
    ("overflow", signal.SIGFPE, "integer overflow"),
    ("unreachable", signal.SIGILL, "unreachable"),
    ("stack", signal.SIGSEGV, "call stack exhausted"),
])
def test_trap(samples, run_wasm, how, native_signal, message):
    native = run_native(samples, "trap", [how])
    wasm = run_wasm("trap", [how])
    assert native.returncode == -native_signal
    assert wasm.returncode == TRAP_STATUS
    assert wasm.stdout == native.stdout == b""
    report = f"pyiwasm: wasm trap: {message}\nwasm backtrace:\n".encode()
    assert wasm.stderr.startswith(native.stderr + report)
    innermost = b"recurse" if how == "stack" else b"main"     # names from the name section
    assert re.match(rb'    0: func \d+ "%s"' % innermost, wasm.stderr[len(native.stderr + report):])


def test_trap_usage_is_an_ordinary_exit(samples, run_wasm):
    same_run(run_native(samples, "trap"), run_wasm("trap"))
