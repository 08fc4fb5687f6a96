"""The `.aot` container: a compiled file reads back as written, and every kind of bad file
(wrong magic, truncated, unknown version, corrupted, another architecture, missing CPU
features) is refused with one clear line, also by `python -m pywamr.loader`."""

import struct
import subprocess
import sys
import zlib
from types import SimpleNamespace

import pytest

from pywamr.compiler.aot_writer import module_metadata, write_aot
from pywamr.loader.aot_file import read_aot
from pywamr.loader.aot_module import AotModule
from pywamr.loader.host import X86_64_FLAGS, cpu_flags, host_arch
from pywamr.runtime import aot_layout
from pywamr.runtime.aot_layout import (CHECKSUM_OFFSET, CHECKSUMMED_FROM, FORMAT_VERSION, HEADER,
                                       MAGIC, SECTION_HEADER, SECTION_MODULE, SECTION_ORDER,
                                       module_interface)
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import AotFormatError
from pywamr.runtime.opcodes import NAMES

import module_text
from loader_objects import compile_wat, wat_to_wasm
from pyiwasm_support import pyiwasm

WAT = """
(module
  (memory (export "memory") 1)
  (data (i32.const 8) "data")
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "rem") (param f64 f64) (result f64)
    (f64.add (f64.nearest (local.get 0)) (f64.mul (local.get 1) (f64.const 0.1)))))
"""


@pytest.fixture(scope="module")
def wasm(tmp_path_factory):
    return wat_to_wasm(WAT, tmp_path_factory.mktemp("format"))


@pytest.fixture(scope="module")
def aot(tmp_path_factory):
    return compile_wat(WAT, tmp_path_factory.mktemp("format"))


def rewrite(aot_bytes, wasm=None, **target_changes):
    """The same file re-written by the writer with the module (and its interface) or some
    target fields changed (a valid checksum, so only the change can be the reason for a
    refusal)."""
    parsed = read_aot(aot_bytes)
    image = SimpleNamespace(sections=parsed.sections, symbols=parsed.symbols,
                            relocations=parsed.relocations)
    target = parsed.target.replace(**target_changes).as_dict()
    return write_aot(decode_module(wasm) if wasm else parsed.module, image, target)


def with_checksum(data):
    data = bytearray(data)
    struct.pack_into("<I", data, CHECKSUM_OFFSET, zlib.crc32(data[CHECKSUMMED_FROM:]))
    return bytes(data)


def refusal(data):
    with pytest.raises(AotFormatError) as error:
        AotModule(data)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_reads_back_what_the_compiler_wrote(aot, wasm):
    parsed = read_aot(aot)
    assert parsed.target.arch == host_arch()
    assert parsed.target.memory_limit == 32768        # the default: 2 GiB
    assert metadata(parsed.module) == metadata(decode_module(wasm))
    assert parsed.module.codes == []
    names = {s.name for s in parsed.symbols if s.section is not None}
    assert {"aot_func_0", "aot_func_1", "aot_array_call_0", "aot_array_call_1"} <= names
    assert parsed.relocations               # at least the constant 0.1 in .rodata
    assert rewrite(aot) == aot            # writer and reader agree byte for byte


def metadata(module):
    """Everything of a Module but its code, in comparable form."""
    def expr(instrs):
        return None if instrs is None else [(i.op, i.imm) for i in instrs]

    return dict(
        types=module.types, funcs=module.funcs, tables=module.tables,
        memories=module.memories, start=module.start, func_names=module.func_names,
        imports=[(i.module, i.name, i.kind, i.desc) for i in module.imports],
        globals=[(g.type, expr(g.init)) for g in module.globals],
        exports=[(e.name, e.kind, e.index) for e in module.exports],
        elems=[(e.mode, e.elem_type, e.table if e.mode == "active" else None, expr(e.offset),
                [expr(i) for i in e.init]) for e in module.elems],
        datas=[(d.mode, d.data, d.memory, expr(d.offset)) for d in module.datas])


