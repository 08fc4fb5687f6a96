"""The decoder's fast pass over a function body: well-formedness and validity checked in one
walk over the body's bytes, without building an instruction list.

Decoding every body into `Instr`s and then type-checking those costs ~2.5 us per
instruction; a module of 10 MB holds ~5 million instructions. This pass reads the bytes
once, decodes immediates inline (one-byte LEB128s on the shortest path) and keeps the
operand types and control frames as plain lists of small ints, with the common
instructions tested first: local.get/set/tee, numeric operators, constants, loads and
stores, block/loop/if/else/end, br/br_if/br_table, call and call_indirect, globals,
memory.size/grow and the 0xFC conversions and memory.copy/fill.

It is a filter in front of the reference path, not a second implementation of its rules.
`check` answers True only for a body that the reference decoder (decoder.Decoder.instructions)
and validator (validator.CodeValidator) would both accept; for anything else, an error or
merely something it does not handle (multi-value blocks, reference and vector types, bulk
table and data instructions, exception handling, a 64-bit memory, an unusual LEB128), it
answers False and the decoder takes the reference path for that body, which gives today's
exact error messages. What it accepts it accepts by the validator's own tables (SIGNATURES,
MEMORY_ACCESSES), with stricter conditions where that is simpler: its operand stack is
always concrete (after br, br_table, return or unreachable it holds just what the block's
end expects, an instance of the spec's polymorphic stack, so whatever is accepted from
there is accepted from the polymorphic one too), and every frame starts with a marker, 0,
that no value type equals, so a pop that would cross into the enclosing frame fails the
type comparison instead of needing a height test.

The body's bytes must be exactly the instructions up to the `end` that closes depth 0:
reading on past the body (as the reference does when an `end` is missing) ends in a
position that is not the body's end, or in IndexError at the module's end, and is refused.
"""

from .types import F32, F64, FUNCREF, I32, I64
from .validator import MEMORY_ACCESSES, SIGNATURES

# Value types as small ints; 0 marks the base of a control frame on the operand stack.
CODES = {I32: 1, I64: 2, F32: 3, F64: 4}
_BYTE_CODES = {0x7F: 1, 0x7E: 2, 0x7D: 3, 0x7C: 4}
# A block type's results by its byte: empty or one number type.
_BLOCK_RESULTS = {0x40: [], 0x7F: [1], 0x7E: [2], 0x7D: [3], 0x7C: [4]}
_LOOP_LABEL = []    # a loop without params: a branch to it passes nothing
_BLOCK, _LOOP, _IF, _ELSE, _FUNC = 2, 3, 4, 5, 6


class _Unusual(Exception):
    """Something the fast pass leaves to the reference path."""


def _codes(types):
    """The types as a list of small ints, or None if any is not a number type."""
    codes = [CODES.get(t) for t in types]
    return None if None in codes else codes


def _numeric_table():
    """opcode -> (type of the top operand, of the one below it or 0, result type) for
    0x45-0xC4 and the 0xFC conversions (as 0x100 + n)."""
    table = {}
    for op, (params, results) in SIGNATURES.items():
        if 0x45 <= op <= 0xC4 or 0xFC00 <= op <= 0xFC07:
            codes = [0] + _codes(params)
            table[op if op < 0x100 else op - 0xFC00 + 0x100] = (codes[-1], codes[-2],
                                                                CODES[results[0]])
    return [table.get(op) for op in range(0x108)]


def _memory_table():
    """opcode -> (largest alignment exponent, value type, is a store) for 0x28-0x3E."""
    table = [None] * 0x3F
    for op, (align, params, results) in MEMORY_ACCESSES.items():
        if op <= 0x3E:
            table[op] = (align, CODES[(params[1:] or results)[0]], not results)
    return table


_NUMERIC = _numeric_table()
_MEMORY = _memory_table()


def _u32(data, pos):
    """(value, position after) of a u32 LEB128 as the reference decoder reads it."""
    result = 0
    for shift in (0, 7, 14, 21):
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
    b = data[pos]
    if b > 0x0F:                # too large or too long: the reference path says which
        raise _Unusual
    return result | b << 28, pos + 1


def _skip_s32(data, pos):
    """The position after an s32 LEB128 starting at `pos`."""
    for _ in range(4):
        if data[pos] < 0x80:
            return pos + 1
        pos += 1
    b = data[pos]
    if b > 0x07 and not 0x78 <= b <= 0x7F:
        raise _Unusual
    return pos + 1


def _skip_s64(data, pos):
    """The position after an s64 LEB128 starting at `pos`."""
    for _ in range(9):
        if data[pos] < 0x80:
            return pos + 1
        pos += 1
    if data[pos] not in (0x00, 0x7F):
        raise _Unusual
    return pos + 1


