"""Exact out-of-bounds traps in every compiled configuration (issue #13), and the loops whose
bounds checks are hoisted (compiler/loops.py).

A trap must happen where the spec says, whether or not the loaded value is used, and memory
after it must hold exactly the stores made before it. Every case runs on the compiled code
at -O0 and -O3 in both bounds modes and on the interpreter, which follows the spec directly;
the loops run at the edges of memory, where the fast version must hand over to the checked
one at the exact iteration.
"""

import random
import re

import pytest

from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.compiler.loops import find_loop
from pywamr.loader.aot_module import AotModule
from pywamr.runtime import opcodes
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import Interrupted, Trap
from pywamr.runtime.interp import Module
from pywamr.runtime.limits import Limits

from test_compiler import wat2wasm

PAGE = 65536
OOB = "out of bounds memory access"

# The three shapes the issue found silent under guard pages, and stores around a trap.
DEAD_LOADS_WAT = """
(module
  (memory (export "memory") 1 2)
  (func (export "eqz_drop") i32.const 0x4cad0e3e i32.load i32.eqz drop)
  (func (export "br_discards") (result i32)
    block (result i32) i32.const 0x4cad0e3e i32.load i32.const 63 br 1 end)
  (func (export "dead_local") (result i32) (local i32)
    (local.set 0 (i32.load (i32.const 0x10000))) (i32.const 7))
  (func (export "masked") (param $p i32) (result i32)
    (i32.and (i32.load (local.get $p)) (i32.const 0)))
  (func (export "narrowed") (param $p i32) (result i32)
    (i32.wrap_i64 (i64.load (local.get $p))))
  (func (export "lane") (param $p i32) (result i32)
    (i8x16.extract_lane_u 0 (v128.load (local.get $p))))
  ;; The first store must be in memory after the trap; the second must not.
  (func (export "store_then_trap") (param $p i32)
    (i32.store (i32.const 64) (i32.const 1))
    (drop (i32.load (local.get $p)))
    (i32.store (i32.const 64) (i32.const 2)))
  (func (export "store_sum_then_trap") (param $p i32) (result i32)
    (i32.store (i32.const 128) (i32.const 5))
    (i32.add (i32.load (local.get $p)) (i32.load (i32.const 128))))
  ;; Two fields of one address: one check, widened to the second (compiler/addresses.py).
  (func (export "fields") (param $p i32) (result i32)
    (i32.add (i32.load (local.get $p)) (i32.load offset=12 (local.get $p))))
  ;; ... but not across a store, nor across another trap.
  (func (export "fields_across_store") (param $p i32) (result i32)
    (i32.load (local.get $p))
    (i32.store (i32.const 64) (local.get $p))
    (i32.add (i32.load offset=12 (local.get $p))))
  (func (export "fields_across_div") (param $p i32) (result i32)
    (i32.add (i32.load (local.get $p))
      (i32.add (i32.div_u (i32.const 1) (i32.sub (local.get $p) (i32.const 65528)))
               (i32.load offset=12 (local.get $p))))))
"""

DEAD_LOADS = ["eqz_drop", "br_discards", "dead_local"]
EDGE_ADDRESSES = [0, PAGE - 16, PAGE - 12, PAGE - 8, PAGE - 4, PAGE - 3, PAGE - 1, PAGE,
                  0x4CAD0E3E, 0xFFFFFFFC]

CONFIGURATIONS = [CompileOptions(opt_level=o, bounds_checks=b)
                  for o in (0, 3) for b in (False, True)]


def config_id(options):
    return f"O{options.opt_level}-{'explicit' if options.bounds_checks else 'guard'}"


def outcome(call):
    try:
        return call()
    except Trap as trap:
        return trap.message


@pytest.fixture(scope="module")
def dead_loads_wasm(tmp_path_factory):
    return wat2wasm(tmp_path_factory.mktemp("exact"), DEAD_LOADS_WAT)


@pytest.mark.parametrize("options", CONFIGURATIONS, ids=config_id)
def test_a_load_whose_value_dies_still_traps(dead_loads_wasm, options):
    exports = AotModule(compile_wasm(dead_loads_wasm, options)).instantiate().exports
    for name in DEAD_LOADS:
        assert outcome(exports[name]) == OOB, name


