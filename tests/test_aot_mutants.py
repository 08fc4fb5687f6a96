"""Corrupted `.aot` files with a valid checksum (issue #13): each kind of corruption the loader
can tell from the compiler's output is refused with one line and exit status 1, before
anything is mapped; and a batch of random mutants (fuzz/aot_mutants.py) ends in no
traceback, internal error or hang. Every file runs as `pyiwasm FILE` in a forked child, so
a missing check shows up as a crash of that child, not of the tests."""

import pytest

from pywamr.fuzz.aot_fields import map_aot, pack_int
from pywamr.fuzz.aot_mutants import run, run_mutant, with_checksum

from loader_objects import compile_wat

# A WASI program using what the loader instantiates from the module: an import, a table
# filled by an element segment and called through, globals, a data segment, a memory export,
# float constants (prelinked into the code on x86_64: compiler/prelink.py), and a libc call
# (memmove).
SAMPLE = """
(module
  (type $unary (func (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (global $counter (mut i32) (i32.const 0))
  (global $half f64 (f64.const 0.5))
  (table 2 funcref)
  (elem (i32.const 0) $twice $thrice)
  (data (i32.const 16) "mutant\\n")
  (func $twice (type $unary) (i32.mul (local.get 0) (i32.const 2)))
  (func $thrice (type $unary) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "_start")
    (memory.copy (i32.const 64) (i32.const 16) (i32.load8_u (i32.const 22)))
    (global.set $counter (call_indirect (type $unary) (i32.const 7) (i32.const 1)))
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 7))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit
      (i32.sub
        (i32.trunc_f64_s
          (f64.mul (f64.mul (f64.convert_i32_s (global.get $counter)) (global.get $half))
                   (f64.const 0.1)))
        (i32.const 1)))))
"""


@pytest.fixture(scope="module")
def aot(tmp_path_factory):
    return compile_wat(SAMPLE, tmp_path_factory.mktemp("mutants"), "sample")


def pyiwasm(tmp_path, data):
    """(outcome, first line of stderr, stdout) of `pyiwasm FILE` on `data`."""
    path = tmp_path / "mutant.aot"
    path.write_bytes(data)
    outcome, _, message, stdout = run_mutant(path)
    return outcome, message, stdout


def field(aot, label):
    matches = [f for f in map_aot(aot) if f.label == label]
    assert len(matches) == 1, f"{label}: {len(matches)} fields"
    return matches[0]


def with_field(aot, label, value):
    """`aot` with one field set (the checksum recomputed)."""
    f = field(aot, label)
    raw = pack_int(f.kind, value, f.size)
    assert raw is not None, f"{value} does not fit {label}"
    return with_checksum(aot[:f.start] + raw + aot[f.start + f.size:])


def symbol(aot, name):
    """The label prefix of the symbol called `name`, e.g. `symbol[4]`."""
    from pywamr.loader.aot_file import read_aot
    names = [s.name for s in read_aot(aot).symbols]
    return f"symbol[{names.index(name)}]"


def labelled(aot, prefix, value):
    """The label of the only field starting with `prefix` that holds `value`."""
    labels = [f.label for f in map_aot(aot) if f.label.startswith(prefix) and f.value == value]
    assert labels, f"no {prefix} holds {value}"
    return labels[0]


def test_the_sample_runs(aot, tmp_path):
    assert pyiwasm(tmp_path, aot) == ("ok", "", "mutant\n")


def refused(tmp_path, data, expected):
    outcome, message, _ = pyiwasm(tmp_path, data)
    assert (outcome, expected in message) == ("error", True), message
    assert message.startswith("pyiwasm: error: ")


def relocation_to(aot, symbol_name):
    """The label prefix of the first relocation against `symbol_name`."""
    from pywamr.loader.aot_file import read_aot
    parsed = read_aot(aot)
    for i, r in enumerate(parsed.relocations):
        if parsed.symbols[r.symbol].name.startswith(symbol_name):
            return f"relocation[{i}]", r, parsed
    raise AssertionError(f"no relocation against {symbol_name}")


@pytest.mark.parametrize("label, value", [
    ("module.global.count", 1), ("module.global.count", 3), ("module.type.count", 3),
    ("module.export.count", 1), ("module.element[0].init.count", 3),
])
def test_module_count_changed(aot, tmp_path, label, value):
    """The records after the count are misread: the code would index cells that are not
    there, or call functions of other types."""
    refused(tmp_path, with_field(aot, label, value), "corrupted .aot file: ")


