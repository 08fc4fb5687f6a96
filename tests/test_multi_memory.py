"""Multi-memory (WebAssembly 3.0) on both engines with small text modules: copies between
memories, memory.grow on a memory other than 0, a second memory imported by another
instance, several memories through the embedding API, the trap of an access past the end of
memory 1, and the loader's refusal of an .aot of another format version
(docs/aot-abi.md, "Memories"). The spec files run in tests/spec."""

import functools

import pytest

import pywamr
from module_text import wasm
from pywamr.runtime.errors import Trap
from pywamr.runtime.interp import Module as InterpModule

ENGINES = ["interp", "aot"]

# Two memories of their own, of different sizes, and every kind of instruction on memory 1.
TWO_MEMORIES = """(module
  (memory $a (export "memory") 1)
  (memory $b (export "second") 2 4)
  (data (memory $b) (i32.const 8) "second")
  (data (i32.const 8) "first")
  (data $passive "passive")
  (func (export "copy_b_to_a") (param $dst i32) (param $src i32) (param $n i32)
    (memory.copy $a $b (local.get $dst) (local.get $src) (local.get $n)))
  (func (export "copy_a_to_b") (param $dst i32) (param $src i32) (param $n i32)
    (memory.copy $b $a (local.get $dst) (local.get $src) (local.get $n)))
  (func (export "fill_b") (param $dst i32) (param $value i32) (param $n i32)
    (memory.fill $b (local.get $dst) (local.get $value) (local.get $n)))
  (func (export "init_b") (param $dst i32)
    (memory.init $b $passive (local.get $dst) (i32.const 0) (i32.const 7)))
  (func (export "grow_b") (param $delta i32) (result i32)
    (memory.grow $b (local.get $delta)))
  (func (export "sizes") (result i32 i32)
    (memory.size $a) (memory.size $b))
  (func (export "load_b") (param $p i32) (result i64)
    (i64.load $b offset=4 (local.get $p)))
  (func (export "store_b") (param $p i32) (param $v i32)
    (i32.store16 $b offset=2 (local.get $p) (local.get $v)))
  (func (export "load_a") (param $p i32) (result i32)
    (i32.load (local.get $p)))
  (func (export "lane_b") (param $p i32) (result i32)
    (i32x4.extract_lane 1
      (v128.load32_lane $b 1 (local.get $p) (v128.const i64x2 0 0))))
  (func (export "sum_b") (param $p i32) (param $n i32) (result i32)
    (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (i32.load8_u $b (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum)))"""


@functools.cache
def _aot_bytes(text, opt_level):
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    return compile_wasm(wasm(text), CompileOptions(opt_level=opt_level))


def load(engine, text):
    if engine == "interp":
        return InterpModule(wasm(text))
    from pywamr.loader.aot_module import AotModule
    return AotModule(_aot_bytes(text, 3))


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


def test_segments_go_to_their_memories(engine):
    exports = load(engine, TWO_MEMORIES).instantiate().exports
    assert bytes(exports["memory"].buffer[8:13]) == b"first"
    assert bytes(exports["second"].buffer[8:14]) == b"second"
    assert bytes(exports["memory"].buffer[14:20]) == bytes(6)


def test_copies_between_memories(engine):
    exports = load(engine, TWO_MEMORIES).instantiate().exports
    exports["copy_b_to_a"](100, 8, 6)
    assert bytes(exports["memory"].buffer[100:106]) == b"second"
    exports["copy_a_to_b"](200, 8, 5)
    assert bytes(exports["second"].buffer[200:205]) == b"first"
    # Memory 1 is two pages: an address past memory 0 is still in it.
    exports["copy_a_to_b"](65536 + 10, 8, 5)
    assert bytes(exports["second"].buffer[65546:65551]) == b"first"
    with pytest.raises(Trap, match="^out of bounds memory access$"):
        exports["copy_b_to_a"](65536 + 10, 8, 5)          # memory 0 is one page
    assert bytes(exports["memory"].buffer[65536 - 5:]) == bytes(5)   # nothing written
    exports["fill_b"](300, 0x41, 3)
    exports["init_b"](400)
    assert bytes(exports["second"].buffer[300:303]) == b"AAA"
    assert bytes(exports["second"].buffer[400:407]) == b"passive"


