"""Exception handling on the interpreter, beyond the spec files (tests/spec): the embedding
API (uncaught exceptions, host functions that throw, payloads and exnrefs across it, tags
across instances), control flow the translator treats specially, and pyiwasm's report of an
uncaught exception."""

import pytest

import pywamr
from pyiwasm_support import TRAP_STATUS, pyiwasm
from pywamr.runtime.errors import Trap, TrapCode

I32 = pywamr.FuncType(["i32"], [])


@pytest.fixture
def interp():
    return pywamr.Engine("interp")


def instantiate(engine, text, **imports):
    """An instance of `text` with imports {(module, name): item} given as module__name."""
    linker = pywamr.Linker(engine)
    for key, item in imports.items():
        module, name = key.split("__")
        linker.define(module, name, item)
    return linker.instantiate(pywamr.Module(engine, text))


THROWER = """(module
  (tag $e (export "e") (param i32 i64 f32 f64))
  (tag $plain (export "plain"))
  (func (export "throw") (param i32 i64 f32 f64)
    (throw $e (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "throw_plain") (throw $plain))
  (func (export "catch_ref") (param i32) (result exnref)
    (local $exn exnref)
    (block $h (result i32 i64 f32 f64 exnref)
      (try_table (catch_ref $e $h)
        (throw $e (local.get 0) (i64.const -1) (f32.const 0.5) (f64.const -0.0)))
      unreachable)
    (local.set $exn)
    (drop) (drop) (drop) (drop)
    (local.get $exn))
  (func (export "catch_all_ref") (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $plain))
      unreachable))
  (func (export "rethrow") (param exnref) (throw_ref (local.get 0)))
  (func (export "payload") (param exnref) (result i32)
    (block $h (result i32 i64 f32 f64)
      (try_table (catch $e $h) (throw_ref (local.get 0)))
      unreachable)
    (drop) (drop) (drop)))"""


def test_an_uncaught_exception_names_its_tag_and_carries_the_payload(interp):
    exports = instantiate(interp, THROWER).exports
    with pytest.raises(pywamr.WasmException) as raised:
        exports["throw"](-5, 2**40, 1.5, -2.25)
    exception = raised.value
    assert exception.tag is exports["e"]
    assert exception.values == (-5, 2**40, 1.5, -2.25)
    assert str(exception) == ('uncaught wasm exception: tag "e" [i32 i64 f32 f64], '
                              "i32 -5, i64 1099511627776, f32 1.5, f64 -2.25")
    assert isinstance(exception, pywamr.WasmError) and not isinstance(exception, Trap)
    with pytest.raises(pywamr.WasmException, match='tag "plain" \\[\\]$'):
        exports["throw_plain"]()


def test_an_exnref_crosses_the_api_and_is_thrown_again(interp):
    exports = instantiate(interp, THROWER).exports
    exn = exports["catch_ref"](77)
    assert isinstance(exn, pywamr.WasmException)
    assert exn.tag is exports["e"] and exn.values == (77, -1, 0.5, -0.0)
    assert exports["payload"](exn) == 77
    with pytest.raises(pywamr.WasmException) as raised:
        exports["rethrow"](exn)
    assert raised.value.tag is exports["e"] and raised.value.values == exn.values
    # One made in Python is as good, and so is one of a tag without payload.
    assert exports["payload"](pywamr.WasmException(exports["e"], [3, 4, 5.0, 6.0])) == 3
    plain = exports["catch_all_ref"]()
    assert plain.tag is exports["plain"] and plain.values == ()
    with pytest.raises(Trap) as trapped:
        exports["rethrow"](None)
    assert trapped.value.code is TrapCode.NULL_EXCEPTION_REFERENCE


HOST = """(module
  (import "host" "fail" (tag $fail (param i32 f64)))
  (import "host" "check" (func $check (param i32)))
  (tag $mine (param i32))
  (func (export "guarded") (param i32) (result i32 f64)
    (block $h (result i32 f64)
      (try_table (catch $fail $h) (call $check (local.get 0)))
      (i32.const -1) (f64.const 0)))
  (func (export "catch_all") (param i32) (result i32)
    (block $h
      (try_table (catch_all $h) (call $check (local.get 0)))
      (return (i32.const 0)))
    (i32.const 1))
  (func (export "mine") (param i32)
    (block $h (result i32)
      (try_table (catch $mine $h) (call $check (local.get 0)))
      (return))
    (drop)))"""