@pytest.mark.parametrize("label, value, expected", [
    ("module.element[0].init[1][0].value", 99, "invalid: unknown function 99"),
    ("module.export[1].index", 99, "invalid: unknown function 99"),
    ("module.export[0].index", 1, "invalid: unknown memory 1"),
    # global.get 0: an offset may read any immutable global, but $counter is mutable; a
    # global's initialiser only those before it.
    ("module.element[0].offset[0].op", 0x23, "invalid: constant expression required"),
    ("module.global[0].init[0].op", 0x23, "invalid: unknown global 0"),
    ("module.global[1].valtype", 0x7E, "invalid: type mismatch"),
    ("module.element[0].table", 1, "invalid: unknown table 1"),
    ("module.data[0].memory", 1, "invalid: unknown memory 1"),
    ("module.start", 0, "invalid: start function must not have parameters or results"),
    ("module.start", 5, "invalid: unknown function 5"),
    ("module.memory[0].limits.min", 70000, "invalid: memory size must be at most 65536"),
    ("module.memory[0].limits.flags", 1, "invalid: size minimum must not be greater"),
    # made 64-bit: its data segment's offset is an i32 (and the code's interface 32-bit)
    ("module.memory[0].limits.flags", 4, "invalid: type mismatch"),
])
def test_invalid_module(aot, tmp_path, label, value, expected):
    refused(tmp_path, with_field(aot, label, value), f"its wasm module is {expected}")


def test_duplicate_export_name(aot, tmp_path):
    f = field(aot, "module.export[1].name")
    assert aot[f.start:f.start + f.size] == b"_start"
    renamed = with_checksum(aot[:f.start] + b"memory" + aot[f.start + f.size:])
    refused(tmp_path, renamed, "its wasm module is invalid: duplicate export name 'memory'")


@pytest.mark.parametrize("label, value, expected", [
    ("module.global[0].init[0].high", 1,
     "global initialiser holds 0x10000000000000000, more than 32 bits"),
    ("module.global[0].init[0].value", 1 << 32,
     "global initialiser holds 0x100000000, more than 32 bits"),
    ("module.global[0].init[0].op", 0x20,
     "global initialiser has opcode 0x20, not a constant instruction"),
    ("module.element[0].mode", 3, "unknown element segment mode 3"),
    ("module.import[0].kind", 7, "unknown import kind 7"),
    ("module.table[0].limits.flags", 2, "limits with flags 2 and maximum 0"),
    ("module.table[0].limits.max", 5, "limits with flags 0 and maximum 5"),
    ("module.type[0].params[0]", 0x55, "unknown value type 0x55 in parameter types"),
])
def test_malformed_module_fields(aot, tmp_path, label, value, expected):
    refused(tmp_path, with_field(aot, label, value), f"corrupted .aot file: {expected}")


@pytest.mark.parametrize("label, value", [
    ("module.export[1].index", 2),          # $twice, which takes an argument
    ("module.export[1].kind", 2),           # memory 4: invalid
])
def test_start_export_of_another_type(aot, tmp_path, label, value):
    """A valid module whose _start is not a WASI command's: one line, not a TypeError."""
    outcome, message, _ = pyiwasm(tmp_path, with_field(aot, label, value))
    assert outcome == "error", message
    assert "its _start export is not a function of type [] -> []" in message \
        or "is invalid: unknown memory 4" in message, message


@pytest.mark.parametrize("kind", [0, 1, 3])
def test_memory_export_of_another_kind(aot, tmp_path, kind):
    """WASI reads the program's buffers through its "memory" export."""
    refused(tmp_path, with_field(with_field(aot, "module.export[0].kind", kind),
                                 "module.export[0].index", 0),
            "its memory export is not a memory")


def test_start_exported_as_a_memory(aot, tmp_path):
    data = with_field(with_field(aot, "module.export[1].kind", 2), "module.export[1].index", 0)
    refused(tmp_path, data, "its _start export is not a function of type [] -> []")


