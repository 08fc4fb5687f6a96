"""Decoder tests beyond the spec suite: offsets in errors, LEB128 limits, fuzzing."""

import struct

import pytest
from hypothesis import given, settings, strategies as st

from leb128 import uleb
from pywamr.runtime.decoder import Reader, decode_module, parse_function_names
from pywamr.runtime.errors import MalformedModule
from pywamr.runtime.opcodes import NAMES

HEADER = b"\x00asm\x01\x00\x00\x00"


def section(section_id, payload):
    return bytes([section_id, len(payload)]) + payload


def one_function_module(body, locals_=b"\x00", result=b"\x00"):
    """A module with one [] -> [result?] function whose body (without locals) is `body`."""
    code = locals_ + body
    return (HEADER + section(1, b"\x01\x60\x00" + result) + section(3, b"\x01\x00")
            + section(10, b"\x01" + bytes([len(code)]) + code))


def test_empty_module():
    module = decode_module(HEADER)
    assert module.types == [] and module.codes == []


def test_bad_magic_reports_offset_zero():
    with pytest.raises(MalformedModule) as info:
        decode_module(b"\x00asn\x01\x00\x00\x00")
    assert info.value.offset == 0
    assert "magic header not detected" in str(info.value)


def test_unknown_version():
    with pytest.raises(MalformedModule, match="unknown binary version"):
        decode_module(b"\x00asm\x02\x00\x00\x00")


def test_illegal_opcode_offset_points_at_the_opcode():
    data = one_function_module(b"\x41\x00\xff\x0b")
    with pytest.raises(MalformedModule) as info:
        decode_module(data)
    assert info.value.reason == "illegal opcode"
    assert data[info.value.offset] == 0xFF


def test_instructions_keep_offsets_and_immediates():
    data = one_function_module(b"\x41\x7f\x42\x80\x01\x43" + struct.pack("<I", 0x7FA00001)
                               + b"\x1a\x1a\x1a\x0b")
    body = decode_module(data).codes[0].body
    assert [ins.op for ins in body] == [NAMES["i32.const"], NAMES["i64.const"],
                                        NAMES["f32.const"], NAMES["drop"], NAMES["drop"],
                                        NAMES["drop"], NAMES["end"]]
    assert body[0].imm == -1 and body[1].imm == 128
    assert body[2].imm == 0x7FA00001            # NaN payload kept as bits
    assert all(data[ins.offset] == ins.op for ins in body if ins.op < 256)


def test_simd_and_prefixed_opcodes_decode():
    v128 = bytes(range(16))
    body = decode_module(one_function_module(
        b"\xfd\x0c" + v128 + b"\xfd\x0d" + bytes(range(16)) + b"\x1a\x0b")).codes[0].body
    assert body[0].op == NAMES["v128.const"]
    assert body[0].imm == int.from_bytes(v128, "little")
    assert body[1].op == NAMES["i8x16.shuffle"] and body[1].imm == tuple(range(16))


@pytest.mark.parametrize("encoding,value", [(b"\x7f", -1), (b"\xff\x00", 127),
                                            (b"\x80\x80\x80\x80\x78", -2**31),
                                            (b"\xff\xff\xff\xff\x07", 2**31 - 1)])
def test_signed_leb128(encoding, value):
    assert Reader(encoding).sleb(32) == value


@pytest.mark.parametrize("encoding,message", [
    (b"\x80\x80\x80\x80\x80\x00", "integer representation too long"),
    (b"\xff\xff\xff\xff\x4f", "integer too large"),
])
def test_leb128_limits(encoding, message):
    with pytest.raises(MalformedModule, match=message):
        Reader(encoding).sleb(32)


def test_u32_too_large():
    with pytest.raises(MalformedModule, match="integer too large"):
        Reader(b"\xff\xff\xff\xff\x1f").u32()


def test_too_many_locals():
    locals_ = b"\x02\xff\xff\xff\xff\x0f\x7f\x01\x7f"
    with pytest.raises(MalformedModule, match="too many locals"):
        decode_module(one_function_module(b"\x0b", locals_=locals_))


def test_name_section_gives_function_names():
    names = b"\x01" + bytes([8]) + b"\x01\x00\x05hello"
    custom = section(0, b"\x04name" + names)
    module = decode_module(one_function_module(b"\x0b") + custom)
    assert module.func_names == {0: "hello"}
    assert module.customs[0][0] == "name"


