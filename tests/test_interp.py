"""The interpreter (pywamr.runtime.interp): translation, execution and the embedding API.

The spec suite (tests/spec) covers instruction semantics; these tests cover what it does not:
the shapes of control flow the translator handles specially, nesting beyond Python's limits,
laziness, the call-depth limit, and the objects instances exchange with hosts and each other.
"""

import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pywamr.runtime.api import HostFunc
from pywamr.runtime.errors import Exhaustion, Trap
from pywamr.runtime.interp import Module, codegen
from pywamr.runtime.types import FuncType


def wasm(text):
    with tempfile.TemporaryDirectory() as tmp:
        source, binary = Path(tmp, "m.wat"), Path(tmp, "m.wasm")
        source.write_text(text)
        subprocess.run(["wat2wasm", str(source), "-o", str(binary)], check=True)
        return binary.read_bytes()


def instantiate(text, imports=None, **options):
    return Module(wasm(text)).instantiate(imports, **options)


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


# Control flow

def test_recursive_fib_matches_python():
    fib = instantiate("""(module
      (func $fib (export "fib") (param i32) (result i32)
        (if (result i32) (i32.lt_s (local.get 0) (i32.const 2))
          (then (local.get 0))
          (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                         (call $fib (i32.sub (local.get 0) (i32.const 2))))))))""").exports["fib"]

    def reference(n):
        return n if n < 2 else reference(n - 1) + reference(n - 2)
    assert [fib(n) for n in range(20)] == [reference(n) for n in range(20)]


def test_while_loop_breaking_out_to_enclosing_block():
    # block { loop { br_if exit; ...; br loop } }: the clang shape of `while`
    sum_below = instantiate("""(module
      (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
        (block $exit
          (loop $next
            (br_if $exit (i32.ge_s (local.get $i) (local.get $n)))
            (local.set $s (i32.add (local.get $s) (local.get $i)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (local.get $s)))""").exports["sum"]
    assert [sum_below(n) for n in (0, 1, 10, 1000)] == [sum(range(n)) for n in (0, 1, 10, 1000)]


def test_branches_out_of_nested_loops_with_values():
    # Out of both loops with a value, out of the inner loop to the block around it, back
    # to the outer loop from inside the inner one, and back to each loop from its own body.
    find = instantiate("""(module
      (func (export "find") (param $target i32) (result i32) (local $i i32) (local $j i32)
        (block $found (result i32)
          (loop $outer
            (local.set $j (i32.const 0))
            (block $next_row
              (loop $inner
                (drop (br_if $found
                  (i32.add (i32.mul (local.get $i) (i32.const 100)) (local.get $j))
                  (i32.eq (i32.mul (local.get $i) (local.get $j)) (local.get $target))))
                (if (i32.and (i32.eq (local.get $j) (local.get $i))
                             (i32.and (local.get $i) (i32.const 1)))
                  (then
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $outer (i32.lt_u (local.get $i) (i32.const 10)))
                    (br $found (i32.const -1))))
                (br_if $next_row (i32.gt_u (i32.mul (local.get $i) (local.get $j))
                                           (i32.const 50)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $inner (i32.lt_u (local.get $j) (i32.const 10)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $outer (i32.lt_u (local.get $i) (i32.const 10))))
          (i32.const -1))))""").exports["find"]

    def reference(target):
        i = 0
        while True:
            j, next_i_done = 0, False
            while True:
                if i * j == target:
                    return i * 100 + j
                if j == i and i & 1:
                    i += 1
                    if i >= 10:
                        return -1
                    next_i_done = True
                    break
                if i * j > 50:
                    break
                j += 1
                if j >= 10:
                    break
            if not next_i_done:
                i += 1
                if i >= 10:
                    return -1
    targets = [0, 1, 3, 12, 24, 30, 49, 50, 56, 81, 97]
    assert [find(t) for t in targets] == [reference(t) for t in targets]


