"""Tests of the WebAssembly 2.0 validator (runtime/validator.py).

The official 2.0 spec suite gives most of the coverage (tests/spec, and the message check at the
end of this file). The unit tests cover corners the suite touches only lightly: the unknown
(bottom) type of unreachable code, multi-value blocks, very many locals, and where errors are
reported.
"""

import json
import subprocess

import pytest

from leb128 import uleb
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import InvalidModule
from pywamr.runtime.opcodes import NAMES
from pywamr.runtime.validator import validate
from pywamr.spectest.convert import convert
from pywamr.spectest.runner import default_suite_dir, suite_files


def wat_to_wasm(text, tmp_path):
    """Assemble `text` with wabt, without its own validation, so invalid modules come out."""
    source = tmp_path / "module.wat"
    source.write_text(text)
    output = tmp_path / "module.wasm"
    subprocess.run(["wat2wasm", "--no-check", str(source), "-o", str(output)], check=True,
                   capture_output=True)
    return output.read_bytes()


@pytest.fixture
def check(tmp_path):
    """check(wat) validates the module; check(wat, "message") expects InvalidModule whose
    message starts with "message" and returns it."""
    def check(text, error=None, version="3.0"):
        module = decode_module(wat_to_wasm(text, tmp_path))
        if error is None:
            validate(module, version=version)
            return None
        with pytest.raises(InvalidModule) as caught:
            validate(module, version=version)
        assert caught.value.reason.startswith(error), caught.value.reason
        return caught.value
    return check


def func(body, signature="", locals_=""):
    return f"(module (func {signature} {locals_} {body}))"


# --- Unreachable code: the stack is polymorphic below what the dead code pushed. -------------

def test_unreachable_provides_any_operands(check):
    check(func("unreachable i32.add drop"))
    check(func("unreachable f64.sqrt", "(result f64)"))
    check(func("i32.const 0 return i32.const 1 i32.add", "(result i32)"))


def test_unreachable_still_checks_what_dead_code_pushes(check):
    check(func("unreachable i64.const 0 i32.add drop"), "type mismatch")
    check(func("br 0 i32.const 1"), "type mismatch")       # leftover value at the end
    check(func("unreachable i32.const 0", "(result i64)"), "type mismatch")


def test_select_of_unknown_operands_takes_the_known_type(check):
    check(func("unreachable select i64.const 1 i64.add", "(result i64)"))
    check(func("unreachable i32.const 0 select", "(result f32)"))
    check(func("unreachable i32.const 7 i32.const 0 select", "(result i32)"))
    check(func("unreachable i32.const 7 i32.const 0 select", "(result f32)"), "type mismatch")


def test_untyped_select_rejects_references_even_when_unreachable(check):
    check(func("unreachable ref.null extern i32.const 1 select drop"), "type mismatch")
    check(func("ref.null func ref.null func i32.const 1 select drop"), "type mismatch")
    check(func("ref.null func ref.null func i32.const 1 select (result funcref) drop"))
    check(func("i32.const 1 v128.const i64x2 0 0 i32.const 1 select drop"), "type mismatch")


def test_br_table_with_unknown_operand_matches_labels_of_any_type(check):
    # In 2.0 an unknown operand satisfies both an [i64] and an [i32] label.
    check(func("""(block (result i32) (block (result i64)
                     unreachable br_table 0 1) drop i32.const 0)""", "(result i32)"))
    # A known operand must suit every label.
    check(func("""(block (result i32) (block (result i64)
                     unreachable i32.const 0 i32.const 0 br_table 0 1) drop i32.const 0)""",
               "(result i32)"), "type mismatch")
    check(func("(block (result i32) (block unreachable br_table 0 1) i32.const 0)",
               "(result i32)"), "type mismatch")


def test_br_table_leaves_the_operands_for_every_label(check):
    check(func("""(block (result i32) (block (result i32)
                     i32.const 1 i32.const 0 br_table 0 1) i32.const 2 i32.add)""",
               "(result i32)"))


def test_br_if_in_dead_code_pushes_the_label_types(check):
    check(func("(block (result i64) unreachable br_if 0)", "(result i64)"))
    check(func("(block (result i64) unreachable br_if 0) i32.eqz", "(result i32)"),
          "type mismatch")


# --- Multi-value blocks. ---------------------------------------------------------------------

MULTI = """(module (type $pair (func (param i32 i64) (result i64 i32)))
             (func (result i64 i32) i32.const 1 i64.const 2 %s))"""


