"""LEB128 by hand, for tests that build modules byte by byte (unusual and malformed
encodings no text format gives)."""


def uleb(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)
