"""Loops whose memory accesses are proven in bounds before they run, so that their body needs
no bounds check and LLVM can vectorise it as it would the C it came from.

Every access is checked in code (addresses.py): a branch to the trap exit that LLVM must keep
in program order, which makes traps exact but stops the loop vectoriser, since it does not
handle loops with more than one exit. For an innermost loop of the usual shape the check is
hoisted instead, as loop versioning does:

    loop                              ;; no params or results
      ...straight-line code...        ;; no branches, calls, memory.grow
      (loads and stores at P + C, P a local stepped once per iteration by a constant or
       by a local the loop does not change, C a constant; or at constant addresses)
      br_if 0                         ;; the only branch, at the end
    end

At loop entry, `plan_budget` computes from the pointers' values and the memory size how many
iterations B are certain to keep every access in bounds (exactly, in 64 bits: an address in
bounds cannot have wrapped). The loop is then emitted twice: a fast version without checks
that runs while the loop wants to go on and fewer than B iterations have run, and the
ordinary checked version, which takes over for the iterations after that (the one that traps,
or the rest of a loop that runs on past B). With B as a second induction variable the fast
version has a single exit whose trip count LLVM computes as the minimum of the two.

`find_loop` recognises the shape by evaluating the body once over symbolic values: a value
is a constant, a loop-invariant local, or `P + C` for a pointer P at the start of the
iteration (phase 0) or after its step (phase 1). A local is a pointer if the body assigns it
exactly once, with its own start value plus a step.
"""

from collections import namedtuple

from llvmlite import ir

from pywamr.runtime import opcodes
from pywamr.runtime.validator import LANE_ACCESSES, LANE_OPS, MEMORY_ACCESSES, SIGNATURES

from .signatures import I32, I64, V128

# The bytes each access touches: scalar loads and stores by type, SIMD by what they move.
_ACCESS_SIZES = {}
for _name, _size in [
        ("i32.load", 4), ("i64.load", 8), ("f32.load", 4), ("f64.load", 8),
        ("i32.load8_s", 1), ("i32.load8_u", 1), ("i32.load16_s", 2), ("i32.load16_u", 2),
        ("i64.load8_s", 1), ("i64.load8_u", 1), ("i64.load16_s", 2), ("i64.load16_u", 2),
        ("i64.load32_s", 4), ("i64.load32_u", 4),
        ("i32.store", 4), ("i64.store", 8), ("f32.store", 4), ("f64.store", 8),
        ("i32.store8", 1), ("i32.store16", 2), ("i64.store8", 1), ("i64.store16", 2),
        ("i64.store32", 4),
        ("v128.load", 16), ("v128.store", 16),
        ("v128.load8x8_s", 8), ("v128.load8x8_u", 8), ("v128.load16x4_s", 8),
        ("v128.load16x4_u", 8), ("v128.load32x2_s", 8), ("v128.load32x2_u", 8),
        ("v128.load8_splat", 1), ("v128.load16_splat", 2), ("v128.load32_splat", 4),
        ("v128.load64_splat", 8), ("v128.load32_zero", 4), ("v128.load64_zero", 8),
        ("v128.load8_lane", 1), ("v128.load16_lane", 2), ("v128.load32_lane", 4),
        ("v128.load64_lane", 8), ("v128.store8_lane", 1), ("v128.store16_lane", 2),
        ("v128.store32_lane", 4), ("v128.store64_lane", 8)]:
    _ACCESS_SIZES[opcodes.NAMES[_name]] = _size
del _name, _size

_LOCAL_GET = opcodes.NAMES["local.get"]
_LOCAL_SET = opcodes.NAMES["local.set"]
_LOCAL_TEE = opcodes.NAMES["local.tee"]
_GLOBAL_GET = opcodes.NAMES["global.get"]
_GLOBAL_SET = opcodes.NAMES["global.set"]
_I32_CONST = opcodes.NAMES["i32.const"]
_I32_ADD = opcodes.NAMES["i32.add"]
_I32_SUB = opcodes.NAMES["i32.sub"]
_DROP = opcodes.NAMES["drop"]
_SELECT = (opcodes.NAMES["select"], opcodes.NAMES["select_t"])
_MEMORY_SIZE = opcodes.NAMES["memory.size"]
_BR_IF = opcodes.NAMES["br_if"]
_END = opcodes.NAMES["end"]
# Bounds checks an iteration needs at most this many: beyond it the entry computation would
# cost more than a short loop saves.
MAX_POINTER_GROUPS = 8

