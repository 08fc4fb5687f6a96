"""x86_64 relocations: patch compiled code once its sections and symbols have addresses.

Formulas are those of the System V AMD64 psABI (section 4.4.1): S is the symbol's address,
A the addend, P the address of the place being patched, GOT the address of the global offset
table, G the offset of the symbol's GOT slot from GOT (so G + GOT is the slot's address), and
L the address of the symbol's PLT entry (here a stub next to the code). A value that does not
fit its field raises RelocationError; nothing is silently truncated.

The relocations LLVM emits, by code model: small/kernel use PC32, PLT32, 32, 32S, 64 and
(REX_)GOTPCRELX; medium adds 64 for large data and GOTPC32/GOTOFF64 when PIC; large uses 64,
PC64, and GOT64/GOTPC64/GOTOFF64 when PIC.
"""

import struct

from .errors import RelocationError


class R:
    """x86_64 ELF relocation types: R.X86_64_PC32 is the psABI's R_X86_64_PC32. Plain
    numbers: an enum.IntEnum costs a fifth of a millisecond to make at every start."""

    X86_64_NONE = 0
    X86_64_64 = 1
    X86_64_PC32 = 2
    X86_64_GOT32 = 3
    X86_64_PLT32 = 4
    X86_64_GOTPCREL = 9
    X86_64_32 = 10
    X86_64_32S = 11
    X86_64_16 = 12
    X86_64_PC16 = 13
    X86_64_8 = 14
    X86_64_PC8 = 15
    X86_64_PC64 = 24
    X86_64_GOTOFF64 = 25
    X86_64_GOTPC32 = 26
    X86_64_GOT64 = 27
    X86_64_GOTPCREL64 = 28
    X86_64_GOTPC64 = 29
    X86_64_GOTPLT64 = 30
    X86_64_PLTOFF64 = 31
    X86_64_GOTPCRELX = 41
    X86_64_REX_GOTPCRELX = 42


RELOCATION_NAMES = {number: f"R_{name}" for name, number in vars(R).items()
                    if name.startswith("X86_64_")}

# Types an object file may hold that this loader does not apply (named in the error).
_UNSUPPORTED_NAMES = {
    5: "R_X86_64_COPY", 6: "R_X86_64_GLOB_DAT", 7: "R_X86_64_JUMP_SLOT",
    8: "R_X86_64_RELATIVE", 16: "R_X86_64_DTPMOD64", 17: "R_X86_64_DTPOFF64",
    18: "R_X86_64_TPOFF64", 19: "R_X86_64_TLSGD", 20: "R_X86_64_TLSLD",
    21: "R_X86_64_DTPOFF32", 22: "R_X86_64_GOTTPOFF", 23: "R_X86_64_TPOFF32",
    32: "R_X86_64_SIZE32", 33: "R_X86_64_SIZE64", 34: "R_X86_64_GOTPC32_TLSDESC",
    35: "R_X86_64_TLSDESC_CALL", 36: "R_X86_64_TLSDESC", 37: "R_X86_64_IRELATIVE",
    38: "R_X86_64_RELATIVE64", 43: "R_X86_64_CODE_4_GOTPCRELX",
}

# The types accepted from a file, and the size in bytes of the field each patches (all of
# it, little-endian): those LLVM emits for x86-64 code (module docstring). The loader checks
# every relocation against this table before it maps anything (image.py). The other types
# apply_relocation() knows (R_X86_64_NONE, 8- and 16-bit fields, GOT32, GOTPCREL64,
# GOTPLT64, PLTOFF64) would only come from a corrupted type field: a call's PLT32 turned
# into NONE stays unpatched, a GOT64 turned into PC16 patches a quarter of its field.
FIELD_SIZES = {
    R.X86_64_64: 8, R.X86_64_PC32: 4, R.X86_64_PLT32: 4, R.X86_64_GOTPCREL: 4,
    R.X86_64_32: 4, R.X86_64_32S: 4, R.X86_64_PC64: 8, R.X86_64_GOTOFF64: 8,
    R.X86_64_GOTPC32: 4, R.X86_64_GOT64: 8, R.X86_64_GOTPC64: 8, R.X86_64_GOTPCRELX: 4,
    R.X86_64_REX_GOTPCRELX: 4,
}

