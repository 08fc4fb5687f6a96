"""Each x86_64 relocation patches the bits its psABI formula gives, and refuses a value that
does not fit its field."""

import struct

import pytest

from pywamr.loader.errors import RelocationError
from pywamr.loader.reloc_x86_64 import (PLT_STUB_SIZE, R, RELOCATION_NAMES, apply_relocation,
                                        write_plt_stub)

P = 0x4000_1000             # the place being patched
S = 0x4000_2345             # the symbol
A = -4                      # the addend
FAR = 0x7F12_3456_7000      # a symbol out of 32-bit reach of P
GOT = 0x4000_8000
OFFSET = 8                  # the place's offset in the buffer


class FakeStubs:
    """GOT slots and PLT stubs at fixed addresses, recording what was asked for."""

    got_base = GOT

    def __init__(self):
        self.slots = {}
        self.stubs = {}

    def got_slot(self, value):
        return self.slots.setdefault(value, GOT + 8 * (1 + len(self.slots)))

    def plt_stub(self, target):
        return self.stubs.setdefault(target, 0x4000_9000 + 16 * len(self.stubs))


def patch(r_type, s=S, a=A, p=P, stubs=None):
    image = memoryview(bytearray(32))
    stubs = stubs or FakeStubs()
    apply_relocation(r_type, image, OFFSET, p, s, a, stubs)
    return image, stubs


def field(image, fmt):
    return struct.unpack_from(fmt, image, OFFSET)[0]


@pytest.mark.parametrize("r_type, fmt, expected", [
    (R.X86_64_64, "<Q", S + A),                  # S + A
    (R.X86_64_32, "<I", S + A),                  # S + A
    (R.X86_64_32S, "<i", S + A),                 # S + A
    (R.X86_64_PC32, "<i", S + A - P),            # S + A - P
    (R.X86_64_PC64, "<q", S + A - P),            # S + A - P
    (R.X86_64_PC16, "<h", S + A - P),            # S + A - P
    (R.X86_64_PLT32, "<i", S + A - P),           # L + A - P, L = S when S is in reach
    (R.X86_64_GOTPC32, "<i", GOT + A - P),       # GOT + A - P
    (R.X86_64_GOTPC64, "<q", GOT + A - P),       # GOT + A - P
    (R.X86_64_GOTOFF64, "<q", S + A - GOT),      # S + A - GOT
])
def test_direct_formulas(r_type, fmt, expected):
    image, _ = patch(r_type)
    assert field(image, fmt) == expected


def test_narrow_fields():
    image, _ = patch(R.X86_64_16, s=0x1234, a=1)           # S + A
    assert field(image, "<H") == 0x1235
    image, _ = patch(R.X86_64_8, s=0xF0, a=1)              # S + A
    assert field(image, "<B") == 0xF1
    image, _ = patch(R.X86_64_PC8, s=P + 100, a=-4)        # S + A - P
    assert field(image, "<b") == 96
    for r_type, s in [(R.X86_64_16, S), (R.X86_64_PC8, S), (R.X86_64_8, 0x100)]:
        with pytest.raises(RelocationError, match=RELOCATION_NAMES[r_type]):
            patch(r_type, s=s, a=0)


@pytest.mark.parametrize("r_type", [R.X86_64_GOTPCREL, R.X86_64_GOTPCRELX,
                                    R.X86_64_REX_GOTPCRELX])
def test_gotpcrel_points_at_a_slot_holding_the_symbol(r_type):
    image, stubs = patch(r_type, s=FAR)
    slot = stubs.slots[FAR]                       # G + GOT
    assert field(image, "<i") == slot + A - P    # G + GOT + A - P


def test_got_offset_relocations():
    image, stubs = patch(R.X86_64_GOT64, s=FAR, a=0)
    assert field(image, "<q") == stubs.slots[FAR] - GOT     # G + A
    image, stubs = patch(R.X86_64_GOT32, s=FAR, a=8)
    assert field(image, "<i") == stubs.slots[FAR] - GOT + 8
    image, stubs = patch(R.X86_64_GOTPCREL64, s=FAR)
    assert field(image, "<q") == stubs.slots[FAR] + A - P   # G + GOT + A - P


def test_plt32_to_a_far_symbol_goes_through_a_stub():
    image, stubs = patch(R.X86_64_PLT32, s=FAR)
    assert list(stubs.stubs) == [FAR]
    assert field(image, "<i") == stubs.stubs[FAR] + A - P
    image, stubs = patch(R.X86_64_PLTOFF64, s=FAR, a=0)
    assert field(image, "<q") == stubs.stubs[FAR] - GOT      # L - GOT + A


@pytest.mark.parametrize("r_type, s, p", [
    (R.X86_64_PC32, FAR, P),                 # beyond +-2 GB
    (R.X86_64_32, FAR, P),                   # above 4 GB
    (R.X86_64_32, 0, P),                     # S + A negative
    (R.X86_64_32S, 0x8000_0004, P),          # S + A = 2 GB, would sign-extend
    (R.X86_64_GOTPC32, GOT, FAR),
])
def test_overflow_is_an_error_not_a_truncation(r_type, s, p):
    with pytest.raises(RelocationError) as error:
        patch(r_type, s=s, p=p)
    assert RELOCATION_NAMES[r_type] in str(error.value)
    assert "does not fit" in str(error.value)


def test_32s_accepts_what_sign_extends_back():
    image, _ = patch(R.X86_64_32S, s=0x7FFF_FFFF, a=0)
    assert field(image, "<i") == 0x7FFF_FFFF


def test_unsupported_type_is_named():
    with pytest.raises(RelocationError, match=r"type 23 \(R_X86_64_TPOFF32\)"):
        patch(23)
    with pytest.raises(RelocationError, match="type 200"):
        patch(200)


def test_only_the_field_is_written():
    image, _ = patch(R.X86_64_PC32)
    assert bytes(image[:OFFSET]) == bytes(OFFSET)
    assert bytes(image[OFFSET + 4:]) == bytes(32 - OFFSET - 4)


def test_plt_stub_is_an_indirect_jump_through_the_following_quadword():
    image = memoryview(bytearray(PLT_STUB_SIZE))
    write_plt_stub(image, 0, 0x1000, FAR)
    assert bytes(image[:6]) == b"\xff\x25\x00\x00\x00\x00"   # jmp *0(%rip)
    assert struct.unpack_from("<Q", image, 6)[0] == FAR
