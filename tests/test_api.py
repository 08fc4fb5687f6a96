"""`import pywamr`, the public API, on both engines with real modules: a WASI library built
from C (tests/libraries/wordstats.c), the C sample programs, and small text modules."""

import importlib.util
import io
import subprocess
import sys

import pytest

import pywamr
from pyiwasm_support import ENGINES, build_samples

@pytest.fixture(scope="module")
def samples():
    return build_samples()


@pytest.fixture(params=ENGINES)
def engine(request):
    """An Engine of each kind (compiled modules go to the session's cache: conftest.py)."""
    if request.param == "aot":
        pytest.importorskip("llvmlite", reason="the compiler extra is not installed")
    return pywamr.Engine(request.param, opt_level=1)


def wat(engine, text):
    return pywamr.Module(engine, text)


# The yardstick: a real WASI library driven from Python in under 15 lines.

def test_a_wasi_library_in_under_15_lines(engine, samples):
    module = pywamr.Module.from_file(engine, samples / "wordstats.wasm")
    linker = pywamr.Linker(engine)
    wasi = pywamr.WasiConfig()
    wasi.stdout = io.BytesIO()
    linker.define_wasi(wasi)
    lib = linker.instantiate(module).exports
    text = b"the quick brown fox"
    ptr = lib["malloc"](len(text))
    lib["memory"].write(text, ptr)
    words = lib["count_words"](ptr, len(text))
    lib["free"](ptr)
    assert words == 4
    assert wasi.stdout.getvalue() == b"call 1: 4 words\n"


def test_a_library_returns_pointers_and_floats(engine, samples):
    linker = pywamr.Linker(engine)
    linker.define_wasi()            # stdout closed: the library's printf goes nowhere
    lib = linker.instantiate(pywamr.Module.from_file(engine, samples / "wordstats.wasm")).exports
    memory = lib["memory"]
    text = b"a bb ccc"
    ptr = lib["malloc"](len(text))
    memory.write(text, ptr)
    shouted = lib["upper"](ptr, len(text))
    assert memory.read(shouted, shouted + len(text) + 1) == b"A BB CCC\0"
    assert lib["mean_word_length"](ptr, len(text)) == 2.0
    lib["free"](shouted)
    lib["free"](ptr)


def test_module_lists_imports_and_exports(engine, samples):
    module = pywamr.Module.from_file(engine, samples / "wordstats.wasm")
    assert pywamr.ImportType("wasi_snapshot_preview1", "fd_write",
                             pywamr.FuncType(["i32"] * 4, ["i32"])) in module.imports
    exports = {export.name: export.type for export in module.exports}
    assert exports["count_words"] == pywamr.FuncType(["i32", "i32"], ["i32"])
    assert exports["mean_word_length"] == pywamr.FuncType(["i32", "i32"], ["f64"])
    assert isinstance(exports["memory"], pywamr.MemoryType)


# Typed calls

NUMBERS = """(module
  (func (export "i32") (param i32) (result i32) (local.get 0))
  (func (export "i64") (param i64) (result i64) (local.get 0))
  (func (export "f32") (param f32) (result f32) (local.get 0))
  (func (export "f64") (param f64) (result f64) (local.get 0))
  (func (export "pair") (param i32 f64) (result f64 i32) (local.get 1) (local.get 0)))"""


def test_calls_convert_python_values(engine):
    exports = linked(engine, NUMBERS).exports
    assert exports["i32"](-1) == -1
    assert exports["i32"](2**32 - 1) == -1          # either reading of the 32 bits
    assert exports["i64"](-2**63) == -2**63
    assert exports["f32"](0.1) == pytest.approx(0.1) and exports["f32"](0.1) != 0.1
    assert exports["f32"](1e39) == float("inf")    # beyond f32, as C converts
    assert exports["f64"](3) == 3.0
    assert exports["pair"](7, 2.5) == (2.5, 7)


@pytest.mark.parametrize("name, args, error", [
    ("i32", (1.5,), TypeError),
    ("i32", ("1",), TypeError),
    ("f64", ("1.0",), TypeError),
    ("i32", (2**32,), ValueError),
    ("i32", (-2**31 - 1,), ValueError),
    ("i64", (2**64,), ValueError),
    ("i32", (), TypeError),
    ("i32", (1, 2), TypeError),
])
def test_calls_refuse_values_the_type_cannot_hold(engine, name, args, error):
    with pytest.raises(error):
        linked(engine, NUMBERS).exports[name](*args)


def linked(engine, text, linker=None):
    return (linker or pywamr.Linker(engine)).instantiate(wat(engine, text))


# Memory, globals, tables

STATE = """(module
  (memory (export "memory") 1 3)
  (global (export "counter") (mut i64) (i64.const 5))
  (global (export "pi") f64 (f64.const 3.25))
  (table (export "table") 2 funcref)
  (func $seven (export "seven") (result i32) (i32.const 7))
  (elem (i32.const 1) $seven))"""


