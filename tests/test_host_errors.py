"""Exceptions raised by host functions reach the caller as they were raised, on both engines.

The interpreter lets IndexError, struct.error, ZeroDivisionError and RecursionError stand for
traps in generated code; one raised by a host function must still come out as itself (issue
#13), through call and call_indirect, through nested wasm -> host -> wasm calls, and from the
WASI host. Genuine traps, and the exhaustion of deep wasm recursion, stay traps.
"""

import struct
import sys

import pytest

from pywamr.runtime.api import HostFunc
from pywamr.runtime.errors import Exhaustion, Trap
from pywamr.runtime.interp import Module
from pywamr.runtime.types import FuncType
from pywamr.runtime.wasi import WasiHost

from module_text import aot, wasm

HOST = """(module
  (import "host" "f" (func $f (param i32) (result i32)))
  (memory 1)
  (table funcref (elem $f))
  (func (export "run") (param i32) (result i32) (call $f (local.get 0)))
  (func (export "run_indirect") (param i32) (result i32)
    (call_indirect (param i32) (result i32) (local.get 0) (i32.const 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (drop (call $f (local.get 0)))
    (call $recurse (i32.add (local.get 0) (i32.const 1))))
  (func $spin (export "spin") (param i32) (result i32) (call $spin (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0))))
"""

WASI = """(module
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "now") (result i32)
    (call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 8))))
"""

HOST_ERRORS = [IndexError, struct.error, ZeroDivisionError, RecursionError, KeyError]


@pytest.fixture(params=["interp", "aot"])
def load(request):
    """WAT source -> a module of the engine under test."""
    if request.param == "interp":
        return lambda text: Module(wasm(text))
    pytest.importorskip("llvmlite")
    from pywamr.loader.aot_module import AotModule
    return lambda text: AotModule(aot(text))


def host_exports(load, function):
    imports = {"host": {"f": HostFunc(FuncType(("i32",), ("i32",)), function)}}
    return load(HOST).instantiate(imports).exports


@pytest.mark.parametrize("kind", HOST_ERRORS, ids=lambda kind: kind.__name__)
@pytest.mark.parametrize("export", ["run", "run_indirect"])
def test_host_exception_propagates_as_itself(load, kind, export):
    raised_by_host = []

    def host_function(n):
        error = kind("raised by the host")
        raised_by_host.append(error)
        raise error

    exports = host_exports(load, host_function)
    limit = sys.getrecursionlimit()
    with pytest.raises(kind) as raised:
        exports[export](1)
    assert raised.value is raised_by_host[0]
    assert "host_function" in [entry.name for entry in raised.traceback]
    assert sys.getrecursionlimit() == limit
    with pytest.raises(Trap, match="out of bounds memory access"):     # nothing left behind
        exports["load"](65536)
    with pytest.raises(Trap, match="integer divide by zero"):
        exports["div"](0)


def test_host_exception_keeps_its_context(load):
    def host_function(n):
        try:
            {}["missing"]
        except KeyError:
            raise IndexError("while handling a KeyError")

    with pytest.raises(IndexError) as raised:
        host_exports(load, host_function)["run"](1)
    assert isinstance(raised.value.__context__, KeyError)


def test_host_that_recurses_without_end_raises_recursion_error(load):
    def host_function(n):
        return host_function(n)

    with pytest.raises(RecursionError):
        host_exports(load, host_function)["run"](1)


def test_deep_wasm_recursion_calling_a_host_is_exhaustion(load):
    """The host calls near the deepest wasm frame run out of stack: the wasm's doing."""
    exports = host_exports(load, lambda n: n)
    for _ in range(2):
        with pytest.raises(Exhaustion):
            exports["recurse"](0)


def test_host_exception_through_nested_calls(load):
    """wasm -> host -> wasm -> host -> ...: the innermost host's exception comes out."""
    errors = []
    exports = {}

    def host_function(n):
        if n:
            return exports["run"](n - 1)
        errors.append(IndexError("innermost"))
        raise errors[-1]

    exports.update(host_exports(load, host_function))
    with pytest.raises(IndexError) as raised:
        exports["run"](3)
    assert raised.value is errors[0]


def test_unbounded_recursion_through_a_host_is_exhaustion_in_the_interpreter():
    """wasm -> host -> wasm -> ... without end: the host is called with the stack used up.
    (The AOT engine reports the RecursionError of its Python frames here instead: compiled
    frames do not count towards Python's recursion limit, only the host's do.)"""
    exports = {}
    exports.update(host_exports(lambda text: Module(wasm(text)),
                                lambda n: exports["run"](n)))
    with pytest.raises(Exhaustion):
        exports["run"](1)


@pytest.mark.parametrize("export, argument, error", [
    ("load", 65536, Trap("out of bounds memory access")),
    ("div", 0, Trap("integer divide by zero")),
    ("spin", 0, Exhaustion()),
])
def test_traps_inside_nested_calls_stay_traps(load, export, argument, error):
    exports = {}
    exports.update(host_exports(load, lambda n: exports[export](argument)))
    with pytest.raises(type(error)) as raised:
        exports["run"](1)
    assert raised.value.message == error.message


def test_wasi_host_bug_is_not_a_trap(load, monkeypatch):
    def clock_time_get(self, clock_id, precision, time_ptr):
        return [][1]

    monkeypatch.setattr(WasiHost, "clock_time_get", clock_time_get)
    with WasiHost(["program"]) as host:
        instance = load(WASI).instantiate(host.imports())
        host.bind_memory(instance.exports["memory"])
        with pytest.raises(IndexError):
            instance.exports["now"]()
