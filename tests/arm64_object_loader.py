"""Run on the arm64 Python under qemu: load AArch64 objects described by tests/arm64_objects.py
with pywamr's relocator, and call their functions.

    python3.11 arm64_object_loader.py < request.json > results.json

The request is {"host_value": int, "objects": [{"object": description, "calls": [[function,
signature, args], ...]}, ...]}; the answer is, per object, the results of its calls and the
number of veneers its branches needed. Each object is laid out as [code | veneers] (made
read+execute) then [data | GOT] (read+write), mapped far from libc so that calls to libc and
libm are out of branch reach and must go through veneers.
"""

import ctypes
import json
import mmap
import sys

from pywamr.loader.icache import flush_icache
from pywamr.loader.reloc_aarch64 import PLT_STUB_SIZE, apply_relocation, write_plt_stub

PAGE = mmap.PAGESIZE
FAR_FROM_LIBC = 1 << 36  # 64 GiB away: beyond the +-128 MB of BL

libc = ctypes.CDLL(None, use_errno=True)
libm = ctypes.CDLL("libm.so.6")
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long)
libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)

C_TYPES = {"i32": ctypes.c_int32, "i64": ctypes.c_int64, "f64": ctypes.c_double}


def align(value, alignment):
    return (value + alignment - 1) // alignment * alignment


def address_of(name):
    """A libm or libc function (libc is among libm's dependencies, which dlsym searches)."""
    return ctypes.cast(getattr(libm, name), ctypes.c_void_p).value


class Stubs:
    """GOT slots and veneers in the loaded image, one per distinct value."""

    def __init__(self, image, base, got_offset, plt_offset):
        self.image, self.base = image, base
        self.got_offset, self.plt_offset = got_offset, plt_offset
        self.got, self.plt = {}, {}

    def got_slot(self, value):
        if value not in self.got:
            offset = self.got_offset + 8 * len(self.got)
            self.image[offset:offset + 8] = value.to_bytes(8, "little")
            self.got[value] = self.base + offset
        return self.got[value]

    def plt_stub(self, target):
        if target not in self.plt:
            offset = self.plt_offset + PLT_STUB_SIZE * len(self.plt)
            write_plt_stub(self.image, offset, self.base + offset, target)
            self.plt[target] = self.base + offset
        return self.plt[target]


def load(description, externals, hint):
    """Map, relocate and protect one object at `hint`: (base address, section offsets, its
    Stubs)."""
    sections = description["sections"]
    count = len(description["relocations"])
    offsets, end = {}, 0
    for executable in (True, False):  # code first, then data, each part page-aligned
        for section in (s for s in sections if s["executable"] == executable):
            end = offsets[section["name"]] = align(end, section["alignment"])
            end += section["size"]
        if executable:
            plt_offset = align(end, 16)
            code_size = end = align(plt_offset + PLT_STUB_SIZE * count, PAGE)
    got_offset = align(end, 8)
    size = align(got_offset + 8 * count, PAGE)

    base = libc.mmap(hint, size, mmap.PROT_READ | mmap.PROT_WRITE,
                     mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if base != hint:
        raise RuntimeError(f"mmap put the object at {base:#x}, not at {hint:#x}")
    image = memoryview((ctypes.c_ubyte * size).from_address(base)).cast("B")
    for section in sections:
        if section["data"] is not None:
            data = bytes.fromhex(section["data"])
            image[offsets[section["name"]]:offsets[section["name"]] + len(data)] = data

    stubs = Stubs(image, base, got_offset, plt_offset)
    for relocation in description["relocations"]:
        target = relocation["target"]
        if "undefined" in target:
            S = externals.get(target["undefined"]) or address_of(target["undefined"])
        else:
            S = base + offsets[target["section"]] + target["value"]
        offset = offsets[relocation["section"]] + relocation["offset"]
        apply_relocation(relocation["type"], image, offset, base + offset, S,
                         relocation["addend"], stubs)

    flush_icache(base, code_size)
    if libc.mprotect(base, code_size, mmap.PROT_READ | mmap.PROT_EXEC) != 0:
        raise OSError(ctypes.get_errno(), "mprotect")
    return base, offsets, stubs


def call(base, offsets, function, signature, args):
    """Call `function` of a loaded object; `signature` is like "f64(f64,i32)"."""
    result, params = signature.rstrip(")").split("(")
    prototype = ctypes.CFUNCTYPE(C_TYPES[result], *(C_TYPES[p] for p in params.split(",") if p))
    return prototype(base + offsets[function["section"]] + function["value"])(*args)


def main():
    request = json.load(sys.stdin)
    host_value = ctypes.c_int32(request["host_value"])
    externals = {"host_value": ctypes.addressof(host_value)}
    answers = []
    for index, entry in enumerate(request["objects"]):
        description = entry["object"]
        # Below libc: above it, ASLR may leave too little of the 47-bit address space.
        hint = (address_of("fmod") - FAR_FROM_LIBC - (index << 32)) & -PAGE  # free each time
        base, offsets, stubs = load(description, externals, hint)
        results = [call(base, offsets, description["functions"][name], signature, args)
                   for name, signature, args in entry["calls"]]
        answers.append({"results": results, "veneers": len(stubs.plt)})
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
