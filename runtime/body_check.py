"""The decoder's fast pass over a function body: well-formedness and validity checked in one
walk over the body's bytes, without building an instruction list.

Decoding every body into `Instr`s and then type-checking those cost ~3 us per instruction,
and a module of 10 MB holds ~5 million of them. This pass iterates over the code section's
bytes once (one bytes iterator over the module, set to each body's instructions: `for op in
it`, immediates by `next(it)`, the one-byte LEB128s and the usual constants inline),
dispatches by opcode ranges so that the frequent instructions are a few comparisons away
(local.get/set/tee, constants, numeric operators, loads and stores, block/loop/if/else/end,
br/br_if, call), and keeps the operand stack in one int, 3 bits per value type (i32 1, i64
2, f32 3, f64 4), the top lowest: checking an instruction's operands is one mask and
compare, its effect a shift and an add, both from a table built from the validator's own
(SIGNATURES, MEMORY_ACCESSES). A control frame is a tuple that holds, besides its label's
types as a mask and bits, the exact stack its `end` expects and the stack after it, so an
`end` is one compare. A frame's marker on the stack is a 0 slot, which no value type
matches, so no instruction can take an operand from the enclosing frame. No object is made
per instruction and the work per body is a few lines (its size, its locals from the
decoder's cache, a FunctionBody): ~1,550 machine instructions per instruction (callgrind;
160-190 ns on the benchmark machine before the last -9%), most of it CPython's dispatch of
the ~7 lines each runs.

It is a filter in front of the reference path, not a second implementation of its rules.
`check_bodies` takes only bodies that the reference decoder (decoder.Decoder.instructions)
and validator (validator.CodeValidator) would both accept; at anything else, an error or
merely something it does not handle (multi-value blocks, reference and vector types, bulk
table and data instructions, exception handling, a 64-bit memory or memories other than 0,
an LEB128 longer than the value needs in places), it stops and the decoder takes the
reference path for that body, which gives today's exact error messages, then lets the fast
pass go on after it. Where a stricter condition is simpler it takes it: its operand stack is
always concrete (after br, br_table, return or unreachable it holds just what the block's
end expects: one instance of the spec's polymorphic stack, so what is accepted from there is
accepted from the polymorphic one too).

A body's bytes must be exactly the instructions up to the `end` that closes depth 0: the
position after that `end` must be the body's end. A body whose `end` is missing is read on
into what follows, as the reference reads it (the two agree on every instruction's length
where the fast pass goes on), and the reference then refuses the module: at most one such
read per module.

tests/test_body_check.py holds it to the reference's verdicts on the spec suite's modules,
C programs and mutants of both.
"""

from .module import FunctionBody
from .types import F32, F64, FUNCREF, I32, I64
from .validator import MEMORY_ACCESSES, SIGNATURES

# Value types as small ints; 0 marks the base of a control frame on the operand stack.
CODES = {I32: 1, I64: 2, F32: 3, F64: 4}
# A block type's results by its byte, empty or one number type: (bits they take on the
# stack, their stack bits, the mask of a branch's check).
_BLOCK_TYPES = {0x40: (0, 0, 0), 0x7F: (3, 1, 7), 0x7E: (3, 2, 7), 0x7D: (3, 3, 7),
                0x7C: (3, 4, 7)}
_BLOCK, _LOOP, _IF, _ELSE, _FUNC = 2, 3, 4, 5, 6


class _Unusual(Exception):
    """Something the fast pass leaves to the reference path."""


def _codes(types):
    """The types as a list of small ints, or None if any is not a number type."""
    codes = [CODES.get(t) for t in types]
    return None if None in codes else codes


def _stack_bits(codes):
    """Types (the last on top) as they sit on the stack: 3 bits each, the top lowest."""
    bits = 0
    for code in codes:
        bits = bits << 3 | code
    return bits


def _effect(params, results):
    """(mask, bits, shift, push shift, push bits): an instruction taking `params` and giving
    `results` needs `stack & mask == bits` and leaves `stack >> shift << push shift | push
    bits`."""
    n = 3 * len(params)
    return (1 << n) - 1, _stack_bits(params), n, 3 * len(results), _stack_bits(results)


