"""Fuel: the unit of the instruction budget `Limits(fuel=N)` and `--fuel N` give a call, defined
once here for both engines, so that a program consumes exactly the same amount on the
interpreter and on compiled code at every optimisation level.

Every instruction costs 1, except the structural ones, which cost nothing: `block`, `loop`,
`else`, `end` and `nop`, and of exception handling `try_table`, `try`, `catch`, `catch_all`
and `delegate`. Fuel is charged per run: a function body is cut into runs after each
instruction that ends straight-line control flow (`loop`, `if`, `else`, `end`, `br`, `br_if`,
`br_table`, `br_on_null`, `br_on_non_null`, `return`, the tail calls, `unreachable`, and
`throw`, `throw_ref`, `rethrow`, `catch`, `catch_all`, `delegate`), and at the start of a run
its whole cost is charged at once. An exception leaving a run part-way is as a trap there:
the run stays charged, and the handler it reaches starts a run of its own (a catch clause's
label is an `end`, a legacy handler follows its `catch`). A run whose cost exceeds the fuel left traps "all fuel consumed" without
consuming any (so the count consumed never exceeds the budget); a run that traps part-way (a
division by zero, a call that traps) stays charged in full. Calls do not end a run: the
callee's runs are charged as they start.

The cost is per instruction executed, not per unit of time: a memory.grow or memory.fill
costs 1 whatever its size.
"""

import functools

UNLIMITED = (1 << 63) - 1       # what a thread has outside a Limits block with fuel


@functools.cache
def _opcodes():
    """(free opcodes, opcodes that end a run), made on first use: the AOT loader needs only
    UNLIMITED, and not the instruction set."""
    from .opcodes import NAMES
    free = frozenset(NAMES[name] for name in ("block", "loop", "else", "end", "nop",
                                              "try_table", "try", "catch", "catch_all",
                                              "delegate"))
    run_ends = frozenset(NAMES[name] for name in (
        "loop", "if", "else", "end", "br", "br_if", "br_table", "br_on_null", "br_on_non_null",
        "return", "return_call", "return_call_indirect", "return_call_ref", "unreachable",
        "throw", "throw_ref", "rethrow", "catch", "catch_all", "delegate"))
    return free, run_ends


def run_costs(instrs):
    """{index of a run's first instruction in `instrs` (a function body): the run's cost}, for
    every run that costs anything."""
    free, run_ends = _opcodes()
    costs = {}
    start = 0
    cost = 0
    for i, instr in enumerate(instrs):
        if instr.op not in free:
            cost += 1
        if instr.op in run_ends:
            if cost:
                costs[start] = cost
            start, cost = i + 1, 0
    if cost:
        costs[start] = cost
    return costs