def instruction_mismatch(r_type, data, offset, executable):
    """Why the bytes before the field at `offset` of a section's stored `data` are not the
    instruction `r_type` patches, or None. In code, the 32-bit PC-relative types patch a
    RIP-relative displacement (ModRM mod 00, r/m 101 just before it), PLT32 a call or jump
    (E8, E9, 0F 8x), the 64-bit types a `movabsq` immediate (REX.W, B8+r), and 32 and 32S
    anything but that (they have too many forms to check more); data is not checked."""
    if not executable:
        return None
    before = data[max(offset - 2, 0):offset].rjust(2, b"\0")
    if r_type == R.X86_64_PLT32:
        if before[1] in (0xE8, 0xE9) or before[0] == 0x0F and before[1] & 0xF0 == 0x80:
            return None
        return "is not at a call or jump"
    if r_type in _RIP_RELATIVE:
        return None if before[1] & 0xC7 == 0x05 else "is not at a RIP-relative operand"
    movabsq = before[0] & 0xF8 == 0x48 and before[1] & 0xF8 == 0xB8
    if FIELD_SIZES[r_type] == 8 and not movabsq:
        return "is not at a movabsq immediate"
    if FIELD_SIZES[r_type] == 4 and movabsq:
        return "is at a movabsq immediate, which has 8 bytes"
    return None


_RIP_RELATIVE = {R.X86_64_PC32, R.X86_64_GOTPCREL, R.X86_64_GOTPCRELX,
                 R.X86_64_REX_GOTPCRELX, R.X86_64_GOTPC32}

# Calls and jumps: the rel32 is the last field of the instruction, so the CPU adds it to the
# address 4 bytes after the place, and S + A + 4 is where the branch lands.
BRANCH_BIAS = {R.X86_64_PLT32: 4}

# The addends references to the GOT can have, as (lowest, highest): -4 when the 32-bit
# PC-relative field ends the instruction (it always does: a load of a slot or of the GOT's
# address, a call through a slot), 0 for a slot's offset from the GOT. In the large code
# model the GOT's address is `leaq .L(%rip)` (7 bytes) plus a `movabsq` immediate whose
# GOTPC64 addend is the field's distance from .L: 9 when the movabsq follows at once (2 bytes
# of opcode before the field), more when LLVM schedules other instructions between them.
ADDEND_RANGES = {R.X86_64_GOTPCREL: (-4, -4), R.X86_64_GOTPCRELX: (-4, -4),
                 R.X86_64_REX_GOTPCRELX: (-4, -4), R.X86_64_GOTPC32: (-4, -4),
                 R.X86_64_GOT64: (0, 0), R.X86_64_GOTPC64: (9, 64)}

# Types that data (a jump table) holds as an offset from elsewhere in the data: S + A - P.
PC_RELATIVE_DATA = {R.X86_64_PC32, R.X86_64_PC64}

# The symbols some types can only refer to: the GOT itself (an offset from the place to the
# GOT), or one defined in the object (an offset from the GOT to the symbol, which must be
# in the image). The GOT symbol is referred to by GOTPC types only.
GOT_TYPES = {R.X86_64_GOTPC32, R.X86_64_GOTPC64}
DEFINED_ONLY_TYPES = {R.X86_64_GOTOFF64}

# Where the functions the loader calls start: LLVM aligns x86-64 functions to 16 bytes unless
# they are optimised for size, which pyaotc never asks for.
FUNCTION_ALIGNMENT = 16


def field(r_type):
    """(size, mask of the bits patched, alignment of the place) for a relocation of `r_type`
    in a file; RelocationError naming it if this loader does not accept it."""
    size = FIELD_SIZES.get(r_type)
    if size is None:
        raise unsupported(r_type)
    return size, (1 << (8 * size)) - 1, 1


def unsupported(r_type):
    name = RELOCATION_NAMES.get(r_type) or _UNSUPPORTED_NAMES.get(r_type,
                                                                  "unknown to this loader")
    return RelocationError(f"unsupported relocation type {r_type} ({name})")


# A stub that reaches any address without clobbering a register:
#     jmp *0(%rip)     ; FF 25 00 00 00 00
#     .quad target
#     int3; int3       ; padding to 16 bytes
PLT_STUB_SIZE = 16
_JMP_RIP_INDIRECT = b"\xff\x25\x00\x00\x00\x00"


