"""AArch64 relocations: patch compiled code once its sections and symbols have addresses.

Formulas are those of "ELF for the Arm 64-bit Architecture (AAELF64)": S is the symbol's
address, A the addend, P the address of the place being patched, Page(x) = x & ~0xFFF, and
G(GDAT(S + A)) the address of a GOT slot holding S + A. Checked relocations raise
RelocationError when the value does not fit the field; only the `_NC` ("no check") kinds keep
the low bits by definition. Nothing is silently truncated.

Instruction fields patched here (bit positions in the 32-bit little-endian word):
  B, BL                      imm26 [25:0]        (offset / 4)
  B.cond, CBZ, LDR literal   imm19 [23:5]        (offset / 4)
  TBZ, TBNZ                  imm14 [18:5]        (offset / 4)
  ADR, ADRP                  immhi [23:5], immlo [30:29]
  ADD imm, LDR/STR uimm      imm12 [21:10]       (scaled by the access size for LDR/STR)
  MOVZ, MOVK                 imm16 [20:5]
"""

import enum
import struct

from .errors import RelocationError


class Reloc(enum.IntEnum):
    """AArch64 ELF relocation types (AAELF64 section 5.7), by their ELF number."""

    NONE = 256
    ABS64 = 257
    ABS32 = 258
    ABS16 = 259
    PREL64 = 260
    PREL32 = 261
    PREL16 = 262
    MOVW_UABS_G0 = 263
    MOVW_UABS_G0_NC = 264
    MOVW_UABS_G1 = 265
    MOVW_UABS_G1_NC = 266
    MOVW_UABS_G2 = 267
    MOVW_UABS_G2_NC = 268
    MOVW_UABS_G3 = 269
    LD_PREL_LO19 = 273
    ADR_PREL_LO21 = 274
    ADR_PREL_PG_HI21 = 275
    ADR_PREL_PG_HI21_NC = 276
    ADD_ABS_LO12_NC = 277
    LDST8_ABS_LO12_NC = 278
    TSTBR14 = 279
    CONDBR19 = 280
    JUMP26 = 282
    CALL26 = 283
    LDST16_ABS_LO12_NC = 284
    LDST32_ABS_LO12_NC = 285
    LDST64_ABS_LO12_NC = 286
    LDST128_ABS_LO12_NC = 299
    GOT_LD_PREL19 = 309
    ADR_GOT_PAGE = 311
    LD64_GOT_LO12_NC = 312


RELOCATION_NAMES = {r.value: f"R_AARCH64_{r.name}" for r in Reloc}
RELOCATION_NAMES[0] = "R_AARCH64_NONE"  # the generic ELF R_*_NONE, also valid on AArch64


def _bits(lsb, width):
    return ((1 << width) - 1) << lsb


_IMM26 = _bits(0, 26)
_IMM19 = _bits(5, 19)
_IMM14 = _bits(5, 14)
_IMM12 = _bits(10, 12)
_IMM16 = _bits(5, 16)
_ADR = _bits(29, 2) | _bits(5, 19)

