"""Random modules: `wasm-tools smith` configured for exactly the features pywamr claims
(WebAssembly 2.0, and 3.0's tail calls and extended constant expressions) and for imports
from host.py's functions only, then a pass of our own over the text that

- exports `fuzz:refuel`, which resets smith's fuel counter (`--ensure-termination`), so that
  every call gets the same budget rather than what earlier calls left;
- rewrites some memory addresses to land in bounds or within a few bytes of the end of memory,
  and makes some loads dead (their value dropped), because smith's addresses are random i32s
  that almost always trap far out of bounds, and bounds bugs live at the edges;
- adds loop kernels (kernels.py), counted loops walking memory near its end, and scan
  kernels, loops that only read memory until a loaded value stops them;
- adds `fuzz:v128:*` wrappers that take and return each v128 as two i64s, because wasmtime-py
  cannot pass a v128 (it aborts the process).

Everything derives from the module seed: the same seed gives the same module and calls.
"""

import hashlib
import os
import random
import re
import subprocess
import tempfile
from pathlib import Path

from . import host, kernels
from .wasm_info import read_module

FUEL = 200

# WebAssembly 2.0 (the proposals merged into 2.0) and the parts of 3.0 pywamr has; the rest off.
FEATURES = {
    "multi-value": True, "bulk-memory": True, "reference-types": True, "simd": True,
    "sign-extension-ops": True, "saturating-float-to-int": True,
    "tail-call": True, "extended-const": True,
    "threads": False, "shared-everything-threads": False,
    "relaxed-simd": True, "memory64": True,
    "exceptions": False, "gc": False,
    "custom-page-sizes": False, "custom-descriptors": False, "compact-imports": False,
    "wide-arithmetic": False,
}

SMITH_FLAGS = [
    *(arg for name, on in FEATURES.items() for arg in (f"--{name}-enabled", str(on).lower())),
    "--canonicalize-nans", "true",     # NaN bit patterns are the engines' choice
    "--export-everything", "true",
    "--max-imports", "6",     # from host.py's functions only: see smith_flags
    "--memory-max-size-required", "true",   # memory.grow stays small on every engine
    "--max-table-elements", "1000", "--table-max-size-required", "true",  # table.grow too
    "--min-types", "3", "--min-funcs", "3", "--max-funcs", "12",
    "--max-type-size", "200",
    "--ensure-termination", "--fuel", str(FUEL),
    "--allow-start-export", "true",
    "--disallow-traps", "false",
]

LOAD = re.compile(r"(i32|i64|f32|f64|v128)\.load\S*")
STORE = re.compile(r"(i32|i64|f32|f64|v128)\.store\S*")
BARE_INTEGERS = re.compile(r" (\d+)\b")
WIDE_MEMORY = re.compile(r"\(memory \(;(\d+);\) i64 ")     # a 64-bit memory's index
TEMPS = ("i32", "i64", "f32", "f64", "v128")


class GeneratorError(Exception):
    """smith could not make a module from these bytes, or our pass made an invalid one."""


def smith_flags(rng):
    """The flags for one module: the fixed ones, and memory sizes and offsets that vary."""
    pages = rng.choice([1, 1, 2, 4])
    offsets = rng.choice(["90,9,1", "90,9,1", "50,40,10"])
    flags = SMITH_FLAGS + ["--available-imports", str(available_imports()),
                           "--max-memory32-bytes", str(pages * 65536),
                           "--max-memory64-bytes", str(pages * 65536),
                           "--memory-offset-choices", offsets]
    if rng.random() < 0.33:     # multi-memory
        flags += ["--min-memories", "2", "--max-memories", "3"]
    else:
        flags += ["--max-memories", "1"] + (["--min-memories", "1"] if rng.random() < 0.8 else [])
    return flags