def write_plt_stub(image, offset, stub_address, target):
    """Write a stub jumping to `target` at image[offset:]; it does not depend on its own
    address (`stub_address`), the jump reads the target from the quadword that follows."""
    image[offset:offset + PLT_STUB_SIZE] = (
        _JMP_RIP_INDIRECT + struct.pack("<Q", target & 0xFFFF_FFFF_FFFF_FFFF) + b"\xcc\xcc")


def apply_relocation(r_type, image, offset, P, S, A, stubs):
    """Patch the place image[offset:] (at absolute address P) for a relocation of `r_type`
    against symbol address S with addend A. `stubs` provides GOT slots (`got_slot`, and the
    table's own address as `got_base`) and PLT stubs (`plt_stub`)."""
    place = _Place(image, offset, r_type)
    match r_type:
        case R.X86_64_NONE:
            pass

        # Absolute addresses.
        case R.X86_64_64:                               # S + A
            place.write(S + A, 8)
        case R.X86_64_32:                               # S + A, zero-extended by the CPU
            place.write(S + A, 4, signed=False)
        case R.X86_64_32S:                              # S + A, sign-extended by the CPU
            place.write(S + A, 4, signed=True)
        case R.X86_64_16:                               # S + A
            place.write(S + A, 2)
        case R.X86_64_8:                                # S + A
            place.write(S + A, 1)

        # PC-relative addresses.
        case R.X86_64_PC32:                             # S + A - P
            place.write(S + A - P, 4, signed=True)
        case R.X86_64_PC64:                             # S + A - P
            place.write(S + A - P, 8)
        case R.X86_64_PC16:                             # S + A - P
            place.write(S + A - P, 2, signed=True)
        case R.X86_64_PC8:                              # S + A - P
            place.write(S + A - P, 1, signed=True)
        case R.X86_64_PLT32:                            # L + A - P
            value = S + A - P                           # straight to S when it is in reach
            if not _fits(value, 4, signed=True):
                value = stubs.plt_stub(S) + A - P
            place.write(value, 4, signed=True)

        # Through the GOT.
        case R.X86_64_GOTPCREL | R.X86_64_GOTPCRELX | R.X86_64_REX_GOTPCRELX:
            place.write(stubs.got_slot(S) + A - P, 4, signed=True)    # G + GOT + A - P
        case R.X86_64_GOTPCREL64:                       # G + GOT + A - P
            place.write(stubs.got_slot(S) + A - P, 8)
        case R.X86_64_GOT32:                            # G + A
            place.write(stubs.got_slot(S) - stubs.got_base + A, 4, signed=True)
        case R.X86_64_GOT64 | R.X86_64_GOTPLT64:        # G + A
            place.write(stubs.got_slot(S) - stubs.got_base + A, 8)
        case R.X86_64_GOTPC32:                          # GOT + A - P
            place.write(stubs.got_base + A - P, 4, signed=True)
        case R.X86_64_GOTPC64:                          # GOT + A - P
            place.write(stubs.got_base + A - P, 8)
        case R.X86_64_GOTOFF64:                         # S + A - GOT
            place.write(S + A - stubs.got_base, 8)
        case R.X86_64_PLTOFF64:                         # L - GOT + A
            place.write(stubs.plt_stub(S) - stubs.got_base + A, 8)

        case _:
            raise unsupported(r_type)


def _fits(value, size, signed=None):
    """Whether `value` fits `size` bytes: signed=True as two's complement, False as unsigned,
    None as either (the psABI's plain "word" fields)."""
    bits = 8 * size
    low = 0 if signed is False else -(1 << (bits - 1))
    high = (1 << (bits - 1)) if signed is True else (1 << bits)
    return low <= value < high


class _Place:
    """The 1, 2, 4 or 8 bytes a relocation patches."""

    def __init__(self, image, offset, r_type):
        self.image = image
        self.offset = offset
        self.r_type = r_type

    def write(self, value, size, signed=None):
        if not _fits(value, size, signed):
            kind = {True: "signed ", False: "unsigned ", None: ""}[signed]
            raise RelocationError(
                f"{RELOCATION_NAMES[self.r_type]} at image offset {self.offset:#x}: value "
                f"{value:#x} does not fit {8 * size} {kind}bits (try a larger code model)")
        mask = (1 << (8 * size)) - 1
        self.image[self.offset:self.offset + size] = (value & mask).to_bytes(size, "little")
