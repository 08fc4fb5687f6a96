"""The kinds of trap: TrapCode, which pywamr.runtime.errors gives as its own.

It lives apart so that it is made only when first used (errors.__getattr__, PEP 562): an
Enum of fifteen members takes over a tenth of a millisecond to make, and a program that
never traps should not pay that at start-up.
"""

import enum


class TrapCode(enum.Enum):
    """The kinds of trap, each with the spec's wording as its value. The member's name is the
    stable, machine-readable identifier. A new kind is a line here (and, for compiled code
    to raise it, a TRAP_* code mapped to it in aot_abi.TRAP_KINDS)."""
    UNREACHABLE = "unreachable"
    INTEGER_DIVIDE_BY_ZERO = "integer divide by zero"
    INTEGER_OVERFLOW = "integer overflow"
    INVALID_CONVERSION_TO_INTEGER = "invalid conversion to integer"
    OUT_OF_BOUNDS_MEMORY = "out of bounds memory access"
    UNDEFINED_ELEMENT = "undefined element"
    UNINITIALIZED_ELEMENT = "uninitialized element"
    INDIRECT_CALL_TYPE_MISMATCH = "indirect call type mismatch"
    OUT_OF_BOUNDS_TABLE = "out of bounds table access"
    CALL_STACK_EXHAUSTED = "call stack exhausted"
    INTERRUPTED = "interrupted"
    OUT_OF_FUEL = "all fuel consumed"
    NULL_FUNCTION_REFERENCE = "null function reference"     # call_ref of null
    NULL_REFERENCE = "null reference"                       # ref.as_non_null of null
    NULL_EXCEPTION_REFERENCE = "null exception reference"   # throw_ref of null


CODES_BY_MESSAGE = {code.value: code for code in TrapCode}
