"""The compiler-loader contract is spelled once, in runtime/aot_abi.py: neither side defines
a record, a symbol name, a trap code or a helper slot of its own."""

import pathlib
import re

import pytest

from pywamr.runtime import aot_abi

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "compiler").glob("*.py")) + sorted((ROOT / "loader").glob("*.py"))

# What a second copy of part of the contract would look like.
SECOND_COPIES = {
    "a ctypes record": re.compile(r"\(ctypes\.Structure\)|_fields_\s*="),
    "a symbol name": re.compile(r"[\"']aot_|pywamr_guard_state"),
    "a trap code or helper slot": re.compile(r"^\s*(TRAP_(?!STATUS)|HELPER_)[A-Z_]+\s*=\s*\d",
                                             re.M),
    "an ABI offset": re.compile(r"^\s*(CTX|EXEC_ENV|GUARD_STATE|FUNCREF|MEMORY|TABLE)_[A-Z_]+"
                                r"\s*=\s*\d", re.M),
}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_second_copy_of_the_contract(source):
    text = source.read_text()
    for what, pattern in SECOND_COPIES.items():
        match = pattern.search(text)
        assert match is None, f"{source.name} spells {what}: {match.group(0)!r}"


def test_every_trap_code_is_distinct_and_worded():
    codes = {name: value for name, value in vars(aot_abi).items() if name.startswith("TRAP_")
             and isinstance(value, int)}
    assert len(set(codes.values())) == len(codes)
    assert 0 not in codes.values()           # 0 is "running"
    unworded = {name for name, value in codes.items() if value not in aot_abi.TRAP_KINDS}
    # The host's own exception is re-raised, a wasm exception raised as the API's.
    assert unworded == {"TRAP_HOST_EXCEPTION", "TRAP_EXCEPTION"}
    from pywamr.runtime.trap_codes import TrapCode
    assert all(kind in TrapCode.__members__ for kind in aot_abi.TRAP_KINDS.values())


def test_every_helper_slot_is_in_the_table():
    slots = sorted(value for name, value in vars(aot_abi).items() if name.startswith("HELPER_"))
    assert slots == list(range(aot_abi.NUM_HELPERS))


def test_guard_state_leaves_room_for_a_sigaction():
    assert aot_abi.GUARD_STATE_RANGES - aot_abi.GUARD_STATE_PREVIOUS_ACTION \
        >= aot_abi.ctypes.sizeof(aot_abi.SigAction)
