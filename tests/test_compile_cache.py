"""The compile cache (runtime/compile_cache.py): `pyiwasm app.wasm` compiling through it
(loader/cached_compile.py), compile_cached() (compiler/driver.py), and the cache's own
rules: keys, atomic stores, eviction, the entries it refuses. Every test has a cache
directory of its own."""

import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pyiwasm_support import build_samples, pyiwasm, wat_module
from pywamr.runtime.aot_layout import FORMAT_VERSION, HEADER, MAGIC
from pywamr.runtime.compile_cache import (
    SOURCE_FOLDERS, TEMPORARY_PREFIX, CompileCache, default_directory, options_text,
    source_identity)

HELLO_OUTPUT = b"Hello, world!\n"


@pytest.fixture(scope="module")
def hello():
    """The hello sample, a C program built with clang-19 and wasi-libc."""
    return build_samples() / "hello.wasm"


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"


def run(cache_dir, *args, **settings):
    """pyiwasm ARGS with `cache_dir` as the compile cache; `settings` add to its environment."""
    env = {**os.environ, "PYWAMR_CACHE_DIR": str(cache_dir), **settings}
    return pyiwasm(*args, env=env)


def entries(cache_dir):
    """{file name: (inode, mtime in ns)} of everything in the cache directory."""
    if not cache_dir.exists():
        return {}
    return {path.name: (path.stat().st_ino, path.stat().st_mtime_ns)
            for path in cache_dir.iterdir()}


def stderr_lines(done):
    return done.stderr.decode().splitlines()


def needs_compiler():
    if importlib.util.find_spec("llvmlite") is None:
        pytest.skip("the compiler extra (llvmlite, typer) is not installed")


# --- pyiwasm app.wasm -------------------------------------------------------------------------

def test_first_run_compiles_and_stores_the_second_loads(hello, cache_dir):
    needs_compiler()
    first = run(cache_dir, "-v", hello)
    assert (first.returncode, first.stdout) == (0, HELLO_OUTPUT), first.stderr
    [name] = entries(cache_dir)
    assert name.endswith(".aot")
    assert f"{hello}: compiled in " in first.stderr.decode()
    assert f"stored in the compile cache, {cache_dir / name}" in first.stderr.decode()
    stored = (cache_dir / name).read_bytes()
    inode = (cache_dir / name).stat().st_ino

    second = run(cache_dir, "-v", hello)
    assert (second.returncode, second.stdout) == (0, HELLO_OUTPUT)
    assert stderr_lines(second)[0] == f"pyiwasm: {hello}: compile cache hit, {cache_dir / name}"
    assert "compiled" not in second.stderr.decode()
    assert list(entries(cache_dir)) == [name]
    assert (cache_dir / name).stat().st_ino == inode            # not written again
    assert (cache_dir / name).read_bytes() == stored


def test_no_cache_neither_reads_nor_writes_the_cache(hello, cache_dir):
    needs_compiler()
    done = run(cache_dir, "-v", "--no-cache", hello)
    assert (done.returncode, done.stdout) == (0, HELLO_OUTPUT)
    assert "not stored (--no-cache)" in done.stderr.decode()
    assert entries(cache_dir) == {}
    assert run(cache_dir, hello).returncode == 0
    before = entries(cache_dir)
    done = run(cache_dir, "-v", "--no-cache", hello)
    assert "compiled in " in done.stderr.decode() and "hit" not in done.stderr.decode()
    assert entries(cache_dir) == before        # not even touched as used


def test_fuel_is_compiled_in_as_another_entry(hello, cache_dir):
    needs_compiler()
    assert run(cache_dir, hello).returncode == 0
    counted = run(cache_dir, "-v", "--fuel", "1000000000", hello)
    assert (counted.returncode, counted.stdout) == (0, HELLO_OUTPUT), counted.stderr
    assert "compiled in " in counted.stderr.decode()
    assert len(entries(cache_dir)) == 2
    again = run(cache_dir, "-v", "--fuel", "1000000000", hello)
    assert "compile cache hit" in again.stderr.decode()
    consumed = [line for line in stderr_lines(again) if "fuel consumed" in line]
    assert consumed == [line for line in stderr_lines(counted) if "fuel consumed" in line]
    assert int(consumed[0].rsplit(" ", 1)[1]) > 0
    short = run(cache_dir, "--fuel", "100", hello)
    assert stderr_lines(short)[0] == "pyiwasm: wasm trap: all fuel consumed"