def test_br_table_switch_with_many_cases():
    cases = 300
    blocks = "".join("(block " for _ in range(cases))
    table = " ".join(str(i) for i in range(cases))
    arms = "".join(f") (return (i32.const {i * 7}))" for i in range(cases))
    switch = instantiate(f"""(module
      (func (export "switch") (param i32) (result i32)
        (block {blocks} (br_table {table} {cases} (local.get 0)) {arms})
        (i32.const -1)))""").exports["switch"]
    assert [switch(i) for i in range(cases + 2)] == [i * 7 for i in range(cases)] + [-1, -1]


def test_blocks_left_from_nested_ifs_and_loops():
    # A block left from inside ifs (a one-shot Python loop, `break`), from inside a loop
    # nested in it (a flag past the loop), with a value, and blocks whose last instruction
    # is a loop, which breaking the loop reaches (through a one-shot loop in "landing").
    instance = instantiate("""(module
      (func (export "classify") (param $x i32) (result i32) (local $i i32)
        (block $done (result i32)
          (block $small
            (if (i32.lt_u (local.get $x) (i32.const 100))
              (then
                (if (i32.lt_u (local.get $x) (i32.const 10)) (then (br $small)))
                (br $done (i32.const 2))))
            (loop $scan
              (br_if $small (i32.eq (local.get $i) (i32.const 7)))
              (br_if $done (i32.add (local.get $i) (i32.const 1000))
                           (i32.eq (i32.rem_u (local.get $x) (i32.const 97)) (local.get $i)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $scan)))
          (i32.add (i32.const 1) (local.get $i))))
      (func (export "last_loop") (param $n i32) (result i32) (local $i i32)
        (block $out
          (block $inner
            (br_if $out (i32.eqz (local.get $n)))
            (loop $count
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $inner (i32.ge_u (local.get $i) (local.get $n)))
              (br $count))))
        (local.get $i))
      (func (export "landing") (param $n i32) (result i32) (local $i i32)
        (block $b
          (if (i32.gt_u (local.get $n) (i32.const 100))
            (then (local.set $i (i32.const 100)) (br $b)))
          (loop $l
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $b (i32.ge_u (local.get $i) (local.get $n)))
            (br $l)))
        (local.get $i)))""")
    classify = instance.exports["classify"]

    def reference(x):
        if x < 100:
            return 1 if x < 10 else 2
        for i in range(7):
            if x % 97 == i:
                return i + 1000
        return 8
    values = [0, 9, 10, 99, 100, 194, 195, 200, 1000, 97 * 50 + 6, 97 * 50 + 7]
    assert [classify(x) for x in values] == [reference(x) for x in values]
    assert [instance.exports["last_loop"](n) for n in (0, 1, 5)] == [0, 1, 5]
    assert [instance.exports["landing"](n) for n in (0, 5, 101)] == [1, 5, 100]


def test_code_after_an_if_whose_then_branch_leaves():
    # What follows a construct reached only where a condition is false is that condition's
    # else branch; where another path reaches the construct's end too (a br_if 0 inside the
    # then branch, a loop breaking out to the block's end), it must still run after it.
    instance = instantiate("""(module
      (func (export "f") (param $x i32) (param $y i32) (result i32) (local $r i32)
        (block $out
          (if (i32.eq (local.get $x) (i32.const 1))
            (then (local.set $r (i32.const 10)) (br $out)))
          (local.set $r (i32.const 20))
          (block $b
            (br_if $b (i32.ne (local.get $x) (i32.const 5)))
            (local.set $r (i32.const 30))
            (br $out))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (if (i32.eq (local.get $x) (i32.const 3))
            (then (br_if 0 (local.get $y)) (local.set $r (i32.const 40)) (br $out)))
          (local.set $r (i32.add (local.get $r) (i32.const 100)))
          (block $c
            (br_if $c (i32.eq (local.get $x) (i32.const 4)))
            (loop $l
              (local.set $r (i32.add (local.get $r) (i32.const 1000)))
              (br_if $c (local.get $y))
              (br $out)))
          (local.set $r (i32.add (local.get $r) (i32.const 5))))
        (local.get $r)))""")
    f = instance.exports["f"]
    assert [f(1, 0), f(5, 0), f(2, 0), f(3, 0), f(3, 1), f(4, 0), f(2, 1)] == [
        10, 30, 1121, 40, 1126, 126, 1126]


