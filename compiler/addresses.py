"""The address of a memory access, formed so that LLVM can reason about it as it would about
C pointers.

An access of `size` bytes at i32 address `addr` with static offset `offset` touches
[ea, ea + size) with ea = zext(addr) + offset computed in 64 bits (no wrap-around), and traps
"out of bounds memory access" when ea + size exceeds the memory's current size: by a check
in code (`_check`), except in the check-free copies of versioned loops (loops.py), whose
accesses are proven in bounds at their entry, and for the loads of scan loops
(scan_loops.py), which rely on the guard pages (guard_pages.py).

Two things keep LLVM's loop vectoriser from treating wasm code like the C it came from:

- Provenance. Every access is an offset from the one memory base, so LLVM's loop access
  analysis sees a single object and gives up on a loop that reads `b[j]` and writes `c[j]`
  (it cannot tell them apart at run time either). Accesses are therefore based on a copy of
  the base per local that holds the address (`FunctionEnv.memory_base_copy`): an opaque
  value, equal at run time, so LLVM treats two locals like two C pointers, which may alias
  and are checked at run time before a vectorised loop runs. Within one copy, LLVM reasons
  from the offsets exactly as before; that is sound because each byte of memory has one
  address per copy. Only the check-free copies of versioned loops (loops.py) use the copies:
  a loop with checks has more than one exit and never vectorises, and there each copy would
  hold a register of its own (quicksort's partition loop spilled two of them: 4% of its
  run time).
- Wrap-around. clang's wasm output addresses the second element of an unrolled loop as
  `i32.add p 8`, and zext(p + 8) is not zext(p) + 8 when p + 8 wraps, so LLVM cannot see
  that the two accesses are adjacent. When memory cannot grow past 2 GiB (docs/aot-abi.md,
  "Addresses"), sext(p) + 8 is the exact address instead: for p < 2^31 it is p + 8; for
  p >= 2^31 it is either the wrapped address (p + 8 - 2^32, where the access belongs) or a
  negative offset into the guard region below the base, where the access traps, as it
  must, since p + 8 >= 2^31 is outside any memory of 2 GiB. Sign extension
  costs an instruction on x86_64 where zero extension is free, so it is used only for the
  locals that `sign_extended_locals` finds in such additions, and only for accesses without
  a static offset (p + offset must not wrap: zext is exact there).

All of this is memory 0's. An access to another memory (multi-memory) is always checked in
code against that memory's size, loaded at the access, and based on its base, loaded once
per function (`_other_memory_address`); the loops that make one are neither versioned nor
scan loops (loops.py, scan_loops.py), so nothing above applies to them.

An access to a 64-bit memory (memory64), memory 0 or another, has an i64 address and an
offset of up to 2^64 - 1, and no guard pages could cover what they reach: it is always
checked in code (`_address64`), in either bounds-check mode, but in the check-free copies of
versioned loops (loops.py plans a 64-bit memory 0's loops too); no loop of a module whose
memory 0 is 64-bit is a scan loop (translator.py).
"""

from pywamr.runtime import aot_abi as abi
from pywamr.runtime import opcodes
from pywamr.runtime.types import MAX_PAGES

from . import ir_text as ir
from .scan_loops import load_volatile, may_rely_on_guard_pages
from .signatures import I8, I64, VOID

_LOCAL_GET = opcodes.NAMES["local.get"]
_LOCAL_SET = opcodes.NAMES["local.set"]
_LOCAL_TEE = opcodes.NAMES["local.tee"]
_I32_CONST = opcodes.NAMES["i32.const"]
_I32_ADD = opcodes.NAMES["i32.add"]
_SIGN_LIMIT = 1 << 31


def _small_positive(constant):
    return 0 < (constant & 0xFFFFFFFF) < _SIGN_LIMIT


def sign_extended_locals(instrs):
    """Locals that appear as `local.get L; i32.const C; i32.add` with 0 < C < 2^31, the sum
    not stored straight back into L (that is a loop counter or pointer bump, not an address
    next to L's)."""
    found = set()
    for i in range(len(instrs) - 3):
        if instrs[i].op == _LOCAL_GET and instrs[i + 1].op == _I32_CONST \
                and instrs[i + 2].op == _I32_ADD and _small_positive(instrs[i + 1].imm):
            after = instrs[i + 3]
            if not (after.op in (_LOCAL_SET, _LOCAL_TEE) and after.imm == instrs[i].imm):
                found.add(instrs[i].imm)
    return found


def _root_and_constant(fx, addr):
    """(local, constant): `addr` is the value of that local (None: of no local) plus the
    constant (0 when `addr` is not such a sum)."""
    if isinstance(addr, ir.Instruction) and addr.opname == "add" \
            and isinstance(addr.operands[1], ir.Constant) \
            and _small_positive(addr.operands[1].constant):
        root = fx.address_roots.get(addr.operands[0])
        if root is not None:
            return root, addr.operands[1].constant & 0xFFFFFFFF
    return fx.address_roots.get(addr), 0


