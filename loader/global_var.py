"""A global variable: a 16-byte cell holding the value's bits, shared by pointer with every
instance that imports it (docs/aot-abi.md)."""

import ctypes

from pywamr.runtime.aot_abi import GLOBAL_CELL_SIZE
from pywamr.runtime.api import Global
from pywamr.runtime.types import GlobalType, is_ref

from .references import ref_to_python, ref_to_raw

_MASKS = {"i32": 0xFFFF_FFFF, "f32": 0xFFFF_FFFF}


class AotGlobal(Global):
    def __init__(self, globaltype: GlobalType):
        self.type = globaltype
        self.cell = (ctypes.c_ubyte * GLOBAL_CELL_SIZE)()
        self.address = ctypes.addressof(self.cell)
        self.keepalive = set()   # instances that import it, and so may store their funcrefs

    def get_raw(self):
        """The bits compiled code sees: a number's bit pattern, or a funcref/externref word."""
        raw = int.from_bytes(self.cell, "little")
        if self.type.valtype == "v128":
            return raw
        return raw & _MASKS.get(self.type.valtype, 0xFFFF_FFFF_FFFF_FFFF)

    def set_raw(self, raw):
        self.cell[:] = raw.to_bytes(GLOBAL_CELL_SIZE, "little")

    def get_bits(self):
        raw = self.get_raw()
        return ref_to_python(self.type.valtype, raw) if is_ref(self.type.valtype) else raw

    def set_bits(self, bits):
        valtype = self.type.valtype
        self.set_raw(ref_to_raw(valtype, bits) if is_ref(valtype) else bits)
