"""The host functions the modules may import (module "host"): each returns a deterministic
function of its arguments and logs the call, so that an argument passed to the host wrongly,
or a result passed back wrongly, shows in the call's results or in the log's digest, compared
at the end like memory.

Loaded by path on the arm64 Python too: standard library only.
"""

import hashlib

# name: (params, results); no v128 (wasmtime-py cannot pass one)
SIGNATURES = {
    "nop": ((), ()),
    "i32": (("i32",), ("i32",)),
    "i64": (("i64", "i64"), ("i64",)),
    "f32": (("f32",), ("f32",)),
    "f64": (("f64", "i32"), ("f64",)),
    "mix": (("i32", "i64", "f32", "f64"), ("f64", "f32", "i64", "i32")),
    "pair": (("f32", "i64"), ("i32", "f32")),
    "ref": (("externref", "funcref", "i32"), ("i32",)),
}
BYTES = {"i32": 4, "i64": 8, "f32": 4, "f64": 8}


def import_text():
    """A module importing every host function: smith's --available-imports."""
    imports = []
    for name, (params, results) in SIGNATURES.items():
        sig = "".join(f" (param {t})" for t in params) + "".join(f" (result {t})"
                                                                  for t in results)
        imports.append(f'(import "host" "{name}" (func{sig}))')
    return "(module " + " ".join(imports) + ")"


def canonical(valtype, bits):
    """An argument or result as the host sees it: any NaN as the canonical one (wasmtime-py
    carries floats as Python floats, which may change a NaN's bits), references as null or
    not."""
    if valtype in ("externref", "funcref"):
        return "null" if bits is None else "ref"
    if valtype == "f32" and bits & 0x7F800000 == 0x7F800000 and bits & 0x7FFFFF:
        return 0x7FC00000
    if valtype == "f64" and (bits >> 52) & 0x7FF == 0x7FF and bits & ((1 << 52) - 1):
        return 0x7FF8000000000000
    return bits


class Host:
    def __init__(self):
        self.log = hashlib.sha256()
        self.calls = 0

    def call(self, name, args):
        """The results' bits for a call of host function `name` with these bits."""
        params, results = SIGNATURES[name]
        seen = f"{name}{[canonical(t, a) for t, a in zip(params, args)]}"
        self.log.update(seen.encode() + b";")
        self.calls += 1
        digest = hashlib.sha256(seen.encode()).digest()
        out, pos = [], 0
        for t in results:
            out.append(canonical(t, int.from_bytes(digest[pos:pos + BYTES[t]], "little")))
            pos += BYTES[t]
        return out

    def digest(self):
        return f"{self.calls} calls, sha256 {self.log.hexdigest()[:16]}"
