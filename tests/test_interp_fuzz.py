"""Differential tests: random valid modules run by the interpreter and by wasmtime must
return the same results, trap the same way and leave the same memory behind.

The generator builds well-typed code top-down: an expression of a wanted type, or a
statement (an instruction sequence that leaves the stack as it found it). It favours what is
hard to translate well: nested blocks, loops and ifs with results and parameters, br/br_if/
br_table to any enclosing label (with values), early returns, locals rewritten while their old
value is still on the stack, loads and stores, calls, traps. Every run terminates: a branch
back to a loop also calls `$tick`, which counts down the global `$fuel` (set by the `reset`
export), and a function only calls functions defined after it. Loops stepping a pointer
(x[p] += x[p + k]; p += step, in the ways clang writes it) check the views the translator
picks before a loop, their alignments, traps at the end of memory and wraps at 2**32.

    python tests/test_interp_fuzz.py FIRST_SEED COUNT    # a longer campaign, prints diffs
"""

import hashlib
import math
import random
import struct
import sys

import pytest

from interp_and_wasmtime import campaign, compile_wat, in_child, run_on_both
from pywamr.fuzz.outcomes import trap_kind
from pywamr.runtime.errors import Exhaustion, Trap
from pywamr.runtime.interp import Module

wasmtime = pytest.importorskip("wasmtime") if __name__ != "__main__" else __import__("wasmtime")

NUM = ("i32", "i64", "f32", "f64")
INT_CONSTS = [0, 1, 2, 3, 7, 31, 32, 63, 64, 255, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF,
              0x80000000, 0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000,
              0xFFFFFFFFFFFFFFFF, 0x123456789, -1, -2, -100]
FLOAT_CONSTS = ["0.0", "-0.0", "1.0", "-1.5", "0.5", "3.25", "1e30", "-1e-30", "inf", "-inf",
                "nan", "-nan", "nan:0x200000", "0x1p-149", "0x1.fffffep127", "123456789.0",
                "2147483648.0", "-2147483649.0", "4294967296.0", "9.3e18", "-9.3e18"]

INT_UNARY = ["clz", "ctz", "popcnt", "extend8_s", "extend16_s"]
INT_BINARY = ["add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor",
              "shl", "shr_s", "shr_u", "rotl", "rotr"]
INT_COMPARE = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"]
FLOAT_UNARY = ["abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt"]
FLOAT_BINARY = ["add", "sub", "mul", "div", "min", "max", "copysign"]
FLOAT_COMPARE = ["eq", "ne", "lt", "gt", "le", "ge"]
CONVERSIONS = {   # result type -> [(instruction, operand type)]
    "i32": [("i32.wrap_i64", "i64"), ("i32.trunc_f32_s", "f32"), ("i32.trunc_f64_u", "f64"),
            ("i32.trunc_sat_f32_u", "f32"), ("i32.trunc_sat_f64_s", "f64"),
            ("i32.reinterpret_f32", "f32"), ("i64.eqz", "i64")],
    "i64": [("i64.extend_i32_s", "i32"), ("i64.extend_i32_u", "i32"),
            ("i64.trunc_f64_s", "f64"), ("i64.trunc_f32_u", "f32"),
            ("i64.trunc_sat_f64_u", "f64"), ("i64.reinterpret_f64", "f64"),
            ("i64.extend32_s", "i64")],
    "f32": [("f32.convert_i32_s", "i32"), ("f32.convert_i64_u", "i64"),
            ("f32.convert_i64_s", "i64"), ("f32.demote_f64", "f64"),
            ("f32.reinterpret_i32", "i32")],
    "f64": [("f64.convert_i32_u", "i32"), ("f64.convert_i64_s", "i64"),
            ("f64.promote_f32", "f32"), ("f64.reinterpret_i64", "i64")],
}
LOADS = {"i32": ["i32.load", "i32.load8_s", "i32.load8_u", "i32.load16_s", "i32.load16_u"],
         "i64": ["i64.load", "i64.load8_s", "i64.load16_u", "i64.load32_s", "i64.load32_u"],
         "f32": ["f32.load"], "f64": ["f64.load"]}