def _operator_table():
    """opcode -> (mask, bits, shift, delta) of 0x45-0xC4, the 0xFC conversions (as 0x100 + n)
    and the loads and stores: the stack must have `bits` under `mask` and becomes
    `(stack >> shift) + delta` (one result replacing the operand below the top, or the top)."""
    table = [None] * 0x108
    for op, (params, results) in SIGNATURES.items():
        if 0x45 <= op <= 0xC4 or 0xFC00 <= op <= 0xFC07:
            codes = _codes(params)
            result = CODES[results[0]]
            table[op if op < 0x100 else op - 0xFC00 + 0x100] = (
                (1 << 3 * len(codes)) - 1, _stack_bits(codes), 3 * len(codes) - 3,
                result - codes[0])
    for op, (align, params, results) in MEMORY_ACCESSES.items():
        if op <= 0x3E:
            codes = _codes(params)
            if results:         # a load: its address (an i32) becomes the value
                table[op] = (align, 7, 1, 0, CODES[results[0]] - 1)
            else:
                table[op] = (align, 63, _stack_bits(codes), 6, 0)
    return table


_OPERATORS = _operator_table()


def _u32(first, nx):
    """The value of a u32 LEB128 whose first byte, `first`, has its continuation bit set;
    `nx` reads the next byte."""
    b = nx()
    if b < 0x80:
        return first - 0x80 | b << 7
    result = first - 0x80 | (b - 0x80) << 7
    b = nx()
    if b < 0x80:
        return result | b << 14
    result |= (b - 0x80) << 14
    b = nx()
    if b < 0x80:
        return result | b << 21
    result |= (b - 0x80) << 21
    b = nx()
    if b > 0x0F:                # too large or too long: the reference path says which
        raise _Unusual
    return result | b << 28


def _u32_at(data, pos, first):
    """(value, position after it) of a u32 LEB128 whose first byte, `first`, has its
    continuation bit set and whose next byte is data[pos]."""
    it = iter(data)
    it.__setstate__(pos)
    nx = it.__next__
    return _u32(first, nx), len(data) - it.__length_hint__()


def _function_frame(results):
    """The frame a body starts with: its function's, whose label is its results."""
    bits = _stack_bits(results)
    return (_FUNC, (1 << 3 * len(results)) - 1, bits, bits, bits, None, 0)


def _last_s32(nx):
    """Read the fifth byte of an s32 LEB128: the sign's copies, no more."""
    b = nx()
    if b > 0x07 and not 0x78 <= b <= 0x7F:
        raise _Unusual


def _skip_s64(nx):
    """Read the rest of an s64 LEB128 whose first three bytes have their continuation bit
    set."""
    for _ in range(6):
        if nx() < 0x80:
            return
    if nx() not in (0x00, 0x7F):
        raise _Unusual


