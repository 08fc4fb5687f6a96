"""Validation of a decoded module against the WebAssembly typing rules (spec chapter 3): 2.0's,
and of 3.0 the parts pywamr implements (tail calls, typed function references, extended
constant expressions, table initialisers). Where the two versions disagree on a module pywamr
can decode (constant expressions), `validate` takes the version: the 2.0 spec suite expects
2.0's verdicts.

Function bodies are checked with the algorithm of the spec's appendix "Validation Algorithm":
an operand stack of value types and a stack of control frames, where `None` on the operand stack
is the unknown (bottom) type that unreachable code produces. Most instructions have a fixed
signature and go through the `SIGNATURES` table; the rest (control, variables, memory, tables,
references, lanes) have one small method each, found through `HANDLERS`.

Typed function references (3.0): value types may be `(ref $t)` and the other reference types
of types.py, related by subtyping (`matches`: a non-null reference is a nullable one, a
concrete function type is a `func`, and type indices of equal types are one type), and a
local of a non-defaultable type may be read only after a local.set or local.tee of it in an
enclosing block ("uninitialized local").

Exception handling (3.0, and the legacy proposal): tags are typed by a function type with no
results; `throw` and `throw_ref` end a block's reachable code as `br` does; a try_table's
catch clauses are checked against their labels outside the try_table (a catch passes the
tag's params, a catch_ref those and a `(ref exn)`, catch_all nothing, catch_all_ref the
`(ref exn)`). A legacy `try` is a frame that `catch` and `catch_all` replace by frames of
their own (each starting with the caught values, as `else` replaces an `if`), and that
`delegate` closes; `rethrow l` must name one of those catch frames.

Recursion groups and subtypes (3.0's `rec` and `sub`, of function types only): a type may
name the types of its own group and those before; a declared supertype must come before the
type, not be final, and have a function type the type's own matches; a concrete reference
type is a subtype of another when its type is equivalent to it or to one of its declared
supertypes, transitively (types.structural_types says which types are equivalent).

Error messages follow the spec interpreter's wording (the texts of `assert_invalid`).

A function body the decoder's fast pass (body_check.py) has already found valid is not
walked again here (`FunctionBody.known_valid`); this module stays the reference for every
other body, and the fast pass accepts nothing this module would refuse. An element segment's
`ref.func f`, thousands of them in the table of a C program, is checked directly when it is
fine, not as a code sequence.
"""

from bisect import bisect_right
from collections import namedtuple

from .errors import InvalidModule
from .module import Instr
from .opcodes import (BLOCK, CATCH_ALL_LEGACY, CATCH_ALL_REF, CATCH_LEGACY, CATCH_REF,
                      DELEGATE, ELSE, END, IF, LOOP, NAMES, OPCODES, RETHROW, THROW, THROW_REF,
                      TRY, TRY_TABLE)
from .types import (EXNREF, F32, F64, FUNCREF, I32, I64, MAX_PAGES_OF, MAX_TABLE_SIZE_OF,
                    MEMORY_SIZE_MESSAGES, NUM_TYPES, TABLE_SIZE_MESSAGES, V128, heap_type,
                    is_defaultable, is_ref, is_subtype, ref_type, structural_types)

EXN = "(ref exn)"       # what catch_ref and catch_all_ref pass

GLOBAL_GET = NAMES["global.get"]
REF_FUNC = NAMES["ref.func"]

# The scalar type of one lane of each SIMD shape.
SIMD_LANE_TYPE = {"i8x16": I32, "i16x8": I32, "i32x4": I32, "i64x2": I64,
                  "f32x4": F32, "f64x2": F64}


# ---------------------------------------------------------------------------------------------
# Instruction signatures

