"""The AArch64 relocator, one relocation type at a time.

Each test patches a real instruction word (the encodings below are `llvm-mc -triple=aarch64
-show-encoding` output for the instruction beside them, with the relocated field zero), decodes
the field back, and checks it against the formula of AAELF64; bits outside the field must be
left alone. Then the range checks, the veneers and GOT slots, and every relocation LLVM emits
for our code models and optimisation levels.
"""

import struct

import pytest

from arm64_objects import compile_object, describe_object
from pywamr.loader.errors import RelocationError
from pywamr.loader.reloc_aarch64 import (PLT_STUB_SIZE, RELOCATION_NAMES, Reloc,
                                          apply_relocation, write_plt_stub)
from pywamr.runtime.errors import AotFormatError

CODE_ADDRESS = 0x0000_5555_1234_5000  # an address like those mmap hands out
PLACE = CODE_ADDRESS + 0x7C4          # P: inside the page, not at its start


def page(address):
    return address & ~0xFFF


def bits(word, lsb, width, signed=False):
    value = (word >> lsb) & ((1 << width) - 1)
    if signed and value >> (width - 1):
        value -= 1 << width
    return value


def adr_immediate(word):
    """ADR/ADRP immediate: immhi [23:5] : immlo [30:29], signed 21 bits."""
    value = (bits(word, 5, 19) << 2) | bits(word, 29, 2)
    return value - (1 << 21) if value >> 20 else value


class FakeStubs:
    """Hands out GOT slots and veneers at fixed addresses and records what was asked."""

    def __init__(self, base=CODE_ADDRESS + 0x10000):
        self.base = base
        self.got = {}
        self.plt = {}

    def got_slot(self, value):
        return self.got.setdefault(value, self.base + 8 * len(self.got))

    def plt_stub(self, target):
        return self.plt.setdefault(target, self.base + 0x1000 + PLT_STUB_SIZE * len(self.plt))


def relocate_word(r_type, word, S, A=0, P=PLACE, stubs=None):
    image = memoryview(bytearray(16))
    image[4:8] = struct.pack("<I", word)
    apply_relocation(r_type, image, 4, P, S, A, stubs or FakeStubs())
    assert bytes(image[:4]) == bytes(4) and bytes(image[8:]) == bytes(8), "wrote outside"
    return struct.unpack("<I", image[4:8])[0]


def relocate_data(r_type, size, S, A=0, P=PLACE):
    image = memoryview(bytearray(b"\xAA" * 24))
    apply_relocation(r_type, image, 8, P, S, A, FakeStubs())
    assert bytes(image[:8]) == b"\xAA" * 8 and bytes(image[8 + size:]) == b"\xAA" * (16 - size)
    return int.from_bytes(image[8:8 + size], "little", signed=False)


def assert_only_field_changed(before, after, lsb, width):
    mask = ((1 << width) - 1) << lsb
    assert before & ~mask == after & ~mask


# --- PC-relative word offsets: branches and literal loads ---------------------------------

WORD_OFFSETS = [  # type, encoding, instruction, field lsb, field width
    (Reloc.JUMP26, 0x14000000, "b sym", 0, 26),
    (Reloc.CALL26, 0x94000000, "bl sym", 0, 26),
    (Reloc.CONDBR19, 0x54000001, "b.ne sym", 5, 19),
    (Reloc.CONDBR19, 0xB4000003, "cbz x3, sym", 5, 19),
    (Reloc.TSTBR14, 0x37380005, "tbnz w5, #7, sym", 5, 14),
    (Reloc.LD_PREL_LO19, 0x58000002, "ldr x2, sym", 5, 19),
]


@pytest.mark.parametrize("r_type, word, asm, lsb, width", WORD_OFFSETS)
@pytest.mark.parametrize("direction", [1, -1])
def test_word_offset(r_type, word, asm, lsb, width, direction):
    # S + A - P, stored as a signed count of words
    S, A = PLACE + direction * 0x1230, 8
    patched = relocate_word(r_type, word, S, A)
    assert bits(patched, lsb, width, signed=True) * 4 == S + A - PLACE
    assert_only_field_changed(word, patched, lsb, width)