def test_a_host_function_throws_into_wasm(interp):
    fail = pywamr.Tag(pywamr.FuncType(["i32", "f64"], []), name="fail")
    other = pywamr.Tag(pywamr.FuncType(["i32", "f64"], []))

    def check(x):
        if x < 0:
            raise pywamr.WasmException(fail if x > -100 else other, [x * 2, x / 4])

    exports = instantiate(interp, HOST, host__fail=fail,
                          host__check=pywamr.HostFunc(I32, check)).exports
    assert exports["guarded"](3) == (-1, 0.0)
    assert exports["guarded"](-6) == (-12, -1.5)
    # A tag of the same type is another tag: not caught by `catch $fail`.
    with pytest.raises(pywamr.WasmException) as raised:
        exports["guarded"](-200)
    assert raised.value.tag is other and raised.value.values == (-400, -50.0)
    assert exports["catch_all"](-200) == 1 and exports["catch_all"](1) == 0
    # The module's own tag catches nothing the host throws.
    with pytest.raises(pywamr.WasmException, match='tag "fail"'):
        exports["mine"](-1)


def test_a_host_exception_other_than_a_wasm_one_is_not_caught(interp):
    def check(x):
        raise KeyError(x)

    fail = pywamr.Tag(pywamr.FuncType(["i32", "f64"], []))
    exports = instantiate(interp, HOST, host__fail=fail,
                          host__check=pywamr.HostFunc(I32, check)).exports
    with pytest.raises(KeyError):
        exports["catch_all"](1)


def test_a_tag_of_the_wrong_type_does_not_link(interp):
    with pytest.raises(pywamr.LinkError, match="incompatible import type: host.fail "
                       r"\(expected tag \[i32 f64\], got tag \[i32\]\)"):
        instantiate(interp, HOST, host__fail=pywamr.Tag(I32),
                    host__check=pywamr.HostFunc(I32, print))
    with pytest.raises(ValueError, match="no results"):
        pywamr.Tag(pywamr.FuncType([], ["i32"]))


def test_traps_are_not_caught(interp):
    exports = instantiate(interp, """(module
      (func (export "f") (param i32) (result i32)
        (block $h
          (try_table (catch_all $h) (drop (i32.div_u (i32.const 1) (local.get 0))))
          (return (i32.const 0)))
        (i32.const 1))
      (func (export "g") (result i32)
        try (result i32) unreachable catch_all i32.const 1 end))""").exports
    assert exports["f"](1) == 0
    with pytest.raises(Trap, match="integer divide by zero"):
        exports["f"](0)
    with pytest.raises(Trap, match="unreachable"):
        exports["g"]()


def test_exceptions_cross_instances_and_tail_calls(interp):
    thrower = instantiate(interp, THROWER)
    exports = instantiate(interp, """(module
      (import "m" "e" (tag $e (param i32 i64 f32 f64)))
      (import "m" "throw" (func $throw (param i32 i64 f32 f64)))
      (func $tail (param i32) (return_call $throw (local.get 0) (i64.const 0) (f32.const 0)
                                                  (f64.const 0)))
      (func $down (param i32)
        (if (local.get 0) (then (return_call $down (i32.sub (local.get 0) (i32.const 1)))))
        (call $tail (i32.const 99)))
      (func (export "run") (param i32) (result i32)
        (block $h (result i32 i64 f32 f64)
          (try_table (catch $e $h) (call $down (local.get 0)))
          unreachable)
        (drop) (drop) (drop)))""", m__e=thrower.exports["e"],
                          m__throw=thrower.exports["throw"]).exports
    assert exports["run"](0) == 99
    assert exports["run"](100000) == 99


def test_exnref_in_globals_tables_and_loops(interp):
    exports = instantiate(interp, """(module
      (tag $e (param i32))
      (global $last (mut exnref) (ref.null exn))
      (table $t 4 exnref)
      (func $keep (param i32)
        (block $h (result exnref)
          (try_table (catch_all_ref $h) (throw $e (local.get 0)))
          unreachable)
        (global.set $last)
        (table.set $t (i32.rem_u (local.get 0) (i32.const 4)) (global.get $last)))
      (func $value (param exnref) (result i32)
        (block $h (result i32)
          (try_table (catch $e $h) (throw_ref (local.get 0)))
          unreachable))
      (func (export "sum") (param i32) (result i32)
        (local $sum i32)
        (loop $next
          (call $keep (local.get 0))
          (local.set $sum (i32.add (local.get $sum)
                                   (call $value (table.get $t (i32.rem_u (local.get 0)
                                                                         (i32.const 4))))))
          (br_if $next (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
        (local.get $sum))
      (func (export "last") (result i32) (call $value (global.get $last))))""").exports
    assert exports["sum"](10000) == 10000 * 10001 // 2
    assert exports["last"]() == 1