def test_memory_reads_writes_and_grows(engine):
    memory = linked(engine, STATE).exports["memory"]
    assert memory.size() == 1 and memory.data_len() == 65536
    assert memory.write(b"abc", 65533) == 3
    assert memory.read(65533) == b"abc"
    with pytest.raises(IndexError):
        memory.write(b"abcd", 65533)
    with pytest.raises(IndexError):
        memory.read(65535, 65537)
    with pytest.raises(IndexError):
        memory.read(-1, 2)
    assert memory.grow(2) == 1 and memory.data_len() == 3 * 65536
    assert memory.grow(1) == -1                      # beyond the declared maximum
    memory.buffer[3 * 65536 - 1] = 9
    assert memory.read(3 * 65536 - 1) == b"\x09"


def test_globals_and_tables(engine):
    exports = linked(engine, STATE).exports
    counter, pi = exports["counter"], exports["pi"]
    assert (counter.value, pi.value) == (5, 3.25)
    counter.value = -2
    assert counter.value == -2
    with pytest.raises(AttributeError):
        pi.value = 1.0
    with pytest.raises(TypeError):
        counter.value = 1.5
    table = exports["table"]
    assert table.size() == 2 and table.get(0) is None
    assert table.get(1)() == 7


# Linking

def test_host_functions_and_instances_are_linked_by_name(engine):
    seen = []
    linker = pywamr.Linker(engine)
    linker.define_func("env", "log", pywamr.FuncType(["i32"], []), seen.append)
    provider = linked(engine, '(module (memory (export "mem") 1) '
                              '(func (export "double") (param i32) (result i32) '
                              '(i32.mul (local.get 0) (i32.const 2))))')
    linker.define_instance("lib", provider)
    user = linked(engine, """(module
      (import "env" "log" (func $log (param i32)))
      (import "lib" "double" (func $double (param i32) (result i32)))
      (import "lib" "mem" (memory 1))
      (func (export "run") (param i32)
        (call $log (call $double (local.get 0)))
        (i32.store (i32.const 8) (local.get 0))))""", linker)
    user.exports["run"](21)
    assert seen == [42]
    assert provider.exports["mem"].read(8, 12) == (21).to_bytes(4, "little")
    with pytest.raises(ValueError):
        linker.define_func("env", "log", pywamr.FuncType(["i32"], []), print)
    linker.allow_shadowing = True
    linker.define_func("env", "log", pywamr.FuncType(["i32"], []), print)


def test_a_python_module_as_a_host_module(engine):
    class Host:                          # any object with attributes, e.g. a Python module
        @staticmethod
        def scale(x, factor):
            return x * factor

    linker = pywamr.Linker(engine)
    linker.define_host_module("host", Host)
    exports = linked(engine, """(module
      (import "host" "scale" (func $scale (param f64 f64) (result f64)))
      (func (export "run") (result f64) (call $scale (f64.const 1.5) (f64.const 4))))""",
                     linker).exports
    assert exports["run"]() == 6.0


UNKNOWN = """(module
  (import "bench" "start" (func $start))
  (import "bench" "value" (func $value (result i32)))
  (func (export "value") (result i32) (call $value))
  (func (export "start") (call $start)))"""


def test_unknown_imports_missing_then_trapping_then_zero(engine):
    module = wat(engine, UNKNOWN)
    with pytest.raises(pywamr.LinkError, match=r"^unknown import: bench\.start$"):
        pywamr.Linker(engine).instantiate(module)
    linker = pywamr.Linker(engine)
    linker.define_unknown_imports_as_traps(module)
    with pytest.raises(pywamr.Trap, match=r"unknown import bench\.start was called"):
        linker.instantiate(module).exports["start"]()
    linker = pywamr.Linker(engine)
    linker.define_func("bench", "value", pywamr.FuncType([], ["i32"]), lambda: 9)
    linker.define_unknown_imports_as_default_values(module)
    exports = linker.instantiate(module).exports
    exports["start"]()
    assert exports["value"]() == 9                  # what was defined stays defined


# WASI programs

def run(engine, samples, name, wasi):
    linker = pywamr.Linker(engine)
    linker.define_wasi(wasi)
    instance = linker.instantiate(pywamr.Module.from_file(engine, samples / f"{name}.wasm"))
    instance.exports["_start"]()


def test_a_command_sees_only_what_it_is_given(engine, samples):
    wasi = pywamr.WasiConfig()
    wasi.argv = ["args_env", "one", "two words"]
    wasi.env = {"PYWAMR_SAMPLE": "yes"}
    wasi.stdout = io.BytesIO()
    run(engine, samples, "args_env", wasi)
    out = wasi.stdout.getvalue().decode()
    assert "argv[2]: [two words]" in out and "env count: 1" in out
    assert "getenv PYWAMR_SAMPLE: yes" in out