@pytest.mark.parametrize("r_type, word, asm, lsb, width", WORD_OFFSETS)
def test_word_offset_range(r_type, word, asm, lsb, width):
    reach = 1 << (width + 1)  # bytes either side: `width` signed bits of 4-byte words
    highest = relocate_word(r_type, word, PLACE + reach - 4)
    assert bits(highest, lsb, width, signed=True) * 4 == reach - 4
    lowest = relocate_word(r_type, word, PLACE - reach)
    assert bits(lowest, lsb, width, signed=True) * 4 == -reach
    if r_type in (Reloc.CALL26, Reloc.JUMP26):
        return  # out of reach goes through a veneer: test_branch_beyond_reach_uses_veneer
    for S in (PLACE + reach, PLACE - reach - 4):
        with pytest.raises(RelocationError, match="out of range"):
            relocate_word(r_type, word, S)


@pytest.mark.parametrize("r_type, word, asm, lsb, width", WORD_OFFSETS)
def test_word_offset_must_be_aligned(r_type, word, asm, lsb, width):
    with pytest.raises(RelocationError, match="not a multiple of 4"):
        relocate_word(r_type, word, PLACE + 0x102)


@pytest.mark.parametrize("r_type, word", [(Reloc.CALL26, 0x94000000), (Reloc.JUMP26, 0x14000000)])
@pytest.mark.parametrize("distance", [1 << 27, -(1 << 27) - 4, 1 << 40])
def test_branch_beyond_reach_uses_veneer(r_type, word, distance):
    stubs = FakeStubs()
    S, A = PLACE + distance, 0
    patched = relocate_word(r_type, word, S, A, stubs=stubs)
    stub = stubs.plt[S + A]
    assert bits(patched, 0, 26, signed=True) * 4 == stub - PLACE
    assert_only_field_changed(word, patched, 0, 26)


def test_branch_to_unreachable_veneer_is_refused():
    stubs = FakeStubs(base=PLACE + (1 << 30))
    with pytest.raises(RelocationError, match="R_AARCH64_CALL26 .* out of range"):
        relocate_word(Reloc.CALL26, 0x94000000, PLACE + (1 << 31), stubs=stubs)


def test_veneer_encoding():
    image = memoryview(bytearray(PLT_STUB_SIZE + 8))
    target = 0x0000_7F01_2345_6788
    write_plt_stub(image, 4, CODE_ADDRESS, target)
    ldr, br, literal = struct.unpack("<IIQ", image[4:4 + PLT_STUB_SIZE])
    # ldr x16, <literal>: LDR (literal) 64-bit, Rt = 16, offset imm19 * 4 = 8
    assert ldr & 0xFF00001F == 0x58000010 and bits(ldr, 5, 19) * 4 == 8
    assert br == 0xD61F0200  # br x16
    assert literal == target
    assert bytes(image[:4]) == bytes(4) and bytes(image[4 + PLT_STUB_SIZE:]) == bytes(4)


# --- ADR, ADRP ----------------------------------------------------------------------------

ADR = 0x10000004   # adr x4, sym
ADRP = 0x90000008  # adrp x8, sym


@pytest.mark.parametrize("delta", [0x12345, -0x54321, 3, (1 << 20) - 1, -(1 << 20)])
def test_adr_prel_lo21(delta):
    # S + A - P, bytes, -2^20 <= X < 2^20
    patched = relocate_word(Reloc.ADR_PREL_LO21, ADR, PLACE + delta - 5, A=5)
    assert adr_immediate(patched) == delta
    assert patched & 0x9F00001F == ADR