def available_imports():
    """A module importing every host function (host.py), in a file for smith, made once."""
    text = host.import_text()
    path = Path(tempfile.gettempdir(),
                f"pywamr-fuzz-imports-{hashlib.sha256(text.encode()).hexdigest()[:12]}.wasm")
    if not path.exists():
        part = path.with_suffix(f".{os.getpid()}")
        part.write_bytes(run_tool(["parse", "-", "-o", "/dev/stdout"], text.encode()))
        part.replace(path)
    return path


def run_tool(args, data=None):
    process = subprocess.run(["wasm-tools", *args], input=data, capture_output=True,
                             timeout=60)
    if process.returncode != 0:
        raise GeneratorError(f"wasm-tools {args[0]}: {process.stderr.decode(errors='replace')}")
    return process.stdout


def generate(seed: int) -> bytes:
    """The module of `seed`: smith's, then our pass (see the module docstring)."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "seed.bin")
        source.write_bytes(rng.randbytes(rng.randint(1000, 8000)))
        smith = run_tool(["smith", *smith_flags(rng), str(source), "-o", "/dev/stdout"])
    text = run_tool(["print"], smith).decode()
    text = add_exports(text, smith)
    if re.search(r"\(memory \(;0;\) \d", text) and rng.random() < 0.7:    # 32-bit
        text = append(text, [kernels.kernel(k, rng) for k in range(rng.randint(1, 3))])
        # From a generator of their own: adding them changed no other choice of a seed.
        scans = random.Random(f"scan {seed}")
        text = append(text, [kernels.scan(k, scans) for k in range(scans.randint(1, 2))])
    if rng.random() < 0.85:
        text = rewrite_addresses(text, rng)
    if rng.random() < 0.75:
        text = grow_memory(text)
    wasm = run_tool(["parse", "-", "-o", "/dev/stdout"], text.encode())
    run_tool(["validate", "--features",
              "wasm2,tail-call,extended-const,relaxed-simd,multi-memory,memory64", "-"],
             wasm)
    return wasm


def add_exports(text, wasm):
    """Append the refuel function and the v128 wrappers before the module's last `)`."""
    info = read_module(wasm)
    extra = []
    fuel = fuel_global(info)
    if fuel is not None:
        extra.append(f'(func (export "fuzz:refuel") i32.const {FUEL} global.set {fuel})')
    for export in info.exported("func"):
        params, results = info.func_type(export.index)
        if "v128" in params + results:
            extra.append(v128_wrapper(export.index, params, results))
    for export in info.exported("global"):
        if info.globals[export.index][0] == "v128":
            extra.append(f'(func (export "fuzz:v128:global:{export.index}") (result i64 i64) '
                         f'(local v128) global.get {export.index} local.tee 0 '
                         f'i64x2.extract_lane 0 local.get 0 i64x2.extract_lane 1)')
    return append(text, extra)


def append(text, fields):
    """The module text with `fields` added before its last `)`."""
    end = text.rstrip().rindex(")")
    return text[:end] + "\n  " + "\n  ".join(fields) + "\n)\n"


def fuel_global(info):
    """Index of smith's fuel counter: its last global, a mutable i32 starting at FUEL."""
    if not info.globals:
        return None
    index = len(info.globals) - 1
    valtype, mutable, init = info.globals[index]
    exported = any(e.kind == "global" and e.index == index for e in info.exports)
    if valtype == "i32" and mutable and init == ("i32.const", FUEL) and not exported:
        return index
    return None