@pytest.mark.parametrize("options", CONFIGURATIONS, ids=config_id)
def test_partly_used_loads_and_stores_around_traps_match_the_interpreter(dead_loads_wasm,
                                                                           options):
    compiled = AotModule(compile_wasm(dead_loads_wasm, options)).instantiate().exports
    interpreted = Module(dead_loads_wasm).instantiate().exports
    for name in ("masked", "narrowed", "lane", "store_then_trap", "store_sum_then_trap",
                 "fields", "fields_across_store", "fields_across_div"):
        for p in EDGE_ADDRESSES:
            expected = outcome(lambda: interpreted[name](p))
            assert outcome(lambda: compiled[name](p)) == expected, (name, hex(p))
            assert compiled["memory"].read(0, PAGE) == interpreted["memory"].read(0, PAGE)


def test_accesses_to_one_address_share_a_widened_check(dead_loads_wasm):
    ir_text = compile_wasm(dead_loads_wasm, CompileOptions(opt_level=0, format="llvmir")).decode()

    def bounds_checks(index):
        body = ir_text[ir_text.index(f"@aot_func_{index}("):]
        return body[:body.index("\n}\n")].count("label %trap.5")

    assert bounds_checks(8) == 1              # fields: one branch to the trap block
    assert bounds_checks(9) == 3              # fields_across_store: the store ends the stretch


# --- loops with hoisted checks ---------------------------------------------------------------

# Each loop runs $n times (at least once) and returns a sum, so that a missed iteration or a
# missed trap changes the result or memory.
LOOPS_WAT = """
(module
  (memory (export "memory") 1 3)
  ;; Two streams, unrolled by two as clang writes them: dst[i] += src[i] << 1.
  (func (export "axpy") (param $dst i32) (param $src i32) (param $n i32)
    (loop $next
      (i64.store (local.get $dst)
        (i64.add (i64.load (local.get $dst)) (i64.shl (i64.load (local.get $src)) (i64.const 1))))
      (i64.store offset=8 (local.get $dst)
        (i64.add (i64.load offset=8 (local.get $dst))
                 (i64.shl (i64.load (i32.add (local.get $src) (i32.const 8))) (i64.const 1))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  ;; A step the loop does not change: p[k * step] += 1.
  (func (export "strided") (param $p i32) (param $step i32) (param $n i32) (result i32)
    (local $count i32)
    (loop $next
      (i32.store8 (local.get $p) (i32.add (i32.load8_u (local.get $p)) (i32.const 1)))
      (local.set $p (i32.add (local.get $p) (local.get $step)))
      (local.set $count (i32.add (local.get $count) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $count) (local.get $n))))
    (local.get $count))
  ;; Downwards, reading after the step (phase 1) and at a constant address.
  (func (export "down") (param $p i32) (param $n i32) (result i32) (local $sum i32)
    (loop $next
      (local.set $p (i32.sub (local.get $p) (i32.const 4)))
      (local.set $sum (i32.add (local.get $sum)
        (i32.add (i32.load (local.get $p)) (i32.load8_u (i32.const 3)))))
      (i32.store (i32.const 16) (local.get $sum))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))
  ;; SIMD: a v128 load, a lane store, a negative constant (p - 4 + offset 4).
  (func (export "vectors") (param $p i32) (param $n i32) (result i32) (local $acc v128)
    (loop $next
      (local.set $acc (i32x4.add (local.get $acc) (v128.load (local.get $p))))
      (v128.store32_lane offset=4 1 (i32.add (local.get $p) (i32.const -4)) (local.get $acc))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i32x4.extract_lane 0 (local.get $acc)))
  ;; A zero step: the same word every iteration.
  (func (export "same") (param $p i32) (param $n i32) (result i32) (local $sum i32)
    (loop $next
      (local.set $sum (i32.add (local.get $sum) (i32.load offset=2 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 0)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))
  ;; An invariant base plus a counter, as sha256's schedule: w[i + 16] = w[i] ^ w[i + 9].
  (func (export "schedule") (param $w i32) (param $i i32) (param $n i32) (local $a i32)
    (loop $next
      (local.set $a (i32.add (local.get $w) (local.get $i)))
      (i32.store offset=64 (local.get $a)
        (i32.xor (i32.load (local.get $a)) (i32.load (i32.add (local.get $a) (i32.const 36)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
"""