# A pointer local: its step is a constant (`constant` set) or the value of an invariant local.
Pointer = namedtuple("Pointer", "local constant step_local")
# The accesses through one pointer in one phase, as offsets from its value: the lowest i32
# sum P + C and the highest end P + C + offset + size. pointer None: accesses at constant addresses.
AccessGroup = namedtuple("AccessGroup", "pointer phase low high")
LoopPlan = namedtuple("LoopPlan", "end pointers groups")

_UNKNOWN = None


def _mod32(value):
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def find_loop(instrs, start):
    """The LoopPlan of the `loop` at instrs[start], or None when it is not of the shape."""
    end = _body_end(instrs, start)
    if end is None or instrs[start].imm is not None:
        return None
    body = instrs[start + 1:end - 1]        # without the final br_if 0
    assigned = {}
    for instr in body:
        if instr.op in (_LOCAL_SET, _LOCAL_TEE):
            assigned[instr.imm] = assigned.get(instr.imm, 0) + 1
    # A local assigned once may be a pointer; those whose assignment is no step are dropped
    # and the body evaluated again (a copy such as `local.tee $q (P + 8)` is forwarded).
    candidates = {local for local, count in assigned.items() if count == 1}
    while True:
        result = _evaluate(body, assigned, candidates)
        if result is None:
            return None
        pointers, accesses, failed = result
        if not failed:
            break
        candidates -= failed
    groups = {}
    for pointer, phase, low, high in accesses:
        old = groups.get((pointer, phase))
        groups[pointer, phase] = (low, high) if old is None else (min(old[0], low),
                                                                  max(old[1], high))
    if not groups or len(groups) > MAX_POINTER_GROUPS:
        return None
    return LoopPlan(end, pointers, [AccessGroup(pointer, phase, low, high)
                                    for (pointer, phase), (low, high) in groups.items()])


def _body_end(instrs, start):
    """Index of the `end` of the loop at `start` if its body is straight-line code closed by
    `br_if 0`, else None."""
    for i in range(start + 1, len(instrs)):
        op = instrs[i].op
        if op == _END:
            if i - 1 > start and instrs[i - 1].op == _BR_IF and instrs[i - 1].imm == 0:
                return i
            return None
        if op == _BR_IF and instrs[i + 1].op == _END:
            continue
        if not _straight(op):
            return None
    return None


def _straight(op):
    return (op in SIGNATURES or op in MEMORY_ACCESSES or op in LANE_ACCESSES or op in LANE_OPS
            or op in (_LOCAL_GET, _LOCAL_SET, _LOCAL_TEE, _GLOBAL_GET, _GLOBAL_SET, _DROP,
                      _MEMORY_SIZE, *_SELECT))


def _evaluate(body, assigned, candidates):
    """Run the body over symbolic values: (pointers, accesses, failed candidates), with the
    Pointer of each candidate whose assignment is a step and each access as (pointer local
    or None, phase, low, high); None when an access's address is not of the shape."""
    stack = []
    current = {}         # local -> symbolic value assigned earlier in this iteration
    pointers = {}
    accesses = []
    for instr in body:
        op, imm = instr.op, instr.imm
        if op == _LOCAL_GET:
            if imm in current:
                stack.append(current[imm])
            elif imm in candidates:
                stack.append(("ptr", imm, 0, 0))
            elif imm in assigned:
                stack.append(_UNKNOWN)      # carried over from the previous iteration
            else:
                stack.append(("inv", imm))
        elif op in (_LOCAL_SET, _LOCAL_TEE):
            value = stack[-1] if op == _LOCAL_TEE else stack.pop()
            if imm in candidates:
                pointers[imm] = _step_of(value, imm)
                value = ("ptr", imm, 1, 0)
            current[imm] = value
        elif op == _I32_CONST:
            stack.append(("const", imm))
        elif op in (_I32_ADD, _I32_SUB):
            b = stack.pop()
            a = stack.pop()
            stack.append(_add(a, b, op == _I32_SUB))
        elif op in MEMORY_ACCESSES or op in LANE_ACCESSES:
            if op in MEMORY_ACCESSES:
                _, params, results = MEMORY_ACCESSES[op]
            else:
                params, results = (I32, V128), LANE_ACCESSES[op][2]
            operands = stack[len(stack) - len(params):]
            del stack[len(stack) - len(params):]
            access = _access(operands[0], imm[1], _ACCESS_SIZES[op])
            if access is None:
                return None
            accesses.append(access)
            stack.extend(_UNKNOWN for _ in results)
        else:
            pops, pushes = _arity(op)
            del stack[len(stack) - pops:]
            stack.extend(_UNKNOWN for _ in range(pushes))
    failed = {local for local, step in pointers.items() if step is None}
    return pointers, accesses, failed