def test_locals_read_before_any_write_on_some_path_are_zero():
    # Locals every path writes before reading are not zeroed on entry; these are read
    # unwritten on some path: past a branch, after a loop's first iteration, in a handler.
    instance = instantiate("""(module
      (tag $e)
      (func $throw (throw $e))
      (func (export "branch") (param i32) (result i32) (local i32)
        (block (br_if 0 (local.get 0)) (local.set 1 (i32.const 5)))
        (local.get 1))
      (func (export "loop") (param i32) (result i32) (local i32 i32)
        (loop $l
          (local.set 2 (i32.add (local.get 2) (local.get 1)))
          (local.set 1 (i32.const 3))
          (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
        (local.get 2))
      (func (export "handler") (result i32) (local i32)
        (block $caught
          (try_table (catch $e $caught) (call $throw) (local.set 0 (i32.const 9))))
        (local.get 0))
      (func (export "both_arms") (param i32) (result i32) (local i32)
        (if (local.get 0) (then (local.set 1 (i32.const 1))) (else (local.set 1 (i32.const 2))))
        (local.get 1)))""")
    assert [instance.exports["branch"](x) for x in (0, 1)] == [5, 0]
    assert [instance.exports["loop"](n) for n in (1, 2, 4)] == [0, 3, 9]
    assert instance.exports["handler"]() == 0
    assert [instance.exports["both_arms"](x) for x in (0, 1)] == [2, 1]


def test_multi_value_blocks_loops_and_functions():
    instance = instantiate("""(module
      (func $divmod (param i32 i32) (result i32 i32)
        (i32.div_u (local.get 0) (local.get 1)) (i32.rem_u (local.get 0) (local.get 1)))
      (func (export "digits") (param $n i32) (result i32) (local $sum i32)
        (local.get $n) (i32.const 0)
        (loop $l (param i32 i32) (result i32 i32)         ;; [n, sum] -> [n / 10, sum + n % 10]
          (local.set $sum) (local.set $n)
          (call $divmod (local.get $n) (i32.const 10))
          (local.get $sum) (i32.add) (local.set $sum)
          (local.tee $n)
          (local.get $sum)
          (br_if $l (local.get $n)))
        (local.set $sum) (drop) (local.get $sum))
      (func (export "swap") (param i32 i32) (result i32 i32)
        (local.get 0) (local.get 1)
        (block (param i32 i32) (result i32 i32)
          (local.set 0) (local.set 1) (local.get 0) (local.get 1))))""")
    assert instance.exports["digits"](98765) == 9 + 8 + 7 + 6 + 5
    assert instance.exports["swap"](1, 2) == (2, 1)


def test_local_teed_then_set_elsewhere():
    # The value of a local.tee moved on into another local by local.set: both locals change.
    f = instantiate("""(module
      (func (export "f") (param i32) (result i32) (local i32)
        (local.set 0 (local.tee 1 (i32.add (local.get 0) (i32.const 1))))
        (i32.add (i32.mul (local.get 0) (i32.const 1000)) (local.get 1))))""").exports["f"]
    assert f(4) == 5 * 1000 + 5


def test_operands_read_before_a_local_changes_keep_the_old_value():
    instance = instantiate("""(module
      (global $g (mut i32) (i32.const 1))
      (func $bump (global.set $g (i32.add (global.get $g) (i32.const 10))))
      (func (export "local") (param i32) (result i32)
        (local.get 0)                                   ;; old value, still on the stack
        (local.set 0 (i32.const 100))                   ;; rewritten
        (i32.sub (local.get 0)))                        ;; old - 100
      (func (export "nested") (param i32) (param i32) (result i32)
        (local.get 0)                                   ;; old value
        (if (local.get 1) (then (local.set 0 (i32.const 7))))   ;; written on one path
        (local.get 0) (i32.const 1000) (i32.mul) (i32.add))
      (func (export "global") (result i32)
        (global.get $g) (call $bump) (global.get $g) (i32.const 100) (i32.mul) (i32.add)))""")
    assert instance.exports["local"](3) == 3 - 100
    assert instance.exports["nested"](3, 1) == 3 + 7 * 1000
    assert instance.exports["nested"](3, 0) == 3 + 3 * 1000
    assert instance.exports["global"]() == 1 + 11 * 100