def test_legacy_handlers_delegate_and_rethrow(interp):
    exports = instantiate(interp, """(module
      (tag $a (param i32))
      (tag $b)
      (func $throw (param i32)
        (if (i32.eqz (local.get 0)) (then (throw $b)))
        (throw $a (local.get 0)))
      (func (export "classify") (param i32) (result i32)
        try (result i32)
          local.get 0
          call $throw
          i32.const -1
        catch $a
          i32.const 100
          i32.add
        catch_all
          i32.const 7
        end)
      (func (export "delegated") (param i32) (result i32)
        try (result i32)
          block
            try
              try
                local.get 0
                call $throw
              delegate 2
            catch_all
              unreachable
            end
          end
          i32.const -1
        catch $a
        end)
      (func (export "rethrown") (param i32) (result i32)
        block $h (result i32)
          try_table (catch $a $h)
            try
              local.get 0
              call $throw
            catch $a
              drop
              try
                throw $b
              catch_all
                rethrow 1
              end
            end
          end
          i32.const -1
        end))""").exports
    assert [exports["classify"](x) for x in (0, 1, 5)] == [7, 101, 105]
    assert exports["delegated"](4) == 4
    assert exports["rethrown"](9) == 9


def test_pyiwasm_reports_an_uncaught_exception_in_one_line(tmp_path):
    from module_text import wasm
    program = tmp_path / "throws.wasm"
    program.write_bytes(wasm("""(module
      (tag $oops (export "oops") (param i32 f64))
      (func (export "_start") (throw $oops (i32.const -3) (f64.const 0.5))))"""))
    done = pyiwasm("--interp", program)
    assert done.returncode == TRAP_STATUS
    assert done.stderr.decode().splitlines() == [
        'pyiwasm: uncaught wasm exception: tag "oops" [i32 f64], i32 -3, f64 0.5']
    assert done.stdout == b""


def test_types_of_different_recursion_groups_are_different_types(interp):
    """What tag.wast's imports check, for functions too: (rec (func) (func)) has two types
    that are neither each other nor a lone (func)."""
    exports = instantiate(interp, """(module
      (rec (type $a (func)) (type $b (func)))
      (type $plain (func))
      (table funcref (elem $fa $fb $fp))
      (func $fa (type $a)) (func $fb (type $b)) (func $fp (type $plain))
      (func (export "call_a") (param i32) (call_indirect (type $a) (local.get 0))))""").exports
    exports["call_a"](0)
    for index in (1, 2):
        with pytest.raises(Trap, match="indirect call type mismatch"):
            exports["call_a"](index)


@pytest.mark.parametrize("innermost, expected", [("catch", 5), ("catch_all", -2)])
def test_try_tables_nested_beyond_pythons_limits(interp, innermost, expected):
    """Python allows 20 nested loops and try statements together: deeper try_tables are
    outlined into functions of their own, through which the exception and the catch's
    branch still go."""
    catch = "(try_table (catch $e $h) (block {}))"
    catch_all = "(block (try_table (catch_all $h2) {}))"
    body = "(throw $e (local.get 0))"
    for level in range(70):
        body = (catch if (level % 2 == 0) == (innermost == "catch") else catch_all).format(body)
    module = pywamr.Module(interp, f"""(module (tag $e (param i32))
      (func (export "f") (param i32) (result i32)
        (block $h2 (block $h (result i32) {body} (return (i32.const -1))) (return))
        (i32.const -2)))""")
    assert pywamr.Linker(interp).instantiate(module).exports["f"](5) == expected


def test_fuel_charges_the_handler_that_runs():
    """runtime/fuel.py: try and catch are free, throw ends a run, a handler is a run."""
    from module_text import wasm
    from pywamr.runtime.interp import Module
    exports = Module(wasm("""(module (tag $e (param i32))
      (func (export "f") (param i32) (result i32)
        try (result i32)
          local.get 0
          i32.eqz
          if
            i32.const 1
            throw $e
          end
          i32.const 10
        catch $e
          i32.const 100
          i32.add
        end))"""), fuel=True).instantiate().exports
    consumed = []
    for arg, result in ((0, 101), (1, 10)):
        with pywamr.Limits(fuel=1000) as run:
            assert exports["f"](arg) == result
        consumed.append(run.fuel_consumed)
    assert consumed == [3 + 2 + 2, 3 + 1]