# Every kind of import, constant, element and data segment the module section records.
EVERYTHING = """
(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "env" "t" (table 1 10 funcref))
  (import "env" "m" (memory 1 2))
  (import "env" "g" (global $g i32))
  (global $a (mut i64) (i64.const -5))
  (global i32 (i32.const -7))
  (global f32 (f32.const nan:0x200000))
  (global f64 (f64.const -0.5))
  (global v128 (v128.const i32x4 1 2 3 -1))
  (global externref (ref.null extern))
  (global funcref (ref.func $h))
  (global i32 (global.get $g))
  (table $t2 2 externref)
  (elem (i32.const 0) $h)
  (elem funcref (ref.null func) (ref.func $h))
  (elem declare func $start)
  (elem (table $t2) (i32.const 1) externref (ref.null extern))
  (data (i32.const 8) "active")
  (data "passive")
  (func $h (result i32) (i32.const 1))
  (func $start)
  (start $start)
  (export "h" (func $h)) (export "mem" (memory 0)) (export "t2" (table $t2))
  (export "a" (global $a)))
"""


def test_module_section_holds_the_whole_module_but_its_code():
    aot = module_text.aot(EVERYTHING)
    module = read_aot(aot).module
    assert metadata(module) == metadata(decode_module(module_text.wasm(EVERYTHING)))
    assert module.func_names == {0: "f", 1: "h", 2: "start"}
    assert rewrite(aot) == aot


def test_constant_instructions_are_numbered_as_the_instruction_set():
    for name in ("i32.const", "i64.const", "f32.const", "f64.const", "v128.const",
                 "ref.null", "ref.func", "global.get"):
        assert getattr(aot_layout, name.replace(".", "_").upper()) == NAMES[name]


def test_loads_and_runs(aot):
    exports = AotModule(aot).instantiate().exports
    assert exports["add"](2, 3) == 5
    assert exports["rem"](2.5, 0.25) == 2.0 + 0.25 * 0.1
    assert exports["memory"].read(8, 12) == b"data"


def test_wrong_magic(aot, wasm):
    assert refusal(wasm) == "not a .aot file (bad magic)"
    assert refusal(b"") == "not a .aot file (bad magic)"
    assert refusal(b"\x00pyaoT" + aot[6:]) == "not a .aot file (bad magic)"


@pytest.mark.parametrize("length", [3, len(MAGIC), HEADER.size - 1])
def test_truncated_header(aot, length):
    assert refusal(aot[:length]) == f"truncated .aot file ({length} bytes)"


@pytest.mark.parametrize("cut", [1, 100])
def test_truncated_payload(aot, cut):
    assert refusal(aot[:-cut]) == f"truncated .aot file ({len(aot) - cut} of {len(aot)} bytes)"


def test_trailing_bytes(aot):
    assert refusal(aot + b"\0\0") == "corrupted .aot file: 2 unexpected bytes after the end"


@pytest.mark.parametrize("version", [FORMAT_VERSION - 1, FORMAT_VERSION + 1])
def test_other_versions(aot, tmp_path, version):
    """A file of an older or newer loader's format: one line from the API and from pyiwasm
    (exit status 1). Every format change bumps the version (multi-memory 13, memory64 14)."""
    data = bytearray(aot)
    struct.pack_into("<I", data, 8, version)
    message = (f"unsupported .aot format version {version} "
               f"(this loader reads version {FORMAT_VERSION})")
    assert refusal(bytes(data)) == message
    path = tmp_path / "other.aot"
    path.write_bytes(bytes(data))
    done = pyiwasm(path, text=True)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"pyiwasm: error: {path}: {message}"]


@pytest.mark.parametrize("where", [HEADER.size + 3, 0.5, -1])
def test_corrupted_byte(aot, where):
    position = int(len(aot) * where) if isinstance(where, float) else where % len(aot)
    data = bytearray(aot)
    data[position] ^= 0x40
    assert refusal(bytes(data)) == "corrupted .aot file: checksum mismatch"


def test_corrupted_structure_with_a_valid_checksum(aot):
    data = bytearray(aot)
    data[HEADER.size] = 9                       # the first section id
    assert refusal(with_checksum(data)) == "corrupted .aot file: expected section 1, found 9"


@pytest.mark.parametrize("section, expected", [
    (b"\x01\0\0\0\x02\0\0\0\x7f", "parameter types 2 runs past its section"),
    (b"\x01\0\0\0\x01\0\0\0\x55\0\0\0\0", "unknown value type 0x55 in parameter types"),
    (b"\xff\xff\xff\xff", "type count 4294967295 runs past its section"),
])
def test_malformed_module_section(aot, section, expected):
    assert refusal(with_module_section(aot, section)) == f"corrupted .aot file: {expected}"


