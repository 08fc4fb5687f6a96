"""Instances of real compiled modules: calls from Python, traps, stack exhaustion, host
imports, memory and table growth, linking between instances, segment initialisation and the
start function, references crossing into Python and back. Link errors and segments that trap
are tested on both engines at once in test_instantiation.py."""

import ctypes
import gc
import struct

import pytest

from pywamr.loader.aot_module import AotModule
from pywamr.loader.exec_env import current as current_exec_env
from pywamr.runtime.api import HostFunc
from pywamr.runtime.errors import Exhaustion, Trap, WasiExit
from pywamr.runtime.types import FuncType

from loader_objects import compile_wat


@pytest.fixture
def load(tmp_path):
    """WAT source -> AotModule, compiled by the real compiler."""
    count = iter(range(1000))

    def load(text, **options):
        return AotModule(compile_wat(text, tmp_path, f"m{next(count)}", **options))
    return load


BASICS = """
(module
  (memory (export "memory") 1 3)
  (global $counter (export "counter") (mut i64) (i64.const 5))
  (table $t (export "table") 2 10 funcref)
  (elem (i32.const 0) $add)
  (type $binary (func (param i32 i32) (result i32)))
  (func $add (export "add") (type $binary) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "trunc") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (export "unreachable") (unreachable))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "call") (param i32 i32 i32) (result i32)
    (call_indirect (type $binary) (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call_unary") (param i32 i32) (result i32)
    (call_indirect (param i32) (result i32) (local.get 0) (local.get 1)))
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (i32.const 1) (call $deep (local.get 0))))
  (func (export "swap") (param f32 f64 i64) (result i64 f64 f32)
    (local.get 2) (local.get 1) (local.get 0))
  (func (export "bump") (result i64)
    (global.set $counter (i64.add (global.get $counter) (i64.const 1))) (global.get $counter))
  (func (export "table_grow") (param i32) (result i32)
    (table.grow $t (ref.func $add) (local.get 0)))
  (func (export "identity") (param externref) (result externref) (local.get 0))
  (func (export "funcref") (result funcref) (ref.func $add))
)
"""


@pytest.fixture
def basics(load):
    return load(BASICS).instantiate().exports


def test_calls_and_results(basics):
    assert basics["add"](2, 3) == 5
    assert basics["add"](-1, -1) == -2
    assert basics["add"].call_bits([0xFFFF_FFFF, 1]) == [0]
    assert basics["call"](40, 2, 0) == 42


def test_multiple_results_are_bit_exact(basics):
    signalling_nan_f32 = 0x7FA0_0001
    nan_f64_with_payload = 0xFFF4_0000_0000_0123
    assert basics["swap"].call_bits([signalling_nan_f32, nan_f64_with_payload, 1 << 63]) == \
        [1 << 63, nan_f64_with_payload, signalling_nan_f32]


@pytest.mark.parametrize("export, args, message", [
    ("div", (1, 0), "integer divide by zero"),
    ("div", (-2**31, -1), "integer overflow"),
    ("trunc", (float("nan"),), "invalid conversion to integer"),
    ("unreachable", (), "unreachable"),
    ("load", (65534,), "out of bounds memory access"),
    ("call", (1, 2, 1), "uninitialized element"),
    ("call", (1, 2, 2), "undefined element"),
    ("call_unary", (1, 0), "indirect call type mismatch"),
])
def test_traps_carry_the_spec_message_and_clear(basics, export, args, message):
    with pytest.raises(Trap) as trap:
        basics[export](*args)
    assert trap.value.message == message
    assert current_exec_env().trap_code == 0
    assert basics["add"](1, 1) == 2            # the next call runs normally


def test_stack_exhaustion(basics):
    with pytest.raises(Exhaustion, match="call stack exhausted"):
        basics["deep"](0)
    assert current_exec_env().depth == 0                 # no call running again
    assert basics["add"](1, 1) == 2


def test_stack_budget_beyond_the_real_stack_still_traps(load):
    instance = load(BASICS).instantiate(stack_size=1 << 40)
    with pytest.raises(Exhaustion):
        instance.exports["deep"](0)