LOOPS = {"axpy": 3, "strided": 3, "down": 2, "vectors": 2, "same": 2, "schedule": 3}


def loop_arguments(seed, count=60):
    """Arguments near the ends of memory (one or two pages) and of the i32 range, so that
    loops start in bounds and run off the end, start outside, or wrap around."""
    rng = random.Random(seed)
    pointers = [0, 4, 8, PAGE - 64, PAGE - 16, PAGE - 9, PAGE - 4, PAGE, PAGE + 4,
                2 * PAGE - 32, 0x7FFFFFF0, 0xFFFFFFF0, 0xFFFFFFFC]
    steps = [1, 4, 8, 16, 1000, 0, 0xFFFFFFFC, 0x80000000]
    for _ in range(count):
        yield (rng.choice(pointers) + rng.randrange(-8, 9)) & 0xFFFFFFFF, \
            rng.choice(pointers) & 0xFFFFFFFF, rng.choice(steps), rng.choice([1, 2, 3, 7, 100])


@pytest.fixture(scope="module")
def loops_wasm(tmp_path_factory):
    return wat2wasm(tmp_path_factory.mktemp("loops"), LOOPS_WAT)


def test_every_loop_here_is_versioned(loops_wasm):
    module = decode_module(loops_wasm)
    for code in module.codes[:len(LOOPS)]:
        starts = [i for i, instr in enumerate(code.body) if instr.op == opcodes.LOOP]
        assert [find_loop(code.body, i) is not None for i in starts] == [True]


