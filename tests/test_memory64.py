"""Memory64 (3.0) on both engines: 64-bit memories and tables, their exact traps, a 64-bit
and a 32-bit memory in one module, and the loader's refusal of an .aot of another format
version. The spec suite's memory64 files (tests/spec) cover the instructions one by one;
these tests cover what they do not: addresses beyond 4 GiB and 2**64 on a real instance,
growth past what the host has, the API's view, and AArch64."""

import functools

import pytest

from module_text import wasm
from pywamr.runtime.errors import InvalidModule, LinkError, Trap
from pywamr.runtime.interp import Module
from pywamr.runtime.types import Limits, MemoryType, TableType

ENGINES = ["interp", "aot"]


@functools.cache
def _aot_bytes(text, opt_level=3, target=None):
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    return compile_wasm(wasm(text), CompileOptions(opt_level=opt_level, target=target))


def load(engine, text):
    if engine == "interp":
        return Module(wasm(text))
    from pywamr.loader.aot_module import AotModule
    return AotModule(_aot_bytes(text))


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


ACCESSES = """
  (func (export "load") (param i64) (result i32) (i32.load (local.get 0)))
  (func (export "load_far") (param i64) (result i32)
    (i32.load offset=0x1_0000_0000 (local.get 0)))
  (func (export "load_last") (param i64) (result i32)
    (i32.load offset=0xffff_ffff_ffff_ffff (local.get 0)))
  (func (export "load_f64") (param i64) (result f64) (f64.load (local.get 0)))
  (func (export "load_lane") (param i64) (result v128)
    (v128.load8_lane 0 (local.get 0) (v128.const i64x2 0 0)))
  (func (export "store") (param i64 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "store_wrapping") (i32.store offset=0xffff_ffff_ffff_fffc
    (i64.const 4) (i32.const 7)))
"""


def memory64_instance(engine):
    return load(engine, f'(module (memory (export "mem") i64 1) {ACCESSES})').instantiate()


def trap_message(call, *args):
    with pytest.raises(Trap) as raised:
        call(*args)
    return str(raised.value)


def test_accesses_trap_exactly_where_offset_plus_address_passes_the_end(engine):
    exports = memory64_instance(engine).exports
    exports["store"](65532, 0x01020304)
    assert exports["load"](65532) == 0x01020304
    thirty_two_bit = load(engine, '(module (memory 1) (func (export "load") (param i32) '
                                  '(result i32) (i32.load (local.get 0))))').instantiate()
    message = trap_message(thirty_two_bit.exports["load"], 65533)
    assert message.startswith("out of bounds memory access")
    for address in (65533, 2**32 - 4, 2**32, 2**32 + 65532, 2**63, 2**64 - 1):
        assert trap_message(exports["load"], address) == message
        assert trap_message(exports["load_f64"], address) == message
        assert trap_message(exports["load_f64"], max(address & ~7, 65536)) == message  # aligned
        assert trap_message(exports["load_lane"], max(address, 65536)) == message
    # Beyond 4 GiB by the offset alone; and offset + address is not taken modulo 2**64.
    for address in (0, 1, 2**32):
        assert trap_message(exports["load_far"], address) == message
    assert trap_message(exports["load_last"], 0) == message
    assert trap_message(exports["load_last"], 1) == message         # 2**64 wraps to 0
    assert trap_message(exports["store_wrapping"]) == message        # constant: 2**64
    assert trap_message(exports["store"], 65533, 7) == message
    assert exports["mem"].read(65528) == bytes(4) + bytes([4, 3, 2, 1])   # nothing written