# The bits each type patches in its instruction (a 4-byte word), or the size of its data
# field (all of it). The loader checks every relocation against this table before it maps
# anything (image.py). R_AARCH64_NONE, which patches nothing, is applied but not accepted
# from a file: no compiler puts it in code, and a call whose type were corrupted to it would
# stay unpatched.
INSTRUCTION_FIELDS = {
    Reloc.MOVW_UABS_G0: _IMM16, Reloc.MOVW_UABS_G0_NC: _IMM16, Reloc.MOVW_UABS_G1: _IMM16,
    Reloc.MOVW_UABS_G1_NC: _IMM16, Reloc.MOVW_UABS_G2: _IMM16, Reloc.MOVW_UABS_G2_NC: _IMM16,
    Reloc.MOVW_UABS_G3: _IMM16, Reloc.LD_PREL_LO19: _IMM19, Reloc.ADR_PREL_LO21: _ADR,
    Reloc.ADR_PREL_PG_HI21: _ADR, Reloc.ADR_PREL_PG_HI21_NC: _ADR,
    Reloc.ADD_ABS_LO12_NC: _IMM12, Reloc.LDST8_ABS_LO12_NC: _IMM12, Reloc.TSTBR14: _IMM14,
    Reloc.CONDBR19: _IMM19, Reloc.JUMP26: _IMM26, Reloc.CALL26: _IMM26,
    Reloc.LDST16_ABS_LO12_NC: _IMM12, Reloc.LDST32_ABS_LO12_NC: _IMM12,
    Reloc.LDST64_ABS_LO12_NC: _IMM12, Reloc.LDST128_ABS_LO12_NC: _IMM12,
    Reloc.GOT_LD_PREL19: _IMM19, Reloc.ADR_GOT_PAGE: _ADR, Reloc.LD64_GOT_LO12_NC: _IMM12,
}
DATA_SIZES = {Reloc.ABS64: 8, Reloc.ABS32: 4, Reloc.ABS16: 2, Reloc.PREL64: 8,
              Reloc.PREL32: 4, Reloc.PREL16: 2}

# The instruction each type patches, as (mask, value) pairs of which one must match its word,
# so that a type changed to another that patches other bits is caught: on AArch64 only the
# immediate bits of an instruction are blank.
_B, _BL = (0xFC000000, 0x14000000), (0xFC000000, 0x94000000)
_ADR, _ADRP = (0x9F000000, 0x10000000), (0x9F000000, 0x90000000)
_ADD_IMM = (0x7FC00000, 0x11000000)                  # ADD (immediate), no shift
_LDST_UIMM = (0x3B000000, 0x39000000)                # load/store, unsigned offset
_LDR_LITERAL = (0x3B000000, 0x18000000)
_MOVW = (0x1F800000, 0x12800000)                     # MOVZ, MOVN, MOVK
INSTRUCTIONS = {
    Reloc.JUMP26: [_B], Reloc.CALL26: [_BL],
    Reloc.CONDBR19: [(0xFF000010, 0x54000000), (0x7E000000, 0x34000000)],   # B.cond, CBZ
    Reloc.TSTBR14: [(0x7E000000, 0x36000000)],                             # TBZ, TBNZ
    Reloc.ADR_PREL_LO21: [_ADR], Reloc.ADR_PREL_PG_HI21: [_ADRP],
    Reloc.ADR_PREL_PG_HI21_NC: [_ADRP], Reloc.ADR_GOT_PAGE: [_ADRP],
    Reloc.ADD_ABS_LO12_NC: [_ADD_IMM],
    Reloc.LDST8_ABS_LO12_NC: [_LDST_UIMM], Reloc.LDST16_ABS_LO12_NC: [_LDST_UIMM],
    Reloc.LDST32_ABS_LO12_NC: [_LDST_UIMM], Reloc.LDST64_ABS_LO12_NC: [_LDST_UIMM],
    Reloc.LDST128_ABS_LO12_NC: [_LDST_UIMM], Reloc.LD64_GOT_LO12_NC: [(0xFFC00000, 0xF9400000)],
    Reloc.LD_PREL_LO19: [_LDR_LITERAL], Reloc.GOT_LD_PREL19: [(0xFF000000, 0x58000000)],
    Reloc.MOVW_UABS_G0: [_MOVW], Reloc.MOVW_UABS_G0_NC: [_MOVW], Reloc.MOVW_UABS_G1: [_MOVW],
    Reloc.MOVW_UABS_G1_NC: [_MOVW], Reloc.MOVW_UABS_G2: [_MOVW], Reloc.MOVW_UABS_G2_NC: [_MOVW],
    Reloc.MOVW_UABS_G3: [_MOVW],
}
# The 16-bit group each MOVW type moves (the instruction's hw field), and the access size
# each LDST type scales its offset by.
_MOVW_GROUP = {Reloc.MOVW_UABS_G0: 0, Reloc.MOVW_UABS_G0_NC: 0, Reloc.MOVW_UABS_G1: 1,
               Reloc.MOVW_UABS_G1_NC: 1, Reloc.MOVW_UABS_G2: 2, Reloc.MOVW_UABS_G2_NC: 2,
               Reloc.MOVW_UABS_G3: 3}