def _add_no_wrap(builder, value, constant):
    """value + constant for a zero-extended i32 plus a u32: it cannot wrap in 64 bits, and
    saying so lets LLVM see that one bounds check implies another."""
    total = builder.add(value, ir.Constant(I64, constant))
    total.flags.extend(["nuw", "nsw"])
    return total


def _limit(fx, extent):
    """size - extent: the highest in-bounds `ea` of an access of `extent` bytes."""
    limit = fx.builder.sub(fx.memory_size_bytes(), ir.Constant(I64, extent))
    limit.flags.append("nsw")
    return limit


def _check(fx, addr, ea, extent):
    """Trap unless `extent` bytes from `ea` (= zext(addr)) lie in memory. If this address
    was checked earlier and nothing observable happened since (FunctionEnv.close_checks),
    the earlier check is widened to this extent instead: had this access been out of bounds,
    trapping at the earlier point is indistinguishable, since the same trap would follow with
    the same memory. LLVM then drops the narrower checks the wider one implies.

    The check compares `ea` with `size - extent`, signed in 64 bits (exact: ea < 2^32,
    size <= 2^32, extent < 2^33), rather than `ea + extent` with `size`: the limit depends
    only on the memory size, so LLVM computes it once per loop, and the check is one compare
    and branch on the address the access uses anyway."""
    earlier = fx.open_checks.get(addr)
    if earlier is None:
        limit = _limit(fx, extent)
        fx.trap_if(fx.builder.icmp_signed(">", ea, limit), abi.TRAP_OUT_OF_BOUNDS_MEMORY)
        fx.open_checks[addr] = limit
    elif earlier.operands[1].constant < extent:
        earlier.operands = (earlier.operands[0], ir.Constant(I64, extent))


def _other_memory_address(fx, memory, addr, offset, size):
    """Pointer to the `size` bytes at `addr` + `offset` in memory `memory` > 0, after its
    bounds check, the same compare as `_check`'s with that memory's size."""
    b = fx.builder
    ea = b.zext(addr, I64)
    limit = b.sub(fx.other_memory_size_bytes(memory), ir.Constant(I64, offset + size))
    limit.flags.append("nsw")
    fx.trap_if(b.icmp_signed(">", ea, limit), abi.TRAP_OUT_OF_BOUNDS_MEMORY)
    if offset:
        ea = _add_no_wrap(b, ea, offset)
    return b.gep(fx.other_memory_base(memory), [ea], inbounds=True, source_etype=I8)


# Memory sizes stay below 2^63 bytes (a reservation of address space, loader/memory.py), so
# an access that ends 2^63 bytes or more past its address is never in bounds.
_EXTENT_CAP = 1 << 63


def _address64(fx, memory, addr, offset, size):
    """Pointer to the `size` bytes at i64 `addr` + `offset` of the 64-bit memory `memory`,
    after its bounds check: in bounds when addr + offset + size <= size_bytes, computed
    without wrapping. The check is `addr >= usub.sat(size_bytes + 1, offset + size)`, one
    compare and branch on the address itself against a limit that depends only on the memory
    size (so LLVM computes it once per loop, as `_check`'s); the limit is 0, so that every
    address traps, when the extent exceeds the size. Widened like `_check`'s while nothing
    observable happens between accesses to one address value."""
    b = fx.builder
    extent = min(offset + size, _EXTENT_CAP)
    key = (memory, addr)
    earlier = fx.open_checks.get(key)
    if earlier is None:
        end = b.add(memory_size_bytes(fx, memory), ir.Constant(I64, 1))
        end.flags.append("nuw")
        limit = fx.call_intrinsic("llvm.usub.sat.i64", I64, [end, _u64(extent)])
        fx.trap_if(b.icmp_unsigned(">=", addr, limit), abi.TRAP_OUT_OF_BOUNDS_MEMORY)
        fx.open_checks[key] = limit
    elif earlier.operands[2].constant % (1 << 64) < extent:
        earlier.operands = (*earlier.operands[:2], _u64(extent))
    ea = addr
    if offset:
        ea = b.add(addr, _u64(offset))
        ea.flags.append("nuw")      # an address past the check did not wrap
    return b.gep(memory_base(fx, memory), [ea], inbounds=True, source_etype=I8)


def _unchecked_address64(fx, addr, offset):
    """Pointer to `addr` + `offset` of a 64-bit memory 0 in the check-free copy of a
    versioned loop (loops.py), which proved the sum in bounds: based on the copy of the
    base of the local the address comes from, as 32-bit addresses there are."""
    b = fx.builder
    root, _ = _root_and_constant(fx, addr)
    ea = addr
    if offset:
        ea = b.add(addr, _u64(offset))
        ea.flags.append("nuw")
    return b.gep(fx.memory_base_copy(root), [ea], inbounds=True, source_etype=I8)