def test_memory_grow_from_wasm_and_python(basics):
    memory = basics["memory"]
    base = memory.base
    basics["store"](65532, 0x01020304)
    assert memory.read(65532, 65536) == struct.pack("<I", 0x01020304)
    assert basics["grow"](1) == 1
    assert memory.size() == basics["size"]() == 2
    basics["store"](65536 + 8, 7)
    assert memory.grow(1) == 2
    assert len(memory.buffer) == 3 * 65536
    assert memory.buffer[65536 + 8] == 7
    assert basics["grow"](1) == -1 and memory.grow(1) == -1     # maximum 3
    assert memory.base == base                 # the memory never moves
    memory.write(b"\xff\xff\xff\xff", 3 * 65536 - 4)
    assert basics["load"](3 * 65536 - 4) == -1
    with pytest.raises(Trap, match="out of bounds memory access"):
        basics["load"](3 * 65536 - 3)


def test_memory_without_maximum_stops_at_4_gib(load):
    memory = load('(module (memory (export "m") 0))').instantiate().exports["m"]
    assert memory.grow(65537) == -1
    assert memory.grow(1) == 0


def test_globals(basics):
    counter = basics["counter"]
    assert counter.value == 5
    assert basics["bump"]() == 6
    counter.value = -1
    assert counter.get_bits() == 2**64 - 1
    assert basics["bump"]() == 0


def test_tables_and_funcrefs(basics):
    table = basics["table"]
    add = table.get(0)
    assert add(20, 22) == 42
    assert table.get(1) is None
    table.set(1, add)
    assert basics["call"](1, 2, 1) == 3
    assert basics["table_grow"](3) == 2 and table.size() == 5
    assert basics["call"](3, 4, 4) == 7
    assert table.grow(6) == -1                 # maximum 10
    assert table.grow(1, None) == 5
    with pytest.raises(Trap, match="out of bounds table access"):
        table.get(6)
    assert basics["funcref"]() is basics["add"]


def test_externref_round_trip(basics):
    thing = object()
    assert basics["identity"](thing) is thing
    assert basics["identity"](None) is None


HOST = """
(module
  (import "host" "twice" (func $twice (param i32 f64) (result f64)))
  (import "host" "pair" (func $pair (result i32 i64)))
  (import "host" "enter" (func $enter (param i32) (result i32)))
  (func (export "call_twice") (param i32 f64) (result f64)
    (call $twice (local.get 0) (local.get 1)))
  (func (export "call_pair") (result i64) (local $second i64)
    (call $pair) (local.set $second) (i64.extend_i32_u) (local.get $second) (i64.add))
  (func (export "reenter") (param i32) (result i32) (call $enter (local.get 0)))
  (func (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
)
"""


def host_imports(twice, pair=lambda: (1, -2), enter=lambda n: n):
    return {"host": {
        "twice": HostFunc(FuncType(("i32", "f64"), ("f64",)), twice),
        "pair": HostFunc(FuncType((), ("i32", "i64")), pair),
        "enter": HostFunc(FuncType(("i32",), ("i32",)), enter),
    }}


def test_host_function_call(load):
    seen = []

    def twice(i, x):
        seen.append((i, x))
        return 2 * x + i
    exports = load(HOST).instantiate(host_imports(twice)).exports
    assert exports["call_twice"](3, 1.25) == 5.5
    assert seen == [(3, 1.25)]
    assert exports["call_pair"]() == -1


@pytest.mark.parametrize("exception", [WasiExit(3), ValueError("boom"), Trap("custom")])
def test_host_exception_is_reraised(load, exception):
    def twice(i, x):
        raise exception
    exports = load(HOST).instantiate(host_imports(twice)).exports
    with pytest.raises(type(exception)) as raised:
        exports["call_twice"](1, 1.0)
    assert raised.value is exception
    assert current_exec_env().trap_code == 0 and current_exec_env().depth == 0
    with pytest.raises(type(exception)):      # and again: nothing was left behind
        exports["call_twice"](1, 1.0)


def test_host_function_reenters_wasm(load):
    holder = {}

    def enter(n):
        return holder["inc"](n) * 10 if n < 3 else holder["reenter"](n - 3)
    exports = load(HOST).instantiate(host_imports(lambda i, x: x, enter=enter)).exports
    holder.update(exports)
    assert exports["reenter"](1) == 20
    assert exports["reenter"](5) == 30