@pytest.mark.parametrize("damage", ["truncated", "corrupted", "writable by others"])
def test_a_damaged_entry_is_compiled_again(hello, cache_dir, damage):
    needs_compiler()
    assert run(cache_dir, hello).returncode == 0
    [entry] = cache_dir.iterdir()
    good = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(good[:len(good) // 2])
    elif damage == "corrupted":
        middle = len(good) // 2
        entry.write_bytes(good[:middle] + bytes([good[middle] ^ 0xFF]) + good[middle + 1:])
    else:
        entry.chmod(0o666)
    done = run(cache_dir, "-v", hello)
    assert (done.returncode, done.stdout) == (0, HELLO_OUTPUT), done.stderr
    report = done.stderr.decode()
    assert "compiled in " in report and "hit" not in report
    if damage == "corrupted":       # a whole file, refused by the loader's checksum
        assert f"compile cache entry {entry} refused (corrupted .aot file: checksum " \
               "mismatch): compiling again" in report
    assert [path.name for path in cache_dir.iterdir()] == [entry.name]
    assert entry.read_bytes() == good
    assert entry.stat().st_mode & 0o777 == 0o600
    assert "compile cache hit" in run(cache_dir, "-v", hello).stderr.decode()


def test_an_entry_for_cpu_features_this_machine_lacks_is_compiled_again(hello, cache_dir):
    """As from a cache shared with another machine whose /proc/cpuinfo flags read the
    same: the loader's own check refuses the code, and pyiwasm compiles it again."""
    needs_compiler()
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    from pywamr.loader.host import X86_64_FLAGS, cpu_flags, host_arch
    if host_arch() != "x86_64":
        pytest.skip("the feature table used here is x86_64's")
    missing = [name for name, flag in X86_64_FLAGS.items() if flag not in cpu_flags()]
    wasm, cache = hello.read_bytes(), CompileCache(cache_dir)
    key = cache.key(wasm, "")
    cache.store(key, compile_wasm(wasm, CompileOptions(cpu_features=f"+{missing[0]}")))
    done = run(cache_dir, "-v", hello)
    assert (done.returncode, done.stdout) == (0, HELLO_OUTPUT), done.stderr
    assert stderr_lines(done)[0] == (
        f"pyiwasm: {hello}: compile cache entry {cache.path(key)} refused (compiled for CPU "
        f"features this machine lacks: +{missing[0]}): compiling again")
    assert "compile cache hit" in run(cache_dir, "-v", hello).stderr.decode()


def test_two_processes_compiling_at_once_leave_one_good_entry(hello, cache_dir):
    needs_compiler()
    env = {**os.environ, "PYWAMR_CACHE_DIR": str(cache_dir)}
    command = [sys.executable, "-m", "pywamr.loader", "-v", str(hello)]
    children = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE) for _ in range(2)]
    for child in children:
        stdout, stderr = child.communicate()
        assert (child.returncode, stdout) == (0, HELLO_OUTPUT), stderr
    names = [path.name for path in cache_dir.iterdir()]
    assert len(names) == 1 and not names[0].startswith(TEMPORARY_PREFIX)
    assert "compile cache hit" in run(cache_dir, "-v", hello).stderr.decode()


def test_the_size_bound_evicts_all_but_the_newest(hello, cache_dir, tmp_path):
    needs_compiler()
    other = wat_module(tmp_path, "other", '(module (func (export "_start")))')
    assert run(cache_dir, hello).returncode == 0
    [hello_entry] = entries(cache_dir)
    done = run(cache_dir, other, PYWAMR_CACHE_MAX_BYTES="1")
    assert done.returncode == 0, done.stderr
    [other_entry] = entries(cache_dir)          # over the bound, but just stored: kept
    assert other_entry != hello_entry


