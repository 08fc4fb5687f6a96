"""Instantiation on both engines (runtime/instantiation.py): every kind of link failure
gives the same LinkError message from the interpreter and the AOT loader, and segment and
global initialisation behave the same, traps included."""

import functools
import gc

import pytest

from pywamr.runtime.api import HostFunc
from pywamr.runtime.errors import LinkError, Trap
from pywamr.runtime.interp import Module
from pywamr.runtime.types import FuncType

from module_text import wasm


@functools.cache
def _aot(text):
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    return compile_wasm(wasm(text), CompileOptions(opt_level=0))


def load_aot(text):
    from pywamr.loader.aot_module import AotModule
    return AotModule(_aot(text))


def load_interp(text):
    return Module(wasm(text))


LOADERS = {"interp": load_interp, "aot": load_aot}
OTHER_ENGINE = {"interp": "aot", "aot": "interp"}

PROVIDER = """(module
  (func (export "f") (param i32))
  (table (export "table") 1 funcref)
  (table (export "table_max") 1 5 funcref)
  (table (export "externrefs") 1 externref)
  (memory (export "memory") 1 5)
  (global (export "g") i32 (i32.const 7))
  (global (export "mut_g") (mut i32) (i32.const 8)))"""

MEMORY_WITHOUT_MAXIMUM = '(module (memory (export "memory") 1))'


def instantiation_error(engine, import_text):
    """The LinkError message of instantiating a module of one import on `engine`. Module
    "lib" is PROVIDER's exports on the same engine, "nomax" MEMORY_WITHOUT_MAXIMUM's,
    "other" PROVIDER's on the other engine; "host" holds a HostFunc, "python" a Python
    function."""
    load = LOADERS[engine]
    imports = {
        "lib": load(PROVIDER).instantiate().exports,
        "nomax": load(MEMORY_WITHOUT_MAXIMUM).instantiate().exports,
        "other": LOADERS[OTHER_ENGINE[engine]](PROVIDER).instantiate().exports,
        "host": {"f": HostFunc(FuncType(("i32",), ("f64",)), lambda i: 0.5)},
        "python": {"f": lambda: None},
    }
    with pytest.raises(LinkError) as caught:
        load(f"(module {import_text})").instantiate(imports)
    return str(caught.value)


LINK_ERRORS = {
    "missing": ('(import "lib" "absent" (func))', "unknown import: lib.absent"),
    "missing module": ('(import "absent" "f" (func))', "unknown import: absent.f"),
    "func type": ('(import "lib" "f" (func (param i64)))',
                  "incompatible import type: lib.f (expected func [i64] -> [], "
                  "got func [i32] -> [])"),
    "host function type": ('(import "host" "f" (func (param i32)))',
                           "incompatible import type: host.f (expected func [i32] -> [], "
                           "got func [i32] -> [f64])"),
    "func from a memory": ('(import "lib" "memory" (func (param i32)))',
                           "incompatible import type: lib.memory "
                           "(expected a function [i32] -> [], got a memory)"),
    "table from a global": ('(import "lib" "g" (table 1 funcref))',
                            "incompatible import type: lib.g "
                            "(expected a table {min 1} funcref, got a global)"),
    "memory from a table": ('(import "lib" "table" (memory 1 2))',
                            "incompatible import type: lib.table "
                            "(expected a memory {min 1, max 2}, got a table)"),
    "global from a function": ('(import "lib" "f" (global (mut f64)))',
                               "incompatible import type: lib.f "
                               "(expected a global mut f64, got a function)"),
    "table element type": ('(import "lib" "externrefs" (table 1 funcref))',
                           "incompatible import type: lib.externrefs "
                           "(table: expected funcref, got externref)"),
    "table too small": ('(import "lib" "table" (table 2 funcref))',
                        "incompatible import type: lib.table "
                        "(table: 1 element, expected at least 2)"),
    "table without maximum": ('(import "lib" "table" (table 1 3 funcref))',
                              "incompatible import type: lib.table "
                              "(table: no maximum, expected at most 3)"),
    "table maximum too large": ('(import "lib" "table_max" (table 1 3 funcref))',
                                "incompatible import type: lib.table_max "
                                "(table: maximum 5, expected at most 3)"),
    "memory too small": ('(import "lib" "memory" (memory 2))',
                         "incompatible import type: lib.memory "
                         "(memory: 1 page, expected at least 2)"),
    "memory without maximum": ('(import "nomax" "memory" (memory 1 3))',
                               "incompatible import type: nomax.memory "
                               "(memory: no maximum, expected at most 3)"),
    "memory maximum too large": ('(import "lib" "memory" (memory 1 3))',
                                 "incompatible import type: lib.memory "
                                 "(memory: maximum 5, expected at most 3)"),
    "global type": ('(import "lib" "g" (global i64))',
                    "incompatible import type: lib.g (global: expected i64, got i32)"),
    "global mutable": ('(import "lib" "g" (global (mut i32)))',
                       "incompatible import type: lib.g (global: expected mut i32, got i32)"),
    "global immutable": ('(import "lib" "mut_g" (global i32))',
                         "incompatible import type: lib.mut_g "
                         "(global: expected i32, got mut i32)"),
    "function of the other engine": ('(import "other" "f" (func (param i32)))',
                                     "incompatible import type: other.f (expected a function "
                                     "[i32] -> [], got a function of another engine)"),
    "table of the other engine": ('(import "other" "table" (table 1 funcref))',
                                  "incompatible import type: other.table (expected a table "
                                  "{min 1} funcref, got a table of another engine)"),
    "memory of the other engine": ('(import "other" "memory" (memory 1))',
                                   "incompatible import type: other.memory (expected a memory "
                                   "{min 1}, got a memory of another engine)"),
    "global of the other engine": ('(import "other" "g" (global i32))',
                                   "incompatible import type: other.g (expected a global i32, "
                                   "got a global of another engine)"),
    "Python function": ('(import "python" "f" (func))',
                        "incompatible import type: python.f (expected a function [] -> [], "
                        "got a Python function, not an extern)"),
}