def test_else_if_chain_deeper_than_python_allows():
    depth = 200                       # Python's parser stops at 100 indentation levels
    body = "(i32.const -1)"
    for k in reversed(range(depth)):
        body = (f"(if (result i32) (i32.eq (local.get 0) (i32.const {k})) "
                f"(then (i32.const {k * 3})) (else {body}))")
    f = instantiate(f'(module (func (export "f") (param i32) (result i32) {body}))').exports["f"]
    assert [f(k) for k in range(0, depth, 7)] == [k * 3 for k in range(0, depth, 7)]
    assert f(depth) == -1


def test_loops_nested_deeper_than_python_allows():
    # 30 nested loops (Python allows 20 nested blocks), each counting its own local down,
    # with an exit from the innermost straight to the function's end.
    depth = 30
    body = "(br_if $exit (i32.ge_u (local.get 0) (i32.const 1000)))"
    for k in range(depth):
        counter = k + 1
        body = (f"(local.set {counter} (i32.const 2)) "
                f"(loop (local.set 0 (i32.add (local.get 0) (i32.const 1))) {body} "
                f"(br_if 0 (local.tee {counter} (i32.sub (local.get {counter}) (i32.const 1)))))")
    locals_ = " ".join("i32" for _ in range(depth))
    f = instantiate(f"""(module (func (export "f") (param i32) (result i32) (local {locals_})
        (block $exit {body}) (local.get 0)))""").exports["f"]

    def reference(limit):
        count = 0

        def run(level):
            nonlocal count
            for _ in range(2):
                count += 1
                if level == 0:
                    if count >= limit:
                        return True
                elif run(level - 1):
                    return True
            return False
        run(depth - 1)
        return count
    assert f(0) == reference(1000)


def test_functions_are_translated_on_first_call_only():
    n = 2000
    funcs = "".join(f'(func (export "f{i}") (result i32) (i32.const {i}))' for i in range(n))
    module = Module(wasm(f"(module {funcs})"))
    instance = module.instantiate()
    assert module.translated_functions == 0
    assert instance.exports["f1234"]() == 1234
    assert instance.exports["f1234"]() == 1234
    assert module.translated_functions == 1


def test_translations_are_reused_from_the_cache_directory(tmp_path, monkeypatch):
    data = wasm("""(module (func (export "sq") (param i32) (result i32)
        (i32.mul (local.get 0) (local.get 0))))""")
    assert Module(data, cache_dir=tmp_path).instantiate().exports["sq"](12) == 144
    files = list(tmp_path.rglob("*.code"))
    assert len(files) == 1

    def no_translation(self):
        raise AssertionError("translated although cached")
    with monkeypatch.context() as patch:
        patch.setattr(codegen.FunctionTranslator, "translate", no_translation)
        assert Module(data, cache_dir=tmp_path).instantiate().exports["sq"](11) == 121
    files[0].write_bytes(b"not marshal data")            # a damaged entry is translated again
    assert Module(data, cache_dir=tmp_path).instantiate().exports["sq"](10) == 100


# Traps and limits