def test_block_with_params_and_results(check):
    check(MULTI % "(block (type $pair) (param i32 i64) (result i64 i32) drop drop "
                  "i64.const 3 i32.const 4)")
    check(MULTI % "(block (type $pair) (param i32 i64) (result i64 i32) drop drop "
                  "i32.const 3 i64.const 4)", "type mismatch")


def test_block_params_come_from_the_outer_stack(check):
    check("""(module (type $t (func (param i32) (result i32)))
               (func (result i32) (block (type $t) (param i32) (result i32))))""",
          "type mismatch")


def test_loop_label_takes_the_params(check):
    loop = """(module (type $t (func (param i32) (result i64)))
                (func (result i64) i32.const 1 (loop (type $t) (param i32) (result i64) %s)))"""
    check(loop % "br 0")                      # the i32 param is on the stack again
    check(loop % "drop i64.const 0 br 0", "type mismatch")


def test_if_without_else_must_map_params_to_results(check):
    check("""(module (type $t (func (param i32) (result i32)))
               (func (result i32) i32.const 5 i32.const 1 (if (type $t) (param i32) (result i32)
                 (then i32.const 1 i32.add))))""")
    check("""(module (type $t (func (param i32) (result i64)))
               (func (result i64) i32.const 5 i32.const 1 (if (type $t) (param i32) (result i64)
                 (then i64.extend_i32_u))))""", "type mismatch")


def test_function_with_multiple_results(check):
    check(func("i32.const 1 f64.const 2", "(result i32 f64)"))
    check(func("f64.const 2 i32.const 1", "(result i32 f64)"), "type mismatch")
    check(func("i32.const 1 f64.const 2 return", "(result i32 f64)"))


# --- Index spaces and module-level rules. ----------------------------------------------------

def test_ref_func_needs_a_declaration(check):
    body = "(func $f) (func (result funcref) ref.func $f)"
    check(f"(module {body})", "undeclared function reference")
    check(f"(module {body} (elem declare func $f))")
    check(f"(module {body} (export \"f\" (func $f)))")
    check(f"(module {body} (global funcref (ref.func $f)))")


def test_constant_expressions_in_2_0_see_only_imported_immutable_globals(check):
    check("""(module (import "m" "g" (global i32)) (global i32 (global.get 0)))""",
          version="2.0")
    check("""(module (global i32 (i32.const 0)) (global i32 (global.get 0)))""",
          "unknown global", version="2.0")
    check("""(module (import "m" "g" (global (mut i32))) (global i32 (global.get 0)))""",
          "constant expression required", version="2.0")
    check("""(module (global i32 (i32.const 0) (i32.const 1) (i32.add)))""",
          "constant expression required", version="2.0")
    check("""(module (global i64 (i32.const 0)))""", "type mismatch", version="2.0")
    check("""(module (memory 1) (data (i64.const 0) "x"))""", "type mismatch", version="2.0")


def test_extended_constant_expressions(check):
    """3.0: i32/i64 add, sub and mul, and global.get of the immutable globals defined before
    (a global's initialiser) or of any (a segment's offset)."""
    check("""(module (global i32 (i32.const 0)) (global i32 (global.get 0)))""")
    check("""(module (global i32 (global.get 1)) (global i32 (i32.const 0)))""",
          "unknown global 1")
    check("""(module (global (mut i32) (i32.const 0)) (global i32 (global.get 0)))""",
          "constant expression required")
    check("""(module (global i64 (i64.const 2) (i64.const 3) (i64.mul) (i64.const 1) (i64.sub)))""")
    check("""(module (global i32 (i32.const 0) (i32.const 1) (i32.div_u)))""",
          "constant expression required")
    check("""(module (global i32 (i64.const 0) (i32.const 1) (i32.add)))""", "type mismatch")
    check("""(module (memory 1) (global i32 (i32.const 8))
                     (data (i32.add (global.get 0) (i32.const 4)) "x"))""")
    check("""(module (memory 1) (global (mut i32) (i32.const 8)) (data (global.get 0) "x"))""",
          "constant expression required")


