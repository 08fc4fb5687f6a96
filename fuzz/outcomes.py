"""The engine-neutral form of what a run produced, so that outcomes compare with `==`: values
as bits (any NaN as "nan", references as "null" or "ref"), traps by kind.

Events, in the order a run emits them (one JSON line each):
    ["instantiate", outcome]   outcome: ["ok"] | ["trap", kind] | ["error", text]
    ["call", i, outcome]       outcome: ["ok", [value, ...]] | ["trap", kind] | ["error", text]
    ["state", key, value]      key: "memory NAME" | "global NAME" | "table NAME"
A run that dies adds ["crash", text] or ["timeout", seconds] (sandbox.py).

This module is loaded by path on the arm64 Python too: standard library only.
"""

import hashlib

from pywamr.runtime.errors import TrapCode

# Trap kinds are wasmtime's trap code names; our engines' trap codes map onto them.
TRAP_KINDS = {
    TrapCode.UNREACHABLE: "UNREACHABLE",
    TrapCode.INTEGER_DIVIDE_BY_ZERO: "INTEGER_DIVISION_BY_ZERO",
    TrapCode.INTEGER_OVERFLOW: "INTEGER_OVERFLOW",
    TrapCode.INVALID_CONVERSION_TO_INTEGER: "BAD_CONVERSION_TO_INTEGER",
    TrapCode.OUT_OF_BOUNDS_MEMORY: "MEMORY_OUT_OF_BOUNDS",
    TrapCode.UNDEFINED_ELEMENT: "TABLE_OUT_OF_BOUNDS",
    TrapCode.OUT_OF_BOUNDS_TABLE: "TABLE_OUT_OF_BOUNDS",
    TrapCode.UNINITIALIZED_ELEMENT: "INDIRECT_CALL_TO_NULL",
    TrapCode.INDIRECT_CALL_TYPE_MISMATCH: "BAD_SIGNATURE",
    TrapCode.CALL_STACK_EXHAUSTED: "STACK_OVERFLOW",
}
# wasmtime's own messages, for errors it reports without a trap code.
WASMTIME_MESSAGES = {
    "out of bounds memory access": "MEMORY_OUT_OF_BOUNDS",
    "out of bounds table access": "TABLE_OUT_OF_BOUNDS",
    "undefined element": "TABLE_OUT_OF_BOUNDS",
    "wasm trap: wasm `unreachable` instruction executed": "UNREACHABLE",
}


def trap_kind(trap) -> str:
    """The kind of one of our engines' traps (a runtime.errors.Trap)."""
    kind = TRAP_KINDS.get(trap.code)
    return kind if kind is not None else f"other: {trap.message}"


def value(valtype, bits):
    """A value as compared: integer bits, "nan" for any NaN, "null"/"ref" for references."""
    if valtype in ("funcref", "externref"):
        return "null" if bits is None else "ref"
    if valtype == "f32" and bits & 0x7F800000 == 0x7F800000 and bits & 0x7FFFFF:
        return "nan"
    if valtype == "f64" and (bits >> 52) & 0x7FF == 0x7FF and bits & ((1 << 52) - 1):
        return "nan"
    return bits


def memory_digest(data) -> str:
    return f"{len(data) // 65536} pages, sha256 {hashlib.sha256(data).hexdigest()[:16]}"


def table_digest(nulls) -> str:
    """A table as its size and which of its elements are null (function identity is not
    comparable between engines)."""
    pattern = "".join("0" if null else "1" for null in nulls)
    return f"{len(nulls)} elements, sha256 {hashlib.sha256(pattern.encode()).hexdigest()[:16]}"