def test_memory_size_and_grow_are_i64(engine):
    exports = load(engine, """(module (memory (export "mem") i64 1 0x1_0000_0000_0000)
      (func (export "size") (result i64) (memory.size))
      (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0))))"""
                   ).instantiate().exports
    memory = exports["mem"]
    assert len(memory.buffer) == 65536                # the 2**48-page maximum reserves nothing
    assert memory.type == MemoryType(Limits(1, 2**48), "i64")
    assert exports["grow"](1) == 1 and exports["size"]() == 2
    assert exports["grow"](2**48) == -1               # past the declared maximum
    assert exports["grow"](2**47) == -1               # 2**63 bytes: more than the host has
    assert exports["grow"](2**64 - 1) == -1
    assert exports["size"]() == 2 and len(memory.buffer) == 2 * 65536
    assert memory.grow(1) == 2 and exports["size"]() == 3


def test_a_64_bit_table(engine):
    exports = load(engine, """(module
      (type $t (func (result i32)))
      (table $t64 (export "table") i64 2 funcref)
      (func $seven (result i32) (i32.const 7))
      (elem (table $t64) (i64.const 1) func $seven)
      (func (export "call") (param i64) (result i32) (call_indirect $t64 (type $t) (local.get 0)))
      (func (export "size") (result i64) (table.size $t64))
      (func (export "grow") (param i64) (result i64)
        (table.grow $t64 (ref.null func) (local.get 0)))
      (func (export "is_null") (param i64) (result i32)
        (ref.is_null (table.get $t64 (local.get 0))))
      (func (export "fill") (param i64 i64)
        (table.fill $t64 (local.get 0) (ref.func $seven) (local.get 1))))
    """).instantiate().exports
    assert exports["call"](1) == 7
    assert trap_message(exports["call"], 0).startswith("uninitialized element")
    assert trap_message(exports["call"], 2**32 + 1).startswith("undefined element")
    assert trap_message(exports["is_null"], 2**32).startswith("out of bounds table access")
    assert exports["grow"](3) == 2 and exports["size"]() == 5
    assert exports["grow"](2**64 - 1) == -1
    exports["fill"](2, 3)
    assert exports["call"](4) == 7
    assert trap_message(exports["fill"], 4, 2**64 - 1).startswith("out of bounds table access")
    assert exports["table"].type == TableType("funcref", Limits(5), "i64")


def test_validation_bounds_offsets_and_limits_by_address_type():
    from pywamr.runtime.decoder import decode_module
    from pywamr.runtime.validator import validate
    for text, message in [
            ("(memory 1) (func (drop (i32.load offset=0x1_0000_0000 (i32.const 0))))",
             "offset out of range"),
            ("(memory i64 1) (func (drop (i32.load (i32.const 0))))", "type mismatch"),
            ("(memory i64 0x1_0000_0000_0001)", "memory size must be at most 2^48 pages"),
            ("(memory 0x1_0001)", "memory size must be at most 65536 pages"),
            ("(memory i64 1) (memory 1) (func (memory.copy 0 1 (i64.const 0) (i32.const 0) "
             "(i64.const 0)))", "type mismatch")]:
        with pytest.raises(InvalidModule) as raised:
            validate(decode_module(wasm(f"(module {text})")))
        assert str(raised.value).startswith(message)


def test_imports_match_the_address_type():
    memory = Module(wasm('(module (memory (export "m") 1))')).instantiate().exports["m"]
    importer = Module(wasm('(module (import "host" "m" (memory i64 1)))'))
    with pytest.raises(LinkError, match=r"^incompatible import type: host.m \(memory: "
                                        r"expected 64-bit, got 32-bit\)"):
        importer.instantiate({"host": {"m": memory}})