_LDST_SIZE = {Reloc.LDST8_ABS_LO12_NC: 1, Reloc.LDST16_ABS_LO12_NC: 2,
              Reloc.LDST32_ABS_LO12_NC: 4, Reloc.LDST64_ABS_LO12_NC: 8,
              Reloc.LDST128_ABS_LO12_NC: 16}


def instruction_mismatch(r_type, data, offset, executable):
    """Why the word at `offset` of a section's stored `data` (zeros past its end) is not an
    instruction of the kind `r_type` patches, or None. Data relocations are not checked."""
    forms = INSTRUCTIONS.get(r_type)
    if forms is None:
        return None
    word = int.from_bytes(data[offset:offset + 4], "little")
    if not executable or not any(word & mask == value for mask, value in forms):
        return f"is not at an instruction it applies to ({word:#010x})"
    if r_type in _MOVW_GROUP and (word >> 21) & 3 != _MOVW_GROUP[r_type]:
        return f"is not at a move of bits {16 * _MOVW_GROUP[r_type]} and up ({word:#010x})"
    if r_type in _LDST_SIZE:
        size, vector, opc = word >> 30, (word >> 26) & 1, (word >> 22) & 3
        access = 16 if vector and size == 0 and opc & 2 else 1 << size
        if access != _LDST_SIZE[r_type]:
            return f"is at a {access}-byte access, not {_LDST_SIZE[r_type]} ({word:#010x})"
    return None


# Calls and jumps: they land on S + A.
BRANCH_BIAS = {Reloc.JUMP26: 0, Reloc.CALL26: 0}

# The GOT slot of a symbol holds S + A, and the code only ever asks for S itself.
ADDEND_RANGES = {Reloc.ADR_GOT_PAGE: (0, 0), Reloc.LD64_GOT_LO12_NC: (0, 0),
                 Reloc.GOT_LD_PREL19: (0, 0)}

# Types that data (a jump table) holds as an offset from elsewhere in the data: S + A - P.
PC_RELATIVE_DATA = {Reloc.PREL16, Reloc.PREL32, Reloc.PREL64}

# AArch64 code never names the GOT symbol, and refers to no symbol that must be defined.
GOT_TYPES = set()
DEFINED_ONLY_TYPES = set()

INSTRUCTION_ALIGNMENT = 4
FUNCTION_ALIGNMENT = 4      # instructions are 4 bytes; where functions start


def field(r_type):
    """(size, mask of the bits patched, alignment of the place) for a relocation of `r_type`
    in a file; RelocationError if this loader does not accept it."""
    if r_type in INSTRUCTION_FIELDS:
        return 4, INSTRUCTION_FIELDS[r_type], INSTRUCTION_ALIGNMENT
    if r_type in DATA_SIZES:
        size = DATA_SIZES[r_type]
        return size, (1 << (8 * size)) - 1, 1
    raise unsupported(r_type)


def unsupported(r_type):
    name = RELOCATION_NAMES.get(r_type)
    return RelocationError(f"unsupported AArch64 relocation type {r_type}"
                           + (f" ({name})" if name else ""))


# Veneer for a branch whose target is beyond the +-128 MB reach of B/BL:
#     ldr x16, #8     ; x16 (IP0) is the scratch register the ABI reserves for veneers
#     br  x16
#     .quad target
PLT_STUB_SIZE = 16
_LDR_X16_PC_PLUS_8 = 0x58000050
_BR_X16 = 0xD61F0200


def write_plt_stub(image, offset, stub_address, target):
    """Write a veneer jumping to `target` at image[offset:]. The veneer does not depend on
    its own address (`stub_address`): it loads the target from the literal just after it."""
    image[offset:offset + PLT_STUB_SIZE] = struct.pack("<IIQ", _LDR_X16_PC_PLUS_8, _BR_X16,
                                                       target & 0xFFFF_FFFF_FFFF_FFFF)