def test_traps_carry_the_spec_messages():
    instance = instantiate("""(module
      (memory 1)
      (table 2 funcref)
      (elem (i32.const 0) $f)
      (type $v (func))
      (func $f (result i32) (i32.const 1))
      (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
      (func (export "overflow") (result i32)
        (i32.div_s (i32.const 0x80000000) (i32.const -1)))
      (func (export "trunc") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "indirect") (param i32) (call_indirect (type $v) (local.get 0)))
      (func (export "unreachable") (unreachable)))""")
    exports = instance.exports
    cases = [
        (lambda: exports["div"](0), "integer divide by zero"),
        (lambda: exports["overflow"](), "integer overflow"),
        (lambda: exports["trunc"](float("nan")), "invalid conversion to integer"),
        (lambda: exports["trunc"](3e9), "integer overflow"),
        (lambda: exports["load"](65533), "out of bounds memory access"),
        (lambda: exports["load"](-1), "out of bounds memory access"),
        (lambda: exports["indirect"](5), "undefined element"),
        (lambda: exports["indirect"](1), "uninitialized element"),
        (lambda: exports["indirect"](0), "indirect call type mismatch"),
        (lambda: exports["unreachable"](), "unreachable"),
    ]
    for call, message in cases:
        with pytest.raises(Trap) as trap:
            call()
        assert trap.value.message.startswith(message)
    assert exports["load"](65532) == 0


def test_call_depth_limit_is_a_parameter():
    text = """(module
      (func $down (export "down") (param i32) (result i32)
        (if (result i32) (local.get 0)
          (then (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))
          (else (i32.const 0)))))"""
    module = Module(wasm(text))
    shallow = module.instantiate(max_call_depth=100).exports["down"]
    deep = module.instantiate(max_call_depth=5000).exports["down"]
    assert shallow(50) == 50
    with pytest.raises(Exhaustion):
        shallow(500)
    assert deep(3000) == 3000
    limit = sys.getrecursionlimit()
    with pytest.raises(Exhaustion):
        deep(10 ** 6)
    assert sys.getrecursionlimit() == limit      # restored after wasm returns


# Values and the embedding API

def test_float_bit_patterns_survive_calls():
    instance = instantiate("""(module
      (func (export "id32") (param f32) (result f32) (local.get 0))
      (func (export "neg32") (param f32) (result f32) (f32.neg (local.get 0)))
      (func (export "id64") (param f64) (result f64) (local.get 0)))""")
    signalling = 0x7FA00001
    assert instance.exports["id32"].call_bits([signalling]) == [signalling]
    assert instance.exports["neg32"].call_bits([signalling]) == [signalling | 0x80000000]
    assert instance.exports["id64"].call_bits([0x7FF4000000000001]) == [0x7FF4000000000001]


def test_host_functions_raw_and_friendly():
    seen = []
    imports = {"env": {
        "friendly": HostFunc(FuncType(("i32", "f32"), ("i64", "f64")),
                             lambda a, b: (a * 2, b / 2)),
        "raw": HostFunc(FuncType(("i32",), ("i32",)), lambda bits: seen.append(bits) or 7,
                        raw=True),
    }}
    instance = instantiate("""(module
      (import "env" "friendly" (func $friendly (param i32 f32) (result i64 f64)))
      (import "env" "raw" (func $raw (param i32) (result i32)))
      (func (export "go") (result i64 f64 i32)
        (call $friendly (i32.const -3) (f32.const 5))
        (call $raw (i32.const -1))))""", imports)
    assert instance.exports["go"]() == (-6, 2.5, 7)
    assert seen == [0xFFFFFFFF]


def test_memory_grows_while_the_host_holds_a_view():
    instance = instantiate("""(module
      (memory (export "memory") 1 4)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))""")
    memory = instance.exports["memory"]
    view = memoryview(memory.buffer)          # pins the bytearray: it cannot resize
    assert instance.exports["grow"](1) == 1
    assert memory.size() == 2 and len(memory.buffer) == 2 * 65536
    instance.exports["store"](65536 + 8, 1234)
    assert instance.exports["load"](65536 + 8) == 1234
    assert memory.read(65536 + 8, 65536 + 12) == struct.pack("<I", 1234)
    assert instance.exports["grow"](3) == -1
    view.release()