def test_stdin_bytes_and_the_inherited_environment(engine, samples, monkeypatch):
    linker = pywamr.Linker(engine)
    wasi = pywamr.WasiConfig()
    wasi.stdin = b"one two\nthree"
    linker.define_wasi(wasi)
    lib = linker.instantiate(pywamr.Module.from_file(engine, samples / "wordstats.wasm"))
    assert lib.exports["count_stdin_words"]() == 3
    monkeypatch.setenv("PYWAMR_SAMPLE", "inherited")
    wasi = pywamr.WasiConfig()
    wasi.inherit_env()
    wasi.stdout = io.BytesIO()
    run(engine, samples, "args_env", wasi)
    assert "getenv PYWAMR_SAMPLE: inherited" in wasi.stdout.getvalue().decode()


def test_exit_is_not_an_error(engine, samples):
    wasi = pywamr.WasiConfig()
    wasi.argv = ["exit_code", "exit"]
    wasi.stdout, wasi.stderr = io.BytesIO(), io.BytesIO()
    with pytest.raises(pywamr.WasiExit) as exit_status:
        try:
            run(engine, samples, "exit_code", wasi)
        except pywamr.WasmError:
            pytest.fail("WasiExit was caught as a WasmError")
    assert exit_status.value.code == 3
    assert wasi.stdout.getvalue() == b"to stdout\natexit handler ran\n"
    assert wasi.stderr.getvalue() == b"to stderr\n"


def test_output_files_and_closed_streams(engine, samples, tmp_path):
    wasi = pywamr.WasiConfig()
    wasi.stdout_file = tmp_path / "out.txt"
    run(engine, samples, "hello", wasi)
    assert (tmp_path / "out.txt").read_bytes().startswith(b"Hello")
    wasi = pywamr.WasiConfig()      # stdout closed: the program runs, its output is lost
    run(engine, samples, "hello", wasi)


@pytest.mark.parametrize("read_only", [False, True])
def test_read_only_directories(engine, samples, tmp_path, read_only):
    (tmp_path / "data").mkdir()
    wasi = pywamr.WasiConfig()
    wasi.argv = ["fileio", "/data"]
    wasi.preopen_dir(tmp_path / "data", "/data", read_only=read_only)
    wasi.stdout = io.BytesIO()
    if read_only:
        with pytest.raises(pywamr.WasiExit) as exit_status:
            run(engine, samples, "fileio", wasi)
        assert exit_status.value.code == 1
        assert b"FAILED" in wasi.stdout.getvalue()
        assert list((tmp_path / "data").iterdir()) == []
    else:
        run(engine, samples, "fileio", wasi)
        assert b"FAILED" not in wasi.stdout.getvalue()


# Traps and limits

def test_traps_name_their_kind_and_frames(engine):
    exports = linked(engine, """(module
      (func $inner (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
      (func (export "outer") (param i32) (result i32) (call $inner (local.get 0))))""").exports
    with pytest.raises(pywamr.Trap) as trap:
        exports["outer"](0)
    assert trap.value.code is pywamr.TrapCode.INTEGER_DIVIDE_BY_ZERO
    assert [frame.func_index for frame in trap.value.frames] == [0, 1]
    assert exports["outer"](1) == 1                 # the instance stays usable


def test_a_timeout_interrupts_a_loop(engine):
    exports = linked(engine, '(module (func (export "spin") (loop (br 0))))').exports
    with pytest.raises(pywamr.Interrupted):
        with pywamr.Limits(timeout=0.2):
            exports["spin"]()


# Modules of every kind

def test_bad_modules_get_one_line_errors(engine):
    with pytest.raises(pywamr.MalformedModule, match="at byte offset"):
        pywamr.Module(engine, b"\0asm\x01\0\0\0\x01")
    with pytest.raises(pywamr.InvalidModule):
        pywamr.Module(engine, '(module (func (result i32) (i64.const 0)))')


def test_compiled_modules_serialize(tmp_path):
    pytest.importorskip("llvmlite", reason="the compiler extra is not installed")
    engine = pywamr.Engine("aot", opt_level=0, cache=False)
    aot = pywamr.Module(engine, NUMBERS).serialize()
    (tmp_path / "numbers.aot").write_bytes(aot)
    again = pywamr.Module.from_file(engine, tmp_path / "numbers.aot")
    assert pywamr.Linker(engine).instantiate(again).exports["i64"](-5) == -5
    with pytest.raises(ValueError, match="aot engine"):
        pywamr.Module(pywamr.Engine("interp"), aot)
    with pytest.raises(ValueError, match="no compiled form"):
        pywamr.Module(pywamr.Engine("interp"), NUMBERS).serialize()


def test_engine_kinds():
    with pytest.raises(ValueError, match="unknown engine"):
        pywamr.Engine("jit")
    has_compiler = all(importlib.util.find_spec(name) for name in ("llvmlite", "typer"))
    assert pywamr.Engine().kind == ("aot" if has_compiler else "interp")


def test_import_pywamr_imports_no_engine():
    """`import pywamr` is free: pyiwasm's start-up pays for it (every module is inside it),
    so the API's names are imported on first use; each of them resolves."""
    done = subprocess.run([sys.executable, "-c", "import pywamr, sys; print(sorted("
                           "m for m in sys.modules if m.startswith('pywamr.')))"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    for name in pywamr.__all__:
        assert getattr(pywamr, name) is not None
