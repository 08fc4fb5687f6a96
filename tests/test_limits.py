"""Interruption and limits (issue #14) on both engines: Ctrl-C, --timeout and Limits from
another thread end a running call with a trap; --max-memory-size caps memory.grow."""

import signal
import subprocess
import sys
import threading
import time

import pytest

from module_text import aot, wasm
from pyiwasm_support import ENGINES, TRAP_STATUS, pyiwasm
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
    process = subprocess.Popen([sys.executable, "-m", "pywamr.loader", "-v", str(path)],
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
    done = pyiwasm("--timeout", "1", path)
    assert time.monotonic() - started >= 1
    assert done.returncode == TRAP_STATUS
    assert done.stderr == b"pyiwasm: wasm trap: interrupted: timeout of 1 s\n"


def test_timeout_not_reached(engine, tmp_path):
    path = program_file(engine, SPIN, tmp_path)
    done = pyiwasm("--timeout", "60", "-f", "add", path, "2", "3")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"5\n", b"")


def test_bad_timeout(tmp_path):
    done = pyiwasm("--timeout", "0", program_file("interp", SPIN, tmp_path))
    assert (done.returncode, done.stderr) == (1, b"pyiwasm: error: bad --timeout 0: must be "
                                                 b"positive\n")


@pytest.mark.parametrize("limit, pages", [(1 << 20, 16), ((1 << 20) + 100, 16), (0, 1)])
def test_max_memory_size_stops_a_grow_loop(engine, tmp_path, limit, pages):
    path = program_file(engine, GROW, tmp_path)
    done = pyiwasm("--max-memory-size", limit, "-f", "grow_all", path)
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


@pytest.mark.parametrize("limit, pages", [(1 << 20, 16), (None, 32768)])
def test_max_memory_size_at_instantiation(engine, limit, pages):
    if engine == "interp" and limit is None:
        pytest.skip("2 GiB of bytearray")
    instance = instantiate(engine, GROW, max_memory_size=limit)
    assert instance.exports["grow_all"]() == pages