def test_many_locals_are_indexed_without_expanding_them(check):
    locals_ = "(local " + "i32 " * 70000 + "i64)"
    check(func("local.get 70001 drop", "(param f32)", locals_))
    check(func("local.get 70001 i64.eqz drop local.get 0 f32.neg drop "
               "local.get 1 i32.eqz drop", "(param f32)", locals_))
    check(func("local.get 70002 drop", "(param f32)", locals_), "unknown local 70002")
    check(func("local.get 70001 i32.eqz drop", "(param f32)", locals_), "type mismatch")


def one_function_module(params, locals_, body):
    """A module with one function of type [params] -> []; `locals_` is [(count, type byte)]
    and `body` the instruction bytes without the final `end`."""
    def section(section_id, payload):
        return bytes([section_id]) + uleb(len(payload)) + payload

    code = uleb(len(locals_)) + b"".join(uleb(n) + bytes([t]) for n, t in locals_) + body + b"\x0b"
    return (b"\0asm\1\0\0\0"
            + section(1, bytes([1, 0x60, len(params), *params, 0]))
            + section(3, bytes([1, 0]))
            + section(10, bytes([1]) + uleb(len(code)) + code))


def test_four_billion_locals():
    i32, i64 = 0x7F, 0x7E
    locals_ = [(0xFFFFFFF0, i32), (1, i64)]
    get_last = b"\x20" + uleb(0xFFFFFFF1)      # local.get of the i64, after one param
    data = one_function_module([i64], locals_, get_last + b"\x50\x1a")      # i64.eqz drop
    validate(decode_module(data))
    data = one_function_module([i64], locals_, get_last + b"\x45\x1a")      # i32.eqz drop
    with pytest.raises(InvalidModule, match="type mismatch"):
        validate(decode_module(data))
    data = one_function_module([i64], locals_, b"\x20" + uleb(0xFFFFFFF2) + b"\x1a")
    with pytest.raises(InvalidModule, match="unknown local"):
        validate(decode_module(data))


def test_alignment_larger_than_natural(check):
    memory = "(module (memory 1) (func i32.const 0 %s drop))"
    check(memory % "i64.load align=8")
    check(memory % "i64.load32_s align=8", "alignment must not be larger than natural")
    check(memory % "v128.load64_splat align=16", "alignment must not be larger than natural")


def test_table_instructions_check_element_types(check):
    tables = "(module (table $f 1 funcref) (table $e 1 externref) (func %s))"
    check(tables % "(table.copy $f $f (i32.const 0) (i32.const 0) (i32.const 0))")
    check(tables % "(table.copy $f $e (i32.const 0) (i32.const 0) (i32.const 0))",
          "type mismatch")
    check(tables % "(drop (table.grow $e (ref.null extern) (i32.const 1)))")
    check(tables % "(drop (table.grow $e (ref.null func) (i32.const 1)))", "type mismatch")
    check(tables % "(call_indirect $e (i32.const 0))", "type mismatch")


def test_lane_indices(check):
    check(func("v128.const i64x2 0 0 i64x2.extract_lane 1 drop"))
    check(func("v128.const i64x2 0 0 i64x2.extract_lane 2 drop"), "invalid lane index")
    check(func("v128.const i64x2 0 0 f32.const 0 f32x4.replace_lane 4 drop"),
          "invalid lane index")


# --- Where errors are reported. --------------------------------------------------------------

def test_error_names_the_function_and_the_instruction_offset(tmp_path):
    data = wat_to_wasm("""(module (import "m" "f" (func))
                            (func) (func i32.const 1 i64.const 2 i32.add drop))""", tmp_path)
    module = decode_module(data)
    with pytest.raises(InvalidModule) as caught:
        validate(module)
    add = next(instr for instr in module.codes[1].body if instr.op == NAMES["i32.add"])
    assert caught.value.func_index == 2
    assert caught.value.offset == add.offset
    assert data[add.offset] == NAMES["i32.add"]
    assert str(caught.value) == ("type mismatch: instruction requires [i32 i32] but stack has "
                                 f"[i32 i64] (in function 2, at byte offset {add.offset:#x})")


def test_error_in_a_constant_expression_has_its_offset(tmp_path):
    data = wat_to_wasm("(module (global i32 (i32.const 0) (nop)))", tmp_path)
    module = decode_module(data)
    with pytest.raises(InvalidModule) as caught:
        validate(module)
    assert caught.value.reason == "constant expression required"
    assert caught.value.func_index is None
    assert data[caught.value.offset] == NAMES["nop"]


# --- The official WebAssembly 2.0 test suite. ------------------------------------------------
# tests/spec runs every file through the spec-test runner, which checks that assert_invalid
# modules are rejected but only reports message differences; here the message must match.

