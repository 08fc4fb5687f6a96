"""Memory64 (3.0) on the interpreter: 64-bit memories and tables, their exact traps, and the
AOT compiler's refusal of them. The spec suite's memory64 files (tests/spec) cover the
instructions one by one; these tests cover what they do not: addresses beyond 4 GiB and
2**64 on a real instance, growth past what the host has, the API's view, and pyaotc."""

import subprocess
import sys

import pytest

from module_text import wasm
from pywamr.runtime.errors import InvalidModule, LinkError, Trap
from pywamr.runtime.interp import Module
from pywamr.runtime.types import Limits, MemoryType, TableType

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


def memory64_instance():
    return Module(wasm(f'(module (memory (export "mem") i64 1) {ACCESSES})')).instantiate()


def trap_message(call, *args):
    with pytest.raises(Trap) as raised:
        call(*args)
    return str(raised.value)


def test_accesses_trap_exactly_where_offset_plus_address_passes_the_end():
    exports = memory64_instance().exports
    exports["store"](65532, 0x01020304)
    assert exports["load"](65532) == 0x01020304
    thirty_two_bit = Module(wasm('(module (memory 1) (func (export "load") (param i32) '
                                 '(result i32) (i32.load (local.get 0))))')).instantiate()
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


def test_memory_size_and_grow_are_i64():
    exports = Module(wasm("""(module (memory (export "mem") i64 1 0x1_0000_0000_0000)
      (func (export "size") (result i64) (memory.size))
      (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0))))"""
                          )).instantiate().exports
    memory = exports["mem"]
    assert len(memory.buffer) == 65536                # the 2**48-page maximum reserves nothing
    assert memory.type == MemoryType(Limits(1, 2**48), "i64")
    assert exports["grow"](1) == 1 and exports["size"]() == 2
    assert exports["grow"](2**48) == -1               # past the declared maximum
    assert exports["grow"](2**47) == -1               # 2**63 bytes: more than the host has
    assert exports["grow"](2**64 - 1) == -1
    assert exports["size"]() == 2 and len(memory.buffer) == 2 * 65536
    assert memory.grow(1) == 2 and exports["size"]() == 3


def test_a_64_bit_table():
    exports = Module(wasm("""(module
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
    """)).instantiate().exports
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


# The AOT compiler does not have memory64 yet: it says so in one line.

REFUSED = "uses memory64 (64-bit memory 0), not supported by the compiler yet"


def test_pyaotc_refuses_memory64_in_one_line(tmp_path):
    pytest.importorskip("llvmlite")
    source = tmp_path / "m64.wasm"
    source.write_bytes(wasm(f"(module (memory i64 1) {ACCESSES})"))
    result = subprocess.run([sys.executable, "-m", "pywamr.compiler", str(source)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and not (tmp_path / "m64.aot").exists()
    assert result.stderr == f"pyaotc: error: {source}: {REFUSED}\n"


def test_the_api_refuses_memory64_on_the_aot_engine():
    pytest.importorskip("llvmlite")
    import pywamr
    from pywamr.compiler import CompileError
    with pytest.raises(CompileError) as raised:
        pywamr.Module(pywamr.Engine("aot"), "(module (table i64 1 funcref))")
    assert str(raised.value) == "uses memory64 (64-bit table 0), not supported by the compiler yet"
    instance = pywamr.Linker(pywamr.Engine("interp")).instantiate(
        pywamr.Module(pywamr.Engine("interp"), "(module (memory (export \"m\") i64 1))"))
    assert instance.exports["m"].type == MemoryType(Limits(1), "i64")
