"""The calls made on each module: every exported function with several argument sets (zeros,
small numbers, edge values, random bits), in rounds, so that one call sees the memory and
globals the calls before it left. Then the state compared at the end: every exported memory,
global and table, and the log of the calls to the host (host.py).

A plan is plain JSON-able data, so that it can go to an engine in another process (the arm64
Python under qemu) and so that it holds all the types the engines need.
"""

import random

from . import host
from .wasm_info import read_module

REFUEL = "fuzz:refuel"
V128_WRAPPER = "fuzz:v128:"
CANONICAL_NAN = {"f32": 0x7FC00000, "f64": 0x7FF8000000000000}

EDGE = {
    "i32": [0, 1, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0xFFFF, 0x10000, 0xFFFFFFF0, 0x7FFFFFF0],
    "i64": [0, 1, (1 << 64) - 1, 1 << 63, (1 << 63) - 1, 0xFFFFFFFF, 1 << 32],
    "f32": [0x00000000, 0x80000000, 0x3F800000, 0xBFC00000, 0x7F800000, 0xFF800000,
            0x7FC00000, 0x00000001, 0x7F7FFFFF, 0x4F000000, 0xCF000001, 0x5F800000],
    "f64": [0, 1 << 63, 0x3FF0000000000000, 0xBFF8000000000000, 0x7FF0000000000000,
            0xFFF0000000000000, 0x7FF8000000000000, 1, 0x7FEFFFFFFFFFFFFF,
            0x41E0000000000000, 0xC1E0000000200000, 0x43F0000000000000],
    "v128": [0, (1 << 128) - 1, 0x80000000_7FFFFFFF_00000001_FFFFFFFF,
             0x7FC00000_3F800000_80000000_00000000],
}
SMALL = {"i32": [1, 2, 3, 7, 8, 16], "i64": [1, 2, 5, 8, 64], "f32": [0x3F800000, 0x40000000],
         "f64": [0x3FF0000000000000, 0x4000000000000000], "v128": [1, 0x0001_0002_0003_0004]}
BITS = {"i32": 32, "i64": 64, "f32": 32, "f64": 64, "v128": 128}


def is_nan(valtype, bits):
    if valtype == "f32":
        return bits & 0x7F800000 == 0x7F800000 and bits & 0x7FFFFF != 0
    if valtype == "f64":
        return (bits >> 52) & 0x7FF == 0x7FF and bits & ((1 << 52) - 1) != 0
    return False


def argument(valtype, kind, rng):
    """One argument's bits (None for a reference: only null can be passed to every engine)."""
    if valtype not in BITS:
        return None
    if kind == "zero":
        return 0
    if kind == "small":
        return rng.choice(SMALL[valtype])
    if kind == "edge":
        return rng.choice(EDGE[valtype])
    bits = rng.getrandbits(BITS[valtype])
    # NaN payloads may change on the way through wasmtime-py's Python floats.
    return CANONICAL_NAN[valtype] if is_nan(valtype, bits) else bits


def split_v128(params, args):
    """The arguments of a `fuzz:v128:` wrapper: each v128 as its low and high i64."""
    out = []
    for t, a in zip(params, args):
        out += [a & (1 << 64) - 1, a >> 64] if t == "v128" else [a]
    return out


def widen(types):
    return [w for t in types for w in (("i64", "i64") if t == "v128" else (t,))]


def make_plan(wasm: bytes, seed: int) -> dict:
    """The calls and state to compare for the module (see the module docstring)."""
    info = read_module(wasm)
    rng = random.Random(seed * 7919 + 1)
    names = {e.name for e in info.exports}
    functions = [e for e in info.exported("func")
                 if e.name != REFUEL and not e.name.startswith(V128_WRAPPER)]
    calls = []
    kinds = ["zero", "small", "edge", "random", "edge", "random"]
    for kind in kinds:
        for export in functions:
            params, results = info.func_type(export.index)
            if not params and kind != "zero" and kind != "random":
                continue    # the same call again: twice is enough to see state carried over
            args = [argument(t, kind, rng) for t in params]
            if "v128" not in params + results:
                calls.append(call(export.name, params, results, args))
                continue
            # Through its wrapper only: a direct call, which wasmtime-py cannot make, would
            # change state on our engines alone.
            wrapper = f"{V128_WRAPPER}{export.index}"
            if wrapper in names:
                calls.append(call(wrapper, widen(params), widen(results),
                                  split_v128(params, args)))
    for export in info.exported("global"):
        wrapper = f"{V128_WRAPPER}global:{export.index}"
        if wrapper in names:
            calls.append(call(wrapper, [], ["i64", "i64"], []))
    for module, name, kind in info.imports:
        if module != "host" or kind != "func" or name not in host.SIGNATURES:
            raise ValueError(f"import {module}.{name} ({kind}) is not one the harness offers")
    return {
        "imports": [name for _, name, _ in info.imports],
        "refuel": REFUEL in names,
        "calls": calls,
        "memories": [e.name for e in info.exported("memory")],
        "globals": [[e.name, info.globals[e.index][0]] for e in info.exported("global")],
        "tables": [e.name for e in info.exported("table")],
    }


def call(name, params, results, args):
    return {"name": name, "params": list(params), "results": list(results), "args": args}
