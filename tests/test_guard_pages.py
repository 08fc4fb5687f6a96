"""Guard-page bounds checks (`pyaotc --bounds-checks off`, the default): out-of-bounds
accesses become traps through the loader's SIGSEGV handler, and every other fault in the
process stays a crash. The spec suite runs in this mode too (tests/spec); these tests cover
what it cannot: nesting through host functions, and faults that are not wasm's."""

import subprocess
import sys
import textwrap
import threading

import pytest

from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.loader.aot_module import AotModule
from pywamr.runtime.api import HostFunc
from pywamr.runtime.errors import Trap
from pywamr.runtime.types import FuncType

from test_compiler import wat2wasm

GUARDED_WAT = """
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory (export "memory") 1 3)
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load_far") (param i32) (result i64) (i64.load offset=0xFFFFFFFF (local.get 0)))
  (func (export "probe") (param i32) (drop (i32.load8_u (local.get 0))))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "via_host") (param i32) (result i32)
    (i32.add (call $host (local.get 0)) (i32.const 1))))
"""
PAGE = 65536


@pytest.fixture(scope="module")
def guarded_aot(tmp_path_factory):
    wasm = wat2wasm(tmp_path_factory.mktemp("guard"), GUARDED_WAT)
    return compile_wasm(wasm, CompileOptions(bounds_checks=False))


def instantiate(aot, host):
    imports = {"env": {"host": HostFunc(FuncType(("i32",), ("i32",)), host)}}
    return AotModule(aot).instantiate(imports).exports


def test_the_file_says_guard_pages(guarded_aot):
    assert AotModule(guarded_aot).target.bounds_checks == "guard-pages"


def test_out_of_bounds_accesses_trap_and_the_instance_goes_on(guarded_aot):
    exports = instantiate(guarded_aot, lambda x: x)
    exports["store"](PAGE - 4, 1234)
    assert exports["load"](PAGE - 4) == 1234
    for call in (lambda: exports["load"](PAGE - 3), lambda: exports["store"](PAGE, 1),
                 lambda: exports["load_far"](0xFFFFFFFF), lambda: exports["probe"](PAGE),
                 lambda: exports["load"](0xFFFFFFFF)):
        with pytest.raises(Trap) as info:
            call()
        assert info.value.message == "out of bounds memory access"
    assert exports["load"](PAGE - 4) == 1234


def test_grown_pages_are_accessible_and_the_rest_still_traps(guarded_aot):
    exports = instantiate(guarded_aot, lambda x: x)
    assert exports["grow"](1) == 1
    exports["store"](2 * PAGE - 4, 7)
    assert exports["load"](2 * PAGE - 4) == 7
    with pytest.raises(Trap):
        exports["load"](2 * PAGE)


def test_a_trap_inside_a_host_call_unwinds_to_the_innermost_entry(guarded_aot):
    """wasm -> Python -> wasm (traps) -> Python catches it -> wasm goes on: the inner entry's
    jump buffer takes the trap, and the outer one is back in place for the next."""
    inner = instantiate(guarded_aot, lambda x: x)
    caught = []

    def host(x):
        try:
            return inner["load"](x)
        except Trap as trap:
            caught.append(trap.message)
            return 100

    outer = instantiate(guarded_aot, host)
    assert outer["via_host"](PAGE) == 101
    assert caught == ["out of bounds memory access"]
    with pytest.raises(Trap):
        outer["load"](PAGE)
    assert outer["via_host"](0) == 1


def _run_python(code):
    return subprocess.run([sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=300)


CRASH_PRELUDE = """
    import ctypes
    from pywamr.loader.aot_module import AotModule
    from pywamr.runtime.api import HostFunc
    from pywamr.runtime.types import FuncType
    aot = open({aot!r}, "rb").read()
"""


@pytest.fixture(scope="module")
def guarded_aot_file(guarded_aot, tmp_path_factory):
    path = tmp_path_factory.mktemp("guard-file") / "guarded.aot"
    path.write_bytes(guarded_aot)
    return str(path)


def test_a_fault_in_host_code_is_a_crash_not_a_trap(guarded_aot_file):
    """The host reads its own instance's memory past the accessible pages while wasm code is
    on the stack: inside a reservation, but not wasm's access, so the process must die."""
    result = _run_python(CRASH_PRELUDE.format(aot=guarded_aot_file) + """
    state = {}
    def host(x):
        ctypes.string_at(state["memory"].base + 4 * 65536, 8)
        return 0
    imports = {"env": {"host": HostFunc(FuncType(("i32",), ("i32",)), host)}}
    exports = AotModule(aot).instantiate(imports).exports
    state["memory"] = exports["memory"]
    exports["via_host"](0)
    print("survived")
    """)
    assert result.returncode == -11, result.stderr
    assert "survived" not in result.stdout
    assert "Segmentation fault" in result.stderr      # faulthandler, the previous handler, ran


def test_a_fault_outside_wasm_after_loading_is_a_crash(guarded_aot_file):
    result = _run_python(CRASH_PRELUDE.format(aot=guarded_aot_file) + """
    imports = {"env": {"host": HostFunc(FuncType(("i32",), ("i32",)), lambda x: x)}}
    exports = AotModule(aot).instantiate(imports).exports
    try:
        exports["load"](1 << 20)
    except Exception as trap:
        print(trap)
    ctypes.string_at(8, 8)
    print("survived")
    """)
    assert result.returncode == -11, result.stderr
    assert result.stdout.splitlines() == ["out of bounds memory access"]


def test_faults_on_two_threads_at_once_each_trap_on_their_own_thread(guarded_aot):
    """Each thread's memory claims three pages while one is accessible, so its code checks
    pass and the access faults on the guard page: only the fault handler can make that the
    trap, by finding the faulting thread's ExecEnv and jump buffer among all threads'."""
    def work(seed):
        exports = instantiate(guarded_aot, lambda x: x)
        exports["memory"].desc.size_bytes = 3 * PAGE
        for i in range(2000):
            with pytest.raises(Trap) as info:
                exports["load"](PAGE + 4 * (i % 1000))
            assert info.value.message == "out of bounds memory access"
            exports["store"](4 * i, seed + i)
            assert exports["load"](4 * i) == seed + i
        return seed

    results = []
    threads = [threading.Thread(target=lambda s=s: results.append(work(s))) for s in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [1, 2, 3]