STORES = {"i32": ["i32.store", "i32.store8", "i32.store16"],
          "i64": ["i64.store", "i64.store8", "i64.store32"],
          "f32": ["f32.store"], "f64": ["f64.store"]}


class Label:
    def __init__(self, kind, types):
        self.kind = kind          # 'block' | 'loop' | 'func'
        self.types = types        # what a branch to it carries


class FunctionGen:
    def __init__(self, module, index, params, results):
        self.m = module
        self.rng = module.rng
        self.index = index
        self.params = params
        self.results = results
        self.locals = list(params) + [self.rng.choice(NUM) for _ in range(self.rng.randint(1, 6))]
        self.scratch = {t: len(self.locals) + i for i, t in enumerate(("f32", "f64"))}
        self.locals += ["f32", "f64"]
        self.labels = [Label("func", tuple(results))]

    def text(self):
        params = " ".join(f"(param {t})" for t in self.params)
        results = " ".join(f"(result {t})" for t in self.results)
        locals_ = " ".join(f"(local {t})" for t in self.locals[len(self.params):])
        body = self.body(self.results, 4)
        return f"(func $f{self.index} {params} {results} {locals_}\n    {body})"

    # Sequences

    def body(self, types, depth):
        """Statements, then values of `types`."""
        parts = [self.stmt(depth - 1) for _ in range(self.rng.randint(0, 3))]
        if self.rng.random() < 0.08:
            parts.append(self.jump(depth - 1))
            parts.append(self.stmt(0))             # dead code after the jump
        else:
            parts += [self.expr(t, depth - 1) for t in types]
        return " ".join(parts)

    def new_label(self, kind, types):
        label = Label(kind, tuple(types))
        self.labels.append(label)
        return label

    def ref(self, label):
        """The branch depth of `label` from here (the function's label has no name)."""
        return str(len(self.labels) - 1 - self.labels.index(label))

    def block_type(self, params, results):
        return " ".join([f"(param {t})" for t in params] + [f"(result {t})" for t in results])

    def construct(self, results, depth):
        """A block, loop or if producing `results` (sometimes taking parameters)."""
        rng = self.rng
        kind = rng.choice(["block", "block", "loop", "if"])
        params = [rng.choice(NUM) for _ in range(rng.choice([0, 0, 0, 1, 2]))]
        setup = " ".join(self.expr(t, depth - 1) for t in params)
        cond = self.cond(depth - 1) if kind == "if" else ""
        bt = self.block_type(params, results)
        self.new_label("loop" if kind == "loop" else "block", params if kind == "loop" else results)

        def arm():
            # Parameters are on the stack: keep them in locals or fold them into the results.
            consume = " ".join(self.consume(t) for t in reversed(params))
            return f"{consume} {self.body(results, depth)}"

        if kind == "if":
            text = f"{setup} (if {bt} {cond} (then {arm()}) (else {arm()}))"
        else:
            text = f"{setup} ({kind} {bt} {arm()})"
        self.labels.pop()
        return text

    def consume(self, t):
        """Take a value of type t off the stack."""
        same = [i for i, lt in enumerate(self.locals) if lt == t]
        if same and self.rng.random() < 0.7:
            return f"local.set {self.rng.choice(same)}"
        return "drop"

    # Statements (leave the stack unchanged)

    def stmt(self, depth):
        rng = self.rng
        choice = rng.random()
        if depth <= 0 or choice < 0.3:
            i = rng.randrange(len(self.locals))
            return f"(local.set {i} {self.expr(self.locals[i], depth)})"
        if choice < 0.38:
            t = rng.choice(NUM)
            return f"({rng.choice(STORES[t])} offset={rng.choice([0, 1, 4, 8])} " \
                   f"{self.address(depth - 1)} {self.canonical(t, self.expr(t, depth - 1))})"
        if choice < 0.45:
            g = rng.randrange(len(self.m.globals))
            return f"(global.set $g{g} {self.expr(self.m.globals[g], depth - 1)})"
        if choice < 0.55:
            return self.branch(depth)
        if choice < 0.62:
            t = rng.choice(NUM)
            return f"(drop {self.expr(t, depth - 1)})"
        if choice < 0.65:
            op = rng.choice(["memory.fill", "memory.copy"])
            return (f"({op} {self.address(depth - 1)} {self.expr('i32', depth - 1)} "
                    f"(i32.and {self.expr('i32', depth - 1)} (i32.const 0x3FF)))")
        if choice < 0.68:
            callees = [f for f in self.m.funcs if f.index > self.index]
            if callees:
                callee = rng.choice(callees)
                args = " ".join(self.expr(p, depth - 1) for p in callee.params)
                drops = " ".join("drop" for _ in callee.results)
                return f"(call $f{callee.index} {args}) {drops}"
        results = [rng.choice(NUM) for _ in range(rng.choice([0, 0, 1]))]
        drops = " ".join("drop" for _ in results)
        return f"{self.construct(results, depth)} {drops}"

    def branch(self, depth):
        """A conditional branch (br_if, or br_table with a fall-through default)."""
        rng = self.rng
        label = rng.choice(self.labels)
        drops = " ".join("drop" for _ in label.types)
        if rng.random() < 0.7 or label.kind == "loop":
            values = " ".join(self.expr(t, depth - 1) for t in label.types)
            cond = self.cond(depth - 1)
            if label.kind == "loop":
                cond = f"(i32.and {cond} (call $tick))"
            return f"(br_if {self.ref(label)} {values} {cond}) {drops}"
        # br_table to labels carrying the same types, in a block the default falls out of
        types = " ".join(f"(result {t})" for t in label.types)
        out = self.new_label("block", label.types)
        same = [lb for lb in self.labels if lb.types == label.types and lb.kind != "loop"]
        targets = " ".join(self.ref(rng.choice(same)) for _ in range(rng.randint(1, 5)))
        values = " ".join(self.expr(t, depth - 1) for t in label.types)
        index = self.expr("i32", depth - 1)
        self.labels.pop()
        return (f"(block {types} (br_table {targets} 0 {values} "
                f"(i32.rem_u {index} (i32.const 7)))) {drops}")

    def jump(self, depth):
        """An unconditional br, br_table or return (what follows is unreachable)."""
        rng = self.rng
        label = rng.choice([lb for lb in self.labels if lb.kind != "loop"])
        values = " ".join(self.expr(t, depth - 1) for t in label.types)
        choice = rng.random()
        if choice < 0.2:
            return f"(return {' '.join(self.expr(t, depth - 1) for t in self.results)})"
        if choice < 0.4:
            same = [lb for lb in self.labels if lb.types == label.types and lb.kind != "loop"]
            targets = " ".join(self.ref(rng.choice(same)) for _ in range(rng.randint(1, 4)))
            return (f"(br_table {targets} {self.ref(label)} {values} "
                    f"{self.expr('i32', depth - 1)})")
        if choice < 0.43:
            return "(unreachable)"
        return f"(br {self.ref(label)} {values})"

    # Expressions

    def cond(self, depth):
        return self.expr("i32", depth)

    def address(self, depth):
        mask = 0xFFFF if self.rng.random() < 0.97 else 0x1FFFF    # sometimes out of bounds
        return f"(i32.and {self.expr('i32', depth)} (i32.const {mask}))"

    def expr(self, t, depth):
        rng = self.rng
        if depth <= 0 or rng.random() < 0.25:
            return self.leaf(t)
        choice = rng.random()
        if choice < 0.25:
            return self.arith(t, depth)
        if choice < 0.27 and t == "i32":
            if rng.random() < 0.5:
                return "(memory.size)"
            return f"(memory.grow (i32.and {self.expr('i32', depth - 1)} (i32.const 3)))"
        if choice < 0.33 and t == "i32":
            u = rng.choice(NUM)
            ops = INT_COMPARE if u[0] == "i" else FLOAT_COMPARE
            return f"({u}.{rng.choice(ops)} {self.expr(u, depth - 1)} {self.expr(u, depth - 1)})"
        if choice < 0.40:
            op, u = rng.choice(CONVERSIONS[t])
            operand = self.expr(u, depth - 1)
            if "reinterpret" in op:
                operand = self.canonical(u, operand)
            return f"({op} {operand})"
        if choice < 0.48:
            return f"({rng.choice(LOADS[t])} offset={rng.choice([0, 2, 8])} " \
                   f"{self.address(depth - 1)})"
        if choice < 0.55:
            same = [i for i, lt in enumerate(self.locals) if lt == t]
            if same:
                return f"(local.tee {rng.choice(same)} {self.expr(t, depth - 1)})"
        if choice < 0.62:
            return (f"(select {self.expr(t, depth - 1)} {self.expr(t, depth - 1)} "
                    f"{self.cond(depth - 1)})")
        if choice < 0.70:
            callees = [f for f in self.m.funcs if f.index > self.index and f.results == [t]]
            if callees:
                callee = rng.choice(callees)
                args = " ".join(self.expr(p, depth - 1) for p in callee.params)
                if rng.random() < 0.3:
                    return f"(call_indirect (type $t{callee.index}) {args} " \
                           f"(i32.const {callee.index}))"
                return f"(call $f{callee.index} {args})"
        if choice < 0.76:
            label = rng.choice(self.labels)
            if label.types and label.types[-1] == t and label.kind != "loop":
                values = " ".join(self.expr(u, depth - 1) for u in label.types)
                extra = " ".join("drop" for _ in label.types[:-1])
                if extra:    # keep only the last value: park it in a local of its type
                    return self.leaf(t)
                return f"(br_if {self.ref(label)} {values} {self.cond(depth - 1)})"
        if choice < 0.93:
            return self.construct([t], depth)
        return self.leaf(t)

    def arith(self, t, depth):
        rng = self.rng
        if t[0] == "i":
            if rng.random() < 0.2:
                return f"({t}.{rng.choice(INT_UNARY)} {self.expr(t, depth - 1)})"
            return f"({t}.{rng.choice(INT_BINARY)} {self.expr(t, depth - 1)} " \
                   f"{self.expr(t, depth - 1)})"
        if rng.random() < 0.3:
            return f"({t}.{rng.choice(FLOAT_UNARY)} {self.expr(t, depth - 1)})"
        op = rng.choice(FLOAT_BINARY)
        second = self.expr(t, depth - 1)
        if op == "copysign":
            second = self.canonical(t, second)
        return f"({t}.{op} {self.expr(t, depth - 1)} {second})"

    def canonical(self, t, expr):
        """`expr`, with any NaN replaced by the positive canonical one. The spec lets engines
        pick the sign and payload of most NaN results; this keeps that choice out of memory,
        integers (reinterpret) and signs (copysign), where the engines are compared."""
        if t[0] == "i":
            return expr
        k = self.scratch[t]
        return (f"(select (local.tee {k} {expr}) ({t}.const nan) "
                f"({t}.eq (local.get {k}) (local.get {k})))")

    def leaf(self, t):
        rng = self.rng
        same = [i for i, lt in enumerate(self.locals) if lt == t]
        choice = rng.random()
        if same and choice < 0.5:
            return f"(local.get {rng.choice(same)})"
        globals_ = [i for i, gt in enumerate(self.m.globals) if gt == t]
        if globals_ and choice < 0.6:
            return f"(global.get $g{rng.choice(globals_)})"
        if t[0] == "i":
            value = rng.choice(INT_CONSTS + [rng.randrange(-2**63, 2**64)])
            bits = 32 if t == "i32" else 64
            value &= (1 << bits) - 1
            return f"({t}.const {value - (1 << bits) if value >> (bits - 1) else value})"
        return f"({t}.const {rng.choice(FLOAT_CONSTS)})"


