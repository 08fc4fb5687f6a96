"""Interruption and limits (issue #14) on both engines: Ctrl-C, --timeout and Limits from
another thread end a running call with a trap; --max-memory-size caps memory.grow."""

import signal
import subprocess
import sys
import threading
import time

import pytest

from module_text import aot, wasm
from pyiwasm_support import ENGINES, TRAP_STATUS, engine_flags, pyiwasm
from pywamr.runtime.errors import Interrupted
from pywamr.runtime.limits import Limits

SPIN = """
(module
  (memory 1)
  (func $spin (export "spin") (result i32)
    (local i32)
    (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br $l))
    (local.get 0))
  (func $recurse (export "recurse") (param i32) (result i32)
    ;; a call tree that ends, but not for ages: no loop in it
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (i32.add (call $recurse (i32.sub (local.get 0) (i32.const 1)))
                     (call $recurse (i32.sub (local.get 0) (i32.const 1)))))))
  (func $fill (export "fill") (param $p i32)
    ;; counted and in bounds forever: the check-free version of a versioned loop
    (loop $l
      (i32.store (local.get $p) (i32.const 7))
      (i32.store offset=4 (local.get $p) (i32.const 8))
      (local.set $p (i32.add (local.get $p) (i32.const 0)))
      (br_if $l (i32.ne (local.get $p) (i32.const 1)))))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "_start") (drop (call $spin))))
"""

GROW = """
(module
  (memory 1)
  (func (export "grow_all") (result i32)
    (block $full (loop $l
      (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $l)))
    (memory.size)))
"""


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


def instantiate(engine, text, **settings):
    if engine == "interp":
        from pywamr.runtime.interp import Module
        return Module(wasm(text)).instantiate({}, **settings)
    from pywamr.loader.aot_module import AotModule
    return AotModule(aot(text)).instantiate({}, **settings)


def program_file(engine, text, tmp_path):
    path = tmp_path / ("prog.wasm" if engine == "interp" else "prog.aot")
    path.write_bytes(wasm(text) if engine == "interp" else aot(text))
    return path


# --- the command line -------------------------------------------------------------------------

def test_sigint_stops_an_infinite_loop(engine, tmp_path):
    """The issue's requirement: Ctrl-C ends a running .aot (and interpreted) infinite loop
    within a second, status 130, one line."""
    path = program_file(engine, SPIN, tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "pywamr.loader", "-v",
                                *engine_flags(path), str(path)],
                               stderr=subprocess.PIPE)
    assert b"loaded in" in process.stderr.readline()    # about to call _start
    time.sleep(0.5)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        rest = process.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("SIGINT did not stop the loop")
    elapsed = time.monotonic() - sent
    assert process.returncode == 130
    assert rest == b"pyiwasm: interrupted: SIGINT\n"
    assert elapsed < 3       # the issue asks for a second; the margin is for a loaded machine


def test_timeout_traps(engine, tmp_path):
    path = program_file(engine, SPIN, tmp_path)
    started = time.monotonic()
    done = pyiwasm("--timeout", "1", *engine_flags(path), path)
    assert time.monotonic() - started >= 1
    assert done.returncode == TRAP_STATUS
    message, backtrace = done.stderr.split(b"\n", 1)
    assert message == b"pyiwasm: wasm trap: interrupted: timeout of 1 s"
    assert backtrace.startswith(b"wasm backtrace:\n    0: func ")


def test_timeout_not_reached(engine, tmp_path):
    path = program_file(engine, SPIN, tmp_path)
    done = pyiwasm("--timeout", "60", "-f", "add", *engine_flags(path), path, "2", "3")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"5\n", b"")


def test_bad_timeout(tmp_path):
    done = pyiwasm("--timeout", "0", "--interp", program_file("interp", SPIN, tmp_path))
    assert (done.returncode, done.stderr) == (1, b"pyiwasm: error: bad --timeout 0: must be "
                                                 b"positive\n")


@pytest.mark.parametrize("limit, pages", [(1 << 20, 16), ((1 << 20) + 100, 16), (0, 1)])
def test_max_memory_size_stops_a_grow_loop(engine, tmp_path, limit, pages):
    path = program_file(engine, GROW, tmp_path)
    done = pyiwasm("--max-memory-size", limit, "-f", "grow_all", *engine_flags(path), path)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{pages}\n".encode(), b"")


# --- the API ----------------------------------------------------------------------------------

