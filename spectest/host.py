"""The `spectest` module that the spec scripts import from.

Its memory, table and globals are defined by a tiny wasm module instantiated in the engine
under test, so every engine gets them in its own native form; the print functions are host
functions that do nothing (the scripts only check that they can be called). `table64`, a
64-bit table (memory64), is in a module of its own, which only engines with memory64 load.
"""

import struct

from pywamr.runtime.api import HostFunc
from pywamr.runtime.types import FuncType


def _name(text):
    raw = text.encode()
    return bytes([len(raw)]) + raw


def _section(section_id, payload):
    return bytes([section_id, len(payload)]) + payload


def _global(valtype_code, const_op, const_bytes):
    return bytes([valtype_code, 0x00, const_op]) + const_bytes + b"\x0b"


def host_module_bytes():
    tables = _section(4, b"\x01\x70\x01\x0a\x14")                 # funcref, min 10, max 20
    memories = _section(5, b"\x01\x01\x01\x02")                   # min 1, max 2 pages
    globals_ = _section(6, b"\x04"
                        + _global(0x7F, 0x41, b"\x9a\x05")        # i32 666
                        + _global(0x7E, 0x42, b"\x9a\x05")        # i64 666
                        + _global(0x7D, 0x43, struct.pack("<f", 666.6))
                        + _global(0x7C, 0x44, struct.pack("<d", 666.6)))
    exports = [("table", 1, 0), ("memory", 2, 0), ("global_i32", 3, 0), ("global_i64", 3, 1),
               ("global_f32", 3, 2), ("global_f64", 3, 3)]
    export_payload = bytes([len(exports)]) + b"".join(
        _name(name) + bytes([kind, index]) for name, kind, index in exports)
    return (b"\x00asm\x01\x00\x00\x00" + tables + memories + globals_
            + _section(7, export_payload))


def host_table64_bytes():
    tables = _section(4, b"\x01\x70\x05\x0a\x14")                 # 64-bit, min 10, max 20
    exports = _section(7, b"\x01" + _name("table64") + b"\x01\x00")
    return b"\x00asm\x01\x00\x00\x00" + tables + exports


PRINT_FUNCS = {
    "print": (), "print_i32": ("i32",), "print_i64": ("i64",), "print_f32": ("f32",),
    "print_f64": ("f64",), "print_i32_f32": ("i32", "f32"), "print_f64_f64": ("f64", "f64"),
}


def spectest_imports(instance):
    """The import object for `spectest`, given an instance of `host_module_bytes()`."""
    imports = dict(instance.exports)
    for name, params in PRINT_FUNCS.items():
        imports[name] = HostFunc(FuncType(params, ()), lambda *args: None, raw=True)
    return imports
