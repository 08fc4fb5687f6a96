"""Loop kernels added to smith's modules: counted loops that walk memory through pointer
locals, the shape the compiler versions (an entry check, then a check-free and possibly
vectorised copy of the loop for the iterations that stay in bounds, the checked loop after);
and scan kernels, loops that only read memory, whose loads rely on the guard pages
(compiler/scan_loops.py).

smith almost never writes such loops. Ours start near the end of memory as often as not, step
by 1-16 bytes up or down, read and write through one or two pointers that may overlap, and
keep a running sum, so that a wrong iteration count, a missed trap in the check-free copy,
stores lost or reordered around the trap, or a wrong overlap check all show in the results or
in memory.

    (func (export "fuzz:loop:K") (param $a i32) (param $b i32) (param $n i32) (result i64)
"""

LOADS = {"i32": ["i32.load", "i32.load8_u", "i32.load16_s"],
         "i64": ["i64.load", "i64.load32_u", "i64.load8_s"],
         "f32": ["f32.load"], "f64": ["f64.load"], "v128": ["v128.load"]}
STORES = {"i32": ["i32.store", "i32.store8", "i32.store16"], "i64": ["i64.store", "i64.store32"],
          "f32": ["f32.store"], "f64": ["f64.store"], "v128": ["v128.store"]}


def kernel(k, rng):
    """The text of kernel `k`: locals 0-2 are the params a, b, n; 3 and 4 the pointers p, q;
    5 the sum; 6 the count; 7 the end pointer; 8 p's next value.

    Every loop ends: a count runs down from at most 4096; an end pointer is p plus at most
    4096 steps, and if that sum wraps the first ordered test fails (p is already past the
    end), while `p != end` holds until p meets it."""
    step = rng.choice([1, 2, 4, 4, 8, 8, 16]) * rng.choice([1, 1, 1, -1])
    start = []
    for pointer, param in ((3, 0), (4, 1)):
        if rng.random() < 0.5:     # a few bytes (up to 1 KiB) from the end of memory
            start += [f"memory.size i32.const 16 i32.shl local.get {param} "
                      f"i32.const {rng.choice([0x3FF, 0x3F, 0x1F])} i32.and i32.sub "
                      f"local.set {pointer}"]
        else:                      # anywhere in the first 64 KiB
            start += [f"local.get {param} i32.const 0xFFFF i32.and local.set {pointer}"]
    if rng.random() < 0.3:         # q overlaps p, a little ahead or behind
        start += [f"local.get 3 i32.const {rng.randint(-16, 16)} i32.add local.set 4"]
    limit = rng.choice([0xFF, 0x3FF, 0xFFF])
    body = [access(rng) for _ in range(rng.randint(1, 4))]
    advance = [f"local.get 3 i32.const {step} i32.add local.set 3"]
    if rng.random() < 0.3:         # p's local reused for p + X before its step, as clang does
        advance = [f"local.get 3 i32.const {step} i32.add local.set 8 "
                   f"local.get 3 i32.const {rng.choice([-8, 8, 16])} i32.add local.set 3 "
                   f"{access(rng)} local.get 8 local.set 3"]
    if rng.random() < 0.7:
        advance += [f"local.get 4 i32.const {step * rng.choice([1, 1, 2, -1])} i32.add "
                    f"local.set 4"]
    body = " ".join(body + advance)
    form = rng.choice(["top", "bottom", "pointer", "pointer_ne"])
    if form == "top":              # count down, tested before each iteration
        start += [f"local.get 2 i32.const {limit} i32.and local.set 6"]
        loop = (f"block loop local.get 6 i32.eqz br_if 1 {body} "
                f"local.get 6 i32.const 1 i32.sub local.set 6 br 0 end end")
    elif form == "bottom":         # a do-while counting down from at least 1
        start += [f"local.get 2 i32.const {limit} i32.and i32.const 1 i32.add local.set 6"]
        loop = f"loop {body} local.get 6 i32.const 1 i32.sub local.tee 6 br_if 0 end"
    elif form == "pointer":        # p against an end pointer (no wrap past it: see below)
        start += [f"local.get 3 local.get 2 i32.const {limit} i32.and i32.const {step} "
                  f"i32.mul i32.add local.set 7"]
        compare = "i32.lt_u" if step > 0 else "i32.gt_u"
        loop = f"loop {body} local.get 3 local.get 7 {compare} br_if 0 end"
    else:                          # p != end, which p meets after 1 to 4096 steps
        start += [f"local.get 3 local.get 2 i32.const {limit} i32.and i32.const 1 i32.add "
                  f"i32.const {step} i32.mul i32.add local.set 7"]
        loop = f"loop {body} local.get 3 local.get 7 i32.ne br_if 0 end"
    return (f'(func (export "fuzz:loop:{k}") (param i32 i32 i32) (result i64) '
            f"(local i32 i32 i64 i32 i32 i32) {' '.join(start)} {loop} local.get 5)")