@pytest.mark.parametrize("export, args", [("spin", ()), ("recurse", (60,)), ("fill", (64,))])
def test_interrupt_from_another_thread(engine, export, args):
    """interrupt() from another thread ends the call in the calling thread; the block's later
    calls trap at once; the instance works normally after the block."""
    instance = instantiate(engine, SPIN)
    with Limits() as run:
        timer = threading.Timer(0.2, run.interrupt)
        timer.start()
        with pytest.raises(Interrupted, match="^interrupted$"):
            instance.exports[export](*args)
        timer.join()
        with pytest.raises(Interrupted):
            instance.exports["spin"]()
    assert instance.exports["add"](2, 3) == 5
    with pytest.raises(Interrupted, match="^interrupted: timeout of 0.1 s$"):
        with Limits(timeout=0.1):
            instance.exports[export](*args)
    assert instance.exports["add"](20, 22) == 42


def test_fill_loop_is_versioned():
    """test_interrupt_from_another_thread's `fill` runs in the check-free version of a
    versioned loop, which checks for interruptions only between chunks of iterations."""
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    ir = compile_wasm(wasm(SPIN), CompileOptions(format="llvmir", opt_level=0)).decode()
    assert "loop.fast.resume" in ir


def test_limits_without_interruption(engine):
    instance = instantiate(engine, SPIN)
    with Limits(timeout=60) as run:
        assert instance.exports["recurse"](10) == 1024
    assert not run.interrupted


def test_limits_do_not_nest():
    with Limits():
        with pytest.raises(RuntimeError, match="do not nest"):
            with Limits():
                pass


# Without a limit, memory grows to AOT's 2 GiB; the interpreter is spared a 2 GiB bytearray.
@pytest.mark.parametrize("engine, limit, pages", [(engine, 1 << 20, 16) for engine in ENGINES]
                         + [("aot", None, 32768)])
def test_max_memory_size_at_instantiation(engine, limit, pages):
    instance = instantiate(engine, GROW, max_memory_size=limit)
    assert instance.exports["grow_all"]() == pages


# --- fuel -------------------------------------------------------------------------------------

COUNT = """
(module
  (func (export "sum") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $s)))
"""
# Per iteration: 4 (the test up to br_if) + 9 (the body up to br); after the last test, 1.
SUM_10_FUEL = 10 * (4 + 9) + 4 + 1


def fuel_programs(wasm_path, tmp_path):
    """The .wasm for the interpreter and .aot files compiled with --fuel at -O0 and -O3."""
    pytest.importorskip("llvmlite")
    files = [wasm_path]
    for level in (0, 3):
        out = tmp_path / f"{wasm_path.stem}.O{level}.aot"
        subprocess.run([sys.executable, "-m", "pywamr.compiler", "--fuel", "--opt-level",
                        str(level), "-o", str(out), str(wasm_path)], check=True)
        files.append(out)
    return files


def run_with_fuel(path, fuel, *call):
    """pyiwasm -v --fuel FUEL [-f NAME] PATH [ARGS] with `call` = () or (NAME, ARGS...)."""
    function = ["-f", call[0]] if call else []
    done = pyiwasm("-v", "--fuel", fuel, *function, *engine_flags(path), path, *call[1:])
    lines = done.stderr.decode().splitlines()
    consumed = [int(line.rsplit(" ", 1)[1]) for line in lines
                if line.startswith("pyiwasm: fuel consumed: ")]
    trap = [line for line in lines if "wasm trap" in line]
    return done.returncode, done.stdout, consumed, trap


def test_fuel_counts_the_same_on_every_engine(tmp_path):
    wasm_path = tmp_path / "count.wasm"
    wasm_path.write_bytes(wasm(COUNT))
    for path in fuel_programs(wasm_path, tmp_path):
        assert run_with_fuel(path, 1000, "sum", "10") == (0, b"45\n", [SUM_10_FUEL], [])
        # The run that would go past 100 is not charged: 7 iterations and a test.
        assert run_with_fuel(path, 100, "sum", "10") == (
            TRAP_STATUS, b"", [7 * 13 + 4], ["pyiwasm: wasm trap: all fuel consumed"])