class BodyChecker:
    """The fast pass for the bodies of one module, with what it needs of the module's context
    (spec 3.1.1) in its own form: built once, from the sections before the code section."""

    def __init__(self, module):
        types = [(_codes(t.params), _codes(t.results)) for t in module.types]
        types = [None if None in signature else signature for signature in types]
        effects = [signature and _effect(*signature) for signature in types]
        func_types = module.func_type_indices()
        # Per function: its params and results as small ints, and its effect as a callee;
        # None if not all are number types (or the type index is unknown: the validator's
        # to report).
        self.signatures = [types[i] if i < len(types) else None for i in func_types]
        self.calls = [effects[i] if i < len(types) else None for i in func_types]
        self.func_types = func_types
        self.first_defined = len(func_types) - len(module.funcs)
        # Per type index, call_indirect's effect: the params and the i32 table index.
        self.indirect_calls = [signature and _effect(signature[0] + [1], signature[1])
                               for signature in types]
        self.globals = [(CODES.get(g.valtype, 0), g.mutable) for g in module.all_global_types()]
        memories = module.all_memories()
        self.memory32 = bool(memories) and memories[0].address_type == I32
        self.funcref_tables = [t.elem_type == FUNCREF and t.address_type == I32
                               for t in module.all_tables()]
        self._locals = {}
        # Per type index, the frame a body of that type starts with (see check_bodies).
        self._frames = [signature and _function_frame(signature[1]) for signature in types]

    def locals_of(self, func_index, declared, key):
        """The local types (params first) as small ints, or None. `declared`: the decoder's
        list of (count, valtype); `key`: the bytes that declare them, or None."""
        if func_index >= len(self.signatures):
            return None
        if key is not None:
            key = (self.func_types[func_index], key)
        codes = self._locals.get(key)
        if codes is None:
            signature = self.signatures[func_index]
            total = sum(count for count, _ in declared)
            declared_codes = _codes(t for _, t in declared)
            if signature is None or declared_codes is None or total > 50_000:
                codes = False
            else:
                codes = list(signature[0])
                for (count, _), code in zip(declared, declared_codes):
                    codes += [code] * count
            if key is not None:
                self._locals[key] = codes
        return None if codes is False else codes

    def check_bodies(self, data, pos, count, func_index, known_locals, read_locals, source,
                     out):
        """Check up to `count` entries of the code section from data[pos] on (each its size,
        locals and instructions), the first of function `func_index`; append a
        FunctionBody to `out` for each that the reference path would accept, and stop at
        the first it does not take. Returns where it stopped: the end of the last body
        accepted.

        The locals come from the decoder: `known_locals` maps the bytes of a declaration
        with one byte per count and type to (locals, total, key), as
        Decoder.locals_declaration caches them; on a miss `read_locals(pos)` reads them
        (raising the reference's MalformedModule if they are wrong) and returns them and
        the position after them.

        One call walks the whole section: the bodies share one iterator over `data`, set
        to each body's instructions, and the per-body work is a few lines (the size, a
        dict lookup for the locals, a FunctionBody) rather than three calls. Its loop is
        the body walk itself.

        The operand stack is the int `S`, 3 bits per value, the top lowest, a frame's marker
        a 0 (and so are the bits beyond the bottom). A frame is a tuple: (kind, label mask,
        label bits: what a branch to it needs on top of the stack; the stack its end or
        else expects, which stands in for the polymorphic one after a branch; the stack
        its end expects (-1 for an `if` with results before its `else`); the stack after
        its end; the stack at its start, marker included). What a body does that the
        fast pass leaves to the reference path raises _Unusual, or one of the errors caught
        here: IndexError for an index beyond a table (locals, functions, labels...) or the
        data, KeyError for an unusual block type, StopIteration for reading past the data,
        TypeError for unpacking the None of a callee or type with other than number
        types.

        Written for what CPython 3.11 specializes (counted with callgrind: -10% of the
        instructions the process runs to decode a 1 MB module): a push is `S * 8 + t`,
        since adding and multiplying small ints are specialized and shifts and ors are not;
        bytes are read by `next(it)`; and the opcode ranges are tested in groups short
        enough that no test jumps over more than 255 code units, as a comparison followed
        by EXTENDED_ARG is left unspecialized (the test of 0x21-0x44 was, and every
        instruction but local.get and the operators went through it). So global.get and
        global.set are a helper's, and the bytes of an f32 or f64 constant are skipped by
        a seek (past the data, it ends the loop as reading past it would)."""
        nx = (it := iter(data)).__next__
        nxt = next      # nxt(it): a call of a builtin, which CPython specializes; of the
                        # bound it.__next__ it does not (nx is for the helpers)
        seek, left = it.__setstate__, it.__length_hint__
        size_of_data = len(data)
        operators, calls, memory32 = _OPERATORS, self.calls, self.memory32
        func_types, local_codes, frames = self.func_types, self._locals, self._frames
        body_pos = pos
        try:
            while count:
                body_pos = pos
                size = data[pos]
                pos += 1
                if size >= 0x80:
                    if data[pos] < 0x80:
                        size = size - 0x80 | data[pos] << 7
                        pos += 1
                    else:
                        size, pos = _u32_at(data, pos, size)
                if size > size_of_data - body_pos:     # the reference's "length out of bounds"
                    return body_pos
                end = pos + size
                k = data[pos]
                entry = None
                if k < 0x80:
                    stop = pos + 1 + 2 * k
                    entry = known_locals.get(data[pos:stop])
                if entry is None:
                    entry, stop = read_locals(pos)
                locals_, total, key = entry
                loc = None
                if key is not None and func_index < len(func_types):
                    loc = local_codes.get((func_types[func_index], key))
                if not loc:             # not known yet, not all number types, or empty
                    loc = self.locals_of(func_index, locals_, key)
                    if loc is None:
                        return body_pos
                seek(stop)
                S = 0
                ctrl = [frames[func_types[func_index]]]
                for op in it:
                    if op == 0x20:                                  # local.get
                        x = nxt(it)
                        if x >= 0x80:
                            x = _u32(x, nx)
                        S = S * 8 + loc[x]
                    elif op >= 0x45:
                        if op <= 0xC4:                              # numeric
                            mask, bits, shift, delta = operators[op]
                            if S & mask != bits:
                                raise _Unusual
                            S = (S >> shift) + delta
                        elif op == 0xFC:
                            S = self._prefixed(nx, S)
                        else:
                            raise _Unusual
                    elif op >= 0x41:                                # constants
                        if op == 0x41:                              # i32.const
                            if nxt(it) >= 0x80 and nxt(it) >= 0x80 and nxt(it) >= 0x80 \
                                    and nxt(it) >= 0x80:
                                _last_s32(nx)
                            S = S * 8 + 1
                        elif op == 0x42:                            # i64.const
                            if nxt(it) >= 0x80 and nxt(it) >= 0x80 and nxt(it) >= 0x80:
                                _skip_s64(nx)
                            S = S * 8 + 2
                        elif op == 0x44:                            # f64.const
                            seek(size_of_data - left() + 8)
                            S = S * 8 + 4
                        else:                                       # f32.const
                            seek(size_of_data - left() + 4)
                            S = S * 8 + 3
                    elif op >= 0x28:
                        if op <= 0x3E:                              # loads and stores
                            max_align, mask, bits, shift, delta = operators[op]
                            # Flags above the alignment also name a memory: unusual too.
                            if nxt(it) > max_align or S & mask != bits or not memory32:
                                raise _Unusual
                            offset = nxt(it)
                            if offset >= 0x80:
                                _u32(offset, nx)
                            S = (S >> shift) + delta
                        elif op == 0x3F:                            # memory.size
                            if nxt(it) != 0 or not memory32:
                                raise _Unusual
                            S = S * 8 + 1
                        else:                                       # memory.grow
                            if nxt(it) != 0 or not memory32 or S & 7 != 1:
                                raise _Unusual
                    elif op >= 0x21:
                        if op == 0x21:                              # local.set
                            x = nxt(it)
                            if x >= 0x80:
                                x = _u32(x, nx)
                            if S & 7 != loc[x]:
                                raise _Unusual
                            S >>= 3
                        elif op == 0x22:                            # local.tee
                            x = nxt(it)
                            if x >= 0x80:
                                x = _u32(x, nx)
                            if S & 7 != loc[x]:
                                raise _Unusual
                        else:
                            S = self._global(op, nx, S)
                    elif op == 0x0B:                                # end
                        frame = ctrl.pop()
                        if S != frame[4]:
                            raise _Unusual
                        if not ctrl:
                            break
                        S = frame[5]
                    elif op == 0x02 or op == 0x03:                  # block, loop
                        block_type = nxt(it)
                        if block_type == 0x40:                      # no results: the most usual
                            after = S
                            S <<= 3
                            ctrl.append((op, 0, 0, S, S, after, S))
                            continue
                        shift, bits, mask = _BLOCK_TYPES[block_type]
                        after = S << shift | bits
                        S <<= 3
                        expected = S << shift | bits
                        if op == 0x02:
                            ctrl.append((op, mask, bits, expected, expected, after, S))
                        else:                                       # a loop's label: its params
                            ctrl.append((op, 0, 0, expected, expected, after, S))
                    elif op == 0x0D:                                # br_if
                        d = nxt(it)
                        if d >= 0x80:
                            d = _u32(d, nx)
                        if S & 7 != 1:
                            raise _Unusual
                        S >>= 3
                        frame = ctrl[-1 - d]
                        if S & frame[1] != frame[2]:
                            raise _Unusual
                    elif op == 0x10:                                # call
                        f = nxt(it)
                        if f >= 0x80:
                            f = _u32(f, nx)
                        mask, bits, shift, push_shift, push_bits = calls[f]
                        if S & mask != bits:
                            raise _Unusual
                        S = S >> shift << push_shift | push_bits
                    elif op == 0x0C:                                # br
                        d = nxt(it)
                        if d >= 0x80:
                            d = _u32(d, nx)
                        frame = ctrl[-1 - d]
                        if S & frame[1] != frame[2]:
                            raise _Unusual
                        S = ctrl[-1][3]
                    elif op == 0x04:                                # if
                        shift, bits, mask = _BLOCK_TYPES[nxt(it)]
                        if S & 7 != 1:
                            raise _Unusual
                        S -= 1                                      # the condition -> a marker
                        expected = S << shift | bits
                        ctrl.append((_IF, mask, bits, expected, -1 if shift else expected,
                                     S >> 3 << shift | bits, S))
                    elif op == 0x05:                                # else
                        kind, mask, bits, expected, _, after, start = ctrl[-1]
                        if kind != _IF or S != expected:
                            raise _Unusual
                        S = start
                        ctrl[-1] = (_ELSE, mask, bits, expected, expected, after, start)
                    elif op == 0x1A:                                # drop
                        if not S & 7:
                            raise _Unusual
                        S >>= 3
                    elif op == 0x0F:                                # return
                        frame = ctrl[0]
                        if S & frame[1] != frame[2]:
                            raise _Unusual
                        S = ctrl[-1][3]
                    elif op == 0x1B:                                # select
                        t = S >> 3 & 7
                        if S & 7 != 1 or not t or S >> 6 & 7 != t:
                            raise _Unusual
                        S >>= 6
                    elif op == 0x0E:                                # br_table
                        S = self._br_table(nx, S, ctrl)
                    elif op == 0x11:                                # call_indirect
                        type_index = nxt(it)
                        if type_index >= 0x80:
                            type_index = _u32(type_index, nx)
                        table = nxt(it)
                        if table >= 0x80:
                            table = _u32(table, nx)
                        if not self.funcref_tables[table]:
                            raise _Unusual
                        mask, bits, shift, push_shift, push_bits = self.indirect_calls[type_index]
                        if S & mask != bits:
                            raise _Unusual
                        S = S >> shift << push_shift | push_bits
                    elif op == 0x00:                                # unreachable
                        S = ctrl[-1][3]
                    elif op != 0x01:                                # nop
                        raise _Unusual
                else:
                    return body_pos         # the data ended in the body
                if size_of_data - left() != end:
                    return body_pos         # the end closing the body is not its last byte
                out.append(FunctionBody(locals_, None, body_pos, total, source, size))
                pos = end
                func_index += 1
                count -= 1
        except (_Unusual, IndexError, KeyError, StopIteration, TypeError):
            return body_pos
        return pos

    def _br_table(self, nx, S, ctrl):
        count = nx()
        if count >= 0x80:
            count = _u32(count, nx)
        d = nx()
        if d >= 0x80:
            d = _u32(d, nx)
        frame = ctrl[-1 - d]
        mask, bits = frame[1], frame[2]
        for _ in range(count):              # a count beyond the body ends in StopIteration
            d = nx()
            if d >= 0x80:
                d = _u32(d, nx)
            frame = ctrl[-1 - d]
            if frame[1] != mask or frame[2] != bits:    # all targets take the same types
                raise _Unusual
        if S & 7 != 1:
            raise _Unusual
        S >>= 3
        if S & mask != bits:
            raise _Unusual
        return ctrl[-1][3]

    def _global(self, op, nx, S):
        """global.get (0x23) and global.set (0x24); 0x25-0x27 are unusual."""
        if op > 0x24:
            raise _Unusual
        g = nx()
        if g >= 0x80:
            g = _u32(g, nx)
        t, mutable = self.globals[g]
        if not t:
            raise _Unusual
        if op == 0x23:
            return S << 3 | t
        if not mutable or S & 7 != t:
            raise _Unusual
        return S >> 3

    def _prefixed(self, nx, S):
        """0xFC 0-7 (saturating truncations), 10 (memory.copy) and 11 (memory.fill)."""
        sub = nx()
        if sub < 8:
            mask, bits, shift, delta = _OPERATORS[0x100 + sub]
            if S & mask != bits:
                raise _Unusual
            return S + delta
        if not (sub == 10 and nx() == 0 and nx() == 0 or sub == 11 and nx() == 0) \
                or not self.memory32 or S & 0o777 != 0o111:
            raise _Unusual
        return S >> 9