def scan(k, rng):
    """The text of scan kernel `k`: stores, then a loop that only reads memory until a loaded
    value, its count or an out-of-bounds access stops it, then stores again. Locals 0-2 are
    the params a, b, n; 3 and 4 the pointers p, q; 5 the sum; 6 the count; 7 the scratch
    address the stores before and after the loop use.

    The loads are those that tempt a compiler once a load may not fault: values folded into
    the sum or into the loop's condition, dead ones, partly used ones, a pointer read from
    memory (a list walk), an exit in the middle of the body. The stores show in memory
    whether they happened before the trap."""
    step = rng.choice([1, 2, 4, 4, 8, 16]) * rng.choice([1, 1, -1])
    start = []
    for pointer, param in ((3, 0), (4, 1)):
        if rng.random() < 0.6:
            start += [f"memory.size i32.const 16 i32.shl local.get {param} "
                      f"i32.const {rng.choice([0x3FF, 0x3F, 0x1F])} i32.and i32.sub "
                      f"local.set {pointer}"]
        else:
            start += [f"local.get {param} i32.const 0xFFFF i32.and local.set {pointer}"]
    start += [f"local.get 2 i32.const {rng.choice([0xFF, 0xFFF])} i32.and i32.const 1 i32.add "
              f"local.set 6",
              "local.get 1 i32.const 0x3F8 i32.and local.set 7",
              "local.get 7 local.get 3 i64.extend_i32_u i64.store"]
    body = [scan_access(rng) for _ in range(rng.randint(1, 4))]
    body += [f"local.get 3 i32.const {step} i32.add local.set 3",
             "local.get 6 i32.const 1 i32.sub local.set 6"]
    if rng.random() < 0.3:         # q walks a list: its next link is read from memory
        body += [f"local.get 4 i32.load offset={rng.choice([0, 4])} "
                 f"i32.const {rng.choice([0xFFFF, 0x1FFFF, -1])} i32.and local.set 4"]
    elif rng.random() < 0.7:
        body += [f"local.get 4 i32.const {step * rng.choice([1, -1, 2])} i32.add local.set 4"]
    address, immediate = scan_address(rng, 3)
    stop = rng.choice(["i32.eqz", f"i32.const {rng.randrange(256)} i32.ne"])
    condition = (f"{address} i32.load8_u{immediate} {stop} local.get 6 i32.const 0 i32.ne "
                 f"i32.and")
    loop = f"block loop {' '.join(body)} {condition} br_if 0 end end"
    after = "local.get 7 local.get 5 i64.store offset=8"
    return (f'(func (export "fuzz:scan:{k}") (param i32 i32 i32) (result i64) '
            f"(local i32 i32 i64 i32 i32) {' '.join(start)} {loop} {after} "
            f"local.get 5 local.get 3 i64.extend_i32_u i64.add)")


def scan_address(rng, pointer):
    """(address, memarg) of a load at `pointer` plus a constant, by an add or the offset."""
    offset = rng.choice([0, 0, 1, 4, 8, 31, 4096])
    if rng.random() < 0.5:
        return f"local.get {pointer} i32.const {offset} i32.add", ""
    return f"local.get {pointer}", f" offset={offset}"


def scan_access(rng):
    """One load of a scan: into the sum (whole or masked), dropped, or deciding an exit."""
    t = rng.choice(["i32", "i32", "i64", "f64", "v128"])
    address, immediate = scan_address(rng, rng.choice([3, 3, 4]))
    load = f"{address} {rng.choice(LOADS[t])}{immediate}"
    kind = rng.choice(["sum", "sum", "masked", "dead", "exit"])
    if kind == "dead":
        return f"{load} drop"
    if kind == "exit" and t in ("i32", "i64"):
        zero = "i32.eqz" if t == "i32" else "i64.eqz"
        return f"{load} {zero} br_if 1"
    if kind == "exit" and t == "v128":
        return f"{load} v128.any_true br_if 1"
    if kind == "masked" and t in ("i32", "i64"):
        return f"{load} {t}.const 0xFF {t}.and {to_i64(t)} local.get 5 i64.add local.set 5"
    return f"{load} {to_i64(t)} local.get 5 i64.add local.set 5"


def access(rng):
    """One load folded into the sum, or one store of the sum (or of a loaded value)."""
    t = rng.choice(["i32", "i32", "i64", "i64", "f32", "f64", "v128"])
    pointer = rng.choice([3, 3, 4])
    offset = rng.choice([0, 0, 1, 4, 8, 12, 16, 31])
    if rng.random() < 0.5:         # P + C by an add (sign-extendable) or the offset field
        address, immediate = f"local.get {pointer} i32.const {offset} i32.add", ""
    else:
        address, immediate = f"local.get {pointer}", f" offset={offset}"
    if rng.random() < 0.6:
        load = f"{address} {rng.choice(LOADS[t])}{immediate}"
        return f"{load} {to_i64(t)} local.get 5 i64.add local.set 5"
    store = rng.choice(STORES[t])
    return f"{address} {from_i64(t)} {store}{immediate}"


def to_i64(t):
    return {"i32": "i64.extend_i32_u", "i64": "", "f32": "i32.reinterpret_f32 i64.extend_i32_u",
            "f64": "i64.reinterpret_f64", "v128": "i64x2.extract_lane 1"}[t]


def from_i64(t):
    """The sum as a value of type t, to store (floats by their bits, so no NaN is made)."""
    return {"i32": "local.get 5 i32.wrap_i64", "i64": "local.get 5",
            "f32": "local.get 5 i32.wrap_i64 f32.reinterpret_i32",
            "f64": "local.get 5 f64.reinterpret_i64",
            "v128": "local.get 5 i64x2.splat local.get 6 i32x4.replace_lane 0"}[t]