def test_name_map_of_every_entry_form():
    # Indices of one, two and three bytes, names whose size takes one byte and two.
    entries = [(0, b"a"), (200, b"main"), (20000, b"x" * 130), (5, "\u00e9t\u00e9".encode())]
    body = b"".join(uleb(index) + uleb(len(name)) + name for index, name in entries)
    name_map = uleb(len(entries)) + body
    payload = b"\x01" + uleb(len(name_map)) + name_map
    assert parse_function_names(payload) == {i: name.decode() for i, name in entries}
    # A malformed map is ignored whole: truncated anywhere, or a name not UTF-8.
    for cut in range(1, len(payload)):
        assert parse_function_names(payload[:cut]) == {}
    bad = payload.replace(b"main", b"ma\xffn")
    assert parse_function_names(bad) == {}


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_never_crash(data):
    try:
        decode_module(HEADER + data)
    except MalformedModule:
        pass


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_valid_module_never_crashes(data):
    base = bytearray(one_function_module(b"\x41\x01\x41\x02\x6a\x1a\x0b"))
    index = data.draw(st.integers(8, len(base) - 1))
    base[index] = data.draw(st.integers(0, 255))
    try:
        decode_module(bytes(base))
    except MalformedModule:
        pass


@pytest.mark.parametrize("body", [b"\x05\x0b", b"\x02\x40\x05\x0b\x0b",
                                  b"\x41\x01\x04\x40\x05\x05\x0b\x0b"])
def test_else_outside_if_is_malformed(body):
    with pytest.raises(MalformedModule, match="else without matching if"):
        decode_module(one_function_module(body))


# Modules of newer features (the text format as wasm-tools parses it): decoding still fails
# with the spec's wording, then names the feature (runtime/features.py).
FEATURES = [
    ("(component)", "unknown binary version: a WebAssembly component, not a core module"),
    ("(module (memory 1 1 shared))", "integer too large: uses threads (shared memory)"),
    ("(module (memory 1) (func (drop (i32.atomic.load (i32.const 0)))))",
     "illegal opcode: uses threads (atomic instructions)"),
    ("(module (memory i64 1 1 shared))", "integer too large: uses threads (shared memory)"),
    ("(module (func (drop (ref.null any))))", "malformed heap type: uses GC (anyref)"),
    ("(module (func (param (ref struct))))", "malformed heap type: uses GC (structref)"),
    ("(module (func (param i32) (drop (ref.i31 (local.get 0)))))",
     "illegal opcode: uses GC (struct, array and i31 instructions)"),
    ("(module (type (struct (field i32))))", "malformed function type: uses GC (struct)"),
    ("(module (rec (type (func)) (type (sub (array i32)))))",
     "malformed function type: uses GC (array)"),
    ("(module (func (param anyref)))", "malformed value type: uses GC (anyref)"),
]


@pytest.mark.parametrize("text, message", FEATURES, ids=[m for _, m in FEATURES])
def test_a_newer_feature_is_named(text, message):
    from module_text import wasm
    with pytest.raises(MalformedModule) as raised:
        decode_module(wasm(text))
    expected = message if "component" in message else f"{message}, not supported"
    assert str(raised.value).startswith(expected)


# Multi-memory: every memory instruction carries its memory index (runtime/opcodes.py).

def test_memory_indices_in_the_module():
    from module_text import wasm
    module = decode_module(wasm("""(module
      (memory 1) (memory $b 1) (data $d (memory $b) (i32.const 0) "x")
      (func (param i32)
        (drop (i32.load $b offset=4 (local.get 0)))
        (drop (v128.load8_lane $b 3 (local.get 0) (v128.const i64x2 0 0)))
        (drop (memory.grow $b (memory.size $b)))
        (memory.copy 0 $b (local.get 0) (local.get 0) (local.get 0))
        (memory.init $b $d (local.get 0) (local.get 0) (local.get 0))
        (memory.fill $b (local.get 0) (local.get 0) (local.get 0))))"""))
    imms = [instr.imm for instr in module.codes[0].body if instr.imm is not None]
    assert [imm for imm in imms if isinstance(imm, tuple)] == [
        (2, 4, 1), (0, 0, 3, 1), (0, 1), (0, 1)]
    assert module.datas[0].memory == 1