def test_wrong_architecture(aot):
    other = "aarch64" if host_arch() == "x86_64" else "x86_64"
    assert refusal(rewrite(aot, arch=other)) == \
        f"compiled for {other}, this machine is {host_arch()}"


def test_missing_cpu_feature(aot):
    missing = [name for name, flag in X86_64_FLAGS.items() if flag not in cpu_flags()]
    assert missing, "this CPU has every feature of the table"
    message = refusal(rewrite(aot, features=f"+sse2,+{missing[0]}"))
    assert message == f"compiled for CPU features this machine lacks: +{missing[0]}"


def test_present_cpu_features_are_accepted(aot):
    present = [name for name, flag in X86_64_FLAGS.items() if flag in cpu_flags()]
    AotModule(rewrite(aot, features=",".join("+" + name for name in present)))


def run_cli(path):
    return subprocess.run([sys.executable, "-m", "pywamr.loader", str(path)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("damage, expected", [
    (lambda aot: aot[:-10], "truncated .aot file"),
    (lambda aot: aot[:12] + b"\xff" + aot[13:], "checksum mismatch"),
    (lambda aot: rewrite(aot, arch="aarch64"), "compiled for aarch64, this machine is x86_64"),
])
def test_cli_reports_one_line(aot, tmp_path, damage, expected):
    path = tmp_path / "bad.aot"
    path.write_bytes(damage(aot))
    done = run_cli(path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_bounds_check_mode(aot):
    """A mode this loader does not know could mean code that relies on protection the
    loader does not give: refused with one line."""
    assert "bounds-check mode 'none'" in refusal(rewrite(aot, bounds_checks="none"))


@pytest.mark.parametrize("limit", [0, 65537])
def test_impossible_memory_limit(aot, limit):
    assert f"memory limit of {limit} pages" in refusal(rewrite(aot, memory_limit=limit))


def with_module_section(aot_bytes, module_bytes):
    """The file with the bytes of its module section replaced as they are (with no new
    interface), lengths and checksum made right."""
    data = bytearray(aot_bytes)
    pos = HEADER.size
    for section_id in SECTION_ORDER:
        found, size = SECTION_HEADER.unpack_from(data, pos)
        body = pos + SECTION_HEADER.size
        if found == SECTION_MODULE:
            data[body:body + size] = module_bytes
            SECTION_HEADER.pack_into(data, pos, found, len(module_bytes))
            break
        pos = body + size
    struct.pack_into("<Q", data, 16, len(data) - HEADER.size)
    return with_checksum(data)


def test_module_interface_is_recorded(aot, wasm):
    assert read_aot(aot).target.interface == module_interface(decode_module(wasm)) == (
        "types: i32 i32 -> i32; f64 f64 -> f64\n"
        "functions: 0 imported; types 0 1\n"
        "tables: \n"
        "memories: 1\n"
        "tags: \n"
        "globals: \n"
        "element segments: \n"
        "data segments: 1")


@pytest.mark.parametrize("index, expected", [
    (0, "function names out of order at function 0"),
    (5, "its function names name function 5 of 2"),
])
def test_function_names_of_other_functions(index, expected):
    """Backtraces name functions by these: each name is of a function, once."""
    from pywamr.fuzz.aot_fields import map_aot
    aot = module_text.aot("(module (func $first) (func $second))")
    (f,) = [f for f in map_aot(aot) if f.label == "module.name[1].function"]
    data = aot[:f.start] + index.to_bytes(4, "little") + aot[f.start + f.size:]
    assert refusal(with_checksum(data)) == f"corrupted .aot file: {expected}"


def test_module_section_with_bytes_left_over(aot):
    module = module_metadata(read_aot(aot).module) + b"\0"
    assert refusal(with_module_section(aot, module)) == \
        "corrupted .aot file: section 2 is longer than its contents"


def test_only_function_names_are_kept():
    """What backtraces need of the name section: the function names; not the local names,
    nor other custom sections."""
    text = '(module (func $first (param $x i32)) (func $second) (@custom "note" "x"))'
    assert {name for name, _ in decode_module(module_text.wasm(text)).customs} == \
        {"name", "note"}
    module = read_aot(module_text.aot(text)).module
    assert (module.func_names, module.customs) == ({0: "first", 1: "second"}, [])


def test_module_with_other_index_spaces(aot, tmp_path):
    """Valid, but with a global the code was not compiled for."""
    other = wat_to_wasm(WAT.replace("(memory", "(global i32 (i32.const 0)) (memory"),
                        tmp_path, "other")
    assert refusal(with_module_section(aot, module_metadata(decode_module(other)))) == \
        "corrupted .aot file: its wasm module does not match the code (globals differ)"


def test_memory_starting_above_the_memory_limit(aot, tmp_path):
    """Code compiled for memory up to 2 GiB with a memory that starts bigger: the compiler
    would have given it the 4 GiB limit."""
    bigger = wat_to_wasm(WAT.replace('"memory") 1)', '"memory") 33000)'), tmp_path, "big")
    assert refusal(rewrite(aot, bigger)) == \
        "corrupted .aot file: its memory starts above the code's limit of 32768 pages"
    AotModule(rewrite(aot, bigger, memory_limit=65536))


def test_relocations_are_checked_before_anything_is_mapped(aot, monkeypatch):
    from pywamr.loader import image
    mapped = []
    monkeypatch.setattr(image, "Mapping", lambda *args, **kwargs: mapped.append(args))
    parsed = read_aot(aot)
    bad = parsed.relocations[0].replace(addend=1 << 40)
    data = write_aot(parsed.module,
                     SimpleNamespace(sections=parsed.sections, symbols=parsed.symbols,
                                     relocations=[bad] + parsed.relocations[1:]),
                     parsed.target.as_dict())
    assert "points too far from" in refusal(data)
    assert mapped == []


def test_jump_table_entries_refer_past_their_code(tmp_path):
    """Large code model: each entry of a jump table holds the distance of its case from the
    table's start (R_X86_64_PC64 S + A - P with P - start in A), so late entries' targets
    point past the end of the code, and are not corrupt."""
    cases = 200
    blocks = "".join(f"(block $b{i} " for i in range(cases))
    labels = " ".join(f"$b{i}" for i in range(cases))
    returns = "".join(f") (return (i32.const {i * 7}))" for i in range(cases))
    text = (f'(module (func (export "f") (param i32) (result i32) {blocks}'
            f"(br_table {labels} $b0 (local.get 0)){returns} (i32.const -1)))")
    module = AotModule(compile_wat(text, tmp_path, size_level=0, opt_level=0))
    f = module.instantiate().exports["f"]
    assert [f(i) for i in (0, 1, 150, 199)] == [1393, 1386, 343, 0]


@pytest.mark.parametrize("r_type, word, problem", [
    ("CALL26", 0x94000000, None),                           # bl
    ("JUMP26", 0x94000000, "is not at an instruction"),     # a call is not a jump
    ("LDST16_ABS_LO12_NC", 0x94000000, "is not at an instruction"),
    ("ADR_GOT_PAGE", 0x90000010, None),                     # adrp x16
    ("LD64_GOT_LO12_NC", 0xF9400210, None),                 # ldr x16, [x16]
    ("LDST64_ABS_LO12_NC", 0xF9400210, None),
    ("LDST32_ABS_LO12_NC", 0xF9400210, "is at a 8-byte access, not 4"),
    ("LDST128_ABS_LO12_NC", 0x3DC00020, None),              # ldr q0, [x1]
    ("MOVW_UABS_G1_NC", 0xF2A00000, None),                  # movk x0, #0, lsl 16
    ("MOVW_UABS_G2_NC", 0xF2A00000, "is not at a move of bits 32"),
])
def test_aarch64_relocation_types_match_their_instruction(r_type, word, problem):
    """On AArch64 only the immediate bits are blank, so a relocation type corrupted into
    another is caught by the instruction it would patch."""
    from pywamr.loader.reloc_aarch64 import Reloc, instruction_mismatch
    found = instruction_mismatch(Reloc[r_type], word.to_bytes(4, "little"), 0, True)
    assert found == problem if problem is None else problem in found