# A 32-bit memory 0 and a 64-bit memory 1, the other way round, and two 64-bit ones: copies
# between them (the length an i32 unless both are 64-bit), fill, init, loads and stores.
MIXED = """(module
  (memory $a (export "a") {a} 1)
  (memory $b (export "b") {b} 2 3)
  (data $passive "passive")
  (func (export "copy_a_to_b") (param $dst {b}) (param $src {a}) (param $n {n})
    (memory.copy $b $a (local.get $dst) (local.get $src) (local.get $n)))
  (func (export "copy_b_to_a") (param $dst {a}) (param $src {b}) (param $n {n})
    (memory.copy $a $b (local.get $dst) (local.get $src) (local.get $n)))
  (func (export "fill_b") (param $dst {b}) (param $value i32) (param $n {b})
    (memory.fill $b (local.get $dst) (local.get $value) (local.get $n)))
  (func (export "init_b") (param $dst {b}) (param $n i32)
    (memory.init $b $passive (local.get $dst) (i32.const 0) (local.get $n)))
  (func (export "store_a") (param $p {a}) (param $v i64)
    (i64.store offset=1 (local.get $p) (local.get $v)))
  (func (export "load_b") (param $p {b}) (result i64)
    (i64.load $b offset=2 (local.get $p)))
  (func (export "grow_b") (param $delta {b}) (result {b})
    (memory.grow $b (local.get $delta)))
  (func (export "sum_b") (param $p {b}) (param $n {b}) (result i32)
    (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (i32.load8_u $b (local.get $p))))
      (local.set $p ({b}.add (local.get $p) ({b}.const 1)))
      (br_if $l ({b}.ne (local.tee $n ({b}.sub (local.get $n) ({b}.const 1)))
                        ({b}.const 0))))
    (local.get $sum)))"""

TRAP = "out of bounds memory access"
# (name, args, answer); the value stored is 08 07 06 05 00 00 00 00 at 8 in memory a.
MIXED_CALLS = [
    ("store_a", [7, 0x05060708], None), ("copy_a_to_b", [131064, 8, 8], None),
    ("load_b", [131062], 0x05060708), ("copy_a_to_b", [131065, 8, 8], TRAP),
    ("copy_b_to_a", [65528, 131064, 8], None), ("copy_b_to_a", [65529, 0, 8], TRAP),
    ("fill_b", [100, 0xAB, 4], None), ("sum_b", [100, 5], 4 * 0xAB),
    ("fill_b", [131071, 1, 2], TRAP), ("init_b", [131065, 7], None),
    ("load_b", [131062], int.from_bytes(b"\x08passive", "little")),
    ("init_b", [131066, 7], TRAP), ("grow_b", [1], 2), ("grow_b", [1], -1),
    ("load_b", [196598], 0), ("load_b", [196599], TRAP)]
# Addresses only a 64-bit memory b takes: none wraps around.
WIDE_CALLS = [("copy_a_to_b", [2**64 - 1, 0, 0], TRAP), ("copy_b_to_a", [0, 2**32, 1], TRAP),
              ("fill_b", [2**64 - 2, 0, 2], TRAP), ("load_b", [2**64 - 2], TRAP)]


def _answers(exports, calls):
    """Results, and the wording of each trap (the interpreter adds an operand to some)."""
    answers = []
    for name, args, _ in calls:
        try:
            answers.append(exports[name](*args))
        except Trap as trap:
            answers.append(trap.code.value)
    return answers


@pytest.mark.parametrize("types", [("i32", "i64"), ("i64", "i32"), ("i64", "i64")])
def test_a_64_and_a_32_bit_memory_in_one_module(types, engine):
    calls = MIXED_CALLS + (WIDE_CALLS if types[1] == "i64" else [])
    n = "i64" if types == ("i64", "i64") else "i32"
    module = load(engine, MIXED.format(a=types[0], b=types[1], n=n))
    assert _answers(module.instantiate().exports, calls) == [answer for *_, answer in calls]


def test_memory_beyond_4_gib_on_aot():
    """Past 2**32 bytes (the interpreter would need the 4 GiB in RAM): the reservation is
    the memory's own, its pages only touched where written."""
    exports = load("aot", f'(module (memory (export "mem") i64 65536) {ACCESSES})'
                   ).instantiate().exports
    memory = exports["mem"]
    assert memory.grow(1) == 65536
    exports["store"](2**32 + 8, 0x11223344)
    assert exports["load"](2**32 + 8) == 0x11223344
    assert exports["load"](2**32 + 65532) == 0
    assert trap_message(exports["load"], 2**32 + 65533) == "out of bounds memory access"
    assert trap_message(exports["load_far"], 65533) == "out of bounds memory access"
    assert exports["load_far"](8) == 0x11223344
    assert memory.type == MemoryType(Limits(65537), "i64")


