"""Counted loops (runtime/interp/loop_ranges.py): the translator emits a copy of such a loop
without the wraps of its stepped locals' sums, under a test made on entry. Random counted
loops in every form the analysis accepts, with starts, steps and bounds around 0, 2**32 and
2**64 and the end of memory, run by the interpreter and by wasmtime: the same result, the
same trap and the same memory. Each loop also leaves after 200 iterations (a branch out of
it), so the ones that wrap run as long as the others.

    python tests/test_counted_loops.py FIRST_SEED COUNT    # a longer campaign
"""

import random
import sys

import pytest

from interp_and_wasmtime import PAGE, campaign, compile_wat, run_on_both
from pywamr.runtime.interp import Module

pytest.importorskip("wasmtime")


def counted_module(rng):
    """(module text, arguments of `run`) for a random counted loop: counter $i (i32 or i64)
    tested with ne, lt_u or gt_u against a parameter or a constant; pointer $p stepped by a
    constant (itself, through a temporary, or with a scratch value between) and read and
    written around itself; pointer $q stepped by the parameter $s."""
    width = rng.choice([32, 64])
    t = f"i{width}"
    modulus = 1 << width
    test = rng.choice(["ne", "ne", "lt", "gt", "zero"] if width == 32 else ["ne", "lt", "gt"])
    if test in ("ne", "zero"):
        d = rng.choice([1, 2, 4, -1, -2, -4, 8, 3])
    else:
        d = rng.choice([1, 3, 4, 16, "local"])
    step = "(local.get $di)" if d == "local" else f"({t}.const {d})"
    bump = f"(local.tee $i ({t}.add (local.get $i) {step}))"
    bound = rng.choice(["(local.get $b)", f"({t}.const {rng.choice([0, 5, 40, modulus - 2])})"])
    exit_test = {
        "ne": rng.choice([f"({t}.ne {bump} {bound})", f"({t}.ne {bound} {bump})"]),
        "zero": bump,
        "lt": f"({t}.lt_u {bump} {bound})",
        "gt": f"({t}.gt_u {bound} {bump})"}[test]

    added = {"$p": [0], "$q": [0]}        # the constants added to each pointer

    def at(pointer):
        k = rng.choice([0, 4, 8, 12, 56, 100, -4, -8, -48, -3])
        added[pointer].append(k)
        if k >= 0 and rng.random() < 0.3:
            return f"(i32.sub (local.get {pointer}) (i32.const {-k}))"
        return f"(i32.add (local.get {pointer}) (i32.const {k}))"

    def mix(value):
        return (f"(local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31)) "
                f"{value}))")

    def uses(pointer, memory):
        """Reads of the pointer plus constants: loads and stores (which trap once it
        leaves memory) when `memory`, else only sums (which see its wraps)."""
        pieces = [mix(f"(i64.extend_i32_u {at(pointer)})"),
                  f"(if (i32.and (local.get $f) (i32.const 1)) (then "
                  f"{mix(f'(i64.extend_i32_u {at(pointer)})')}))"]
        if memory:
            pieces += [mix(f"(i64.load32_u {at(pointer)})"),
                       f"(i32.store8 {at(pointer)} (i32.add (i32.load8_u {at(pointer)}) "
                       f"(i32.const 1)))",
                       f"(if (i32.and (local.get $f) (i32.const 1)) (then "
                       f"{mix(f'(i64.load16_u {at(pointer)})')}))"]
        return rng.sample(pieces, rng.randint(1, len(pieces)))

    k = rng.choice([1, 7, -1, -5])
    counter_use = mix(f"(i64.extend_i32_u (i32.add (local.get $i) (i32.const {k})))"
                      if width == 32 else f"(i64.add (local.get $i) (i64.const {k}))")
    counter = "(i64.extend_i32_u (local.get $i))" if width == 32 else "(local.get $i)"
    c = rng.choice([4, 8, 16, 56, -4, -8, 1, 0])
    form = rng.choice(["self", "copy", "scratch"])
    edge = rng.choice(["counter", "p", "p", "q", "q", "none"])   # the argument near its limit
    p_memory = rng.random() < (0.2 if edge == "p" else 0.7)
    q_memory = rng.random() < (0.15 if edge == "q" else 0.5)
    before, after = uses("$p", p_memory), uses("$p", p_memory)
    if form == "self":
        p_step = [f"(local.set $p (i32.add (local.get $p) (i32.const {c})))"]
    elif form == "copy":
        p_step = [f"(local.set $t (i32.add (local.get $p) (i32.const {c})))",
                  *uses("$p", p_memory), "(local.set $p (local.get $t))"]
    else:
        scratch = rng.choice([8, 96, -8])
        added["$p"].append(scratch)
        p_step = [f"(local.set $t (i32.add (local.get $p) (i32.const {c})))",
                  f"(local.set $p (i32.add (local.get $p) (i32.const {scratch})))",
                  *uses("$p", p_memory), "(local.set $p (local.get $t))"]
    q_step = ["(local.set $q (i32.add (local.get $q) (local.get $s)))", *uses("$q", q_memory)]
    body = [*before, *p_step, *after, *uses("$q", q_memory), *q_step]
    if rng.random() < 0.5:
        body.insert(rng.randrange(len(body) + 1), counter_use)
    text = f"""(module (memory (export "memory") 1)
  (func (export "run") (param $i {t}) (param $b {t}) (param $di {t}) (param $p i32)
      (param $q i32) (param $s i32) (result i64)
    (local $acc i64) (local $t i32) (local $f i32)
    (local.set $f (i32.const 200))
    (block $out
      (loop $next
        (br_if $out (i32.eqz (local.tee $f (i32.sub (local.get $f) (i32.const 1)))))
        {" ".join(body)}
        (br_if $next {exit_test})))
    (i64.add (i64.add (local.get $acc) {counter})
             (i64.add (i64.extend_i32_u (local.get $p))
                      (i64.shl (i64.extend_i32_u (local.get $q)) (i64.const 32))))))"""
    # Values the test on entry accepts (the copy without wraps runs), except for one
    # argument, which is often around its limit (2**N, 0, the end of memory): there the
    # test must refuse, or the loop trap as before. A pointer's limit is where its last
    # step or sum would wrap, for the counter's number of iterations.
    i0 = rng.choice([0, 1, 5, 100])
    trips = rng.choice([1, 2, 7, 20])
    di = rng.choice([1, 2, 3]) if d == "local" else 0
    if edge == "counter":
        i0 = rng.choice([i0, modulus - 3, modulus - 8, modulus - 1])
        di = rng.choice([di, 0, modulus - 1]) if d == "local" else 0
    stride = di if d == "local" else d
    b = (i0 + stride * trips) % modulus
    if edge == "counter":
        b = rng.choice([b, (b + 1) % modulus, 0, 3, 50, modulus - 1])
    p = rng.choice([48, 64, 1000, 30000])
    q = rng.choice([64, 1000])
    s = rng.choice([4, 8, 1])
    near = rng.choice([-2, -1, 0, 1, 2, 4, 8, -8])
    if edge == "p":                       # just where the last sum or step would wrap
        high = max(added["$p"]) + near
        low = -min(added["$p"]) + near
        p = rng.choice([(-c * trips - high) % 2**32 if c > 0 else -c * trips + low,
                        (-c * (trips - 1) - high) % 2**32 if c > 0 else -c * (trips - 1) + low,
                        low, rng.choice([PAGE - 64, PAGE - 8, 2**32 - 8, 2**32 - 200])])
    elif edge == "q":
        s = rng.choice([s, s, 0, 100, 2**32 - 4])
        high = max(added["$q"]) + near
        q = rng.choice([(-s * trips - high) % 2**32, (-s * (trips - 1) - high) % 2**32,
                        rng.choice([-min(added["$q"]) + near, PAGE - 100])])
    return text, [i0, b, di, p, q, s], [width] * 3 + [32] * 3


def check_seed(seed):
    rng = random.Random(f"counted {seed}")
    text, args, widths = counted_module(rng)
    binary = compile_wat(text)
    memory = bytes(rng.getrandbits(8) for _ in range(PAGE))
    found = run_on_both(binary, args, widths, memory, 64)
    if found[0] != found[2] or found[1] != found[3]:
        return f"args {args}: interp {found[0]}, wasmtime {found[2]}\n{text}"
    return None


@pytest.mark.parametrize("seed", range(150))
def test_counted_loop_matches_wasmtime(seed):
    assert check_seed(seed) is None


def test_counted_loops_are_translated_twice():
    """Most of the generated loops take the counted form (else the test above would test
    nothing new), and the copy without wraps is the one run when the test holds."""
    versioned = 0
    for seed in range(80):
        text, _, _ = counted_module(random.Random(f"counted {seed}"))
        source = Module(compile_wat(text)).function_source(0)
        versioned += "(_k := " in source
    assert versioned >= 40


if __name__ == "__main__":
    campaign(check_seed, sys.argv)