def _arity(op):
    if op in SIGNATURES:
        params, results = SIGNATURES[op]
        return len(params), len(results)
    if op in LANE_OPS:
        _, params, results = LANE_OPS[op]
        return len(params), len(results)
    if op == _DROP or op == _GLOBAL_SET:
        return 1, 0
    if op in _SELECT:
        return 3, 1
    if op in (_GLOBAL_GET, _MEMORY_SIZE):
        return 0, 1
    raise AssertionError(f"opcode {op:#x} not straight-line")


def _add(a, b, subtract):
    if a is _UNKNOWN or b is _UNKNOWN:
        return _UNKNOWN
    if b[0] == "const":
        delta = -b[1] if subtract else b[1]
        if a[0] == "const":
            return ("const", _mod32(a[1] + delta))
        if a[0] == "ptr":
            return ("ptr", a[1], a[2], _mod32(a[3] + delta))
        return _UNKNOWN
    if not subtract and a[0] == "const" and b[0] == "ptr":
        return ("ptr", b[1], b[2], _mod32(b[3] + a[1]))
    if not subtract and a[0] == "ptr" and a[2] == 0 and a[3] == 0 and b[0] == "inv":
        return ("step", a[1], b[1])
    if not subtract and b[0] == "ptr" and b[2] == 0 and b[3] == 0 and a[0] == "inv":
        return ("step", b[1], a[1])
    return _UNKNOWN


def _step_of(value, local):
    """The Pointer if `value` is the local's start value plus a step, else None."""
    if value is _UNKNOWN:
        return None
    if value[0] == "ptr" and value[1] == local and value[2] == 0:
        return Pointer(local, value[3], None)
    if value[0] == "step" and value[1] == local:
        return Pointer(local, None, value[2])
    return None


def _access(address, offset, size):
    """(pointer, phase, low, high) of an access, or None."""
    if address is _UNKNOWN:
        return None
    if address[0] == "const":
        start = (address[1] & 0xFFFFFFFF) + offset
        return (None, 0, start, start + size)
    if address[0] == "ptr":
        # P + C is an i32 sum, the offset is added after it in 64 bits: it is P + C that
        # must not wrap (be below 0), and the end of the access that must not pass memory's.
        return (address[1], address[2], address[3], address[3] + offset + size)
    return None


# --- the entry computation ------------------------------------------------------------------

def plan_budget(fx, plan, read_local):
    """i64: how many iterations from now keep every access of `plan` in bounds (0: none).
    `read_local(index)` gives a local's current i32 value."""
    b = fx.builder
    size = fx.memory_size_bytes()
    budget = None
    for group in plan.groups:
        if group.pointer is None:
            in_bounds = b.icmp_unsigned("<=", ir.Constant(I64, group.high), size)
            count = b.select(in_bounds, ir.Constant(I64, _UNLIMITED), ir.Constant(I64, 0))
        else:
            count = _pointer_budget(fx, plan.pointers[group.pointer], group, size, read_local)
        budget = count if budget is None else _umin(b, budget, count)
    return budget


_UNLIMITED = (1 << 63) - 1


def _umin(b, x, y):
    return b.select(b.icmp_unsigned("<", x, y), x, y)


def _pointer_budget(fx, pointer, group, size, read_local):
    """Iterations k = 0, 1, ... for which [P_k + low, P_k + high) lies in [0, size), with
    P_k = P + (k + phase) * step exactly (no wrap-around): 0 if the first does not."""
    b = fx.builder
    if pointer.constant is not None:
        step = ir.Constant(I64, pointer.constant)
    else:
        step = b.sext(read_local(pointer.step_local), I64)
    start = b.zext(read_local(pointer.local), I64)
    if group.phase:
        start = b.add(start, step)
    low = b.add(start, ir.Constant(I64, group.low))
    high = b.add(start, ir.Constant(I64, group.high))
    zero = ir.Constant(I64, 0)
    one = ir.Constant(I64, 1)
    first_in = b.and_(b.icmp_signed(">=", low, zero), b.icmp_signed("<=", high, size))
    # Room ahead in the direction of the step, in whole steps, plus the first iteration.
    forward = b.sdiv(b.sub(size, high), _at_least_one(b, step))
    backward = b.sdiv(low, _at_least_one(b, b.neg(step)))
    is_up = b.icmp_signed(">", step, zero)
    is_down = b.icmp_signed("<", step, zero)
    room = b.select(is_up, forward, b.select(is_down, backward,
                                             ir.Constant(I64, _UNLIMITED - 1)))
    return b.select(first_in, b.add(room, one), zero)


def _at_least_one(b, value):
    one = ir.Constant(I64, 1)
    return b.select(b.icmp_signed("<", value, one), one, value)
