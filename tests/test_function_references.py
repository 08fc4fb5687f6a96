"""Typed function references on both engines: call_ref and return_call_ref through typed
tables, globals and locals, br_on_null and br_on_non_null, ref.as_non_null and its trap,
typed select, function types that match across modules by structure, and the validator's
rules (subtyping, non-nullable locals). The spec files are run by tests/spec."""

import pytest

from module_text import wasm
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import InvalidModule, LinkError, MalformedModule, Trap
from pywamr.runtime.interp import Module as InterpModule
from pywamr.runtime.validator import validate

MODULE = """
(module
  (type $unary (func (param i64) (result i64)))
  (type $unary_again (func (param i64) (result i64)))
  (type $apply (func (param (ref $unary)) (param i64) (result i64)))
  (func $double (export "double") (type $unary) (i64.mul (local.get 0) (i64.const 2)))
  (func $negate (type $unary_again) (i64.sub (i64.const 0) (local.get 0)))
  (table $ops 2 (ref $unary) (ref.func $double))
  (global $op (mut (ref null $unary)) (ref.null $unary))
  (elem declare func $double $negate)
  (func (export "through_table") (param $i i32) (param $x i64) (result i64)
    (call_ref $unary (local.get $x) (table.get $ops (local.get $i))))
  (func (export "set_negate") (table.set $ops (i32.const 1) (ref.func $negate)))
  (func (export "through_global") (param $x i64) (result i64)
    (call_ref $unary (local.get $x) (global.get $op)))
  (func (export "set_global") (global.set $op (ref.func $double)))
  (func $apply (export "apply") (type $apply) (call_ref $unary (local.get 1) (local.get 0)))
  (func (export "apply_double") (param i64) (result i64)
    (call $apply (ref.func $double) (local.get 0)))
  (func (export "pick") (param $which i32) (param $x i64) (result i64)
    (local $f (ref $unary))
    (local.set $f (select (result (ref $unary)) (ref.func $double) (ref.func $negate)
                          (local.get $which)))
    (call_ref $unary (local.get $x) (local.get $f)))
  (func (export "or_minus_one") (param $x i64) (result i64)
    (block $null
      (return (call_ref $unary (local.get $x) (br_on_null $null (global.get $op)))))
    (i64.const -1))
  (func (export "is_set") (result i32)
    (block $set (result (ref $unary))
      (br_on_non_null $set (global.get $op))
      (return (i32.const 0)))
    (drop)
    (i32.const 1))
  (func (export "as_non_null") (param $x i64) (result i64)
    (call_ref $unary (local.get $x) (ref.as_non_null (global.get $op))))
  (func $count (export "count") (param $n i64) (param $acc i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call_ref $count_type
              (i64.sub (local.get $n) (i64.const 1)) (i64.add (local.get $acc) (i64.const 1))
              (ref.func $count)))))
  (type $count_type (func (param i64 i64) (result i64)))
  (elem declare func $count)
  (func (export "indirect_mismatch") (result i64)
    (call_indirect $funcs (type $unary) (i64.const 1) (i32.const 0)))
  (table $funcs funcref (elem $apply)))
"""

# Imports a function whose type names another type, declared in another order: it links.
CLIENT = """
(module
  (type $other (func (param f32)))
  (type $unary (func (param i64) (result i64)))
  (type $apply (func (param (ref $unary)) (param i64) (result i64)))
  (import "m" "apply" (func $apply (type $apply)))
  (import "m" "double" (func $double (type $unary)))
  (elem declare func $double)
  (func (export "run") (param i64) (result i64) (call $apply (ref.func $double) (local.get 0))))
"""

# Expects a funcref parameter where the export takes a (ref $unary): it does not link.
MISMATCH = """
(module
  (import "m" "apply" (func (param funcref i64) (result i64))))
"""


def aot_module(text, opt):
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    from pywamr.loader.aot_module import AotModule
    return AotModule(compile_wasm(wasm(text), CompileOptions(opt_level=opt)))


ENGINES = {"interp": lambda text: InterpModule(wasm(text)),
           "aot-O0": lambda text: aot_module(text, 0),
           "aot-O3": lambda text: aot_module(text, 3)}