def test_loads_stores_and_lanes_of_memory_1(engine):
    exports = load(engine, TWO_MEMORIES).instantiate().exports
    exports["store_b"](1000, 0xBEEF)
    assert bytes(exports["second"].buffer[1002:1004]) == b"\xef\xbe"
    assert bytes(exports["memory"].buffer[1002:1004]) == bytes(2)
    assert exports["load_b"](4) == int.from_bytes(b"second\0\0", "little")
    assert exports["lane_b"](8) == int.from_bytes(b"seco", "little")
    assert exports["sum_b"](8, 6) == sum(b"second")


def test_memory_grow_on_memory_1(engine):
    exports = load(engine, TWO_MEMORIES).instantiate().exports
    assert exports["sizes"]() == (1, 2)
    with pytest.raises(Trap, match="^out of bounds memory access$"):
        exports["load_b"](2 * 65536 - 8)
    assert exports["grow_b"](1) == 2
    assert exports["sizes"]() == (1, 3)
    assert exports["second"].size() == 3 and exports["memory"].size() == 1
    assert exports["load_b"](2 * 65536 - 8) == 0          # now in bounds
    assert exports["grow_b"](2) == -1                       # past its maximum of 4 pages
    assert exports["sizes"]() == (1, 3)


def test_the_trap_past_memory_1_reads_the_same_on_both_engines():
    messages = {}
    for engine in ENGINES:
        exports = load(engine, TWO_MEMORIES).instantiate().exports
        with pytest.raises(Trap) as caught:
            exports["store_b"](2 * 65536 - 3, 1)          # offset 2, 2 bytes: one too many
        messages[engine] = str(caught.value)
        assert exports["second"].buffer[2 * 65536 - 1] == 0
    assert messages["interp"] == messages["aot"] == "out of bounds memory access"


# Instance B imports A's memory 0 and memory 1 as its own 0 and 1; a third module imports one
# memory twice, which compiled code must see grow through either index.
IMPORTER = """(module
  (import "lib" "memory" (memory 1))
  (import "lib" "second" (memory 2 4))
  (func (export "put") (param $p i32) (param $v i32)
    (i32.store8 1 (local.get $p) (local.get $v)))
  (func (export "get") (param $p i32) (result i32)
    (i32.load8_u 1 (local.get $p)))
  (func (export "grow") (param $delta i32) (result i32)
    (memory.grow 1 (local.get $delta))))"""

TWICE = """(module
  (import "lib" "second" (memory $x 2))
  (import "lib" "second" (memory $y 2))
  (func (export "grow_y_then_load_x") (param $p i32) (result i32)
    (drop (memory.grow $y (i32.const 1)))
    (i32.load8_u $x (local.get $p))))"""


def test_a_second_memory_imported_by_another_instance(engine):
    lib = load(engine, TWO_MEMORIES).instantiate().exports
    user = load(engine, IMPORTER).instantiate({"lib": lib}).exports
    user["put"](70000, 7)
    assert lib["second"].buffer[70000] == 7
    assert lib["memory"].size() == 1
    assert lib["sum_b"](70000, 1) == 7
    assert user["grow"](1) == 2
    assert lib["sizes"]() == (1, 3)
    lib["fill_b"](3 * 65536 - 1, 9, 1)
    assert user["get"](3 * 65536 - 1) == 9


def test_one_memory_imported_twice_grows_through_either_index(engine):
    lib = load(engine, TWO_MEMORIES).instantiate().exports
    twice = load(engine, TWICE).instantiate({"lib": lib}).exports
    lib["grow_b"](0)
    assert twice["grow_y_then_load_x"](2 * 65536 + 5) == 0     # in the page just added
    assert lib["sizes"]() == (1, 3)


