"""How compiled code forms addresses (compiler/addresses.py): sign-extended addresses with
memory limited to 2 GiB, and a memory-base copy per local. Every access pattern the
translator treats specially is run on both engines at the edges of memory and of the i32
range, where zero and sign extension differ, and must agree with the interpreter, which
follows the spec directly."""

import pytest

from pywamr.compiler.addresses import memory_limit_pages, sign_extended_locals
from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.loader.aot_module import AotModule
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import Trap
from pywamr.runtime.interp import Module

from test_compiler import wat2wasm

PAGE = 65536

# $p is read as `p` and as `p + C`: a sign-extended local. $q only with static offsets.
ADDRESSES_WAT = """
(module
  (memory (export "memory") 1)
  (func (export "pair") (param $p i32) (result i64)
    (i64.add (i64.load (local.get $p))
             (i64.load (i32.add (local.get $p) (i32.const 8)))))
  (func (export "next") (param $p i32) (result i64)
    (i64.load (i32.add (local.get $p) (i32.const 8))))
  (func (export "next_through_local") (param $p i32) (result i64) (local $n i32)
    (local.set $n (i32.add (local.get $p) (i32.const 8)))
    (i64.load8_u (local.get $n)))
  (func (export "store_pair") (param $p i32) (param $v i64)
    (i64.store (local.get $p) (local.get $v))
    (i64.store (i32.add (local.get $p) (i32.const 8)) (i64.add (local.get $v) (i64.const 1))))
  (func (export "offset") (param $p i32) (result i32)
    (drop (i32.add (local.get $p) (i32.const 4)))
    (i32.load offset=8 (local.get $p)))
  (func (export "copy") (param $dst i32) (param $src i32) (param $n i32)
    (loop $next
      (i64.store (local.get $dst) (i64.load (local.get $src)))
      (i64.store (i32.add (local.get $dst) (i32.const 8))
                 (i64.load (i32.add (local.get $src) (i32.const 8))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
"""

# Around 0, the end of one page, 2^31 and 2^32, as i32 bit patterns.
EDGES = [0, 8, 100, PAGE - 16, PAGE - 9, PAGE - 8, PAGE - 1, PAGE, 0x7FFFFFF8, 0x7FFFFFFF,
         0x80000000, 0x80000008, 0xFFFF0000, 0xFFFFFFF0, 0xFFFFFFF4, 0xFFFFFFF8, 0xFFFFFFFC,
         0xFFFFFFFF]


@pytest.fixture(scope="module")
def wasm(tmp_path_factory):
    return wat2wasm(tmp_path_factory.mktemp("addresses"), ADDRESSES_WAT)


@pytest.fixture(scope="module", params=["2g", "4g"])
def engines(request, wasm):
    """(compiled instance, interpreter instance), memory filled alike."""
    aot = compile_wasm(wasm, CompileOptions(max_memory_4gib=request.param == "4g"))
    instances = AotModule(aot).instantiate().exports, Module(wasm).instantiate().exports
    for exports in instances:
        exports["memory"].write(bytes(range(256)) * (PAGE // 256), 0)
    return instances


def outcome(call):
    try:
        return call()
    except Trap as trap:
        return trap.message


@pytest.mark.parametrize("name", ["pair", "next", "next_through_local", "offset"])
def test_loads_agree_with_the_interpreter_at_the_edges(engines, name):
    compiled, interpreted = engines
    for p in EDGES:
        expected = outcome(lambda: interpreted[name](p))
        assert outcome(lambda: compiled[name](p)) == expected, (name, hex(p))


def test_a_sum_that_wraps_is_the_wrapped_address(engines):
    compiled, _ = engines
    assert compiled["next"](0xFFFFFFF8) == int.from_bytes(bytes(range(8)), "little")
    assert outcome(lambda: compiled["pair"](0xFFFFFFF8)) == "out of bounds memory access"


def test_stores_agree_with_the_interpreter_at_the_edges(engines):
    compiled, interpreted = engines
    for p in EDGES:
        results = [outcome(lambda: exports["store_pair"](p, 7)) for exports in engines]
        assert results[0] == results[1], hex(p)
        assert compiled["memory"].read(0, PAGE) == interpreted["memory"].read(0, PAGE), hex(p)


def test_a_loop_over_two_streams_copies_like_the_interpreter(engines):
    for exports in engines:
        exports["copy"](4096, 0, 64)            # apart
        exports["copy"](8, 0, 32)               # overlapping: the loop's order matters
        assert outcome(lambda: exports["copy"](0xFFFFFFF0, 512, 1)) == \
            "out of bounds memory access"       # dst + 8 would wrap to 0, but dst traps first
    compiled, interpreted = engines
    assert compiled["memory"].read(0, PAGE) == interpreted["memory"].read(0, PAGE)


def test_memory_stops_at_2_gib_unless_4_gib_is_asked_for(wasm):
    limited = AotModule(compile_wasm(wasm))
    assert limited.target.memory_limit == 32768
    exports = limited.instantiate().exports
    assert exports["grow"](32767) == 1
    assert exports["grow"](1) == -1
    full = AotModule(compile_wasm(wasm, CompileOptions(max_memory_4gib=True)))
    assert full.target.memory_limit == 65536
    assert full.instantiate().exports["grow"](32768) == 1


def limit_of(tmp_path, wat, **options):
    module = decode_module(wat2wasm(tmp_path, wat))
    return memory_limit_pages(module, options.get("bounds_checks", False),
                              options.get("max_memory_4gib", False))


def test_the_limit_is_2_gib_only_where_memory_cannot_be_bigger(tmp_path):
    assert limit_of(tmp_path, "(module (memory 1))") == 32768
    assert limit_of(tmp_path, "(module (memory 1 65536))") == 32768
    assert limit_of(tmp_path, "(module (memory 32769))") == 65536
    assert limit_of(tmp_path, '(module (import "m" "mem" (memory 1 32768)))') == 32768
    assert limit_of(tmp_path, '(module (import "m" "mem" (memory 1)))') == 65536
    assert limit_of(tmp_path, '(module (import "m" "mem" (memory 1 32769)))') == 65536
    assert limit_of(tmp_path, "(module (memory 1))", bounds_checks=True) == 65536
    assert limit_of(tmp_path, "(module (memory 1))", max_memory_4gib=True) == 65536


def test_sign_extended_locals_are_those_read_with_a_constant_added(wasm):
    bodies = decode_module(wasm).codes
    assert sign_extended_locals(bodies[0].body) == {0}      # pair
    assert sign_extended_locals(bodies[4].body) == {0}      # offset: found, if unused
    # copy: `dst + 8` and `src + 8` count, `dst + 16` stored back into dst does not.
    assert sign_extended_locals(bodies[5].body) == {0, 1}