def test_trap_inside_reentered_call_reaches_the_outer_caller(load):
    holder = {}

    def enter(n):
        return holder["div"](1, 0)
    exports = load(HOST).instantiate(host_imports(lambda i, x: x, enter=enter)).exports
    holder["div"] = load(BASICS).instantiate().exports["div"]
    with pytest.raises(Trap, match="integer divide by zero"):
        exports["reenter"](1)


EXPORTER = """
(module
  (memory (export "memory") 1 4)
  (table (export "table") 4 funcref)
  (global (export "constant") i32 (i32.const 7))
  (global (export "mutable") (mut i32) (i32.const 8))
  (func $seven (export "seven") (result i32) (i32.const 7))
  (elem (i32.const 0) $seven)
)
"""

IMPORTER = """
(module
  (import "lib" "memory" (memory 1))
  (import "lib" "table" (table 4 funcref))
  (import "lib" "constant" (global $c i32))
  (import "lib" "mutable" (global $m (mut i32)))
  (import "lib" "seven" (func $seven (result i32)))
  (type $nullary (func (result i32)))
  (func $eight (result i32) (i32.const 8))
  (elem (i32.const 1) $eight $seven)
  (data (i32.const 100) "shared")
  (func (export "sum") (result i32)
    (i32.add (i32.add (call $seven) (global.get $c))
             (i32.add (global.get $m) (call_indirect (type $nullary) (i32.const 1)))))
  (func (export "set_m") (param i32) (global.set $m (local.get 0)))
  (func (export "via_table") (param i32) (result i32)
    (call_indirect (type $nullary) (local.get 0)))
)
"""


def test_linking_shares_memory_table_globals_and_functions(load):
    lib = load(EXPORTER).instantiate().exports
    user = load(IMPORTER).instantiate({"lib": lib}).exports
    assert lib["memory"].read(100, 106) == b"shared"
    assert user["sum"]() == 7 + 7 + 8 + 8
    user["set_m"](100)
    assert lib["mutable"].value == 100
    assert lib["table"].get(1)() == 8          # the importer's function, in the shared table
    assert user["via_table"](0) == 7 and user["via_table"](2) == 7


def test_start_function_and_passive_segments(load):
    exports = load("""
      (module
        (memory (export "memory") 1)
        (global $g (export "g") (mut i32) (i32.const 0))
        (data $passive "passive")
        (func $start
          (global.set $g (i32.const 99))
          (memory.init $passive (i32.const 10) (i32.const 0) (i32.const 7)))
        (func (export "drop") (data.drop $passive))
        (func (export "init") (param i32)
          (memory.init $passive (local.get 0) (i32.const 0) (i32.const 7)))
        (start $start))""").instantiate().exports
    assert exports["g"].value == 99
    assert exports["memory"].read(10, 17) == b"passive"
    exports["init"](20)
    assert exports["memory"].read(20, 27) == b"passive"
    exports["drop"]()
    with pytest.raises(Trap, match="out of bounds memory access"):
        exports["init"](30)


def test_trapping_start_function(load):
    with pytest.raises(Trap, match="unreachable"):
        load("(module (func $s unreachable) (start $s))").instantiate()


def test_type_ids_are_structural_across_modules(load):
    user = load(IMPORTER)
    lib = load(EXPORTER).instantiate().exports
    other = load("""
      (module
        (type (func (param f32)))
        (type (func (result i32)))
        (func (export "five") (type 1) (i32.const 5))
        (func (export "wrong") (type 0)))""").instantiate().exports
    exports = user.instantiate({"lib": lib}).exports
    lib["table"].set(3, other["five"])
    assert exports["via_table"](3) == 5
    lib["table"].set(3, other["wrong"])
    with pytest.raises(Trap, match="indirect call type mismatch"):
        exports["via_table"](3)


def reserved_mappings():
    with open("/proc/self/maps") as maps:
        return {int(line.split("-")[0], 16) for line in maps}


def test_memory_is_unmapped_when_collected(load):
    module = load('(module (memory (export "m") 1))')
    instance = module.instantiate()
    base = instance.exports["m"].base
    assert base in reserved_mappings()
    del instance
    gc.collect()
    assert base not in reserved_mappings()