@pytest.mark.parametrize("label, value, what", [
    ("module.global[0].mutable", 0, "globals"),
    ("module.type[0].results[0]", 0x7E, "types"),
    ("module.table[0].reftype", 0x6F, "tables"),
    ("module.import[1].type", 0, "functions"),
    ("module.function[0].type", 1, "functions"),
])
def test_module_that_is_not_the_codes(aot, tmp_path, label, value, what):
    """Valid, but not the module the code was compiled for."""
    outcome, message, _ = pyiwasm(tmp_path, with_field(aot, label, value))
    assert outcome == "error", message
    assert "does not match the code" in message or "is invalid" in message, message


def test_module_that_is_not_the_codes_names_the_index_space(aot, tmp_path):
    refused(tmp_path, with_field(aot, "module.global[0].mutable", 0),
            "its wasm module does not match the code (globals differ)")


def test_huge_section_size(aot, tmp_path):
    refused(tmp_path, with_field(aot, "object[0].size", 576460752303431680),
            "makes the object bigger than 1024 MiB")


@pytest.mark.parametrize("label, value, expected", [
    ("object[0].align", 3, "has alignment 3"),
    ("object[0].align", 1 << 20, "has alignment 1048576"),
    ("object[0].flags", 3, "is both writable and executable"),
    ("object[0].flags", 0x81, "unknown flags"),
    ("object[0].flags", 0, "aot_import_0 is not in executable code"),
])
def test_object_section_fields(aot, tmp_path, label, value, expected):
    refused(tmp_path, with_field(aot, label, value), expected)


def test_symbol_offset_out_of_range(aot, tmp_path):
    size = field(aot, "object[0].size").value
    refused(tmp_path, with_field(aot, f"{symbol(aot, 'aot_func_2')}.offset", size + 1),
            "lies outside the object's sections")


def test_symbol_section_out_of_range(aot, tmp_path):
    refused(tmp_path, with_field(aot, f"{symbol(aot, 'aot_func_2')}.section", 7),
            "lies outside the object's sections")


def test_external_symbol_with_an_offset(aot, tmp_path):
    refused(tmp_path, with_field(aot, f"{symbol(aot, 'memmove')}.offset", 16),
            "external symbol 'memmove' has offset 0x10")


def test_external_symbol_turned_into_a_defined_one(aot, tmp_path):
    """A call to memmove would land on whatever function is at offset 0 of the code."""
    refused(tmp_path, with_field(aot, f"{symbol(aot, 'memmove')}.section", 0),
            "the object defines 'memmove', which the loader provides")


def test_function_symbol_misaligned(aot, tmp_path):
    label = f"{symbol(aot, 'aot_func_3')}.offset"
    refused(tmp_path, with_field(aot, label, field(aot, label).value + 1),
            "aot_func_3 is not aligned as the compiler aligns functions")


@pytest.mark.parametrize("name, onto", [("aot_func_4", "aot_func_2"),
                                        ("aot_array_call_0", "aot_import_0")])
def test_function_symbol_moved_onto_another(aot, tmp_path, name, onto):
    other = field(aot, f"{symbol(aot, onto)}.offset").value
    refused(tmp_path, with_field(aot, f"{symbol(aot, name)}.offset", other),
            f"starts where {onto} does")


def test_function_symbol_in_data(aot, tmp_path):
    from pywamr.loader.aot_file import read_aot
    data = next(i for i, s in enumerate(read_aot(aot).sections) if not s.executable)
    refused(tmp_path, with_field(aot, f"{symbol(aot, 'aot_import_0')}.section", data),
            "aot_import_0 is not in executable code")


def test_missing_function_symbol(aot, tmp_path):
    f = field(aot, f"{symbol(aot, 'aot_func_4')}.name")
    renamed = with_checksum(aot[:f.start] + b"xot_" + aot[f.start + 4:])
    refused(tmp_path, renamed, "the object does not define aot_func_4")


def test_function_symbol_defined_twice(aot, tmp_path):
    f = field(aot, f"{symbol(aot, 'aot_func_4')}.name")
    renamed = with_checksum(aot[:f.start + f.size - 1] + b"3" + aot[f.start + f.size:])
    refused(tmp_path, renamed, "the object defines 'aot_func_3' twice")


def test_relocation_offset_out_of_range(aot, tmp_path):
    size = field(aot, "object[0].size").value
    refused(tmp_path, with_field(aot, "relocation[0].offset", size),
            "lies outside its section")
    refused(tmp_path, with_field(aot, "relocation[0].offset", size - 2),
            "does not fit its section")