def test_2_0_has_zero_bytes_for_memory_indices():
    from module_text import wasm
    binary = wasm("(module (memory 1) (memory $b 1) (func (drop (memory.size $b))))")
    with pytest.raises(MalformedModule, match="^zero byte expected \\(at byte"):
        decode_module(binary, version="2.0")
    binary = wasm("(module (memory 1) (memory $b 1) (func (drop (i32.load $b (i32.const 0)))))")
    with pytest.raises(MalformedModule, match="^malformed memop flags \\(at byte"):
        decode_module(binary, version="2.0")


# Memory64 (3.0): limits flag bit 2 makes a memory or table 64-bit; limits and memarg offsets
# are u64s.

def test_memory64_in_the_module():
    from module_text import wasm
    from pywamr.runtime.types import Limits, MemoryType, TableType
    module = decode_module(wasm("""(module
      (memory i64 1 0x1_0000_0000_0000) (table i64 2 funcref) (table 3 funcref)
      (func (drop (i32.load offset=0xffff_ffff_ffff_ffff (i64.const 0)))))"""))
    assert module.memories == [MemoryType(Limits(1, 2**48), "i64")]
    assert module.tables == [TableType("funcref", Limits(2), "i64"),
                             TableType("funcref", Limits(3))]
    assert module.codes[0].body[1].imm == (2, 2**64 - 1, 0)
    assert repr(module.tables[1]) == ("TableType(elem_type='funcref', "
                                      "limits=Limits(min=3, max=None))")     # as before


def test_2_0_has_no_64_bit_limits_or_offsets():
    from module_text import wasm
    with pytest.raises(MalformedModule, match="^integer too large \\(at byte"):
        decode_module(wasm("(module (memory i64 1))"), version="2.0")
    binary = wasm("(module (memory 1) "
                  "(func (drop (i32.load offset=0x1_0000_0000 (i32.const 0)))))")
    with pytest.raises(MalformedModule, match="^integer too large \\(at byte"):
        decode_module(binary, version="2.0")


# Exception handling: how tags and the instructions appear in the Module (runtime/module.py).

def test_exception_handling_in_the_module():
    from module_text import wasm
    from pywamr.runtime.opcodes import CATCH, CATCH_ALL_REF
    module = decode_module(wasm("""(module
      (import "m" "t" (tag $imported (param i64)))
      (tag $e (export "e") (param i32))
      (func (result i32)
        try (result i32) i32.const 1 catch $e catch_all i32.const 2 end drop
        block try nop delegate 0 end
        block $l (result exnref)
          try_table (result i32) (catch $e 1) (catch_all_ref $l) i32.const 3 end
          return
        end
        throw_ref))"""))
    assert [(imp.kind, imp.desc) for imp in module.imports] == [("tag", 0)]
    assert module.tags == [1]
    assert module.tag_type_indices() == [0, 1]
    assert [(exp.name, exp.kind, exp.index) for exp in module.exports] == [("e", "tag", 1)]
    body = [(NAMES_BY_OP.get(op), imm) for op, imm, _ in module.codes[0].body]
    assert body[:6] == [("try", "i32"), ("i32.const", 1), ("catch", 1), ("catch_all", None),
                        ("i32.const", 2), ("end", None)]
    # delegate takes the place of the try's `end`.
    assert body[7:11] == [("block", None), ("try", None), ("nop", None), ("delegate", 0)]
    assert body[11] == ("end", None)
    assert body[13] == ("try_table", ("i32", ((CATCH, 1, 1), (CATCH_ALL_REF, None, 0))))
    assert body[-2] == ("throw_ref", None)


NAMES_BY_OP = {op: name for name, op in NAMES.items()}


def test_rec_groups_and_subtypes_are_kept_on_the_types():
    from module_text import wasm
    from pywamr.runtime.types import TypeGroup
    module = decode_module(wasm("""(module
      (type (func))
      (rec (type $a (func (param (ref null $b)))) (type $b (sub (func))))
      (type (sub final $b (func))))"""))
    assert [t.group for t in module.types] == [
        None, TypeGroup(1, 2), TypeGroup(1, 2, final=False), TypeGroup(3, 1, True, (2,))]
    assert module.types[1].params == ("(ref null 2)",)


def test_exception_handling_is_malformed_in_the_2_0_binary_format():
    from module_text import wasm
    for text, message in [("(module (tag))", "malformed section id"),
                          ('(module (import "m" "t" (tag)))', "malformed import kind"),
                          ("(module (func (throw_ref (ref.null exn))))", "illegal opcode")]:
        decode_module(wasm(text))
        with pytest.raises(MalformedModule, match=message):
            decode_module(wasm(text), "2.0")