def test_fuel_of_a_c_program(tmp_path):
    """A C program (clang-19, wasi-libc): the same count on the interpreter and at -O0 and
    -O3, and with one unit less, the trap at the same point on all three."""
    from pyiwasm_support import build_samples
    files = fuel_programs(build_samples() / "simd_kernels.wasm", tmp_path)
    outcomes = [run_with_fuel(path, 10 ** 12) for path in files]
    assert outcomes[0][0] == 0 and outcomes[0][2][0] > 100_000
    assert outcomes[1:] == [outcomes[0]] * 2
    needed = outcomes[0][2][0]
    short = [run_with_fuel(path, needed - 1) for path in files]
    assert short[0][0] == TRAP_STATUS and short[0][3] == ["pyiwasm: wasm trap: all fuel consumed"]
    assert short[0][2][0] < needed
    assert short[1:] == [short[0]] * 2      # the same output, count and trap


def test_fuel_needs_code_that_counts(tmp_path):
    path = program_file("aot", COUNT, tmp_path)
    done = pyiwasm("--fuel", "10", "-f", "sum", path, "3")
    assert done.returncode == 1
    assert done.stderr == (f"pyiwasm: error: {path} was compiled without fuel counting: "
                           "--fuel needs pyaotc --fuel\n").encode()
    from pywamr.runtime.errors import WasmError
    for engine in ENGINES:
        instance = instantiate(engine, COUNT)
        with Limits(fuel=10):
            with pytest.raises(WasmError, match="does not count fuel"):
                instance.exports["sum"](3)


def test_fuel_api_on_both_engines():
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    from pywamr.loader.aot_module import AotModule
    from pywamr.runtime.errors import FuelExhausted
    from pywamr.runtime.interp import Module
    for instance in (Module(wasm(COUNT), fuel=True).instantiate(),
                     AotModule(compile_wasm(wasm(COUNT), CompileOptions(fuel=True))).instantiate()):
        with Limits(fuel=1000) as run:
            assert instance.exports["sum"](10) == 45
        assert run.fuel_consumed == SUM_10_FUEL
        with pytest.raises(FuelExhausted, match="^all fuel consumed$"):
            with Limits(fuel=SUM_10_FUEL - 1):
                instance.exports["sum"](10)
        assert instance.exports["sum"](4) == 6        # no budget outside a block


def test_timeout_refuses_code_without_interrupt_checks(tmp_path):
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    path = tmp_path / "unchecked.aot"
    path.write_bytes(compile_wasm(wasm(SPIN), CompileOptions(interrupt_checks=False)))
    done = pyiwasm("--timeout", "1", path)
    assert done.returncode == 1
    assert done.stderr == (f"pyiwasm: error: {path} was compiled with --interrupt-checks off: "
                           "--timeout cannot stop it\n").encode()


def test_calls_notice_an_interrupt_without_loop_checks():
    """An interruption sets the stack limit that every function that calls checks at its
    entry, so code compiled with --interrupt-checks off (no checks at loop headers) still
    stops at its next such call."""
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    from pywamr.loader.aot_module import AotModule
    module = AotModule(compile_wasm(wasm(SPIN), CompileOptions(interrupt_checks=False)))
    instance = module.instantiate({})
    with Limits() as run:
        timer = threading.Timer(0.2, run.interrupt)
        timer.start()
        with pytest.raises(Interrupted, match="^interrupted$"):
            instance.exports["recurse"](60)
        timer.join()
    assert instance.exports["recurse"](10) == 1024


def test_interrupt_before_the_call(engine):
    instance = instantiate(engine, SPIN)
    with pytest.raises(Interrupted, match="^interrupted$"):
        with Limits() as run:
            run.interrupt()
            instance.exports["spin"]()
    assert run.interrupted


EMBEDDED_CTRL_C = """
import os, signal, sys, threading
from pywamr.loader.aot_module import AotModule
from pywamr.runtime.interp import Module
engine, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
module = Module(data) if engine == "interp" else AotModule(data)
instance = module.instantiate({})
threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    instance.exports["spin"]()
except KeyboardInterrupt:
    print("KeyboardInterrupt", instance.exports["add"](2, 3))
"""


def test_ctrl_c_in_an_embedding_raises_keyboard_interrupt(engine, tmp_path):
    """In a Python program, Ctrl-C during a wasm call raises KeyboardInterrupt in the calling
    thread, as in pure Python, and the instance stays usable."""
    path = program_file(engine, SPIN, tmp_path)
    done = subprocess.run([sys.executable, "-c", EMBEDDED_CTRL_C, engine, str(path)],
                          capture_output=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"KeyboardInterrupt 5\n", b"")