class ModuleGen:
    def __init__(self, seed, n_funcs=5):
        self.rng = random.Random(seed)
        rng = self.rng
        self.globals = [rng.choice(NUM) for _ in range(rng.randint(1, 4))]
        self.funcs = []
        for index in range(n_funcs):
            params = [rng.choice(NUM) for _ in range(rng.randint(0, 3))]
            results = [rng.choice(NUM) for _ in range(rng.choice([0, 1, 1, 1, 2]))]
            self.funcs.append(FunctionGen(self, index, params, results))

    def text(self):
        types = "\n  ".join(
            f"(type $t{f.index} (func {' '.join(f'(param {p})' for p in f.params)} "
            f"{' '.join(f'(result {r})' for r in f.results)}))" for f in self.funcs)
        globals_ = "\n  ".join(f"(global $g{i} (mut {t}) ({t}.const 0))"
                                for i, t in enumerate(self.globals))
        funcs = "\n  ".join(f.text() for f in self.funcs)
        exports = "\n  ".join(f'(export "f{f.index}" (func $f{f.index}))' for f in self.funcs)
        elems = " ".join(f"$f{f.index}" for f in self.funcs)
        return f"""(module
  {types}
  (memory (export "memory") 1 4)
  (table {len(self.funcs)} funcref)
  (elem (i32.const 0) {elems})
  (global $fuel (mut i32) (i32.const 0))
  {globals_}
  (func $tick (result i32)
    (if (result i32) (global.get $fuel)
      (then (global.set $fuel (i32.sub (global.get $fuel) (i32.const 1))) (i32.const 1))
      (else (i32.const 0))))
  (func (export "reset") (global.set $fuel (i32.const 200)))
  {funcs}
  {exports}
)
"""

    def args(self, func, rng):
        """Arguments (as bit patterns) for a call of `func`."""
        out = []
        for t in func.params:
            bits = 32 if t in ("i32", "f32") else 64
            if t[0] == "i":
                out.append(rng.choice([0, 1, 5, 100, (1 << bits) - 1, 1 << (bits - 1),
                                       rng.getrandbits(bits)]))
            else:
                out.append(rng.getrandbits(bits) if rng.random() < 0.3 else
                           {32: 0x40490FDB, 64: 0x400921FB54442D18}[bits])
        return out