@pytest.mark.parametrize("delta", [1 << 20, -(1 << 20) - 1])
def test_adr_prel_lo21_range(delta):
    with pytest.raises(RelocationError, match="R_AARCH64_ADR_PREL_LO21"):
        relocate_word(Reloc.ADR_PREL_LO21, ADR, PLACE + delta)


@pytest.mark.parametrize("r_type", [Reloc.ADR_PREL_PG_HI21, Reloc.ADR_PREL_PG_HI21_NC])
@pytest.mark.parametrize("delta", [0, 0x1234_5678, -0x7654_3210, 0xFFFF_F000 - 0x7C4])
def test_adrp(r_type, delta):
    # Page(S + A) - Page(P), in pages
    S, A = PLACE + delta, 0x10
    patched = relocate_word(r_type, ADRP, S, A)
    assert adr_immediate(patched) << 12 == page(S + A) - page(PLACE)
    assert patched & 0x9F00001F == ADRP


def test_adrp_range():
    # -2^32 <= Page(S + A) - Page(P) < 2^32
    relocate_word(Reloc.ADR_PREL_PG_HI21, ADRP, page(PLACE) - (1 << 32))
    for S in (page(PLACE) + (1 << 32), page(PLACE) - (1 << 32) - 0x1000):
        with pytest.raises(RelocationError, match="R_AARCH64_ADR_PREL_PG_HI21 "):
            relocate_word(Reloc.ADR_PREL_PG_HI21, ADRP, S)
    # _NC keeps the low 21 bits of the page count
    far = page(PLACE) + (1 << 33) + 0x5000
    patched = relocate_word(Reloc.ADR_PREL_PG_HI21_NC, ADRP, far)
    assert adr_immediate(patched) == 5


# --- The low 12 bits, scaled by the access size --------------------------------------------

LOW12 = [  # type, encoding, instruction, access size
    (Reloc.ADD_ABS_LO12_NC, 0x91000108, "add x8, x8, :lo12:sym", 1),
    (Reloc.LDST8_ABS_LO12_NC, 0x39400101, "ldrb w1, [x8, :lo12:sym]", 1),
    (Reloc.LDST16_ABS_LO12_NC, 0x79000101, "strh w1, [x8, :lo12:sym]", 2),
    (Reloc.LDST32_ABS_LO12_NC, 0xB9400101, "ldr w1, [x8, :lo12:sym]", 4),
    (Reloc.LDST64_ABS_LO12_NC, 0xFD400100, "ldr d0, [x8, :lo12:sym]", 8),
    (Reloc.LDST128_ABS_LO12_NC, 0x3DC00100, "ldr q0, [x8, :lo12:sym]", 16),
]


@pytest.mark.parametrize("r_type, word, asm, size", LOW12)
def test_low12(r_type, word, asm, size):
    # (S + A) bits [11:0], divided by the access size
    S, A = 0x0000_7F00_ABCD_E000 + 0xFF0, 0x30 - 0xFF0 % size
    patched = relocate_word(r_type, word, S, A)
    assert bits(patched, 10, 12) * size == (S + A) & 0xFFF
    assert_only_field_changed(word, patched, 10, 12)