def test_f64_access_aligned_unaligned_and_after_growth():
    instance = instantiate("""(module
      (memory (export "memory") 1)
      (func (export "grow") (result i32) (memory.grow (i32.const 1)))
      (func (export "put") (param i32 f64) (f64.store offset=8 (local.get 0) (local.get 1)))
      (func (export "get") (param i32) (result f64) (f64.load offset=8 (local.get 0)))
      (func (export "get_odd") (param i32) (result f64) (f64.load offset=3 (local.get 0))))""")
    put, get, get_odd = (instance.exports[n] for n in ("put", "get", "get_odd"))
    memory = instance.exports["memory"]
    for address, value in [(0, 1.5), (5, -2.25), (16, 1e300), (65512, 3.0)]:
        put(address, value)
        assert get(address) == value
        assert memory.read(address + 8, address + 16) == struct.pack("<d", value)
    assert get_odd(10) == -2.25                    # 10 + 3 == 5 + 8
    with pytest.raises(Trap, match="out of bounds memory access"):
        put(65528, 1.0)
    assert instance.exports["grow"]() == 1
    put(65528, 7.0)
    put(131048, 8.0)
    assert (get(65528), get(131048)) == (7.0, 8.0)
    with pytest.raises(Trap, match="out of bounds memory access"):
        get(131064)


def test_instances_share_imported_memory_table_and_globals():
    provider = instantiate("""(module
      (memory (export "mem") 1)
      (table (export "tab") 2 funcref)
      (global (export "counter") (mut i32) (i32.const 5))
      (func $seven (result i32) (i32.const 7))
      (elem (i32.const 0) $seven)
      (func (export "bump") (global.set 0 (i32.add (global.get 0) (i32.const 1)))))""")
    user = instantiate("""(module
      (import "p" "mem" (memory 1))
      (import "p" "tab" (table 2 funcref))
      (import "p" "counter" (global $c (mut i32)))
      (import "p" "bump" (func $bump))
      (type $r (func (result i32)))
      (func (export "run") (result i32)
        (call $bump)
        (i32.store (i32.const 16) (global.get $c))
        (i32.add (call_indirect (type $r) (i32.const 0)) (i32.load (i32.const 16)))))""",
        {"p": provider.exports})
    assert user.exports["run"]() == 7 + 6
    assert provider.exports["mem"].read(16, 20) == struct.pack("<I", 6)
    assert provider.exports["counter"].value == 6
    provider.exports["counter"].value = 40
    assert user.exports["run"]() == 7 + 41


def test_one_global_imported_twice():
    provider = instantiate('(module (global (export "g") (mut i32) (i32.const 1)))')
    f = instantiate("""(module
      (import "p" "g" (global $a (mut i32)))
      (import "p" "g" (global $b (mut i32)))
      (func (export "f") (result i32)
        (global.get $a)                        ;; 1, read before the write below
        (global.set $b (i32.const 10))
        (global.get $a)                        ;; 10: the same global
        (i32.const 100) (i32.mul) (i32.add)))""", {"p": provider.exports}).exports["f"]
    assert f() == 1 + 10 * 100



# Typed views picked before a loop (loop_views.py)

STEPPING = """(module
  (memory (export "memory") 1)
  (func (export "step") (param $p i32) (param $n i32) (result f64)
    (local $sum f64) (local $q i32)
    (loop $next
      (local.set $sum (f64.add (local.get $sum) (f64.load (local.get $p))))
      (local.set $q (i32.add (local.get $p) (i32.const 8)))
      (f64.store (local.get $q) (f64.add (f64.load (local.get $q)) (f64.const 1)))
      (i32.store offset=4 (local.get $p) (i32.add (i32.load offset=4 (local.get $p)) (i32.const 1)))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))
  (func (export "grow") (param $p i32) (param $n i32) (result i32)
    (loop $next
      (f64.store (local.get $p) (f64.const 2.5))
      (drop (memory.grow (i32.const 1)))
      (local.set $p (i32.add (local.get $p) (i32.const 65536)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (memory.size)))"""


def stepping_reference(memory, p, n):
    """What `step` does, in Python on a bytearray: (sum or 'trap', memory afterwards)."""
    total = 0.0
    for _ in range(n):
        if p + 16 > len(memory):          # the load at p + 8 traps, before any store
            return "trap", memory
        total += struct.unpack_from("<d", memory, p)[0]
        struct.pack_into("<d", memory, p + 8, struct.unpack_from("<d", memory, p + 8)[0] + 1)
        struct.pack_into("<I", memory, p + 4, (struct.unpack_from("<I", memory, p + 4)[0] + 1)
                         % 2**32)
        p += 16
    return total, memory