def comparable(valtype, value):
    """A result as both engines can report it: floats as Python floats (NaN as one value,
    since the spec leaves most NaN payloads to the engine)."""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else struct.pack("<d", value)
    if valtype == "f32":
        x = struct.unpack("<f", struct.pack("<I", value))[0]
        return "nan" if math.isnan(x) else struct.pack("<d", x)
    if valtype == "f64":
        x = struct.unpack("<d", struct.pack("<Q", value))[0]
        return "nan" if math.isnan(x) else struct.pack("<d", x)
    bits = 32 if valtype == "i32" else 64
    return value & ((1 << bits) - 1)


def run_interp(wasm, calls, gen):
    instance = Module(wasm).instantiate()
    outcomes = []
    for index, args in calls:
        instance.exports["reset"].call_bits([])
        func = gen.funcs[index]
        try:
            out = instance.exports[f"f{index}"].call_bits(args)
            outcomes.append(("ok", [comparable(t, v) for t, v in zip(func.results, out)]))
        except Exhaustion:
            outcomes.append(("trap", "STACK_OVERFLOW"))
        except Trap as trap:
            outcomes.append(("trap", trap_kind(trap)))
    memory = hashlib.sha256(bytes(instance.exports["memory"].buffer)).hexdigest()
    return outcomes, memory