@pytest.mark.parametrize("r_type, word, asm, size", [row for row in LOW12 if row[3] > 1])
def test_low12_misaligned(r_type, word, asm, size):
    with pytest.raises(RelocationError, match="not aligned"):
        relocate_word(r_type, word, 0x0000_7F00_ABCD_E000 + size // 2)


# --- MOVZ/MOVK groups (large code model) ---------------------------------------------------

MOVW = [  # type, encoding, instruction, bit shift of the group, checked upper bound
    (Reloc.MOVW_UABS_G0, 0xD2800009, "movz x9, #:abs_g0:sym", 0, 1 << 16),
    (Reloc.MOVW_UABS_G0_NC, 0xF2800009, "movk x9, #:abs_g0_nc:sym", 0, None),
    (Reloc.MOVW_UABS_G1, 0xD2A00009, "movz x9, #:abs_g1:sym", 16, 1 << 32),
    (Reloc.MOVW_UABS_G1_NC, 0xF2A00009, "movk x9, #:abs_g1_nc:sym", 16, None),
    (Reloc.MOVW_UABS_G2, 0xD2C00009, "movz x9, #:abs_g2:sym", 32, 1 << 48),
    (Reloc.MOVW_UABS_G2_NC, 0xF2C00009, "movk x9, #:abs_g2_nc:sym", 32, None),
    (Reloc.MOVW_UABS_G3, 0xD2E00009, "movz x9, #:abs_g3:sym", 48, None),
]


@pytest.mark.parametrize("r_type, word, asm, shift, limit", MOVW)
def test_movw(r_type, word, asm, shift, limit):
    # (S + A) bits [shift+15:shift]
    value = (limit or 1 << 64) - 0x1234_5678_9ABC_DEF0 % (limit or 1 << 64)
    patched = relocate_word(r_type, word, value - 3, A=3)
    assert bits(patched, 5, 16) == (value >> shift) & 0xFFFF
    assert_only_field_changed(word, patched, 5, 16)


@pytest.mark.parametrize("r_type, word, asm, shift, limit", [m for m in MOVW if m[4]])
def test_movw_range(r_type, word, asm, shift, limit):
    relocate_word(r_type, word, limit - 1)
    for S in (limit, -1):
        with pytest.raises(RelocationError, match="out of range"):
            relocate_word(r_type, word, S)


def test_movw_no_check_forms_take_any_address():
    address = 0xFEDC_BA98_7654_3210
    groups = [bits(relocate_word(r_type, word, address), 5, 16)
              for r_type, word, _, _, limit in MOVW if limit is None]
    assert groups == [0x3210, 0x7654, 0xBA98, 0xFEDC]


# --- Data ---------------------------------------------------------------------------------

DATA = [  # type, size, PC-relative, lowest and highest accepted values
    (Reloc.ABS64, 8, False, None, None),
    (Reloc.ABS32, 4, False, -(1 << 31), (1 << 32) - 1),
    (Reloc.ABS16, 2, False, -(1 << 15), (1 << 16) - 1),
    (Reloc.PREL64, 8, True, None, None),
    (Reloc.PREL32, 4, True, -(1 << 31), (1 << 32) - 1),
    (Reloc.PREL16, 2, True, -(1 << 15), (1 << 16) - 1),
]


@pytest.mark.parametrize("r_type, size, relative, lowest, highest", DATA)
def test_data(r_type, size, relative, lowest, highest):
    # S + A, or S + A - P for PREL, stored in `size` bytes
    base = PLACE if relative else 0
    values = [-2, 0x1234] + [v for v in (lowest, highest) if v is not None]
    if size == 8:
        values.append(0x0000_7F00_1234_5678)
    for X in values:
        stored = relocate_data(r_type, size, base + X - 6, A=6)
        assert stored == X % (1 << (8 * size))


@pytest.mark.parametrize("r_type, size, relative, lowest, highest", [d for d in DATA if d[3]])
def test_data_range(r_type, size, relative, lowest, highest):
    base = PLACE if relative else 0
    for X in (lowest - 1, highest + 1):
        with pytest.raises(RelocationError, match="out of range"):
            relocate_data(r_type, size, base + X)


# --- Through the GOT ----------------------------------------------------------------------

def test_got_relocations_share_one_slot_per_value():
    # ADRP Page(G(GDAT(S + A))) - Page(P), then LDR G(GDAT(S + A)) bits [11:3]
    stubs = FakeStubs(base=CODE_ADDRESS + 0x23458)
    S, A = 0x0000_7F00_0000_1000, 8
    adrp = relocate_word(Reloc.ADR_GOT_PAGE, ADRP, S, A, stubs=stubs)
    ldr = relocate_word(Reloc.LD64_GOT_LO12_NC, 0xF9400101, S, A, P=PLACE + 4, stubs=stubs)
    assert list(stubs.got) == [S + A]
    slot = stubs.got[S + A]
    assert adr_immediate(adrp) << 12 == page(slot) - page(PLACE)
    assert bits(ldr, 10, 12) * 8 == slot & 0xFFF
    assert_only_field_changed(0xF9400101, ldr, 10, 12)


def test_got_ld_prel19():
    # G(GDAT(S + A)) - P, words, -2^20 <= X < 2^20 (tiny code model)
    stubs = FakeStubs(base=CODE_ADDRESS - 0x800)
    patched = relocate_word(Reloc.GOT_LD_PREL19, 0x58000009, 0x1234, stubs=stubs)
    assert bits(patched, 5, 19, signed=True) * 4 == stubs.got[0x1234] - PLACE
    far_away = FakeStubs(CODE_ADDRESS + (1 << 21))
    with pytest.raises(RelocationError, match="R_AARCH64_GOT_LD_PREL19"):
        relocate_word(Reloc.GOT_LD_PREL19, 0x58000009, 0x1234, stubs=far_away)


def test_got_page_range():
    with pytest.raises(RelocationError, match="R_AARCH64_ADR_GOT_PAGE"):
        relocate_word(Reloc.ADR_GOT_PAGE, ADRP, 0, stubs=FakeStubs(base=PLACE + (1 << 33)))


# --- Everything else ----------------------------------------------------------------------

@pytest.mark.parametrize("r_type", [0, Reloc.NONE])
def test_none_changes_nothing(r_type):
    assert relocate_word(r_type, 0x94000000, 0x1234) == 0x94000000


@pytest.mark.parametrize("r_type", [1, 255, 270, 1026])
def test_unknown_type_is_refused(r_type):
    with pytest.raises(RelocationError, match=f"unsupported AArch64 relocation type {r_type}$"):
        relocate_word(r_type, 0x94000000, 0x1234)
    assert issubclass(RelocationError, AotFormatError)


def test_names_follow_the_abi():
    assert RELOCATION_NAMES[283] == "R_AARCH64_CALL26"
    assert RELOCATION_NAMES[311] == "R_AARCH64_ADR_GOT_PAGE"
    assert all(name.startswith("R_AARCH64_") for name in RELOCATION_NAMES.values())


# --- What LLVM emits ----------------------------------------------------------------------

@pytest.mark.parametrize("code_model", ["small", "large"])
@pytest.mark.parametrize("opt", [0, 3])
@pytest.mark.parametrize("attributes", ["", "optsize", "minsize optsize"])
def test_every_relocation_llvm_emits_is_applied(code_model, opt, attributes):
    description = describe_object(compile_object(code_model, opt, attributes))
    assert description["relocations"], "the test module must need relocations"
    images = {s["name"]: memoryview(bytearray(s["size"])) for s in description["sections"]}
    stubs = FakeStubs(base=CODE_ADDRESS + 0x100000)
    seen = set()
    for relocation in description["relocations"]:
        r_type = relocation["type"]
        assert r_type in RELOCATION_NAMES, f"LLVM emitted relocation type {r_type}"
        image = images[relocation["section"]]
        P = CODE_ADDRESS + relocation["offset"]
        S = CODE_ADDRESS + 0x8000 + 0x10 * len(seen)
        apply_relocation(r_type, image, relocation["offset"], P, S, relocation["addend"], stubs)
        seen.add(RELOCATION_NAMES[r_type])
    expected = {"R_AARCH64_CALL26", "R_AARCH64_ADR_GOT_PAGE", "R_AARCH64_LD64_GOT_LO12_NC"}
    if code_model == "large" and opt:
        expected |= {"R_AARCH64_MOVW_UABS_G0_NC", "R_AARCH64_MOVW_UABS_G3"}
    if code_model == "small":
        expected |= {"R_AARCH64_ADR_PREL_PG_HI21", "R_AARCH64_ADD_ABS_LO12_NC"}
    assert expected <= seen