def test_a_module_read_from_a_pipe_is_compiled_as_read(hello, cache_dir):
    """The compiler is given the bytes pyiwasm read and hashed, not the file's name."""
    needs_compiler()
    done = pyiwasm("-v", "/dev/stdin", input=hello.read_bytes(),
                   env={**os.environ, "PYWAMR_CACHE_DIR": str(cache_dir)})
    assert (done.returncode, done.stdout) == (0, HELLO_OUTPUT), done.stderr
    assert "compiled in " in done.stderr.decode()
    assert "compile cache hit" in run(cache_dir, "-v", hello).stderr.decode()


def test_a_bad_size_bound_is_one_error_line(hello, cache_dir):
    done = run(cache_dir, hello, PYWAMR_CACHE_MAX_BYTES="1G")
    assert (done.returncode, stderr_lines(done)) == (
        1, ["pyiwasm: error: bad PYWAMR_CACHE_MAX_BYTES '1G': expected a number of bytes"])


def test_a_module_that_does_not_compile_is_one_error_line(cache_dir, tmp_path):
    needs_compiler()
    invalid = wat_module(tmp_path, "invalid", "(module (func (result i32) (i64.const 0)))",
                         check=False)
    done = run(cache_dir, invalid)
    assert done.returncode == 1
    assert len(stderr_lines(done)) == 1
    assert stderr_lines(done)[0].startswith(f"pyiwasm: error: {invalid}: type mismatch")
    assert entries(cache_dir) == {}


def python_without_the_compiler(tmp_path):
    """A Python command line as `pip install pywamr` leaves it, without the compiler extra:
    no site-packages, so no llvmlite, and pywamr from a folder of links to it."""
    import pywamr.compiler
    import pywamr.loader
    import pywamr.runtime
    package = tmp_path / "no-compiler" / "pywamr"
    package.mkdir(parents=True)
    for module in (pywamr.compiler, pywamr.loader, pywamr.runtime):
        (package / module.__name__.split(".")[1]).symlink_to(Path(module.__file__).parent)
    return [sys.executable, "-S", "-m", "pywamr.loader"], package.parent


def test_without_the_compiler_the_interpreter_runs_it(hello, cache_dir, tmp_path):
    command, path = python_without_the_compiler(tmp_path)
    env = {"PYTHONPATH": str(path), "PYWAMR_CACHE_DIR": str(cache_dir)}
    found = subprocess.run([*command[:2], "-c", "import importlib.util; "
                            "print(importlib.util.find_spec('llvmlite'))"], env=env,
                           capture_output=True, text=True)
    assert found.stdout == "None\n"
    done = subprocess.run([*command, hello], env=env, capture_output=True)
    assert (done.returncode, done.stdout) == (0, HELLO_OUTPUT)
    assert stderr_lines(done) == [
        f"pyiwasm: note: pyaotc is not installed (pip install 'pywamr[compiler]'): {hello} "
        "runs in the interpreter"]
    assert entries(cache_dir) == {}


def test_without_the_compiler_a_cached_module_still_runs_compiled(hello, cache_dir, tmp_path):
    """A hit needs nothing but the standard library."""
    needs_compiler()
    assert run(cache_dir, hello).returncode == 0
    command, path = python_without_the_compiler(tmp_path)
    done = subprocess.run([*command, "-v", hello], capture_output=True,
                          env={"PYTHONPATH": str(path), "PYWAMR_CACHE_DIR": str(cache_dir)})
    assert (done.returncode, done.stdout) == (0, HELLO_OUTPUT)
    assert "compile cache hit" in stderr_lines(done)[0]


# --- compile_cached ---------------------------------------------------------------------------

def test_compile_cached_compiles_once_and_shares_entries_with_pyiwasm(hello, cache_dir,
                                                                     monkeypatch):
    needs_compiler()
    from pywamr.compiler import driver
    wasm = hello.read_bytes()
    cache = CompileCache(cache_dir)
    aot = driver.compile_cached(wasm, driver.CompileOptions(fuel=True), cache)
    assert len(entries(cache_dir)) == 1
    monkeypatch.setattr(driver, "compile_wasm", None)       # a compile now would fail
    assert driver.compile_cached(wasm, driver.CompileOptions(fuel=True), cache) == aot
    monkeypatch.undo()
    done = run(cache_dir, "-v", "--fuel", "1000000000", hello)
    assert "compile cache hit" in stderr_lines(done)[0]

    monkeypatch.setenv("PYWAMR_CACHE_DIR", str(cache_dir))
    assert driver.compile_cached(wasm, cache=False) != aot        # without fuel, not stored
    assert len(entries(cache_dir)) == 1
    with pytest.raises(driver.CompileError, match="only .aot files are cached"):
        driver.compile_cached(wasm, driver.CompileOptions(format="object"), cache)


