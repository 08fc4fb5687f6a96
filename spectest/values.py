"""Script values (json-from-wast, in wast2json's format): parsing arguments into bit patterns
and matching expected results. Integers may be written signed ("-1") or unsigned."""

import math

_WIDTH = {"i32": 32, "i64": 64, "f32": 32, "f64": 64}
_LANE_WIDTH = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "f32": 32, "f64": 64}
_CANONICAL_NAN = {32: 0x7FC00000, 64: 0x7FF8000000000000}


class ExternRef:
    """A host reference `ref.extern N`; one object per N so identity survives a round trip."""
    _interned = {}

    def __new__(cls, n):
        ref = cls._interned.get(n)
        if ref is None:
            ref = super().__new__(cls)
            ref.n = n
            cls._interned[n] = ref
        return ref

    def __repr__(self):
        return f"ref.extern {self.n}"


def parse_arg(value):
    """A script argument -> the bit pattern (or reference) the engines take."""
    t = value["type"]
    v = value["value"]
    if t in _WIDTH:
        return int(v) & ((1 << _WIDTH[t]) - 1)
    if t == "v128":
        width = _LANE_WIDTH[value["lane_type"]]
        bits = 0
        for i, lane in enumerate(v):
            bits |= (int(lane) & ((1 << width) - 1)) << (i * width)
        return bits
    if t == "externref":
        return None if v == "null" else ExternRef(int(v))
    if t == "funcref":
        return None if v == "null" else int(v)
    raise ValueError(f"unknown value type {t}")


def _float_matches(expected, bits, width):
    if expected == "nan:canonical":
        return bits & ~(1 << (width - 1)) == _CANONICAL_NAN[width]
    if expected == "nan:arithmetic":
        quiet = _CANONICAL_NAN[width]
        return bits & quiet == quiet
    return int(expected) & ((1 << width) - 1) == bits


def matches(expected, actual):
    """Does an engine result (bits or reference) match a script's expected value?"""
    t = expected["type"]
    if t == "either":                   # relaxed SIMD: any one of the results listed
        return any(matches(value, actual) for value in expected["values"])
    v = expected.get("value")
    if t == "refnull":                  # (ref.null): a null of any type
        return actual is None
    if v is None:                       # (ref.func), (ref.extern): any non-null reference
        return actual is not None
    if t in ("i32", "i64"):
        return isinstance(actual, int) and int(v) & ((1 << _WIDTH[t]) - 1) == actual
    if t in ("f32", "f64"):
        return isinstance(actual, int) and _float_matches(v, actual, _WIDTH[t])
    if t == "v128":
        lane_type = expected["lane_type"]
        width = _LANE_WIDTH[lane_type]
        mask = (1 << width) - 1
        for i, lane in enumerate(v):
            lane_bits = (actual >> (i * width)) & mask
            if lane_type[0] == "f":
                if not _float_matches(lane, lane_bits, width):
                    return False
            elif int(lane) & mask != lane_bits:
                return False
        return True
    if t == "externref":
        return actual is None if v == "null" else actual is ExternRef(int(v))
    if t == "funcref":
        return actual is None if v == "null" else actual is not None
    raise ValueError(f"unknown value type {t}")


def describe(expected_or_type, bits):
    """Render a result for a failure message."""
    t = expected_or_type
    if bits is None or not isinstance(bits, int):
        return repr(bits)
    if t in ("f32", "f64"):
        import struct
        fmt = "<I" if t == "f32" else "<Q"
        value = struct.unpack("<f" if t == "f32" else "<d", struct.pack(fmt, bits))[0]
        if math.isnan(value):
            return f"{t}:nan(0x{bits:x})"
        return f"{t}:{value!r}(0x{bits:x})"
    return f"{t}:0x{bits:x}"