def apply_relocation(r_type, image, offset, P, S, A, stubs):
    """Patch the place image[offset:] (at absolute address P) for a relocation of `r_type`
    against symbol address S with addend A. `stubs` provides GOT slots and branch veneers."""
    place = _Place(image, offset, r_type)
    match r_type:
        case 0 | Reloc.NONE:
            pass

        # Data.
        case Reloc.ABS64:                       # S + A
            place.write_data(S + A, 8)
        case Reloc.ABS32:                       # S + A, -2^31 <= X < 2^32
            place.write_data(place.check(S + A, -(1 << 31), 1 << 32), 4)
        case Reloc.ABS16:                       # S + A, -2^15 <= X < 2^16
            place.write_data(place.check(S + A, -(1 << 15), 1 << 16), 2)
        case Reloc.PREL64:                      # S + A - P
            place.write_data(S + A - P, 8)
        case Reloc.PREL32:                      # S + A - P, -2^31 <= X < 2^32
            place.write_data(place.check(S + A - P, -(1 << 31), 1 << 32), 4)
        case Reloc.PREL16:                      # S + A - P, -2^15 <= X < 2^16
            place.write_data(place.check(S + A - P, -(1 << 15), 1 << 16), 2)

        # MOVZ/MOVK: one 16-bit group of an absolute address (large code model).
        case Reloc.MOVW_UABS_G0:                # S + A, bits [15:0], 0 <= X < 2^16
            place.patch(place.check(S + A, 0, 1 << 16), 5, 16)
        case Reloc.MOVW_UABS_G0_NC:             # S + A, bits [15:0]
            place.patch(S + A, 5, 16)
        case Reloc.MOVW_UABS_G1:                # S + A, bits [31:16], 0 <= X < 2^32
            place.patch(place.check(S + A, 0, 1 << 32) >> 16, 5, 16)
        case Reloc.MOVW_UABS_G1_NC:             # S + A, bits [31:16]
            place.patch((S + A) >> 16, 5, 16)
        case Reloc.MOVW_UABS_G2:                # S + A, bits [47:32], 0 <= X < 2^48
            place.patch(place.check(S + A, 0, 1 << 48) >> 32, 5, 16)
        case Reloc.MOVW_UABS_G2_NC:             # S + A, bits [47:32]
            place.patch((S + A) >> 32, 5, 16)
        case Reloc.MOVW_UABS_G3:                # S + A, bits [63:48]
            place.patch((S + A) >> 48, 5, 16)

        # PC-relative addresses (small and tiny code models).
        case Reloc.ADR_PREL_LO21:               # S + A - P, -2^20 <= X < 2^20
            place.patch_adr(place.check(S + A - P, -(1 << 20), 1 << 20))
        case Reloc.ADR_PREL_PG_HI21:            # Page(S + A) - Page(P), -2^32 <= X < 2^32
            place.patch_adr(place.check(_page(S + A) - _page(P), -(1 << 32), 1 << 32) >> 12)
        case Reloc.ADR_PREL_PG_HI21_NC:         # Page(S + A) - Page(P)
            place.patch_adr((_page(S + A) - _page(P)) >> 12)
        case Reloc.LD_PREL_LO19:                # S + A - P, -2^20 <= X < 2^20
            place.patch_offset(S + A - P, 5, 19)

        # The low 12 bits of an address, completing an ADRP.
        case Reloc.ADD_ABS_LO12_NC | Reloc.LDST8_ABS_LO12_NC:   # S + A, bits [11:0]
            place.patch_lo12(S + A, 1)
        case Reloc.LDST16_ABS_LO12_NC:          # S + A, bits [11:1]
            place.patch_lo12(S + A, 2)
        case Reloc.LDST32_ABS_LO12_NC:          # S + A, bits [11:2]
            place.patch_lo12(S + A, 4)
        case Reloc.LDST64_ABS_LO12_NC:          # S + A, bits [11:3]
            place.patch_lo12(S + A, 8)
        case Reloc.LDST128_ABS_LO12_NC:         # S + A, bits [11:4]
            place.patch_lo12(S + A, 16)

        # Branches.
        case Reloc.TSTBR14:                     # S + A - P, -2^15 <= X < 2^15
            place.patch_offset(S + A - P, 5, 14)
        case Reloc.CONDBR19:                    # S + A - P, -2^20 <= X < 2^20
            place.patch_offset(S + A - P, 5, 19)
        case Reloc.JUMP26 | Reloc.CALL26:       # S + A - P, -2^27 <= X < 2^27, else a veneer
            X = S + A - P
            if not -(1 << 27) <= X < (1 << 27):
                X = stubs.plt_stub(S + A) - P
            place.patch_offset(X, 0, 26)

        # Through the GOT: G(GDAT(S + A)) is the address of a slot holding S + A.
        case Reloc.ADR_GOT_PAGE:                # Page(G(GDAT(S + A))) - Page(P), +-2^32
            got = stubs.got_slot(S + A)
            place.patch_adr(place.check(_page(got) - _page(P), -(1 << 32), 1 << 32) >> 12)
        case Reloc.LD64_GOT_LO12_NC:            # G(GDAT(S + A)), bits [11:3]
            place.patch_lo12(stubs.got_slot(S + A), 8)
        case Reloc.GOT_LD_PREL19:               # G(GDAT(S + A)) - P, -2^20 <= X < 2^20
            place.patch_offset(stubs.got_slot(S + A) - P, 5, 19)

        case _:
            raise unsupported(r_type)