@pytest.mark.parametrize("import_text, message", LINK_ERRORS.values(), ids=LINK_ERRORS)
def test_link_error_is_the_same_on_both_engines(import_text, message):
    assert instantiation_error("interp", import_text) == message
    assert instantiation_error("aot", import_text) == message


def test_matching_imports_link_on_both_engines():
    """What import matching accepts: a table or memory at least as large as asked for, with
    a maximum within the one asked for (or none asked for), a HostFunc of the import's type."""
    importer = """(module
      (import "lib" "table_max" (table 1 6 funcref))
      (import "lib" "memory" (memory 0))
      (import "lib" "mut_g" (global (mut i32)))
      (import "host" "add" (func $add (param i32 i32) (result i32)))
      (func (export "run") (result i32) (call $add (global.get 0) (i32.const 1))))"""
    host = {"add": HostFunc(FuncType(("i32", "i32"), ("i32",)), lambda a, b: a + b)}
    for load in LOADERS.values():
        lib = load(PROVIDER).instantiate().exports
        exports = load(importer).instantiate({"lib": lib, "host": host}).exports
        assert exports["run"]() == 9


# Segments and globals

SHARED = """(module
  (memory (export "memory") 1)
  (table (export "table") 3 funcref)
  (global (export "offset") i32 (i32.const 8))
  (global (export "nan") f32 (f32.const nan:0x200001))
  (global (export "big") i64 (i64.const -2)))"""


@pytest.fixture(params=LOADERS)
def load(request):
    return LOADERS[request.param]


def test_data_segment_trap_keeps_earlier_writes(load):
    lib = load(SHARED).instantiate().exports
    failing = load("""(module
      (import "lib" "memory" (memory 1))
      (data (i32.const 0) "early")
      (data (i32.const 65535) "late")
      (data (i32.const 10) "never"))""")
    with pytest.raises(Trap, match="^out of bounds memory access$"):
        failing.instantiate({"lib": lib})
    assert lib["memory"].buffer[0:5] == b"early"
    assert lib["memory"].buffer[65535:65536] == b"\0"    # a segment is written whole or not
    assert lib["memory"].buffer[10:15] == bytes(5)


def test_element_segment_trap_keeps_earlier_writes_and_skips_data(load):
    lib = load(SHARED).instantiate().exports
    failing = load("""(module
      (import "lib" "memory" (memory 1))
      (import "lib" "table" (table 3 funcref))
      (func $nine (result i32) (i32.const 9))
      (elem (i32.const 0) $nine)
      (elem (i32.const 2) $nine $nine)
      (data (i32.const 0) "data"))""")
    with pytest.raises(Trap, match="^out of bounds table access$"):
        failing.instantiate({"lib": lib})
    gc.collect()                  # the table keeps the failed instance's function alive
    assert lib["table"].get(0)() == 9
    assert lib["table"].get(2) is None
    assert lib["memory"].buffer[0:4] == bytes(4)        # data segments come after elements


def test_globals_and_offsets_from_imported_globals(load):
    lib = load(SHARED).instantiate().exports
    exports = load("""(module
      (import "lib" "offset" (global $offset i32))
      (import "lib" "nan" (global $nan f32))
      (import "lib" "big" (global $big i64))
      (global (export "offset") i32 (global.get $offset))
      (global (export "nan") f32 (global.get $nan))
      (global (export "big") i64 (global.get $big))
      (global (export "v") v128 (v128.const i32x4 1 2 3 4))
      (memory (export "memory") 1)
      (data (global.get $offset) "here"))""").instantiate({"lib": lib}).exports
    assert exports["offset"].get_bits() == 8
    assert exports["nan"].get_bits() == 0x7FA0_0001     # a signalling NaN, payload intact
    assert exports["big"].value == -2
    assert exports["v"].get_bits() == 4 << 96 | 3 << 64 | 2 << 32 | 1
    assert exports["memory"].buffer[8:12] == b"here"


def test_ref_func_in_element_segments(load):
    host = {"seven": HostFunc(FuncType((), ("i32",)), lambda: 7)}
    exports = load("""(module
      (import "host" "seven" (func $seven (result i32)))
      (table (export "table") 4 funcref)
      (global (export "first") funcref (ref.func $one))
      (func $one (result i32) (i32.const 1))
      (func $two (result i32) (i32.const 2))
      (elem (i32.const 0) func $one $seven)
      (elem (i32.const 2) funcref (ref.func $two) (ref.null func))
      (elem $passive funcref (ref.func $two))
      (elem declare func $one)
      (func (export "init") (table.init $passive (i32.const 3) (i32.const 0) (i32.const 1)))
      (func (export "call") (param i32) (result i32)
        (call_indirect (result i32) (local.get 0))))""").instantiate({"host": host}).exports
    table = exports["table"]
    assert [table.get(i)() for i in range(3)] == [1, 7, 2]
    assert table.get(3) is None
    assert exports["first"].value() == 1
    exports["init"]()                                  # the passive segment was kept
    assert exports["call"](3) == 2