@pytest.mark.parametrize("p, n", [(0, 50), (4, 50), (3, 50), (65536 - 16 * 10, 10),
                                  (65536 - 16 * 10 + 4, 12), (65536 - 16 * 10 + 3, 11)])
def test_loop_views_picked_before_the_loop(p, n):
    """A pointer stepping by a multiple of the access size has one alignment throughout the
    loop: the view is picked before it (`_h1 = MD[l0 & 7]`), for any alignment, also for a
    local just set to it plus 8; past the end it traps as before, with what the earlier
    iterations stored in memory and nothing of the trapping one."""
    module = Module(wasm(STEPPING))
    assert "_h1 = MD[l0 & 7]" in module.function_source(0)
    instance = module.instantiate()
    memory = bytearray(65536)
    for i in range(0, 65536 - 8, 8):
        struct.pack_into("<d", memory, i, i / 8)
    instance.exports["memory"].write(bytes(memory), 0)
    expected, expected_memory = stepping_reference(memory, p, n)
    try:
        result = instance.exports["step"](p, n)
    except Trap as trap:
        assert trap.message == "out of bounds memory access"
        result = "trap"
    assert result == expected
    assert instance.exports["memory"].read(0, 65536) == bytes(expected_memory)


def test_no_view_picked_before_a_loop_that_grows_memory():
    """memory.grow (or a call, which may grow it) rebinds the views: such a loop indexes them
    as usual, and its stores land after each growth."""
    module = Module(wasm(STEPPING))
    assert "_h" not in module.function_source(1)
    instance = module.instantiate()
    assert instance.exports["grow"](8, 3) == 4
    assert [struct.unpack("<d", instance.exports["memory"].read(8 + k * 65536, 16 + k * 65536))
            for k in range(3)] == [(2.5,)] * 3


BUMPING = """(module
  (memory (export "memory") 1)
  (func (export "bump") (param $p i32) (param $n i32) (result f64)
    (local $sum f64) (local $t i32)
    (loop $next
      (local.set $t (i32.add (local.get $p) (i32.const 24)))
      (local.set $sum (f64.add (local.get $sum) (f64.load (local.get $p))))
      (f64.store offset=8 (local.get $p) (local.get $sum))
      (local.set $p (local.get $t))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))
  (func (export "stale") (param $p i32) (param $t i32) (param $n i32) (result f64)
    (local $sum f64)
    (loop $next
      (local.set $p (local.get $t))
      (local.set $sum (f64.add (local.get $sum) (f64.load (local.get $p))))
      (local.set $t (i32.add (local.get $p) (i32.const 8)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))
  (func (export "tee") (param $p i32) (param $n i32) (result i32)
    (local $sum i32) (local $t i32)
    (loop $next
      (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $p))))
      (local.set $p (local.tee $t (i32.sub (local.get $p) (i32.const 4))))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum)))"""


def test_loop_views_through_a_pointer_bumped_by_a_copy():
    """`t = p + 24; ...; p = t` keeps p's alignment when t is set before anything reads it
    in the iteration; a copy of a value from the previous iteration or from before the loop
    (`stale`: p takes t's alignment, which need not be p's) picks nothing."""
    module = Module(wasm(BUMPING))
    assert "_h1 = MD[l0 & 7]" in module.function_source(0)
    assert "MD[l0 & 7]" not in module.function_source(1).split("while True:")[0]
    for p in (0, 4, 5):
        instance = module.instantiate()
        memory = bytearray(65536)
        for i in range(0, 65536 - 8, 8):
            struct.pack_into("<d", memory, i, float(i % 100))
        instance.exports["memory"].write(bytes(memory), 0)
        expected, address = 0.0, p
        for _ in range(100):
            expected += struct.unpack_from("<d", memory, address)[0]
            struct.pack_into("<d", memory, address + 8, expected)
            address += 24
        assert instance.exports["bump"](p, 100) == expected
        assert instance.exports["memory"].read(0, 65536) == bytes(memory)
        stale, address = 0.0, p + 3
        for _ in range(50):
            stale += struct.unpack_from("<d", memory, address)[0]
            address += 8
        assert instance.exports["stale"](p, p + 3, 50) == stale
    assert "_h1 = MI[l0 & 3]" in module.function_source(2)     # p = (t = p - 4)
    instance = module.instantiate()
    instance.exports["memory"].write(struct.pack("<64I", *range(64)), 0)
    assert instance.exports["tee"](4 * 63 + 2, 60) == sum(
        struct.unpack_from("<I", struct.pack("<64I", *range(64)) + bytes(2), 4 * k + 2)[0]
        for k in range(4, 64))