@pytest.mark.parametrize("options", CONFIGURATIONS, ids=config_id)
def test_versioned_loops_trap_at_the_same_iteration_as_the_interpreter(loops_wasm, options):
    compiled = AotModule(compile_wasm(loops_wasm, options)).instantiate().exports
    interpreted = Module(loops_wasm).instantiate().exports
    for seed, pages in ((1, 0), (2, 1)):
        for exports in (compiled, interpreted):
            exports["grow"](pages)
            memory = exports["memory"]
            pattern = bytes((i * 7 + 3) & 0xFF for i in range(256))
            memory.write(pattern * (memory.size() * PAGE // 256), 0)
        for p, q, step, n in loop_arguments(seed):
            for name, arity in LOOPS.items():
                args = {2: (p, n), 3: (p, q, n) if name != "strided" else (p, step, n)}[arity]
                expected = outcome(lambda: interpreted[name](*args))
                assert outcome(lambda: compiled[name](*args)) == expected, (name, args)
            assert compiled["memory"].read(0, PAGE) == interpreted["memory"].read(0, PAGE), \
                (p, q, step, n)


def test_a_loop_that_leaves_memory_stores_every_iteration_before_the_trap(loops_wasm):
    exports = AotModule(compile_wasm(loops_wasm)).instantiate().exports
    start = PAGE - 16 * 5
    before = exports["memory"].read(start, start + 16 * 5)
    assert outcome(lambda: exports["strided"](start, 16, 100)) == OOB
    after = exports["memory"].read(start, start + 16 * 5)
    assert [after[16 * k] for k in range(5)] == [(before[16 * k] + 1) & 0xFF for k in range(5)]


def test_the_versioned_loop_vectorises_like_c(loops_wasm):
    ir_text = compile_wasm(loops_wasm, CompileOptions(format="llvmir")).decode()
    axpy = ir_text[ir_text.index("@aot_func_0("):]
    axpy = axpy[:axpy.index("\n}\n")]
    assert re.search(r"<\d+ x i64>", axpy)


SHAPES_WAT = """
(module
  (memory 1)
  (func (param $p i32) (param $n i32)       ;; a call in the body: not versioned
    (loop $l (drop (i32.load (local.get $p))) (call 1)
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func)
  (func (param $p i32) (param $n i32)       ;; an address read from memory: not versioned
    (loop $l (local.set $p (i32.load (local.get $p)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (param $p i32) (param $n i32)       ;; p stepped twice: versioned, with a step of 8
    (loop $l (drop (i32.load (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (param $p i32) (param $n i32)       ;; a branch inside: not versioned
    (loop $l (if (local.get $n) (then (drop (i32.load (local.get $p)))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (param $p i32) (param $n i32)       ;; a product: not versioned
    (loop $l (drop (i32.load (i32.mul (local.get $p) (i32.const 4))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (param $p i32) (param $n i32)       ;; a scan to a loaded value: not versioned
    (loop $l (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (i32.lt_u (i32.load (local.get $p)) (local.get $n)))))
  (func (param $p i32) (param $s i32) (param $n i32) (param $d i32)   ;; p[k * s] = 1 until
    (loop $l (i32.store8 (local.get $p) (i32.const 1))   ;; a count stepped by d reaches 0
      (local.set $p (i32.add (local.get $p) (local.get $s)))   ;; (it may pass 0): not versioned
      (br_if $l (local.tee $n (i32.sub (local.get $n) (local.get $d)))))))
"""


def test_loops_of_other_shapes_keep_their_checks(tmp_path):
    module = decode_module(wat2wasm(tmp_path, SHAPES_WAT))
    plans = {}
    for index in (0, 2, 3, 4, 5, 6, 7):
        body = module.codes[index].body
        start = next(i for i, instr in enumerate(body) if instr.op == opcodes.LOOP)
        plans[index] = find_loop(body, start)
    assert plans.pop(3).pointers[0].constant == 8
    assert all(plan is None for plan in plans.values()), plans


# --- loops whose trip count is bounded at entry (compiler/trip_counts.py) --------------------

# Each loop stores p[k * s] = k + 1 (sieve's shape: one access, a step known at run time) and
# counts its iterations, under one kind of condition on a counter c (start $c, step $d or a
# constant), so that the fast version runs alone exactly when the loop ends in bounds.
TRIP_CONDITIONS = {
    "lt_u": "(i32.lt_u (local.tee $c (i32.add (local.get $c) (local.get $d))) (local.get $n))",
    "lt_s": "(i32.lt_s (local.tee $c (i32.add (local.get $c) (local.get $d))) (local.get $n))",
    "le_u_right": "(i32.ge_u (local.get $n) (local.tee $c (i32.add (local.get $c) (local.get $d))))",
    "gt_s_phase0": "(i32.gt_s (i32.add (local.get $c) (i32.const 5)) (local.get $n))"
                   " (local.set $c (i32.add (local.get $c) (local.get $d)))",
    "ge_u_const": "(i32.ge_u (local.tee $c (i32.add (local.get $c) (i32.const -3))) (local.get $n))",
    "ne_up": "(i32.ne (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $n))",
    "ne_down": "(local.tee $c (i32.sub (local.get $c) (i32.const 1)))",
    # `p != end` over 4-byte and 12-byte elements: the counter meets n, or steps over it.
    "ne_up4": "(i32.ne (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $n))",
    "ne_down12": "(i32.ne (local.tee $c (i32.add (local.get $c) (i32.const -12))) (local.get $n))",
    "eq": "(i32.eq (local.tee $c (i32.add (local.get $c) (local.get $d))) (local.get $n))",
    "eqz": "(i32.eqz (local.tee $c (i32.add (local.get $c) (local.get $d))))",
}


CONSTANT_STEPS = {"ne_up4": 4, "ne_down12": -12}


def trip_loop(name, condition):
    # A condition ending in a set of $c (phase 0) is split: the test first, then the step.
    test, _, step = condition.partition(" (local.set")
    step = f"(local.set{step}" if step else ""
    return f"""  (func (export "{name}") (param $p i32) (param $s i32) (param $c i32) (param $d i32)
    (param $n i32) (result i32) (local $k i32) (local $go i32)
    (loop $next
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (i32.store8 (local.get $p) (local.get $k))
      (local.set $p (i32.add (local.get $p) (local.get $s)))
      (local.set $go {test})
      {step}
      (br_if $next (local.get $go)))
    (local.get $k))"""


# The same with an i64 counter, as clang writes sieve's inner loop (j += i; j < n).
TRIP64_WAT = """  (func (export "sieve") (param $p i32) (param $s i32) (param $c i64) (param $d i64)
    (param $n i64) (result i32) (local $k i32)
    (loop $next
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (i32.store8 (local.get $p) (local.get $k))
      (local.set $p (i32.add (local.get $p) (local.get $s)))
      (br_if $next (i64.lt_u (local.tee $c (i64.add (local.get $c) (local.get $d)))
                             (local.get $n))))
    (local.get $k))"""


@pytest.fixture(scope="module")
def trip_wasm(tmp_path_factory):
    functions = "\n".join(trip_loop(name, condition)
                          for name, condition in TRIP_CONDITIONS.items())
    text = f'(module (memory (export "memory") 1 2)\n{functions}\n{TRIP64_WAT})'
    return wat2wasm(tmp_path_factory.mktemp("trips"), text)


def test_loops_with_a_bounded_trip_count_are_versioned_without_a_budget_test(trip_wasm):
    from pywamr.compiler.trip_counts import bounded_trips
    module = decode_module(trip_wasm)
    for code in module.codes:
        start = next(i for i, instr in enumerate(code.body) if instr.op == opcodes.LOOP)
        plan = find_loop(code.body, start)
        assert plan is not None and bounded_trips(plan.condition, plan.pointers)


TRIP_WALKS = [(0, -1), (5, -4), (3, 1000), (PAGE - 40, 1), (PAGE - 41, 4), (PAGE - 3, 1),
              (PAGE - 1, 1000), (PAGE, -1), (PAGE + 1, -4), (0xFFFFFFF8, 4), (PAGE - 8, -1000)]


def in_bounds_iterations(p, s):
    """How many iterations store p[k * s] inside the one page of memory: the budget B."""
    k = 0
    while 0 <= (p + k * s) % (1 << 32) < PAGE:
        k += 1
    return k


def trip_arguments(rng, name):
    """(p, s, c, d, n) for loops that end just before, at, or just after the iteration that
    leaves memory (every walk leaves it within a few hundred iterations, so that no loop runs
    long in the interpreter); counters near the ends of the i32 range, steps of every size."""
    for p, s in TRIP_WALKS:
        budget = in_bounds_iterations(p, s)
        for trips in (budget - 1, budget, budget + 1):
            for extra in (-1, 0, 1):
                c = rng.choice([0, 5, 0x7FFFFFF0, 0x80000002, 0xFFFFFFF0])
                d = rng.choice([1, 1, 2, 0xFFFFFFFF, 0xFFFFFFFE, 0x80000000, 0])
                if name == "ne_down":
                    c = trips + extra
                d = CONSTANT_STEPS.get(name, d) & 0xFFFFFFFF
                n = (c + trips * d + extra) & 0xFFFFFFFF
                yield p & 0xFFFFFFFF, s & 0xFFFFFFFF, c, d, n


@pytest.mark.parametrize("options", CONFIGURATIONS, ids=config_id)
def test_bounded_loops_agree_with_the_interpreter(trip_wasm, options):
    compiled = AotModule(compile_wasm(trip_wasm, options)).instantiate().exports
    interpreted = Module(trip_wasm).instantiate().exports
    rng = random.Random(7 + options.opt_level * 2 + options.bounds_checks)
    for name in [*TRIP_CONDITIONS, "sieve"]:
        for p, s, c, d, n in trip_arguments(rng, name):
            if name == "sieve":     # 64-bit counters: near 2^63 and 2^64 too
                high = rng.choice([0, 1 << 32, (1 << 63) - 64, (1 << 64) - 64])
                c, n = (c + high) % (1 << 64), (n + high) % (1 << 64)
                d = d if d < 1 << 31 else d - (1 << 32) + (1 << 64)
            expected = outcome(lambda: interpreted[name](p, s, c, d, n))
            assert outcome(lambda: compiled[name](p, s, c, d, n)) == expected, \
                (name, p, s, c, d, n)
            assert compiled["memory"].read(0, PAGE) == interpreted["memory"].read(0, PAGE), \
                (name, p, s, c, d, n)


# memset's loop: n -= 32 while n > 31, unsigned. Its counter wraps around long before the
# budget of a large memory is spent, so only the test where the counter meets n
# (trip_counts.py) tells that the loop ends in bounds.
COUNT_DOWN_WAT = """
(module (memory (export "memory") 1)
  (func (export "fill") (param $p i32) (param $n i32)
    (loop $next
      (i64.store (local.get $p) (i64.const -1))
      (i64.store offset=24 (local.get $p) (i64.const -1))
      (local.set $p (i32.add (local.get $p) (i32.const 32)))
      (br_if $next (i32.gt_u (local.tee $n (i32.sub (local.get $n) (i32.const 32)))
                             (i32.const 31))))))
"""


@pytest.mark.parametrize("n", [40, 64, 112, 4096, 60000])
def test_a_count_down_that_ends_in_bounds_runs_check_free_to_its_end(tmp_path, n):
    """Such a loop runs without checks and without its interruption check (a pending
    interruption goes unnoticed); one that would leave memory runs checked from its first
    iteration, and is interrupted there."""
    exports = AotModule(compile_wasm(wat2wasm(tmp_path, COUNT_DOWN_WAT))).instantiate().exports
    with Limits() as run:
        run.interrupt()
        exports["fill"](0, n)
    assert exports["memory"].read(24, 32) == b"\xff" * 8
    iterations = 1 + max(0, n - 32) // 32
    with pytest.raises(Interrupted):
        with Limits() as run:
            run.interrupt()
            exports["fill"](PAGE - 32 * iterations + 8, n)


# quicksort's scan, `do i++; while (a[i] < pivot)`, and one that only a trap ends: every
# iteration loads through a pointer stepped by a constant, so the loop leaves memory within
# memory size / step + 1 iterations (loops.access_stride).
SCAN_WAT = """
(module (memory (export "memory") 1 2000) (data (i32.const 8) "\\ff\\ff\\ff\\ff")
  (func (export "scan") (param $p i32) (param $pivot i32) (result i32)
    (loop $next
      (br_if $next (i32.lt_u (i32.load (local.tee $p (i32.add (local.get $p) (i32.const 4))))
                             (local.get $pivot))))
    (local.get $p))
  (func (export "run_off") (param $p i32)
    (loop $next
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $next (i32.ne (i32.load8_u (local.get $p)) (i32.const 255)))))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
"""


@pytest.mark.parametrize("options", CONFIGURATIONS, ids=config_id)
def test_a_loop_bounded_by_memory_checks_for_interruption_only_in_a_large_memory(tmp_path,
                                                                                  options):
    """In a memory of up to (2^26 - 1) * step bytes such a loop has no interruption check:
    a pending interruption goes unnoticed, and a loop that would never stop on its own still
    ends, trapping where it leaves memory. In a larger memory it checks."""
    exports = AotModule(compile_wasm(wat2wasm(tmp_path, SCAN_WAT), options)).instantiate().exports
    with Limits() as run:
        run.interrupt()
        assert exports["scan"](0, 1) == 8
        with pytest.raises(Trap, match="out of bounds memory access"):
            exports["run_off"](16)
    assert exports["grow"](1100) == 1       # 65 MiB: more than (2^26 - 1) * 1 bytes
    with Limits() as run:
        run.interrupt()
        assert exports["scan"](0, 1) == 8   # step 4: the bound is 256 MiB
        with pytest.raises(Interrupted):
            exports["run_off"](16)


# --- random loops of the versioned shape -------------------------------------------------------

ACCESS_TYPES = [("i32.load8_u", "i32.store8", "i32"), ("i32.load16_s", "i32.store16", "i32"),
                ("i32.load", "i32.store", "i32"), ("i64.load", "i64.store", "i64"),
                ("i64.load32_u", "i64.store32", "i64")]


def random_loop(rng, index):
    """A function `f<index>(p, q, s, n)`: a loop over pointers $p (constant step) and $q
    (step $s or a constant), with loads and stores at $p + C, $q + C, $base + $q + C and
    constant addresses, before and after the steps, summing what it loads into $acc. $p's
    local may hold $p + X for a while before its step."""
    lines = []

    def address():
        kind = rng.choice(["p", "q", "base+q", "const"])
        constant = rng.choice([0, 0, 4, 8, -4, -8, 60, rng.randrange(-100, 100)])
        term = {"p": "(local.get $p)", "q": "(local.get $q)",
                "base+q": "(i32.add (local.get $base) (local.get $q))",
                "const": f"(i32.const {rng.choice([0, 16, 65530, 65536, 131070])})"}[kind]
        return f"(i32.add {term} (i32.const {constant}))" if constant else term

    def access():
        load, store, typ = rng.choice(ACCESS_TYPES)
        offset = rng.choice([0, 0, 1, 8, 64, 65535])
        if rng.random() < 0.5:
            loaded = f"({load} offset={offset} {address()})"
            if typ == "i32":
                loaded = f"(i64.extend_i32_u {loaded})"
            return f"(local.set $acc (i64.add (local.get $acc) {loaded}))"
        value = f"({typ}.wrap_i64 (local.get $acc))" if typ == "i32" else "(local.get $acc)"
        return f"({store} offset={offset} {address()} {value})"

    p_step = rng.choice([1, 4, 8, -4, -8, 0, 100, 4096])
    q_step = "(local.get $s)" if rng.random() < 0.5 else f"(i32.const {rng.choice([2, -2, 16])})"
    body = [access() for _ in range(rng.randrange(2, 4))]
    if rng.random() < 0.5:      # $p's local reused for $p + X before its step, as clang does
        body += [f"(local.set $next (i32.add (local.get $p) (i32.const {p_step})))",
                 f"(local.set $p (i32.add (local.get $p) (i32.const {rng.choice([-8, 8, 16])})))",
                 access(), "(local.set $p (local.get $next))"]
    else:
        body.append(f"(local.set $p (i32.add (local.get $p) (i32.const {p_step})))")
    body += [access() for _ in range(rng.randrange(0, 3))]
    body.append(f"(local.set $q (i32.add (local.get $q) {q_step}))")
    body += [access() for _ in range(rng.randrange(0, 2))]
    lines.append(f"""  (func (export "f{index}") (param $p i32) (param $q i32) (param $s i32) (param $n i32)
    (result i64) (local $acc i64) (local $base i32) (local $next i32)
    (local.set $base (i32.const {rng.choice([0, 1024, 65000, -16])}))
    (loop $next
      {' '.join(body)}
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc))""")
    return "\n".join(lines)


RANDOM_LOOPS = 12


@pytest.fixture(scope="module")
def random_loops_wasm(tmp_path_factory):
    rng = random.Random(13)
    functions = "\n".join(random_loop(rng, i) for i in range(RANDOM_LOOPS))
    text = f'(module (memory (export "memory") 1 2)\n{functions})'
    return wat2wasm(tmp_path_factory.mktemp("random_loops"), text)


def test_random_loops_are_versioned(random_loops_wasm):
    module = decode_module(random_loops_wasm)
    for code in module.codes:
        start = next(i for i, instr in enumerate(code.body) if instr.op == opcodes.LOOP)
        assert find_loop(code.body, start) is not None


@pytest.mark.parametrize("options", CONFIGURATIONS, ids=config_id)
def test_random_loops_agree_with_the_interpreter(random_loops_wasm, options):
    compiled = AotModule(compile_wasm(random_loops_wasm, options)).instantiate().exports
    interpreted = Module(random_loops_wasm).instantiate().exports
    rng = random.Random(options.opt_level * 2 + options.bounds_checks)
    for index in range(RANDOM_LOOPS):
        for p, q, step, n in loop_arguments(rng.random(), count=25):
            args = (p, q, rng.choice([step, 4, -4 & 0xFFFFFFFF]), n)
            expected = outcome(lambda: interpreted[f"f{index}"](*args))
            assert outcome(lambda: compiled[f"f{index}"](*args)) == expected, (index, args)
        assert compiled["memory"].read(0, PAGE) == interpreted["memory"].read(0, PAGE), index