def _build_signatures():
    """opcode -> (operand types, result types) for every instruction whose type is fixed."""
    table = {}

    def add(names, params, results):
        for name in names.split():
            table[NAMES[name]] = (list(params), list(results))

    for t in (I32, I64, F32, F64, V128):
        add(f"{t}.const", [], [t])
    for t in (I32, I64):
        add(f"{t}.eqz", [t], [I32])
        add(f"{t}.eq {t}.ne {t}.lt_s {t}.lt_u {t}.gt_s {t}.gt_u {t}.le_s {t}.le_u {t}.ge_s "
            f"{t}.ge_u", [t, t], [I32])
        add(f"{t}.clz {t}.ctz {t}.popcnt {t}.extend8_s {t}.extend16_s", [t], [t])
        add(f"{t}.add {t}.sub {t}.mul {t}.div_s {t}.div_u {t}.rem_s {t}.rem_u {t}.and {t}.or "
            f"{t}.xor {t}.shl {t}.shr_s {t}.shr_u {t}.rotl {t}.rotr", [t, t], [t])
    add("i64.extend32_s", [I64], [I64])
    for t in (F32, F64):
        add(f"{t}.eq {t}.ne {t}.lt {t}.gt {t}.le {t}.ge", [t, t], [I32])
        add(f"{t}.abs {t}.neg {t}.ceil {t}.floor {t}.trunc {t}.nearest {t}.sqrt", [t], [t])
        add(f"{t}.add {t}.sub {t}.mul {t}.div {t}.min {t}.max {t}.copysign", [t, t], [t])

    # A conversion is named `result.op_source[_s|_u]`, e.g. i64.trunc_sat_f32_u.
    for name in """
            i32.wrap_i64 i32.trunc_f32_s i32.trunc_f32_u i32.trunc_f64_s i32.trunc_f64_u
            i64.extend_i32_s i64.extend_i32_u i64.trunc_f32_s i64.trunc_f32_u i64.trunc_f64_s
            i64.trunc_f64_u f32.convert_i32_s f32.convert_i32_u f32.convert_i64_s
            f32.convert_i64_u f32.demote_f64 f64.convert_i32_s f64.convert_i32_u
            f64.convert_i64_s f64.convert_i64_u f64.promote_f32 i32.reinterpret_f32
            i64.reinterpret_f64 f32.reinterpret_i32 f64.reinterpret_i64
            i32.trunc_sat_f32_s i32.trunc_sat_f32_u i32.trunc_sat_f64_s i32.trunc_sat_f64_u
            i64.trunc_sat_f32_s i64.trunc_sat_f32_u i64.trunc_sat_f64_s i64.trunc_sat_f64_u
            """.split():
        result, op = name.split(".")
        source = next(part for part in op.split("_") if part in NUM_TYPES)
        add(name, [source], [result])

    # SIMD instructions without immediates, classified by operation name.
    for op, (name, imm) in OPCODES.items():
        if op < 0xFD00 or imm is not None:
            continue
        shape, operation = name.split(".")
        if operation == "splat":
            params, results = [SIMD_LANE_TYPE[shape]], [V128]
        elif operation in ("any_true", "all_true", "bitmask"):
            params, results = [V128], [I32]
        elif operation in ("shl", "shr_s", "shr_u"):
            params, results = [V128, I32], [V128]
        elif operation in ("bitselect", "relaxed_laneselect", "relaxed_madd", "relaxed_nmadd",
                           "relaxed_dot_i8x16_i7x16_add_s"):
            params, results = [V128, V128, V128], [V128]
        elif (operation in ("not", "abs", "neg", "popcnt", "sqrt", "ceil", "floor", "trunc",
                            "nearest")
              or operation.startswith(("extend_", "extadd_pairwise_", "convert_", "trunc_sat_",
                                       "relaxed_trunc_", "demote_", "promote_"))):
            params, results = [V128], [V128]
        else:
            params, results = [V128, V128], [V128]
        table[op] = (params, results)
    return table


SIGNATURES = _build_signatures()


def _build_memory_accesses():
    """opcode -> (largest alignment exponent, operand types, result types) of loads/stores.
    The first operand, the address, is an i32 here: an i64 for a 64-bit memory."""
    table = {}

    def add(names, align, params, results):
        for name in names.split():
            table[NAMES[name]] = (align, [I32] + params, results)

    add("i32.load8_s i32.load8_u", 0, [], [I32])
    add("i32.load16_s i32.load16_u", 1, [], [I32])
    add("i32.load", 2, [], [I32])
    add("i64.load8_s i64.load8_u", 0, [], [I64])
    add("i64.load16_s i64.load16_u", 1, [], [I64])
    add("i64.load32_s i64.load32_u", 2, [], [I64])
    add("i64.load", 3, [], [I64])
    add("f32.load", 2, [], [F32])
    add("f64.load", 3, [], [F64])
    add("i32.store8", 0, [I32], [])
    add("i32.store16", 1, [I32], [])
    add("i32.store", 2, [I32], [])
    add("i64.store8", 0, [I64], [])
    add("i64.store16", 1, [I64], [])
    add("i64.store32", 2, [I64], [])
    add("i64.store", 3, [I64], [])
    add("f32.store", 2, [F32], [])
    add("f64.store", 3, [F64], [])
    add("v128.load8_splat", 0, [], [V128])
    add("v128.load16_splat", 1, [], [V128])
    add("v128.load32_splat v128.load32_zero", 2, [], [V128])
    add("v128.load64_splat v128.load64_zero v128.load8x8_s v128.load8x8_u v128.load16x4_s "
        "v128.load16x4_u v128.load32x2_s v128.load32x2_u", 3, [], [V128])
    add("v128.load", 4, [], [V128])
    add("v128.store", 4, [V128], [])
    return table


MEMORY_ACCESSES = _build_memory_accesses()