def run_wasmtime(wasm, calls, gen):
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    exports = instance.exports(store)
    outcomes = []
    for index, args in calls:
        exports["reset"](store)
        func = gen.funcs[index]
        values = []
        for t, a in zip(func.params, args):
            if t == "i32":
                values.append(wasmtime.Val.i32(a - (1 << 32) if a >> 31 else a))
            elif t == "i64":
                values.append(wasmtime.Val.i64(a - (1 << 64) if a >> 63 else a))
            elif t == "f32":
                values.append(wasmtime.Val.f32(struct.unpack("<f", struct.pack("<I", a))[0]))
            else:
                values.append(wasmtime.Val.f64(struct.unpack("<d", struct.pack("<Q", a))[0]))
        try:
            out = exports[f"f{index}"](store, *values)
        except wasmtime.Trap as trap:
            code = trap.trap_code
            outcomes.append(("trap", code.name if code is not None else trap.message))
            continue
        if len(func.results) == 1:
            out = [out]
        elif not func.results:
            out = []
        outcomes.append(("ok", [comparable(t, v) for t, v in zip(func.results, out)]))
    memory = hashlib.sha256(bytes(exports["memory"].data_ptr(store)[
        :exports["memory"].data_len(store)])).hexdigest()
    return outcomes, memory