class BodyChecker:
    """The fast pass for the bodies of one module, with what it needs of the module's context
    (spec 3.1.1) in its own form: built once, from the sections before the code section."""

    def __init__(self, module):
        types = [(_codes(t.params), _codes(t.results)) for t in module.types]
        func_types = module.func_type_indices()
        # Per function: (params, results) as small ints, or None (not number types, or an
        # unknown type index: the validator's to report).
        self.funcs = [types[i] if i < len(types) and None not in types[i] else None
                      for i in func_types]
        self.func_types = func_types
        self.first_defined = len(func_types) - len(module.funcs)
        # Per type index, for call_indirect: (params + the i32 table index, results).
        self.indirect = [None if params is None or results is None else (params + [1], results)
                         for params, results in types]
        self.globals = [(CODES.get(g.valtype, 0), g.mutable) for g in module.all_global_types()]
        memories = module.all_memories()
        self.memory32 = bool(memories) and memories[0].address_type == I32
        self.funcref_tables = [t.elem_type == FUNCREF and t.address_type == I32
                               for t in module.all_tables()]
        self._locals = {}

    def locals_of(self, func_index, declared, key):
        """The local types (params first) as small ints, or None. `declared`: the decoder's
        list of (count, valtype); `key`: the bytes that declare them, or None."""
        if func_index >= len(self.funcs):
            return None
        if key is not None:
            key = (self.func_types[func_index], key)
        codes = self._locals.get(key)
        if codes is None:
            signature = self.funcs[func_index]
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
        return codes or None

    def check(self, data, pos, end, func_index, loc):
        """Whether the instructions in data[pos:end] are a valid body of function
        `func_index` with locals `loc` (locals_of): True only if the reference path would
        accept them."""
        results = self.funcs[func_index][1]
        try:
            return self._walk(data, pos, results, loc) == end
        except (_Unusual, IndexError):
            return False

    def _walk(self, data, pos, results, loc):
        """The position after the `end` that closes the body; _Unusual on anything the
        fast pass does not accept."""
        numeric, memory, funcs = _NUMERIC, _MEMORY, self.funcs
        memory32 = self.memory32
        nloc = len(loc)
        st = [0]
        ctrl = [(_FUNC, results, results, 0)]
        while True:
            op = data[pos]
            if op == 0x20:                                  # local.get
                x = data[pos + 1]
                if x < 0x80:
                    pos += 2
                else:
                    x, pos = _u32(data, pos + 1)
                if x >= nloc:
                    raise _Unusual
                st.append(loc[x])
            elif 0x45 <= op <= 0xC4:                        # numeric
                a, b, r = numeric[op]
                if st[-1] != a:
                    raise _Unusual
                if b:
                    if st[-2] != b:
                        raise _Unusual
                    st.pop()
                st[-1] = r
                pos += 1
            elif op == 0x21 or op == 0x22:                  # local.set, local.tee
                x = data[pos + 1]
                if x < 0x80:
                    pos += 2
                else:
                    x, pos = _u32(data, pos + 1)
                if x >= nloc or st[-1] != loc[x]:
                    raise _Unusual
                if op == 0x21:
                    st.pop()
            elif op == 0x41:                                # i32.const
                if data[pos + 1] < 0x80:
                    pos += 2
                else:
                    pos = _skip_s32(data, pos + 1)
                st.append(1)
            elif 0x28 <= op <= 0x3E:                        # loads and stores
                max_align, t, store = memory[op]
                if data[pos + 1] > max_align or not memory32:
                    raise _Unusual                          # also flags naming a memory
                if data[pos + 2] < 0x80:
                    pos += 3
                else:
                    pos = _u32(data, pos + 2)[1]
                if store:
                    if st[-1] != t or st[-2] != 1:
                        raise _Unusual
                    del st[-2:]
                else:
                    if st[-1] != 1:
                        raise _Unusual
                    st[-1] = t
            elif op == 0x0B:                                # end
                kind, label, r, base = ctrl.pop()
                if kind == _IF and r or st[base + 1:] != r:
                    raise _Unusual
                del st[base:]
                st += r
                pos += 1
                if not ctrl:
                    return pos
            elif 0x02 <= op <= 0x04:                        # block, loop, if
                r = _BLOCK_RESULTS.get(data[pos + 1])
                if r is None:
                    raise _Unusual
                if op == 0x04:
                    if st[-1] != 1:
                        raise _Unusual
                    st.pop()
                ctrl.append((op, _LOOP_LABEL if op == 0x03 else r, r, len(st)))
                st.append(0)
                pos += 2
            elif op == 0x0D or op == 0x0C:                  # br_if, br
                d = data[pos + 1]
                if d < 0x80:
                    pos += 2
                else:
                    d, pos = _u32(data, pos + 1)
                if d >= len(ctrl):
                    raise _Unusual
                label = ctrl[-1 - d][1]
                if op == 0x0D:
                    if st[-1] != 1:
                        raise _Unusual
                    st.pop()
                if label and st[-len(label):] != label:
                    raise _Unusual
                if op == 0x0C:
                    self._dead(st, ctrl)
            elif op == 0x10:                                # call
                f, pos = _u32(data, pos + 1)
                signature = funcs[f] if f < len(funcs) else None
                if signature is None:
                    raise _Unusual
                params, r = signature
                if params:
                    if st[-len(params):] != params:
                        raise _Unusual
                    del st[-len(params):]
                st += r
            elif op == 0x42:                                # i64.const
                pos = _skip_s64(data, pos + 1)
                st.append(2)
            elif op == 0x44:                                # f64.const
                pos += 9
                st.append(4)
            elif op == 0x43:                                # f32.const
                pos += 5
                st.append(3)
            elif op == 0x23 or op == 0x24:                  # global.get, global.set
                g, pos = _u32(data, pos + 1)
                if g >= len(self.globals):
                    raise _Unusual
                t, mutable = self.globals[g]
                if not t:
                    raise _Unusual
                if op == 0x23:
                    st.append(t)
                elif not mutable or st[-1] != t:
                    raise _Unusual
                else:
                    st.pop()
            elif op == 0x05:                                # else
                kind, label, r, base = ctrl[-1]
                if kind != _IF or st[base + 1:] != r:
                    raise _Unusual
                del st[base + 1:]
                ctrl[-1] = (_ELSE, label, r, base)
                pos += 1
            elif op == 0x1A:                                # drop
                if st[-1] <= 0:
                    raise _Unusual
                st.pop()
                pos += 1
            elif op == 0x1B:                                # select
                if st[-1] != 1 or st[-2] <= 0 or st[-3] != st[-2]:
                    raise _Unusual
                del st[-2:]
                pos += 1
            elif op == 0x0E:                                # br_table
                pos = self._br_table(data, pos + 1, st, ctrl)
            elif op == 0x11:                                # call_indirect
                type_index, pos = _u32(data, pos + 1)
                table, pos = _u32(data, pos)
                tables = self.funcref_tables
                if table >= len(tables) or not tables[table] or type_index >= len(self.indirect):
                    raise _Unusual
                signature = self.indirect[type_index]
                if signature is None:
                    raise _Unusual
                params, r = signature
                if st[-len(params):] != params:
                    raise _Unusual
                del st[-len(params):]
                st += r
            elif op == 0x0F:                                # return
                if results and st[-len(results):] != results:
                    raise _Unusual
                self._dead(st, ctrl)
                pos += 1
            elif op == 0x00:                                # unreachable
                self._dead(st, ctrl)
                pos += 1
            elif op == 0x01:                                # nop
                pos += 1
            elif op == 0x3F or op == 0x40:                  # memory.size, memory.grow
                if data[pos + 1] != 0 or not memory32:
                    raise _Unusual
                if op == 0x3F:
                    st.append(1)
                elif st[-1] != 1:
                    raise _Unusual
                pos += 2
            elif op == 0xFC:
                pos = self._prefixed(data, pos + 1, st)
            else:
                raise _Unusual

    def _dead(self, st, ctrl):
        """After an unconditional branch: the stack of the innermost block is polymorphic;
        stand in for it with just what its end (or else) expects."""
        kind, label, r, base = ctrl[-1]
        del st[base + 1:]
        st += r

    def _br_table(self, data, pos, st, ctrl):
        count, pos = _u32(data, pos)
        if count > len(data) - pos:
            raise _Unusual
        labels = None
        for _ in range(count + 1):
            d = data[pos]
            if d < 0x80:
                pos += 1
            else:
                d, pos = _u32(data, pos)
            if d >= len(ctrl):
                raise _Unusual
            label = ctrl[-1 - d][1]
            if labels is None:
                labels = label
            elif label != labels:
                raise _Unusual
        if st[-1] != 1:
            raise _Unusual
        st.pop()
        if labels and st[-len(labels):] != labels:
            raise _Unusual
        self._dead(st, ctrl)
        return pos

    def _prefixed(self, data, pos, st):
        """0xFC 0-7 (saturating truncations), 10 (memory.copy) and 11 (memory.fill)."""
        sub = data[pos]
        if sub < 8:
            a, _, r = _NUMERIC[0x100 + sub]
            if st[-1] != a:
                raise _Unusual
            st[-1] = r
            return pos + 1
        if sub == 10 and data[pos + 1] == 0 and data[pos + 2] == 0 and self.memory32:
            pos += 3
        elif sub == 11 and data[pos + 1] == 0 and self.memory32:
            pos += 2
        else:
            raise _Unusual
        if st[-3:] != [1, 1, 1]:
            raise _Unusual
        del st[-3:]
        return pos