def _page(address):
    return address & ~0xFFF


class _Place:
    """The 2, 4 or 8 bytes a relocation patches, with the checks every kind shares."""

    def __init__(self, image, offset, r_type):
        self.image = image
        self.offset = offset
        self.name = RELOCATION_NAMES.get(r_type, str(r_type))

    def fail(self, what):
        raise RelocationError(f"{self.name} at image offset {self.offset:#x}: {what}")

    def check(self, value, low, high):
        """`value` itself, after checking low <= value < high."""
        if not low <= value < high:
            self.fail(f"value {value:#x} out of range [{low:#x}, {high:#x})")
        return value

    def write_data(self, value, size):
        mask = (1 << (8 * size)) - 1
        self.image[self.offset:self.offset + size] = (value & mask).to_bytes(size, "little")

    def patch(self, value, lsb, width):
        """Put the low `width` bits of `value` into the instruction at bits [lsb+width-1:lsb]."""
        word = int.from_bytes(self.image[self.offset:self.offset + 4], "little")
        mask = ((1 << width) - 1) << lsb
        word = (word & ~mask) | ((value << lsb) & mask)
        self.image[self.offset:self.offset + 4] = word.to_bytes(4, "little")

    def patch_offset(self, X, lsb, width):
        """A signed word offset (B, BL, B.cond, CBZ, TBZ, LDR literal): X / 4 in `width` bits."""
        limit = 1 << (width + 1)  # +-2^(width+1) bytes: `width` bits of words, signed
        self.check(X, -limit, limit)
        if X & 3:
            self.fail(f"offset {X:#x} is not a multiple of 4")
        self.patch(X >> 2, lsb, width)

    def patch_adr(self, imm21):
        """ADR/ADRP: the 21-bit immediate split into immlo [30:29] and immhi [23:5]."""
        self.patch(imm21, 29, 2)
        self.patch(imm21 >> 2, 5, 19)

    def patch_lo12(self, address, access_size):
        """ADD/LDR/STR imm12: bits [11:0] of the address, scaled by the access size."""
        lo12 = address & 0xFFF
        if lo12 % access_size:
            self.fail(f"address {address:#x} is not aligned to the {access_size}-byte access")
        self.patch(lo12 // access_size, 10, 12)