# Every kind of memory access on a 64-bit memory, SIMD included, and a 64-bit table: run by
# both engines on this machine, and compiled for AArch64 and run under qemu.
EVERY_ACCESS = """(module
  (memory i64 1 2)
  (data (i64.const 0) "\\01\\02\\03\\04\\05\\06\\07\\08\\f9\\fa\\fb\\fc\\fd\\fe\\ff\\00")
  (type $t (func (result i32)))
  (table $t64 i64 2 funcref)
  (elem (table $t64) (i64.const 1) func $seven)
  (func $seven (result i32) (i32.const 7))
  (func $low (param v128) (result i64) (i64x2.extract_lane 0 (local.get 0)))
  (func $high (param v128) (result i64) (i64x2.extract_lane 1 (local.get 0)))
  (func (export "load") (param $p i64) (result i64 i64)
    (call $low (v128.load offset=1 (local.get $p)))
    (call $high (v128.load offset=1 (local.get $p))))
  (func (export "extend") (param $p i64) (result i64)
    (call $high (v128.load8x8_s (local.get $p))))
  (func (export "splat") (param $p i64) (result i64)
    (call $high (v128.load16_splat (local.get $p))))
  (func (export "zero") (param $p i64) (result i64 i64)
    (call $low (v128.load32_zero (local.get $p)))
    (call $high (v128.load32_zero (local.get $p))))
  (func (export "lane") (param $p i64) (result i64)
    (call $high (v128.load64_lane 1 (local.get $p) (v128.const i64x2 7 7))))
  (func (export "store") (param $p i64) (result i64)
    (v128.store (local.get $p) (v128.const i64x2 0x1122334455667788 -1))
    (v128.store16_lane 3 (i64.const 100) (v128.const i16x8 0 1 2 0x7a7b 4 5 6 7))
    (i64.load (local.get $p)))
  (func (export "scalar") (param $p i64) (result i64)
    (i64.store32 offset=3 (local.get $p) (i64.const -2))
    (i64.add (i64.load16_s offset=3 (local.get $p)) (i64.load32_u offset=4 (local.get $p))))
  (func (export "size_grow") (param $delta i64) (result i64 i64)
    (memory.grow (local.get $delta)) (memory.size))
  (func (export "bulk") (param $dst i64) (param $n i64) (result i64)
    (memory.fill (local.get $dst) (i32.const 0x5a) (local.get $n))
    (memory.copy (i64.const 200) (local.get $dst) (local.get $n))
    (i64.load (i64.const 200)))
  (func (export "call") (param $i i64) (result i32)
    (call_indirect $t64 (type $t) (local.get $i)))
  (func (export "table") (param $delta i64) (result i64 i64)
    (table.grow $t64 (ref.func $seven) (local.get $delta)) (table.size $t64)))"""

EVERY_CALL = [("load", [0]), ("load", [65535 - 16]), ("load", [65536 - 16]),
              ("load", [2**64 - 1]), ("extend", [8]), ("splat", [2]), ("zero", [12]),
              ("zero", [65533]), ("lane", [8]), ("lane", [2**32]), ("store", [200]),
              ("store", [65536 - 15]), ("scalar", [40]), ("scalar", [65529]),
              ("scalar", [2**64 - 3]), ("bulk", [300, 8]), ("bulk", [65530, 7]),
              ("bulk", [2**64 - 1, 2]), ("size_grow", [1]), ("size_grow", [1]),
              ("load", [65536 - 16]), ("call", [1]), ("call", [0]), ("call", [2**32 + 1]),
              ("table", [2]), ("call", [3]), ("table", [2**64 - 1])]