def test_the_api_exposes_both_memories(engine):
    if engine == "aot":
        pytest.importorskip("llvmlite")
    api_engine = pywamr.Engine(engine, opt_level=1)
    instance = pywamr.Linker(api_engine).instantiate(pywamr.Module(api_engine, TWO_MEMORIES))
    first, second = instance.exports["memory"], instance.exports["second"]
    assert isinstance(first, pywamr.Memory) and isinstance(second, pywamr.Memory)
    assert (first.size(), second.size()) == (1, 2)
    assert second.read(8, 14) == b"second" and first.read(8, 13) == b"first"
    second.write(b"xyz", 65536 + 1)
    assert instance.exports["load_b"](65536 - 3) == int.from_bytes(b"xyz", "little")
    assert second.grow(1) == 2 and instance.exports["sizes"]() == (1, 3)


# The SIMD memory instructions on memory 1, each kind once, for both targets.
SIMD_ON_MEMORY_1 = """(module
  (memory 1)
  (memory $b 1)
  (data (memory $b) (i32.const 0) "\\01\\02\\03\\04\\05\\06\\07\\08\\f9\\fa\\fb\\fc\\fd\\fe\\ff\\00")
  (func $low (param v128) (result i64) (i64x2.extract_lane 0 (local.get 0)))
  (func $high (param v128) (result i64) (i64x2.extract_lane 1 (local.get 0)))
  (func (export "load") (param $p i32) (result i64 i64)
    (call $low (v128.load $b offset=1 (local.get $p)))
    (call $high (v128.load $b offset=1 (local.get $p))))
  (func (export "extend") (param $p i32) (result i64)
    (call $high (v128.load8x8_s $b (local.get $p))))
  (func (export "splat") (param $p i32) (result i64)
    (call $high (v128.load16_splat $b (local.get $p))))
  (func (export "zero") (param $p i32) (result i64 i64)
    (call $low (v128.load32_zero $b (local.get $p)))
    (call $high (v128.load32_zero $b (local.get $p))))
  (func (export "lane") (param $p i32) (result i64)
    (call $high (v128.load64_lane $b 1 (local.get $p) (v128.const i64x2 7 7))))
  (func (export "store") (param $p i32) (result i64)
    (v128.store $b (local.get $p) (v128.const i64x2 0x1122334455667788 -1))
    (v128.store16_lane $b 3 (i32.const 100) (v128.const i16x8 0 1 2 0x7a7b 4 5 6 7))
    (i64.load $b (local.get $p))))"""

SIMD_CALLS = [("load", [0]), ("load", [65535 - 16]), ("load", [65536 - 16]),
              ("extend", [8]), ("splat", [2]), ("zero", [12]), ("zero", [65533]),
              ("lane", [8]), ("store", [200]), ("store", [65536 - 15])]

def _calls(exports):
    answers = []
    for name, args in SIMD_CALLS:
        try:
            answers.append(exports[name](*args))
        except Trap as trap:
            answers.append(str(trap))
    return answers


def _as_json(answers):
    return [list(a) if isinstance(a, tuple) else a for a in answers]


def test_simd_on_memory_1_on_both_engines():
    expected = _calls(load("interp", SIMD_ON_MEMORY_1).instantiate().exports)
    assert expected[2] == "out of bounds memory access"
    assert expected[3] == 0x0000_FFFF_FFFE_FFFD          # -3, -2, -1, 0 sign-extended
    assert _calls(load("aot", SIMD_ON_MEMORY_1).instantiate().exports) == expected


def test_multi_memory_on_arm64(tmp_path):
    pytest.importorskip("llvmlite")
    from arm64_qemu import run_calls_on_arm64
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    expected = _as_json(_calls(load("interp", SIMD_ON_MEMORY_1).instantiate().exports))
    paths = []
    for opt in (0, 3):
        path = tmp_path / f"simd-O{opt}.aot"
        path.write_bytes(compile_wasm(wasm(SIMD_ON_MEMORY_1),
                                      CompileOptions(target="aarch64", opt_level=opt)))
        paths.append(path)
    assert run_calls_on_arm64(paths, SIMD_CALLS) == [expected] * 2