HOLDING = """(module
  (import "env" "grow" (func $grow))
  (memory (export "memory") 1)
  (func (export "fields") (param $p i32) (param $q i32) (param $c i32) (result i32)
    (local $s i32)
    (local.set $s (i32.load (local.get $p)))
    (if (local.get $c)
      (then (local.set $s (i32.add (local.get $s) (i32.load offset=4 (local.get $q))))))
    (local.set $s (i32.add (local.get $s) (i32.load offset=8 (local.get $q))))
    (local.set $s (i32.add (local.get $s) (i32.load offset=8 (local.get $p))))
    (i64.store offset=16 (local.get $p) (i64.load (i32.add (local.get $p) (i32.const 24))))
    (local.set $p (i32.add (local.get $p) (i32.const 2)))
    (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
    (call $grow)
    (i32.store offset=65536 (local.get $p) (local.get $s))
    (local.get $s))
  (func (export "walk") (param $p i32) (param $n i32) (result i32)
    (local $s i32)
    (local.set $s (i32.load (local.get $p)))
    (loop $next
      (local.set $s (i32.add (local.get $s) (i32.load offset=4 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 5)))
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s)))"""


def test_views_held_from_one_access_to_the_next():
    """Accesses through a local after one that picked its view (`(_p1 := MI[l0 & 3])`) use
    it while every path to them passed that access: not after an `if` that picked it in one
    branch only, nor after the local changes (here its alignment), nor after a call (which
    grew memory: the store lands in the new page), nor across a loop's iterations when the
    loop sets the local."""
    module = Module(wasm(HOLDING))
    source = module.function_source(1)
    assert "(_p1 := MI[l0 & 3])" in source and "_p1[_q1 + 2]" in source
    for p, q, c in [(0, 64, 1), (0, 64, 0), (100, 3, 1), (101, 101, 0), (65536 - 32, 0, 1)]:
        grown = []
        instance = Module(wasm(HOLDING)).instantiate(
            {"env": {"grow": HostFunc(FuncType([], []), lambda: grown.append(
                memory.grow(1)))}})
        memory = instance.exports["memory"]
        data = bytearray(struct.pack("<16384I", *((i * 2654435761) % 2**32
                                                  for i in range(16384))))
        memory.write(bytes(data), 0)

        def u32(address):
            return struct.unpack_from("<I", data, address)[0]
        s = u32(p) + (u32(q + 4) if c else 0) + u32(q + 8) + u32(p + 8)
        data[p + 16:p + 24] = data[p + 24:p + 32]
        s = (s + u32(p + 2)) % 2**32
        assert instance.exports["fields"](p, q, c) % 2**32 == s
        assert memory.read(0, 65536) == bytes(data)
        assert struct.unpack("<I", memory.read(p + 2 + 65536, p + 6 + 65536))[0] == s
        assert grown == [1]
    instance = module.instantiate({"env": {"grow": HostFunc(FuncType([], []), lambda: None)}})
    instance.exports["memory"].write(bytes(range(256)), 0)
    data = bytes(range(256)) + bytes(65536 - 256)
    p, expected = 7, struct.unpack_from("<I", data, 7)[0]
    for _ in range(20):
        expected += struct.unpack_from("<I", data, p + 4)[0]
        p += 5
        expected += struct.unpack_from("<I", data, p)[0]
    assert instance.exports["walk"](7, 20) % 2**32 == expected % 2**32