def v128_wrapper(func_index, params, results):
    """A function exported as `fuzz:v128:<func_index>` calling the function with each v128
    parameter built from two i64s and returning each v128 result as two i64s."""
    wide = [p for t in params for p in (("i64", "i64") if t == "v128" else (t,))]
    wide_results = [r for t in results for r in (("i64", "i64") if t == "v128" else (t,))]
    body, k = [], 0
    for t in params:
        if t == "v128":
            body += ["v128.const i64x2 0 0", f"local.get {k}", "i64x2.replace_lane 0",
                     f"local.get {k + 1}", "i64x2.replace_lane 1"]
            k += 2
        else:
            body.append(f"local.get {k}")
            k += 1
    body.append(f"call {func_index}")
    # The results are on the stack, last on top: park them in locals, then push them split.
    first_local = len(wide)
    body += [f"local.set {first_local + i}" for i in reversed(range(len(results)))]
    for i, t in enumerate(results):
        if t == "v128":
            body += [f"local.get {first_local + i}", "i64x2.extract_lane 0",
                     f"local.get {first_local + i}", "i64x2.extract_lane 1"]
        else:
            body.append(f"local.get {first_local + i}")
    sig = "".join(f" (param {t})" for t in wide) + "".join(f" (result {t})" for t in wide_results)
    locals_ = "".join(f" (local {t})" for t in results)
    return f'(func (export "fuzz:v128:{func_index}"){sig}{locals_} {" ".join(body)})'


def rewrite_addresses(text, rng):
    """Give some loads and stores an address in bounds (masked to 64 KiB) or near the end of
    memory, and turn some loads dead; each function gets one scratch local per type."""
    wide = set(WIDE_MEMORY.findall(text))
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        indent = line[:len(line) - len(line.lstrip())]
        if stripped.startswith("(func ") and stripped.count("(") > stripped.count(")"):
            out.append(line)
            out.append(indent + "  " + " ".join(f"(local $fuzz.{t} {t})" for t in TEMPS))
            continue
        if stripped.startswith("(local ") and out and out[-1].strip().startswith("(local $fuzz"):
            # Declared locals must come before ours so that their indices do not move.
            out.insert(len(out) - 1, line)
            continue
        load, store = LOAD.match(stripped), STORE.match(stripped)
        if (load or store) and rng.random() < 0.8:
            offset = re.search(r"offset=(\d+)", stripped)
            memory = memory_index(stripped)
            address = new_address(rng, int(offset.group(1)) if offset else 0, memory,
                                  "i64" if memory in wide else "i32")
            if store or "_lane" in stripped:     # the address is under a value
                t = store.group(1) if store else "v128"
                address = f"local.set $fuzz.{t} {address} local.get $fuzz.{t}"
            out.append(f"{indent}{address}")
            out.append(line)
            if load and rng.random() < 0.2:
                out.append(f"{indent}drop {zero(load.group(1))}")
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def grow_memory(text):
    """Start the memories at their maximum size: smith mostly starts them empty, where every
    access traps."""
    return re.sub(r"^(\s*\(memory \(;\d+;\) (?:i64 )?)\d+ (\d+)\)", r"\1\2 \2)", text,
                  flags=re.MULTILINE)


def memory_index(instruction):
    """The memory a load or store accesses: `f64.load 2 offset=8` memory 2, `v128.load8_lane
    1 3` memory 1 (lane 3), `v128.load8_lane 3` memory 0."""
    integers = BARE_INTEGERS.findall(instruction)
    if "_lane" in instruction:
        return integers[0] if len(integers) == 2 else "0"
    return integers[0] if integers else "0"


def new_address(rng, offset, memory, address_type):
    """Instructions replacing the address (an `address_type`, i64 for a 64-bit memory) on top
    of the stack: one masked to 64 KiB, 1 KiB or 128 KiB, or one a few bytes around the end
    of the memory accessed (its index: `memory`), static offset included."""
    t = address_type
    if rng.random() < 0.6:
        return f"{t}.const {rng.choice([0xFFFF, 0x3FF, 0x1FFFF])} {t}.and"
    delta = (rng.randint(-40, 8) - offset) & (0xFFFFFFFF if t == "i32" else 2**64 - 1)
    return f"drop memory.size {memory} {t}.const 16 {t}.shl {t}.const {delta} {t}.add"


def zero(t):
    return "v128.const i64x2 0 0" if t == "v128" else f"{t}.const 0"