def _u64(value):
    """An i64 constant of the u64 `value`: LLVM reads i64 literals as signed."""
    return ir.Constant(I64, value - (1 << 64) if value >= 1 << 63 else value)


def memory_size_bytes(fx, memory):
    """Memory 0's size from its slot; another memory's loaded (function_env.py)."""
    return fx.other_memory_size_bytes(memory) if memory else fx.memory_size_bytes()


def memory_base(fx, memory):
    return fx.other_memory_base(memory) if memory else fx.memory_base()


def effective_address(fx, addr, offset, size, memory=0):
    """Pointer to the `size` bytes at `addr` + `offset` of memory `memory`, after the bounds
    check (none in a loop version whose accesses are proven in bounds: loops.py)."""
    if fx.menv.memory64[memory]:
        if not fx.checked_accesses:     # memory 0, in a loop version proven in bounds
            return _unchecked_address64(fx, addr, offset)
        return _address64(fx, memory, addr, offset, size)
    if memory:
        return _other_memory_address(fx, memory, addr, offset, size)
    b = fx.builder
    root, constant = _root_and_constant(fx, addr)
    base = fx.memory_base_copy(None if fx.checked_accesses else root)
    if not fx.checked_accesses and offset == 0 and root in fx.sign_extended_locals:
        x = addr.operands[0] if constant else addr
        ea = b.sext(x, I64)
        if constant:
            ea = b.add(ea, ir.Constant(I64, constant))
        return b.gep(base, [ea], inbounds=True, source_etype=I8)
    ea = b.zext(addr, I64)
    if fx.checked_accesses:
        _check(fx, addr, ea, offset + size)
    if offset:
        ea = _add_no_wrap(b, ea, offset)
    return b.gep(base, [ea], inbounds=True, source_etype=I8)


def load_at(fx, addr, offset, size, typ, guarded=False, memory=0):
    """The `typ` of `size` bytes at `addr` + `offset` of memory `memory`. `guarded`: the
    load is in a scan loop (scan_loops.py), where it relies on the guard pages instead of a
    check."""
    if guarded and not memory and may_rely_on_guard_pages(offset, size):
        b = fx.builder
        ea = b.zext(addr, I64)
        start = _add_no_wrap(b, ea, offset) if offset else ea
        pointer = b.gep(fx.memory_base(), [start], inbounds=True, source_etype=I8)
        value = load_volatile(b, pointer, typ)
        # Past the load, the access was in bounds (memory never shrinks): in the form of the
        # check, so that LLVM drops the checks of later accesses it covers.
        in_bounds = b.icmp_signed("<=", ea, _limit(fx, offset + size))
        fx.call_intrinsic("llvm.assume", VOID, [in_bounds])
        return value
    return fx.builder.load(effective_address(fx, addr, offset, size, memory), typ=typ,
                           align=1)


def load_at_wide(fx, addr, wide, size, typ):
    """The `typ` of `size` bytes at `addr`, whose 64-bit copy in a scan loop is `wide`
    (scan_loops.py, "Wide pointers"), relying on the guard pages as the guarded loads of
    load_at do."""
    b = fx.builder
    pointer = b.gep(fx.memory_base(), [wide], inbounds=True, source_etype=I8)
    value = load_volatile(b, pointer, typ)
    # Past the load, the access was in bounds: said of both forms of the address, for the
    # checks of later accesses through either.
    limit = _limit(fx, size)
    fx.call_intrinsic("llvm.assume", VOID, [b.icmp_signed("<=", b.zext(addr, I64), limit)])
    below = b.icmp_unsigned("<", wide, ir.Constant(I64, 1 << 32))
    fx.call_intrinsic("llvm.assume", VOID, [below])
    fx.call_intrinsic("llvm.assume", VOID, [b.icmp_signed("<=", wide, limit)])
    return value


def memory_limit_pages(module, bounds_checks, max_memory_4gib):
    """The most pages memory may grow to under the code compiled for `module`: 2 GiB, which
    lets addresses be sign-extended, unless explicit checks are asked for, 4 GiB is asked
    for, or the module's memory may already be bigger (an imported memory with no maximum
    or one above 2 GiB, a defined memory starting above 2 GiB). One limit serves every
    32-bit memory of the module; a 64-bit one has its accesses checked and the loader's
    limit (loader/memory.py)."""
    limit = MAX_PAGES // 2
    if bounds_checks or max_memory_4gib:
        return MAX_PAGES
    for imp in module.imports:
        if imp.kind == "memory" and imp.desc.address_type == "i32" \
                and (imp.desc.limits.max is None or imp.desc.limits.max > limit):
            return MAX_PAGES
    if any(memtype.address_type == "i32" and memtype.limits.min > limit
           for memtype in module.memories):
        return MAX_PAGES
    return limit