def check_seed(seed):
    """Generate module `seed`, run both engines; return a description of any difference."""
    gen = ModuleGen(seed)
    text = gen.text()
    wasm = compile_wat(text)
    rng = gen.rng
    calls = [(f.index, gen.args(f, rng)) for f in gen.funcs for _ in range(2)]
    ours = run_interp(wasm, calls, gen)
    theirs = in_child(run_wasmtime, wasm, calls, gen)
    if ours == theirs:
        return None
    diffs = [f"call f{c[0]}{c[1]}: interp {a} wasmtime {b}"
             for c, a, b in zip(calls, ours[0], theirs[0]) if a != b]
    if ours[1] != theirs[1]:
        diffs.append("memory differs")
    return "\n".join(diffs)


@pytest.mark.parametrize("seed", range(60))
def test_random_module_matches_wasmtime(seed):
    assert check_seed(seed) is None


# Loops stepping a pointer, whose typed views the translator picks before the loop when the
# pointer keeps its alignment (loop_views.py): every way of stepping it, steps that keep and
# that break the alignment, start addresses of every alignment, near the end of memory (the
# trap) and near 2**32 (the wrap).

STEP_ACCESSES = [("i32.load", "i32.store", "i32", 4), ("i64.load", "i64.store", "i64", 8),
                 ("f64.load", "f64.store", "f64", 8), ("i32.load16_u", "i32.store16", "i32", 2),
                 ("i64.load32_u", "i64.store32", "i64", 4)]


def stepping_loop(rng):
    """The text of a module whose `run(p, t, n)` loops n times over `x[p] += x[p + k]`,
    stepping p by itself, through a local.tee, through a temporary set before it is read,
    or through one read before it is set (its value of the previous iteration)."""
    load, store, valtype, size = rng.choice(STEP_ACCESSES)
    step = rng.choice([16, 8, 4, 24, -8, -16, 12, 6, 2, 56, 96, 3])
    offset = rng.choice([0, 0, size, 2 * size, 1])
    ahead = rng.choice([0, size, 8, 4, 2 * size])
    one = f"({valtype}.const 1)"
    body = [f"({store} offset={offset} (local.get $p) ({valtype}.add "
            f"({load} offset={offset} (local.get $p)) "
            f"({load} (i32.add (local.get $p) (i32.const {ahead})))))"]
    form = rng.choice(["self", "tee", "copy", "stale", "derived"])
    if form == "derived":
        body.append(f"(local.set $q (i32.add (local.get $p) (i32.const {ahead})))")
        body.append(f"({store} (local.get $q) ({valtype}.add ({load} (local.get $q)) {one}))")
    if form == "tee":
        body.append(f"(local.set $p (local.tee $t (i32.add (local.get $p) (i32.const {step}))))")
    elif form == "copy":
        body.insert(0, f"(local.set $t (i32.add (local.get $p) (i32.const {step})))")
        body.append("(local.set $p (local.get $t))")
    elif form == "stale":
        body.insert(0, "(local.set $p (local.get $t))")
        body.append(f"(local.set $t (i32.add (local.get $p) (i32.const {step})))")
    else:
        body.append(f"(local.set $p (i32.add (local.get $p) (i32.const {step})))")
    return f"""(module (memory (export "memory") 1)
  (func (export "run") (param $p i32) (param $t i32) (param $n i32) (result i32) (local $q i32)
    (loop $next
      {" ".join(body)}
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $p)))"""


@pytest.mark.parametrize("seed", range(40))
def test_stepping_loop_matches_wasmtime(seed):
    rng = random.Random(f"stepping {seed}")
    binary = compile_wat(stepping_loop(rng))
    memory = bytes(rng.getrandbits(8) for _ in range(65536))
    p = rng.choice([0, 1, 2, 3, 4, 5, 7, 100, 65536 - 200, 65536 - 203, 2**32 - 40, 2**32 - 36])
    args = [p, rng.choice([p, p + 3, p + 8, 5]) % 2**32, rng.choice([1, 2, 10, 50])]
    outcomes = run_on_both(binary, args, [32] * 3, memory, 32)
    assert outcomes[0] == outcomes[2] and outcomes[1] == outcomes[3], args


if __name__ == "__main__":
    campaign(check_seed, sys.argv)
