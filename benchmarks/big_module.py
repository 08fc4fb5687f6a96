"""A large, valid wasm module made on the spot, for timing the decoder (and validator).

Real modules of ~10 MB are mostly code, so this one is too: thousands of functions whose
bodies mix what compilers emit (locals, loads and stores, i32/i64/f64 arithmetic, nested
blocks, loops, if/else, br_table, calls) with constants that vary from function to function.
Usage: python big_module.py OUT.wasm [MEGABYTES]
"""

import struct
import sys

from pywamr.runtime.opcodes import NAMES

I32, I64, F64 = 0x7F, 0x7E, 0x7C
EMPTY_BLOCK = 0x40


def uleb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if (n == 0 and not byte & 0x40) or (n == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def op(name, *immediate):
    """One instruction: its opcode (a prefix byte and LEB128 sub-opcode for 0xFCnn) followed
    by already-encoded immediates."""
    code = NAMES[name]
    opcode = bytes([code]) if code <= 0xFF else bytes([code >> 8]) + uleb(code & 0xFF)
    return opcode + b"".join(immediate)


def memarg(align, offset):
    return uleb(align) + uleb(offset)


def section(section_id, payload):
    return bytes([section_id]) + uleb(len(payload)) + payload


def vector(items):
    return uleb(len(items)) + b"".join(items)


def name(text):
    return vector([bytes([b]) for b in text.encode()])


def function_body(index):
    """The body of function `index`, of type (i32, i32) -> i32.

    Locals: 0, 1 params; 2, 3 i32; 4 i64; 5 f64."""
    k = index * 2654435761 & 0x7FFFFFFF
    loop_body = b"".join([
        op("local.get", uleb(2)), op("i32.const", sleb(k % 1000 + 3)), op("i32.mul"),
        op("i32.const", sleb(0x7FF0)), op("i32.and"), op("local.tee", uleb(3)),
        op("local.get", uleb(3)), op("i32.load", memarg(2, 4)),
        op("local.get", uleb(3)), op("i32.const", sleb(index)), op("i32.xor"), op("i32.add"),
        op("i32.store", memarg(2, 8)),
        op("local.get", uleb(4)), op("i64.const", sleb(k * 0x9E3779B9 - 2**40)), op("i64.add"),
        op("i64.const", sleb(13)), op("i64.rotl"), op("local.set", uleb(4)),
        op("local.get", uleb(5)), op("f64.const", struct.pack("<d", 1.0 + k / 2**31)),
        op("f64.mul"), op("local.get", uleb(3)), op("f64.convert_i32_u"), op("f64.add"),
        op("local.set", uleb(5)),
        op("local.get", uleb(2)), op("i32.const", sleb(1)), op("i32.sub"), op("local.tee", uleb(2)),
        op("i32.eqz"), op("br_if", uleb(1)),
        op("local.get", uleb(2)), op("i32.const", sleb(3)), op("i32.and"),
        op("if", bytes([I32])), op("i32.const", sleb(k)), op("else"), op("local.get", uleb(1)),
        op("end"), op("local.get", uleb(0)), op("i32.add"), op("local.set", uleb(0)),
        op("br", uleb(0)),
    ])
    call_previous = b""
    if index > 0:
        call_previous = b"".join([
            op("local.get", uleb(1)), op("local.get", uleb(2)), op("call", uleb(index - 1)),
            op("i32.add"),
        ])
    code = b"".join([
        op("local.get", uleb(0)), op("local.get", uleb(1)), op("i32.add"), op("local.set", uleb(2)),
        op("block", bytes([EMPTY_BLOCK])), op("loop", bytes([EMPTY_BLOCK])), loop_body,
        op("end"), op("end"),
        op("block", bytes([EMPTY_BLOCK])), op("block", bytes([EMPTY_BLOCK])),
        op("block", bytes([EMPTY_BLOCK])), op("local.get", uleb(0)),
        op("br_table", vector([uleb(0), uleb(1), uleb(2)]), uleb(2)),
        op("end"), op("local.get", uleb(2)), op("i32.const", sleb(7)), op("i32.shl"),
        op("local.set", uleb(2)), op("end"), op("local.get", uleb(4)), op("i32.wrap_i64"),
        op("local.get", uleb(2)), op("i32.xor"), op("local.set", uleb(2)), op("end"),
        op("local.get", uleb(2)), op("local.get", uleb(5)), op("i32.trunc_sat_f64_s"),
        op("i32.add"), call_previous,
        op("end"),
    ])
    locals_ = vector([uleb(2) + bytes([I32]), uleb(1) + bytes([I64]), uleb(1) + bytes([F64])])
    body = locals_ + code
    return uleb(len(body)) + body


def generate(megabytes=10.0):
    """Return the bytes of a valid module of about `megabytes` MB."""
    bodies = []
    size = 0
    while size < megabytes * 1_000_000:
        bodies.append(function_body(len(bodies)))
        size += len(bodies[-1])
    functype = bytes([0x60]) + vector([bytes([I32]), bytes([I32])]) + vector([bytes([I32])])
    last = len(bodies) - 1
    return b"".join([
        b"\0asm", struct.pack("<I", 1),
        section(1, vector([functype])),
        section(3, vector([uleb(0)] * len(bodies))),
        section(5, vector([b"\x00" + uleb(1)])),                # memory 1 page, no maximum
        section(7, vector([name("run") + b"\x00" + uleb(last)])),
        section(10, vector(bodies)),
    ])


if __name__ == "__main__":
    out_path = sys.argv[1]
    with open(out_path, "wb") as f:
        f.write(generate(float(sys.argv[2]) if len(sys.argv) > 2 else 10.0))