def _every_access(engine):
    calls = [(name, args, None) for name, args in EVERY_CALL]
    return [list(a) if isinstance(a, tuple) else a
            for a in _answers(load(engine, EVERY_ACCESS).instantiate().exports, calls)]


def test_every_access_on_both_engines():
    expected = _every_access("interp")
    assert expected[2] == expected[3] == TRAP and expected[20] != TRAP
    assert _every_access("aot") == expected


def test_every_access_on_arm64(tmp_path):
    pytest.importorskip("llvmlite")
    from arm64_qemu import run_calls_on_arm64
    expected = _every_access("interp")
    paths = []
    for opt in (0, 3):
        path = tmp_path / f"every-O{opt}.aot"
        path.write_bytes(_aot_bytes(EVERY_ACCESS, opt, "aarch64"))
        paths.append(path)
    assert run_calls_on_arm64(paths, EVERY_CALL) == [expected] * 2


# Loops of the shape compiler/loops.py versions, on a 64-bit memory 0: counted, stepped by a
# constant or by a parameter (any i64, huge or negative), running off either end of memory,
# with pointers far past 2^56 (where the entry computation gives no check-free iteration).
LOOPS = """(module
  (memory (export "mem") i64 1)
  (func (export "fill") (param $p i64) (param $n i64) (param $v i64)
    (loop $l
      (i64.store offset=8 (local.get $p) (local.get $v))
      (i64.store (local.get $p) (i64.add (local.get $v) (i64.const 1)))
      (local.set $p (i64.add (local.get $p) (i64.const 16)))
      (br_if $l (i64.ne (local.tee $n (i64.sub (local.get $n) (i64.const 1)))
                        (i64.const 0)))))
  (func (export "stride") (param $p i64) (param $step i64) (param $n i32) (result i32)
    (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (i32.load8_u (local.get $p))))
      (i32.store8 offset=1 (local.get $p) (local.get $n))
      (local.set $p (i64.add (local.get $p) (local.get $step)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))
  (func (export "copy") (param $dst i64) (param $src i64) (param $n i64)
    (local $i i64)
    (loop $l
      (i32.store (i64.add (local.get $dst) (local.get $i))
                 (i32.add (i32.load (i64.add (local.get $src) (local.get $i))) (i32.const 3)))
      (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 4)))
                          (local.get $n))))))"""

LOOP_CALLS = [
    ("fill", [0, 100, 7]), ("fill", [65536 - 160, 20, 9]), ("fill", [65536 - 160, 11, 5]),
    ("fill", [2**60, 3, 1]), ("fill", [2**64 - 16, 3, 1]),
    ("stride", [0, 3, 1000]), ("stride", [65000, 7, 1000]), ("stride", [60000, -13, 5000]),
    ("stride", [300, 2**60, 3]), ("stride", [2**57, 1, 3]), ("stride", [400, 2**64 - 1, 10]),
    ("copy", [1000, 5000, 4000]), ("copy", [60000, 0, 8000]), ("copy", [0, 64000, 4000]),
    ("copy", [2**56, 0, 16]), ("copy", [100, 2**63, 16])]


def _loop_run(engine):
    """Each call's answer and the memory after it: a trap leaves the stores before it."""
    exports = load(engine, LOOPS).instantiate().exports
    memory = exports["mem"]
    run = []
    for name, args in LOOP_CALLS:
        answer, = _answers(exports, [(name, args, None)])
        run.append((name, args, answer, bytes(memory.read(0, 65536))))
    return run


def test_versioned_loops_on_a_64_bit_memory_trap_as_the_interpreter_does():
    expected = _loop_run("interp")
    assert sum(answer == TRAP for _, _, answer, _ in expected) >= 8
    for got, want in zip(_loop_run("aot"), expected):
        assert got[:3] == want[:3] and got[3] == want[3], got[:2]