def test_compile_cached_defaults_to_the_environments_cache(hello, cache_dir, monkeypatch):
    needs_compiler()
    from pywamr.compiler.driver import compile_cached
    monkeypatch.setenv("PYWAMR_CACHE_DIR", str(cache_dir))
    compile_cached(hello.read_bytes())
    assert len(entries(cache_dir)) == 1


# --- the cache itself -------------------------------------------------------------------------

def fake_aot(size):
    """Bytes the cache takes for a whole .aot file of `size` bytes (it does not check more)."""
    return HEADER.pack(MAGIC, FORMAT_VERSION, 0, size - HEADER.size) + bytes(size - HEADER.size)


def test_keys_differ_by_module_and_options():
    cache = CompileCache("unused")
    keys = {cache.key(b"\0asm\1\0\0\0", ""), cache.key(b"\0asm\1\0\0\0\0", ""),
            cache.key(b"\0asm\1\0\0\0", options_text({"fuel": True})),
            cache.key(b"\0asm\1\0\0\0", options_text({"opt_level": 2}))}
    assert len(keys) == 4
    assert cache.key(b"x", "a=1") == CompileCache("elsewhere").key(b"x", "a=1")
    assert options_text({"fuel": True, "opt_level": 2}) == "fuel=True opt_level=2"


def test_keys_follow_the_source_of_the_compiler(tmp_path):
    """An edit of the code that compiles (its size or mtime) is another key, without a new
    version; the compiler is found where it is installed, without importing it."""
    import pywamr.compiler
    assert Path(SOURCE_FOLDERS[1]).resolve() == Path(pywamr.compiler.__file__).parent.resolve()
    assert b"compiler/driver.py " in source_identity()
    source = tmp_path / "driver.py"
    source.write_text("compile = 1\n")
    before = source_identity([tmp_path])
    os.utime(source, ns=(0, 10 ** 18))
    assert source_identity([tmp_path]) != before


def test_least_recently_used_entries_go_first(tmp_path):
    cache = CompileCache(tmp_path / "cache", max_bytes=3000)
    for age, name in enumerate("abc"):
        assert cache.store(name, fake_aot(1000))
        os.utime(cache.path(name), (1000 + age, 1000 + age))
    assert cache.load("a") == fake_aot(1000)            # now the most recently used
    cache.store("d", fake_aot(1000))
    assert sorted(path.stem for path in (tmp_path / "cache").iterdir()) == ["a", "c", "d"]


def test_load_refuses_what_it_cannot_trust_or_use(tmp_path):
    cache = CompileCache(tmp_path)
    assert cache.load("missing") is None
    cache.store("short", fake_aot(100)[:99])
    assert cache.load("short") is None
    cache.store("shared", fake_aot(100))
    assert cache.load("shared") == fake_aot(100)
    os.chmod(cache.path("shared"), 0o620)
    assert cache.load("shared") is None


def test_concurrent_stores_leave_one_entry_and_no_temporary_file(tmp_path):
    cache = CompileCache(tmp_path)
    threads = [threading.Thread(target=cache.store, args=("k", fake_aot(1 << 20)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [path.name for path in tmp_path.iterdir()] == ["k.aot"]
    assert cache.load("k") == fake_aot(1 << 20)


def test_a_cache_that_cannot_be_written_stores_nothing(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    assert CompileCache(blocked / "cache").store("k", fake_aot(100)) is False


def test_the_default_directory_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("PYWAMR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_directory() == str(tmp_path / "pywamr")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")        # ignored, as the spec says
    assert default_directory() == os.path.expanduser("~/.cache/pywamr")
    monkeypatch.setenv("PYWAMR_CACHE_DIR", str(tmp_path / "mine"))
    assert default_directory() == str(tmp_path / "mine")