@pytest.fixture(params=ENGINES)
def load(request):
    return ENGINES[request.param]


def exported(module, *names):
    """Export the functions `names` of `module` under the names the client imports."""
    return {"m": {name: module[name] for name in names}}


def test_calls_through_typed_tables_globals_and_locals(load):
    exports = load(MODULE).instantiate({}).exports
    assert exports["through_table"](0, 21) == 42
    with pytest.raises(Trap, match="out of bounds table access"):
        exports["through_table"](2, 1)
    exports["set_negate"]()
    assert exports["through_table"](1, 5) == -5
    assert exports["apply_double"](4) == 8
    assert exports["pick"](1, 3) == 6 and exports["pick"](0, 3) == -3


def test_null_references_branch_or_trap(load):
    exports = load(MODULE).instantiate({}).exports
    assert exports["or_minus_one"](3) == -1 and exports["is_set"]() == 0
    with pytest.raises(Trap, match="null function reference"):
        exports["through_global"](1)
    with pytest.raises(Trap, match="null reference"):
        exports["as_non_null"](1)
    exports["set_global"]()
    assert exports["or_minus_one"](3) == 6 and exports["is_set"]() == 1
    assert exports["through_global"](5) == 10 and exports["as_non_null"](7) == 14


def test_python_cannot_pass_null_where_the_type_is_not_nullable(load):
    apply = load(MODULE).instantiate({}).exports["apply"]
    with pytest.raises(TypeError, match="expected a non-null reference for"):
        apply(None, 1)


def test_return_call_ref_runs_in_constant_stack(load):
    assert load(MODULE).instantiate({}).exports["count"](300_000, 0) == 300_000


def test_call_indirect_tells_typed_parameters_apart(load):
    with pytest.raises(Trap, match="indirect call type mismatch"):
        load(MODULE).instantiate({}).exports["indirect_mismatch"]()


def test_function_types_match_across_modules_by_structure(load):
    exports = load(MODULE).instantiate({}).exports
    linked = exported(exports, "apply", "double")
    assert load(CLIENT).instantiate(linked).exports["run"](5) == 10
    with pytest.raises(LinkError, match="incompatible import type: m.apply"):
        load(MISMATCH).instantiate(linked)


@pytest.mark.parametrize("body, message", [
    ("(local $x (ref extern)) (drop (local.get $x))", "uninitialized local"),
    ("(param $p (ref extern)) (local $x (ref extern))"
     " (block (local.set $x (local.get $p))) (drop (local.get $x))", "uninitialized local"),
    ("(param $p funcref) (drop (call_ref $t (local.get $p)))", "type mismatch"),
    ("(param $p (ref null $t)) (result (ref $t)) (local.get $p)", "type mismatch"),
    ("(param $p externref) (drop (ref.as_non_null (i32.const 0)))", "type mismatch"),
    ("(drop (ref.null 7))", "unknown type 7"),
])
def test_validation_rules(body, message):
    text = f"(module (type $t (func)) (func {body}))"
    with pytest.raises(InvalidModule, match=message):
        validate(decode_module(wasm(text)))


@pytest.mark.parametrize("body", [
    "(param $p (ref $t)) (result funcref) (local.get $p)",
    "(param $p (ref $t)) (result (ref null func)) (local.get $p)",
    "(param $p (ref $t)) (result (ref null $u)) (local.get $p)",
    "(param $p (ref extern)) (local $x (ref extern)) (local.set $x (local.get $p))"
    " (drop (local.get $x))",
])
def test_subtypes_are_accepted(body):
    validate(decode_module(wasm(f"(module (type $t (func)) (type $u (func)) (func {body}))")))


@pytest.mark.parametrize("text, construct", [
    ("(module (func (param anyref)))", "anyref"),
    ("(module (type $s (struct)) (func (param (ref $s))))", "struct"),
    ("(module (func (param funcref) (drop (ref.test (ref func) (local.get 0)))))",
     "struct, array and i31 instructions"),
])
def test_gc_stays_refused_naming_the_feature(text, construct):
    with pytest.raises(MalformedModule, match=rf"uses GC \({construct}\), not supported"):
        decode_module(wasm(text))