# v128.loadN_lane / v128.storeN_lane: opcode -> (largest alignment exponent, lane count, results).
LANE_ACCESSES = {}
for bits, align in ((8, 0), (16, 1), (32, 2), (64, 3)):
    LANE_ACCESSES[NAMES[f"v128.load{bits}_lane"]] = (align, 128 // bits, [V128])
    LANE_ACCESSES[NAMES[f"v128.store{bits}_lane"]] = (align, 128 // bits, [])

# extract_lane / replace_lane: opcode -> (lane count, operand types, result types).
LANE_OPS = {}
for shape, lanes in (("i8x16", 16), ("i16x8", 8), ("i32x4", 4), ("i64x2", 2),
                     ("f32x4", 4), ("f64x2", 2)):
    lane_type = SIMD_LANE_TYPE[shape]
    # Narrow integer lanes are extended to i32, signed or unsigned.
    for suffix in ("_s", "_u") if shape in ("i8x16", "i16x8") else ("",):
        LANE_OPS[NAMES[f"{shape}.extract_lane{suffix}"]] = (lanes, [V128], [lane_type])
    LANE_OPS[NAMES[f"{shape}.replace_lane"]] = (lanes, [V128, lane_type], [V128])
del bits, align, shape, lanes, lane_type, suffix

# Instructions allowed in a constant expression (global.get is further restricted), by the
# version of the rules: 3.0 adds the extended constant expressions' integer arithmetic.
CONSTANT_OPS = {"2.0": frozenset(NAMES[name] for name in (
    "i32.const", "i64.const", "f32.const", "f64.const", "v128.const", "ref.null", "ref.func",
    "global.get"))}
CONSTANT_OPS["3.0"] = CONSTANT_OPS["2.0"] | {NAMES[f"{t}.{op}"] for t in ("i32", "i64")
                                             for op in ("add", "sub", "mul")}


# ---------------------------------------------------------------------------------------------
# Context

# What instructions may refer to (spec 3.1.1 "Contexts"), as index spaces: types (signature of
# each type: (param types, result types), as lists), funcs (signature of every function,
# imports first), tables [TableType], memories [MemoryType], globals [GlobalType], elems
# (element type of each element segment), num_datas, refs (function indices that ref.func
# may name in code, C.refs), the version of the rules ("2.0" or "3.0", see `validate`),
# func_type_indices (the type index of every function, for ref.func's type), structural
# (each type as types.structural_types gives it: equal ones are equivalent types),
# groups (each type's types.TypeGroup, None for a plain function type) and tags (the signature of every tag, imports
# first, as `types` has them).
# A namedtuple, not a dataclass: the AOT loader validates the module of every .aot it loads,
# and dataclasses costs more to import than this module.
Context = namedtuple("Context",
                     "types funcs tables memories globals elems num_datas refs version "
                     "func_type_indices structural groups tags")


def lookup(space, index, category):
    if index >= len(space):
        raise InvalidModule(f"unknown {category} {index}")
    return space[index]


def format_types(types):
    return "[" + " ".join("_" if t is None else t for t in types) + "]"


def matches(context, actual, expected):
    """Whether a value of type `actual` (None: unknown) may be used as one of type `expected`
    (types.is_subtype, where type indices of equal types are the same type)."""
    if actual == expected or actual is None:
        return True
    return is_subtype(actual, expected, lambda a, b: concrete_subtype(context, a, b))


def concrete_subtype(context, actual, expected):
    """Whether type index `actual` is a subtype of type index `expected`: equivalent to it,
    or to one of its declared supertypes, transitively."""
    structural, want = context.structural, context.structural[expected]
    while structural[actual] != want:
        group = context.groups[actual]
        if group is None or not group.supertypes:
            return False
        actual = group.supertypes[0]
    return True


def check_valtype(context, valtype):
    """A reference type must name a type the module has."""
    if valtype.startswith("(ref "):
        heap = heap_type(valtype)
        if isinstance(heap, int):
            lookup(context.types, heap, "type")


def non_null(reftype):
    return None if reftype is None else ref_type(heap_type(reftype), False)


class RunLengthLocals:
    """The local types of a function that declares very many locals, without expanding them:
    a function may declare up to 2**32-1 locals in a few bytes."""

    def __init__(self, params, declared):
        self.ends = []
        self.types = []
        end = 0
        for count, valtype in [(1, t) for t in params] + list(declared):
            if count:
                end += count
                self.ends.append(end)
                self.types.append(valtype)
        self.length = end

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        return self.types[bisect_right(self.ends, index)]


def local_types(params, declared, num_declared):
    if num_declared > 65536:
        return RunLengthLocals(params, declared)
    types = list(params)
    for count, valtype in declared:
        types += [valtype] * count
    return types


# ---------------------------------------------------------------------------------------------
# Instruction sequences

class Frame:
    """A control frame: one enclosing block, loop, if/else or the function itself."""

    __slots__ = ("opcode", "start_types", "end_types", "label_types", "height", "unreachable",
                 "inits")

    def __init__(self, opcode, start_types, end_types, height, inits):
        self.opcode = opcode
        self.start_types = start_types
        self.end_types = end_types
        # A branch to a loop goes back to its start; to anything else, past its end.
        self.label_types = start_types if opcode == LOOP else end_types
        self.height = height
        self.unreachable = False
        self.inits = inits      # how many locals had been set in the enclosing blocks


class CodeValidator:
    """Type-checks one instruction sequence (a function body or a constant expression)
    whose expected result types are `results`."""

    def __init__(self, context, locals_, results, func_index=None, undefaulted=()):
        self.context = context
        self.locals = locals_
        self.results = list(results)
        self.func_index = func_index
        self.vals = []
        self.ctrls = []
        # Locals of non-defaultable types (3.0) may be read only where a local.set or
        # local.tee in an enclosing block has set them: `undefaulted` holds their index
        # ranges, `inits` those set, in order, which leaving a block forgets again.
        self.undefaulted = undefaulted
        self.initialized = set()
        self.inits = []
        self.push_ctrl(BLOCK, [], self.results)

    def check(self, code):
        """Check `code` (ending with the `end` that closes the sequence)."""
        vals, ctrls, local_types = self.vals, self.ctrls, self.locals
        undefaulted = self.undefaulted
        num_locals = len(local_types)
        signatures, handlers = SIGNATURES, HANDLERS
        offset = None
        try:
            for op, imm, offset in code:
                signature = signatures.get(op)
                if signature is not None:
                    params, results = signature
                    n = len(params)
                    if n:
                        if vals[-n:] == params and len(vals) - n >= ctrls[-1].height:
                            del vals[-n:]
                        else:
                            self.pop_vals(params)
                    vals += results
                # The local instructions are the most frequent ones: check them inline.
                elif op == 0x20:     # local.get
                    if imm >= num_locals:
                        raise InvalidModule(f"unknown local {imm}")
                    if undefaulted and self.unset(imm):
                        raise InvalidModule("uninitialized local")
                    vals.append(local_types[imm])
                elif op == 0x21 or op == 0x22:     # local.set, local.tee
                    if imm >= num_locals:
                        raise InvalidModule(f"unknown local {imm}")
                    if undefaulted and self.unset(imm):
                        self.initialized.add(imm)
                        self.inits.append(imm)
                    valtype = local_types[imm]
                    if vals and vals[-1] == valtype and len(vals) > ctrls[-1].height:
                        if op == 0x21:
                            vals.pop()
                    else:
                        self.pop_val(valtype)
                        if op == 0x22:
                            vals.append(valtype)
                else:
                    handlers[op](self, op, imm)
            if ctrls:
                raise InvalidModule("unexpected end of code: unclosed block")
        except InvalidModule as error:
            if offset is not None and offset < 0:
                offset = None    # the decoder's stand-in for instructions it synthesized
            raise InvalidModule(error.reason, self.func_index, offset) from None

    def unset(self, index):
        return index not in self.initialized and any(
            start <= index < end for start, end in self.undefaulted)

    # The operand and control stacks (spec appendix, "Validation Algorithm").

    def pop_any(self):
        frame = self.ctrls[-1]
        if len(self.vals) == frame.height:
            if frame.unreachable:
                return None
            raise InvalidModule("type mismatch: instruction requires a value but stack is empty")
        return self.vals.pop()

    def pop_ref(self):
        """Pop a reference (None: of unknown type)."""
        valtype = self.pop_any()
        if valtype is not None and not is_ref(valtype):
            raise InvalidModule("type mismatch: instruction requires reference type but stack "
                                f"has {valtype}")
        return valtype

    def pop_val(self, expected):
        vals = self.vals
        if vals and vals[-1] == expected and len(vals) > self.ctrls[-1].height:
            vals.pop()
        else:
            self.pop_vals([expected])

    def pop_vals(self, expected, what="instruction"):
        """Pop values of the `expected` types (a list, last on top); return what was popped,
        with None for values of unknown type taken from below an unreachable frame's stack."""
        vals = self.vals
        frame = self.ctrls[-1]
        n = len(expected)
        available = len(vals) - frame.height
        if available >= n:
            top = vals[len(vals) - n:]
            if top == expected:     # the common case
                del vals[len(vals) - n:]
                return top
            popped = top
        else:
            top = vals[frame.height:]
            popped = [None] * (n - available) + top if frame.unreachable else None
        if popped is None or any(not matches(self.context, actual, want)
                                 for actual, want in zip(popped, expected)):
            raise InvalidModule(f"type mismatch: {what} requires {format_types(expected)} "
                                f"but stack has {format_types(top)}")
        del vals[len(vals) - len(top):]
        return popped

    def push_ctrl(self, opcode, start_types, end_types):
        self.ctrls.append(Frame(opcode, start_types, end_types, len(self.vals),
                                len(self.inits)))
        self.vals += start_types

    def pop_ctrl(self):
        frame = self.ctrls[-1]
        vals = self.vals
        if len(vals) - frame.height > len(frame.end_types):
            raise InvalidModule(f"type mismatch: block requires {format_types(frame.end_types)} "
                                f"but stack has {format_types(vals[frame.height:])}")
        # The legacy proposal's tests expect its reference interpreter's wording for the end
        # of a try or handler missing values.
        legacy = frame.opcode in (TRY, CATCH_LEGACY, CATCH_ALL_LEGACY)
        self.pop_vals(frame.end_types, "instruction" if legacy else "block")
        self.ctrls.pop()
        if len(self.inits) > frame.inits:
            self.initialized.difference_update(self.inits[frame.inits:])
            del self.inits[frame.inits:]
        return frame

    def set_unreachable(self):
        frame = self.ctrls[-1]
        del self.vals[frame.height:]
        frame.unreachable = True

    def label_types(self, depth):
        if depth >= len(self.ctrls):
            raise InvalidModule(f"unknown label {depth}")
        return self.ctrls[-1 - depth].label_types

    def block_type(self, blocktype):
        """(params, results) of a block type: empty, one value type, or a type index."""
        if blocktype is None:
            return [], []
        if isinstance(blocktype, str):
            check_valtype(self.context, blocktype)
            return [], [blocktype]
        return lookup(self.context.types, blocktype, "type")

    # Lookups in the context.

    def table(self, index):
        return lookup(self.context.tables, index, "table")

    def memory(self, index):
        """The address type of memory `index`: that of its addresses and sizes."""
        return lookup(self.context.memories, index, "memory").address_type

    def data(self, index):
        if index >= self.context.num_datas:
            raise InvalidModule(f"unknown data segment {index}")

    def check_alignment(self, align, max_align):
        if align > max_align:
            raise InvalidModule("alignment must not be larger than natural")

    # Control instructions.

    def unreachable(self, op, imm):
        self.set_unreachable()

    def nop(self, op, imm):
        pass

    def block(self, op, blocktype):
        params, results = self.block_type(blocktype)
        if op == IF:
            self.pop_val(I32)
        self.pop_vals(params)
        self.push_ctrl(op, params, results)

    def try_table(self, op, imm):
        blocktype, catches = imm
        params, results = self.block_type(blocktype)
        self.pop_vals(params)
        for kind, tag, label in catches:
            passed = [] if tag is None else list(self.tag(tag)[0])
            if kind == CATCH_REF or kind == CATCH_ALL_REF:
                passed.append(EXN)
            types = self.label_types(label)
            if len(types) != len(passed) or not all(
                    matches(self.context, have, want) for have, want in zip(passed, types)):
                raise InvalidModule(f"type mismatch: catch handler passes {format_types(passed)}"
                                    f" to a label of {format_types(types)}")
        self.push_ctrl(op, params, results)

    def throw(self, op, tag):
        self.pop_vals(self.tag(tag)[0])
        self.set_unreachable()

    def throw_ref(self, op, imm):
        self.pop_val(EXNREF)
        self.set_unreachable()

    def catch(self, op, tag):
        """Legacy catch x and catch_all: a handler of the enclosing try."""
        frame = self.pop_ctrl()
        if frame.opcode != TRY and frame.opcode != CATCH_LEGACY:
            raise InvalidModule(f"{'catch' if op == CATCH_LEGACY else 'catch_all'} without "
                                "matching try")
        caught = [] if op == CATCH_ALL_LEGACY else list(self.tag(tag)[0])
        self.push_ctrl(op, caught, frame.end_types)

    def delegate(self, op, depth):
        frame = self.pop_ctrl()
        if frame.opcode != TRY:
            raise InvalidModule("delegate without matching try")
        self.label_types(depth)
        self.vals += frame.end_types

    def rethrow(self, op, depth):
        self.label_types(depth)
        if self.ctrls[-1 - depth].opcode not in (CATCH_LEGACY, CATCH_ALL_LEGACY):
            raise InvalidModule("invalid rethrow label")
        self.set_unreachable()

    def tag(self, index):
        return lookup(self.context.tags, index, "tag")

    def else_(self, op, imm):
        frame = self.pop_ctrl()
        if frame.opcode != IF:
            raise InvalidModule("else without matching if")
        self.push_ctrl(ELSE, frame.start_types, frame.end_types)

    def end(self, op, imm):
        frame = self.pop_ctrl()
        # An `if` without `else` has an empty else branch, which must turn params into results.
        if frame.opcode == IF and frame.start_types != frame.end_types:
            raise InvalidModule(f"type mismatch: block requires {format_types(frame.end_types)} "
                                f"but stack has {format_types(frame.start_types)}")
        self.vals += frame.end_types

    def br(self, op, depth):
        self.pop_vals(self.label_types(depth))
        self.set_unreachable()

    def br_if(self, op, depth):
        self.pop_val(I32)
        types = self.label_types(depth)
        self.pop_vals(types)
        self.vals += types

    def br_table(self, op, imm):
        depths, default = imm
        self.pop_val(I32)
        default_types = self.label_types(default)
        for depth in depths:
            types = self.label_types(depth)
            if len(types) != len(default_types):
                raise InvalidModule(f"type mismatch: br_table targets have different arities "
                                    f"({format_types(types)} and {format_types(default_types)})")
            self.vals += self.pop_vals(types)
        self.pop_vals(default_types)
        self.set_unreachable()

    def return_(self, op, imm):
        self.pop_vals(self.results)
        self.set_unreachable()

    def call(self, op, func_index):
        params, results = lookup(self.context.funcs, func_index, "function")
        self.pop_vals(params)
        self.vals += results

    def call_indirect(self, op, imm):
        params, results = self.indirect_callee(imm)
        self.pop_vals(params)
        self.vals += results

    def indirect_callee(self, imm):
        """The signature call_indirect and return_call_indirect call with."""
        type_index, table_index = imm
        table = self.table(table_index)
        if not matches(self.context, table.elem_type, FUNCREF):
            raise InvalidModule("type mismatch: instruction requires table of function type but "
                                f"table has element type {table.elem_type}")
        params, results = lookup(self.context.types, type_index, "type")
        return params + [table.address_type], results

    def call_ref(self, op, type_index):
        params, results = self.ref_callee(type_index)
        self.pop_vals(params)
        self.vals += results

    def ref_callee(self, type_index):
        """The signature call_ref and return_call_ref call with, after popping the callee."""
        signature = lookup(self.context.types, type_index, "type")
        self.pop_val(ref_type(type_index, True))
        return signature

    # Tail calls: the callee's results become the function's.

    def return_call(self, op, func_index):
        params, results = lookup(self.context.funcs, func_index, "function")
        self.pop_vals(params)
        self.tail_call_results(results)

    def return_call_indirect(self, op, imm):
        params, results = self.indirect_callee(imm)
        self.pop_vals(params)
        self.tail_call_results(results)

    def return_call_ref(self, op, type_index):
        params, results = self.ref_callee(type_index)
        self.pop_vals(params)
        self.tail_call_results(results)

    def tail_call_results(self, results):
        if len(results) != len(self.results) or not all(
                matches(self.context, have, want) for have, want in zip(results, self.results)):
            raise InvalidModule(f"type mismatch: tail call returns {format_types(results)} but "
                                f"the function returns {format_types(self.results)}")
        self.set_unreachable()

    # Reference and parametric instructions.

    def ref_null(self, op, reftype):
        check_valtype(self.context, reftype)
        self.vals.append(reftype)

    def ref_is_null(self, op, imm):
        self.pop_ref()
        self.vals.append(I32)

    def ref_as_non_null(self, op, imm):
        self.vals.append(non_null(self.pop_ref()))

    def br_on_null(self, op, depth):
        reftype = self.pop_ref()
        types = self.label_types(depth)
        self.pop_vals(types)
        self.vals += types
        self.vals.append(non_null(reftype))

    def br_on_non_null(self, op, depth):
        reftype = self.pop_ref()
        types = self.label_types(depth)
        if not types or not is_ref(types[-1]):
            raise InvalidModule("type mismatch: br_on_non_null requires a label whose last "
                                f"type is a reference, not {format_types(types)}")
        self.vals.append(non_null(reftype))
        self.pop_vals(types)
        self.vals += types[:-1]

    def ref_func(self, op, func_index):
        lookup(self.context.funcs, func_index, "function")
        if func_index not in self.context.refs:
            raise InvalidModule(f"undeclared function reference {func_index}")
        self.vals.append(ref_type(self.context.func_type_indices[func_index], False))

    def drop(self, op, imm):
        self.pop_any()

    def select(self, op, imm):
        self.pop_val(I32)
        first = self.pop_any()
        second = self.pop_any()
        for valtype in (first, second):
            if valtype is not None and is_ref(valtype):
                raise InvalidModule("type mismatch: instruction requires numeric or vector type "
                                    f"but stack has {valtype}")
        if first is not None and second is not None and first != second:
            raise InvalidModule(f"type mismatch: select operands have different types "
                                f"({second} and {first})")
        self.vals.append(second if first is None else first)

    def select_t(self, op, types):
        if len(types) != 1:
            raise InvalidModule("invalid result arity other than 1 is not (yet) allowed")
        check_valtype(self.context, types[0])
        self.pop_vals([types[0], types[0], I32])
        self.vals.append(types[0])

    # Global instructions (the local ones are checked inline in `check`).

    def global_get(self, op, index):
        self.vals.append(lookup(self.context.globals, index, "global").valtype)

    def global_set(self, op, index):
        globaltype = lookup(self.context.globals, index, "global")
        if not globaltype.mutable:
            raise InvalidModule("global is immutable" if self.context.version == "2.0"
                                else "immutable global")
        self.pop_val(globaltype.valtype)

    # Table instructions.

    # A table's indices and sizes are of its address type (i64 for a 64-bit table).

    def table_get(self, op, index):
        table = self.table(index)
        self.pop_val(table.address_type)
        self.vals.append(table.elem_type)

    def table_set(self, op, index):
        table = self.table(index)
        self.pop_vals([table.address_type, table.elem_type])

    def table_size(self, op, index):
        self.vals.append(self.table(index).address_type)

    def table_grow(self, op, index):
        table = self.table(index)
        self.pop_vals([table.elem_type, table.address_type])
        self.vals.append(table.address_type)

    def table_fill(self, op, index):
        table = self.table(index)
        self.pop_vals([table.address_type, table.elem_type, table.address_type])

    def table_copy(self, op, imm):
        destination, source = self.table(imm[0]), self.table(imm[1])
        if not matches(self.context, source.elem_type, destination.elem_type):
            raise InvalidModule(f"type mismatch: source element type {source.elem_type} does "
                                f"not match destination element type {destination.elem_type}")
        self.pop_vals([destination.address_type, source.address_type,
                       narrower(destination.address_type, source.address_type)])

    def table_init(self, op, imm):
        elem_index, table_index = imm
        table = self.table(table_index)
        elem_type = lookup(self.context.elems, elem_index, "elem segment")
        if not matches(self.context, elem_type, table.elem_type):
            raise InvalidModule(f"type mismatch: element segment's type {elem_type} does not "
                                f"match table's element type {table.elem_type}")
        self.pop_vals([table.address_type, I32, I32])

    def elem_drop(self, op, index):
        lookup(self.context.elems, index, "elem segment")

    # Memory instructions. Addresses and sizes are of the memory's address type (i64 for a
    # 64-bit memory), and so is an offset's range.

    def memory_access(self, op, memarg):
        align, offset, memory = memarg
        max_align, params, results = MEMORY_ACCESSES[op]
        address_type = self.memory(memory)
        self.check_alignment(align, max_align)
        self.check_offset(offset, address_type)
        self.pop_vals([address_type] + params[1:])
        self.vals += results

    def lane_access(self, op, imm):
        align, offset, lane, memory = imm
        max_align, lanes, results = LANE_ACCESSES[op]
        address_type = self.memory(memory)
        self.check_alignment(align, max_align)
        self.check_offset(offset, address_type)
        if lane >= lanes:
            raise InvalidModule("invalid lane index")
        self.pop_vals([address_type, V128])
        self.vals += results

    def check_offset(self, offset, address_type):
        if address_type == I32 and offset > 0xFFFF_FFFF:
            raise InvalidModule("offset out of range")

    def memory_size(self, op, memory):
        self.vals.append(self.memory(memory))

    def memory_grow(self, op, memory):
        address_type = self.memory(memory)
        self.pop_val(address_type)
        self.vals.append(address_type)

    def memory_fill(self, op, memory):
        address_type = self.memory(memory)
        self.pop_vals([address_type, I32, address_type])

    def memory_copy(self, op, memories):
        destination, source = (self.memory(memory) for memory in memories)
        self.pop_vals([destination, source, narrower(destination, source)])

    def memory_init(self, op, imm):
        data_index, memory = imm
        address_type = self.memory(memory)
        self.data(data_index)
        self.pop_vals([address_type, I32, I32])

    def data_drop(self, op, data_index):
        self.data(data_index)

    # SIMD instructions with a lane immediate.

    def lane_op(self, op, lane):
        lanes, params, results = LANE_OPS[op]
        if lane >= lanes:
            raise InvalidModule("invalid lane index")
        self.pop_vals(params)
        self.vals += results

    def shuffle(self, op, lanes):
        if any(lane >= 32 for lane in lanes):
            raise InvalidModule("invalid lane index")
        self.pop_vals([V128, V128])
        self.vals.append(V128)


def _build_handlers():
    v = CodeValidator
    handlers = {
        0x00: v.unreachable, 0x01: v.nop, BLOCK: v.block, LOOP: v.block, IF: v.block,
        ELSE: v.else_, END: v.end, 0x0C: v.br, 0x0D: v.br_if, 0x0E: v.br_table,
        0x0F: v.return_, 0x10: v.call, 0x11: v.call_indirect,
        0x12: v.return_call, 0x13: v.return_call_indirect,
        0x14: v.call_ref, 0x15: v.return_call_ref,
        0xD0: v.ref_null, 0xD1: v.ref_is_null, 0xD2: v.ref_func,
        0xD4: v.ref_as_non_null, 0xD5: v.br_on_null, 0xD6: v.br_on_non_null,
        THROW: v.throw, THROW_REF: v.throw_ref, TRY_TABLE: v.try_table, TRY: v.block,
        CATCH_LEGACY: v.catch, CATCH_ALL_LEGACY: v.catch, DELEGATE: v.delegate,
        RETHROW: v.rethrow,
        0x1A: v.drop, 0x1B: v.select, 0x1C: v.select_t,
        0x23: v.global_get, 0x24: v.global_set,
        0x25: v.table_get, 0x26: v.table_set,
        0x3F: v.memory_size, 0x40: v.memory_grow,
    }
    for name, method in (("memory.init", v.memory_init), ("data.drop", v.data_drop),
                         ("memory.copy", v.memory_copy),
                         ("memory.fill", v.memory_fill),
                         ("table.init", v.table_init), ("elem.drop", v.elem_drop),
                         ("table.copy", v.table_copy), ("table.grow", v.table_grow),
                         ("table.size", v.table_size), ("table.fill", v.table_fill),
                         ("i8x16.shuffle", v.shuffle)):
        handlers[NAMES[name]] = method
    for op in MEMORY_ACCESSES:
        handlers[op] = v.memory_access
    for op in LANE_ACCESSES:
        handlers[op] = v.lane_access
    for op in LANE_OPS:
        handlers[op] = v.lane_op
    missing = set(OPCODES) - set(handlers) - set(SIGNATURES) - {0x20, 0x21, 0x22}
    assert not missing, f"opcodes without a validation rule: {sorted(map(hex, missing))}"
    return handlers


HANDLERS = _build_handlers()


# ---------------------------------------------------------------------------------------------
# Modules

def check_limits(limits, bound, message):
    if limits.min > bound or (limits.max is not None and limits.max > bound):
        raise InvalidModule(message)
    if limits.max is not None and limits.min > limits.max:
        raise InvalidModule("size minimum must not be greater than maximum")


def check_table_type(context, tabletype):
    check_valtype(context, tabletype.elem_type)
    address_type = tabletype.address_type
    check_limits(tabletype.limits, MAX_TABLE_SIZE_OF[address_type],
                 TABLE_SIZE_MESSAGES[address_type])


def check_memory_type(memorytype):
    address_type = memorytype.address_type
    check_limits(memorytype.limits, MAX_PAGES_OF[address_type],
                 MEMORY_SIZE_MESSAGES[address_type])


def narrower(address_type, other):
    """The address type of a count between two memories or tables (memory.copy,
    table.copy): i64 only if both are 64-bit."""
    return I64 if address_type == other == I64 else I32


def check_constant(context, expr, valtype, version):
    """A constant expression (spec 3.3.10) producing one `valtype`. global.get may only read
    an immutable global of `context`: in 2.0 the imported ones, in 3.0 also the defined ones
    before the global being initialised (all of them, for a segment)."""
    if len(expr) == 1 and expr[0].op == REF_FUNC:
        # An element segment's function (of thousands, in a C program's table): what
        # checking [ref.func f, end] as code comes to, when it is fine.
        func_index = expr[0].imm
        if func_index < len(context.funcs) and func_index in context.refs and matches(
                context, ref_type(context.func_type_indices[func_index], False), valtype):
            return
    allowed = CONSTANT_OPS[version]
    for instr in expr:
        if instr.op == GLOBAL_GET:
            try:
                mutable = lookup(context.globals, instr.imm, "global").mutable
            except InvalidModule as error:
                raise InvalidModule(error.reason, offset=instr.offset) from None
            if mutable:
                raise InvalidModule("constant expression required", offset=instr.offset)
        elif instr.op not in allowed:
            raise InvalidModule("constant expression required", offset=instr.offset)
    # The decoder drops the closing `end`; type-check the expression as a block.
    end_offset = expr[-1].offset if expr else -1
    CodeValidator(context, [], [valtype]).check(list(expr) + [Instr(END, None, end_offset)])


def check_elements(context, segment, version):
    """A segment's expressions, each as check_constant checks it. A C program's table has
    thousands of [ref.func f]: whether f's type fits the segment's is worked out once per
    type index. (f is in C.refs: it is named in a segment.)"""
    funcs, type_indices, elem_type = context.funcs, context.func_type_indices, segment.elem_type
    fitting = set()
    for expr in segment.init:
        if len(expr) == 1:
            op, func_index, _ = expr[0]
            if op == REF_FUNC and func_index < len(funcs):
                type_index = type_indices[func_index]
                if type_index in fitting:
                    continue
                if matches(context, ref_type(type_index, False), elem_type):
                    fitting.add(type_index)
                    continue
        check_constant(context, expr, elem_type, version)


def declared_func_refs(module):
    """C.refs: the functions named outside of function bodies (exports, global initializers,
    element segments), which are the only ones ref.func may name in code."""
    refs = {export.index for export in module.exports if export.kind == "func"}
    exprs = [g.init for g in module.globals] + [e for e in module.table_inits if e is not None]
    for segment in module.elems:
        exprs += segment.init
    for expr in exprs:
        if len(expr) == 1:      # a segment's [ref.func f], thousands in a C program's table
            op, imm, _ = expr[0]
            if op == REF_FUNC:
                refs.add(imm)
        else:
            refs.update(instr.imm for instr in expr if instr.op == REF_FUNC)
    return refs


def build_context(module, version="3.0"):
    """The module's context C, after checking the type index of every function and tag, and
    every type index a value type names (a function type may name the types of its recursion
    group and those before it), and the declared supertypes."""
    types = [(list(functype.params), list(functype.results)) for functype in module.types]
    context = Context(types=types, funcs=[], tables=module.all_tables(),
                      memories=module.all_memories(), globals=module.all_global_types(),
                      elems=[segment.elem_type for segment in module.elems],
                      num_datas=len(module.datas), refs=declared_func_refs(module),
                      version=version, func_type_indices=module.func_type_indices(),
                      structural=structural_types(module.types),
                      groups=[t.group for t in module.types],
                      tags=[])
    for i, (params, results) in enumerate(types):
        group = module.types[i].group
        visible = context._replace(types=types[:i + 1 if group is None else
                                               group.first + group.size])
        for valtype in params + results:
            check_valtype(visible, valtype)
        check_supertypes(context, i)
    for imp in module.imports:
        if imp.kind == "table":
            check_table_type(context, imp.desc)
        elif imp.kind == "memory":
            check_memory_type(imp.desc)
        elif imp.kind == "global":
            check_valtype(context, imp.desc.valtype)
    context.funcs.extend(lookup(types, type_index, "type")
                         for type_index in context.func_type_indices)
    for type_index in module.tag_type_indices():
        signature = lookup(types, type_index, "type")
        if signature[1]:
            raise InvalidModule("non-empty tag result type")
        context.tags.append(signature)
    return context


def check_supertypes(context, index):
    """A type's declared supertype (at most one) comes before it, is not final, and has a
    function type that the type's matches: params contravariant, results covariant."""
    group = context.groups[index]
    supertypes = () if group is None else group.supertypes
    if len(supertypes) > 1:
        raise InvalidModule("multiple supertypes")
    for supertype in supertypes:
        if supertype >= index:
            raise InvalidModule(f"unknown type {supertype}")
        declared = context.groups[supertype]
        if declared is None or declared.final:
            raise InvalidModule(f"type {index} cannot declare final type {supertype} as its "
                                "supertype")
        params, results = context.types[index]
        super_params, super_results = context.types[supertype]
        if len(params) != len(super_params) or len(results) != len(super_results) or not all(
                matches(context, have, want) for have, want in
                list(zip(super_params, params)) + list(zip(results, super_results))):
            raise InvalidModule(f"sub type {index} does not match super type {supertype}")


def check_function(context, func_index, code):
    params, results = context.funcs[func_index]
    locals_ = local_types(params, code.locals, code.num_locals)
    undefaulted = []
    start = len(params)
    for count, valtype in code.locals:
        try:
            check_valtype(context, valtype)
        except InvalidModule as error:
            raise InvalidModule(error.reason, func_index) from None
        if count and not is_defaultable(valtype):
            undefaulted.append((start, start + count))
        start += count
    CodeValidator(context, locals_, results, func_index, undefaulted).check(code.body)


def validate(module, bodies=True, version="3.0"):
    """Raise InvalidModule unless `module` is valid WebAssembly of `version` ("3.0", or "2.0",
    whose rules the 2.0 spec suite expects: they differ in constant expressions), as far as
    pywamr implements it (the decoder refuses the rest). bodies=False skips the function
    bodies: the AOT loader checks the metadata of an .aot, whose bodies are empty."""
    context = build_context(module, version)
    for table, init in zip(module.tables, module.table_inits):
        check_table_type(context, table)
        if init is None and not is_defaultable(table.elem_type):
            raise InvalidModule(f"type mismatch: a table of {table.elem_type} needs an "
                                "initialiser")
    for memory in module.memories:
        check_memory_type(memory)
    if version == "2.0" and len(context.memories) > 1:
        raise InvalidModule("multiple memories")

    # A global's initialiser sees the imported globals, and in 3.0 the globals defined before
    # it; a table's initialiser the imported ones; a segment's expressions the imported
    # globals, and in 3.0 all of them.
    imported = [imp.desc for imp in module.imported("global")]
    for i, global_ in enumerate(module.globals):
        check_valtype(context, global_.type.valtype)
        visible = imported if version == "2.0" else context.globals[:len(imported) + i]
        check_constant(context._replace(globals=visible), global_.init, global_.type.valtype,
                       version)
    for table, init in zip(module.tables, module.table_inits):
        if init is not None:
            check_constant(context._replace(globals=imported), init, table.elem_type, version)
    constant_context = context._replace(globals=imported) if version == "2.0" else context
    for segment in module.elems:
        check_valtype(context, segment.elem_type)
        check_elements(constant_context, segment, version)
        if segment.mode == "active":
            table = lookup(context.tables, segment.table, "table")
            if not matches(context, segment.elem_type, table.elem_type):
                raise InvalidModule(f"type mismatch: element segment's type {segment.elem_type} "
                                    f"does not match table's element type {table.elem_type}")
            check_constant(constant_context, segment.offset, table.address_type, version)
    for segment in module.datas:
        if segment.mode == "active":
            memory = lookup(context.memories, segment.memory, "memory")
            check_constant(constant_context, segment.offset, memory.address_type, version)

    first = module.num_imported_funcs
    for i, code in enumerate(module.codes if bodies else []):
        if not code.known_valid:        # the decoder's fast pass found it valid already
            check_function(context, first + i, code)

    if module.start is not None:
        params, results = lookup(context.funcs, module.start, "function")
        if params or results:
            raise InvalidModule("start function must not have parameters or results")

    spaces = {"func": (context.funcs, "function"), "table": (context.tables, "table"),
              "memory": (context.memories, "memory"), "global": (context.globals, "global"),
              "tag": (context.tags, "tag")}
    names = set()
    for export in module.exports:
        space, category = spaces[export.kind]
        lookup(space, export.index, category)
        if export.name in names:
            raise InvalidModule(f"duplicate export name {export.name!r}")
        names.add(export.name)
