"""The u64 slots values travel in between Python and compiled code: an argv, the payload of
an exception object (docs/aot-abi.md). Numbers are bit patterns, 32-bit ones zero-extended,
a v128 two slots; references are the words compiled code keeps (references.py).
"""

from pywamr.runtime.types import is_ref

# Looked up at run time: references imports exceptions, which imports this module.
from . import references

_U64 = 0xFFFF_FFFF_FFFF_FFFF


def read_slots(valtypes, slots):
    """Values from u64 slots: numbers as bit patterns, references as Python objects."""
    values = []
    i = 0
    for valtype in valtypes:
        if valtype == "v128":
            values.append(slots[i] | slots[i + 1] << 64)
            i += 2
            continue
        raw = slots[i]
        if valtype in ("i32", "f32"):
            raw &= 0xFFFF_FFFF
        values.append(references.ref_to_python(valtype, raw) if is_ref(valtype) else raw)
        i += 1
    return values


def write_slots(valtypes, values, slots):
    """The inverse of read_slots."""
    i = 0
    for valtype, value in zip(valtypes, values):
        if valtype == "v128":
            slots[i] = value & _U64
            slots[i + 1] = value >> 64 & _U64
            i += 2
            continue
        slots[i] = references.ref_to_raw(valtype, value) if is_ref(valtype) else value & _U64
        i += 1