def test_spec_invalid_modules_get_the_spec_message():
    checked, wrong = 0, []
    for wast in suite_files(default_suite_dir()):
        script = convert(wast)
        for command in json.loads(script.read_text())["commands"]:
            if command["type"] != "assert_invalid" or command["module_type"] != "binary":
                continue
            module = decode_module((script.parent / command["filename"]).read_bytes())
            try:
                validate(module, version="2.0")
                wrong.append(f"{wast.name}:{command['line']}: accepted")
            except InvalidModule as error:
                if not error.reason.startswith(command["text"]):
                    wrong.append(f"{wast.name}:{command['line']}: {error.reason!r}, "
                                 f"expected {command['text']!r}")
            checked += 1
    assert checked > 0
    assert not wrong, "\n".join(wrong)


def test_a_second_memory_is_valid_in_3_0_only(check):
    check("(module (memory 1) (memory 1))", "multiple memories", version="2.0")
    check("(module (memory 1) (memory 1))")
    check("(module (memory 1) (func (drop (memory.size 1))))", "unknown memory 1")


def test_tail_calls_return_what_the_function_returns(check):
    check("""(module (func $f (param i32) (result i32) (return_call $f (local.get 0))))""")
    check("""(module (func $f (result i64) (return_call $g))
                     (func $g (result i32) (i32.const 0)))""",
          "type mismatch: tail call returns [i32] but the function returns [i64]")
    check("""(module (type $t (func (result i32))) (table 1 funcref)
                     (func (result i32) (return_call_indirect (type $t) (i32.const 0)))
                     (func (return_call_indirect (type $t) (i32.const 0))))""",
          "type mismatch: tail call returns [i32] but the function returns []")
    check("""(module (func (return_call 5)))""", "unknown function 5")
    # The stack after a tail call is polymorphic, as after return.
    check("""(module (func $f (result i32) (return_call $f) (i32.add)))""")


# --- Exception handling ---------------------------------------------------------------------

@pytest.fixture
def check_wat():
    """As `check`, with modules assembled by wasm-tools, which has try_table and exnref
    (wabt does not) and does not validate either."""
    from module_text import wasm

    def check(text, error=None):
        module = decode_module(wasm(text))
        if error is None:
            validate(module)
            return
        with pytest.raises(InvalidModule) as caught:
            validate(module)
        assert caught.value.reason.startswith(error), caught.value.reason
    return check


def test_tags_are_typed_by_a_function_type_without_results(check_wat):
    check_wat("(module (tag (param i32 f64)) (func (throw 0 (i32.const 1) (f64.const 2))))")
    check_wat("(module (type (func (result i32))) (tag (type 0)))", "non-empty tag result type")
    check_wat("(module (func (throw 0)))", "unknown tag 0")
    check_wat("(module (tag (param i32)) (func (throw 0 (i64.const 1))))", "type mismatch")


def test_catch_clauses_must_fit_their_labels(check_wat):
    check_wat("""(module (tag (param i32))
               (func (result i32 exnref)
                 (block (result i32 exnref)
                   (try_table (catch_ref 0 0) (throw 0 (i32.const 1))) unreachable)))""")
    check_wat("""(module (tag (param i32))
               (func (result i64) (try_table (catch 0 0) (throw 0 (i32.const 1))) unreachable))""",
          "type mismatch: catch handler passes [i32] to a label of [i64]")
    check_wat("""(module (func (block (result exnref) (try_table (catch_all 0))) drop))""",
          "type mismatch: catch handler passes [] to a label of [exnref]")
    # A nullexnref is an exnref; a (ref exn) is a nullable one too, but not the reverse.
    check_wat("(module (func (param nullexnref) (throw_ref (local.get 0))))")
    check_wat("(module (func (param exnref) (result (ref exn)) (local.get 0)))", "type mismatch")


def test_legacy_try_frames(check_wat):
    check_wat("""(module (tag (param i32))
               (func (result i32) try (result i32) i32.const 1 catch 0 catch_all i32.const 2 end))""")
    check_wat("""(module (func (result i32) try (result i32) i32.const 1 catch_all rethrow 0 end))""")
    check_wat("(module (func block rethrow 0 end))", "invalid rethrow label")
    check_wat("""(module (func (result i32) try (result i32) i32.const 1 catch_all end))""",
          "type mismatch")