def test_relocation_moved_onto_code(aot, tmp_path):
    """The change that used to hang: a call's rel32 patched into the middle of other code."""
    offset = field(aot, "relocation[0].offset").value
    outcome, message, _ = pyiwasm(tmp_path, with_field(aot, "relocation[0].offset",
                                                       offset + 1))
    assert outcome == "error" and ("patches code" in message or "overlaps" in message), message


def test_relocations_overlap(aot, tmp_path):
    refused(tmp_path, with_field(aot, "relocation[1].offset",
                                 field(aot, "relocation[0].offset").value), "overlaps")


def test_relocation_addend_out_of_range(aot, tmp_path):
    """The change that used to crash: a call to 64 KiB past the function."""
    prefix, r, _ = relocation_to(aot, ".text")      # the unwind tables' first pointer
    refused(tmp_path, with_field(aot, f"{prefix}.addend", r.addend + 0x10000),
            "points too far from")
    prefix, r, _ = relocation_to(aot, "memmove")
    refused(tmp_path, with_field(aot, f"{prefix}.addend", r.addend + 0x10000),
            "points too far from")


def test_call_that_lands_inside_a_function(aot, tmp_path):
    prefix, r, _ = relocation_to(aot, "memmove")
    refused(tmp_path, with_field(aot, f"{prefix}.addend", r.addend + 8), "branches to")


def test_call_turned_into_a_data_reference(aot, tmp_path):
    """PLT32 -> PC32 at a call: the field is blank either way, the instruction tells."""
    from pywamr.loader.host import host_arch
    if host_arch() != "x86_64":
        pytest.skip("x86_64 relocation numbers")
    prefix, r, _ = relocation_to(aot, "memmove")
    refused(tmp_path, with_field(aot, f"{prefix}.type", 2), "is not at a RIP-relative operand")


def test_got_reference_with_another_addend(aot, tmp_path):
    prefix, r, _ = relocation_to(aot, "pywamr_guard_state")
    refused(tmp_path, with_field(aot, f"{prefix}.addend", r.addend - 4), "has addend")


@pytest.mark.parametrize("part, value, expected", [
    ("symbol", 1000, "names symbol 1000 of"),
    ("section", 9, "lies outside its section"),
    ("type", 0, "unsupported relocation type 0"),
    ("type", 23, "unsupported relocation type 23 (R_X86_64_TPOFF32)"),
    ("type", 13, "unsupported relocation type 13 (R_X86_64_PC16)"),
    ("reserved", 1, "has a reserved field of 0x1"),
])
def test_relocation_fields(aot, tmp_path, part, value, expected):
    from pywamr.loader.host import host_arch
    if part == "type" and host_arch() != "x86_64":
        pytest.skip("x86_64 relocation numbers")
    refused(tmp_path, with_field(aot, f"relocation[0].{part}", value), expected)


@pytest.mark.parametrize("label, value, expected", [
    ("target.opt_level", 9, "opt level 9"),
    ("target.memory_limit", 70000, "memory limit of 70000 pages"),
])
def test_target_fields(aot, tmp_path, label, value, expected):
    refused(tmp_path, with_field(aot, label, value), expected)


def test_unknown_code_model(aot, tmp_path):
    f = field(aot, "target.code_model")
    assert aot[f.start:f.start + f.size] == b"small"
    renamed = with_checksum(aot[:f.start] + b"smell" + aot[f.start + f.size:])
    refused(tmp_path, renamed, "unknown code model 'smell'")


@pytest.mark.parametrize("cut", [30, 200, -40])
def test_truncated_with_a_valid_checksum(aot, tmp_path, cut):
    data = bytearray(aot[:cut])
    data[16:24] = (len(data) - 24).to_bytes(8, "little")
    outcome, message, _ = pyiwasm(tmp_path, with_checksum(bytes(data)))
    assert outcome == "error" and "corrupted .aot file" in message, message


def test_random_mutants(aot, tmp_path):
    """A fixed batch: none may end in a traceback, an internal error or a hang; crashes may
    come only from changes a check cannot tell from the compiler's output (docs/aot-format.md,
    "Trust")."""
    results = run(aot, 200, seed="ci", workdir=tmp_path)
    bad = [r for r in results if r["outcome"] in ("internal", "hang")]
    assert not bad, bad
    crashes = [r for r in results if r["outcome"] == "crash"]
    assert len(crashes) <= 4, crashes
    for r in crashes:
        assert any(part in r["mutation"] for part in (".addend", ".offset", ".symbol")), r
