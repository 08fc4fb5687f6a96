"""Decoding of the WebAssembly binary format (spec chapter 5) into a `Module`: 2.0, and the
parts of 3.0 pywamr has.

The decoder checks everything the spec calls well-formedness (magic, version, section order and
sizes, LEB128 length limits, UTF-8 names, opcodes, immediates) and nothing it calls validity
(index bounds, types): those belong to `validator.py`, so that `assert_malformed` and
`assert_invalid` are told apart exactly as the spec does.

Error messages are the reference interpreter's (interpreter/binary/decode.ml), because the spec
tests expect its wording, and for that the decoder reads as it does:

- One reader over the whole module. A section or function body is not a bounded sub-reader:
  its contents are decoded from the module's bytes and its declared size is checked afterwards
  ("section size mismatch"). So a body missing its `end` goes on into the next bytes and fails
  on what it finds there ("END opcode expected", "illegal opcode"), and a LEB128 that runs past
  its section fails as too long, not as the section's end.
- A size, count or string length larger than the bytes left in the module, counted from the
  start of its LEB128, is "length out of bounds" (the reference's len32). One that fits by that
  count but not after the LEB128 fails on reading past the end, as there.
- The module-level checks come after the last section, in the reference's order: content after
  the last section, then function/code and data count/data section lengths.

A module is accepted or rejected exactly as with bounded readers; only the reason can differ.
The reference's messages that no spec test checks (value and block types) keep our wording.

The version ("3.0" by default, or "2.0") is the binary format decoded. Where 3.0 gave an
encoding that was malformed in 2.0 a meaning, and the 2.0 spec tests expect it malformed,
2.0 refuses it: the exception-handling opcodes (a missing `end` then meets 0x0A, the code
section's id, as "illegal opcode"), the tag section and import/export kind 4.

How exception handling and `rec`/`sub` types appear in the Module: see module.py.

Function bodies, most of a real module, go first through a fast pass (body_check.py) that
checks well-formedness and validity in one walk over the bytes, in the context of the
sections before the code section. A body it accepts is kept as its offset in the module's
bytes (FunctionBody.body decodes it into Instrs on first use: the interpreter translates only
the functions that are called) and the validator skips it; any other body is decoded here
into Instrs at once, as before, so its error, if any, is the reference's. The fast pass only
ever answers "valid" or "ask the reference", which keeps this module the one place where the
binary format's error rules live. Figures are in docs/interpreter.md ("Loading").
"""

from . import features
from .errors import MalformedModule
from .module import (DataSegment, ElemSegment, Export, FunctionBody, Global, Import, Instr,
                     Module)
from .opcodes import OPCODES
from .types import (HEAPTYPE_CODES, I32, I64, REFTYPE_CODES, VALTYPE_CODES, FuncType,
                    GlobalType, Limits, MemoryType, TableType, TypeGroup, ref_type)

MAGIC = b"\x00asm"
VERSION = b"\x01\x00\x00\x00"

# Section ids in the order the spec requires; the data count section (12) sits between the
# element (9) and code (10) sections, the tag section (13) between memory (5) and global (6).
SECTION_ORDER = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12,
                 11: 13}
EXTERN_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
# What each one-byte opcode does to the nesting of blocks, besides `end`: 1 opens a block
# (legacy `try` may be closed by `delegate` instead of `end`), 2 opens an `if`, 3 is `else`,
# 4 `delegate`; 0 nothing. One list lookup keeps the common case to one test.
_OPENS, _OPENS_IF, _ELSE, _DELEGATE = 1, 2, 3, 4
_STRUCTURE = [0] * 256
for _op in (0x02, 0x03, 0x06, 0x1F):
    _STRUCTURE[_op] = _OPENS
_STRUCTURE[0x04], _STRUCTURE[0x05], _STRUCTURE[0x18] = _OPENS_IF, _ELSE, _DELEGATE
MAX_LOCALS = 2**32 - 1

# The immediate kind of every opcode, as a flat list for the single-byte ones (hot path).
_BYTE_IMM = [None] * 256
_BYTE_VALID = [False] * 256
for _op, (_name, _imm) in OPCODES.items():
    if _op < 256:
        _BYTE_IMM[_op] = _imm
        _BYTE_VALID[_op] = True
del _op, _name, _imm
# The opcodes of the 2.0 binary format: without exception handling's.
_EXCEPTION_OPCODES = (0x06, 0x07, 0x08, 0x09, 0x0A, 0x18, 0x19, 0x1F)
_BYTE_VALID_2_0 = [valid and op not in _EXCEPTION_OPCODES for op, valid in enumerate(_BYTE_VALID)]
_VERSION_2_0_SECTIONS = {13}
_VERSION_2_0_KINDS = {4}
# The flags of limits: bit 0, a maximum follows; bit 2 (3.0, memory64), the memory or table
# is 64-bit.
_LIMIT_FLAGS = {"2.0": (0, 1), "3.0": (0, 1, 4, 5)}


class Reader:
    """A cursor over `data[pos:end]` with the primitive decoders of spec 5.1-5.2."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data, pos=0, end=None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def fail(self, message, offset=None):
        raise MalformedModule(message, self.pos if offset is None else offset)

    def eof(self):
        return self.pos >= self.end

    def byte(self):
        pos = self.pos
        if pos >= self.end:
            self.fail("unexpected end of section or function")
        self.pos = pos + 1
        return self.data[pos]

    def bytes(self, n):
        pos = self.pos
        if n > self.end - pos:
            self.fail("unexpected end of section or function")
        self.pos = pos + n
        return self.data[pos:pos + n]

    def u32(self):
        data, pos = self.data, self.pos
        if pos + 1 < self.end:          # the one- and two-byte forms inline
            b = data[pos]
            if b < 0x80:
                self.pos = pos + 1
                return b
            high = data[pos + 1]
            if high < 0x80:
                self.pos = pos + 2
                return b - 0x80 | high << 7
        elif pos < self.end and data[pos] < 0x80:
            self.pos = pos + 1
            return data[pos]
        return self._uleb(32)

    def u64(self):
        return self._uleb(64)

    def _uleb(self, bits):
        start = self.pos
        result = shift = 0
        for _ in range((bits - 1) // 7):
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result
        # The last byte holds the remaining bits: more is too large, a continuation bit too
        # long (checked in this order, as the reference interpreter does).
        b = self.byte()
        if (b & 0x7F) >> (bits - shift):
            self.fail("integer too large", start)
        if b & 0x80:
            self.fail("integer representation too long", start)
        return result | b << shift

    def sleb(self, bits):
        start = self.pos
        result = shift = 0
        for _ in range((bits - 1) // 7):
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                return result
        # The unused high bits of the last byte must be copies of the sign bit, and it must
        # not continue.
        b = self.byte()
        sign_bits = (-1 << (bits - shift - 1)) & 0x7F
        if b & sign_bits not in (0, sign_bits):
            self.fail("integer too large", start)
        if b & 0x80:
            self.fail("integer representation too long", start)
        result |= b << shift
        shift += 7
        if b & 0x40:
            result -= 1 << shift
        return result

    def name(self):
        start = self.pos
        raw = self.bytes(self.length())
        try:
            return bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            self.fail("malformed UTF-8 encoding", start)

    def valtype(self):
        pos = self.pos
        code = self.byte()
        t = VALTYPE_CODES.get(code)
        if t is None:
            if code == 0x63 or code == 0x64:
                return ref_type(self.heap_type(), code == 0x63)
            self.fail(features.unsupported("malformed value type", features.VALUE_TYPES,
                                           code), pos)
        return t

    def reftype(self):
        pos = self.pos
        code = self.byte()
        t = REFTYPE_CODES.get(code)
        if t is None:
            if code == 0x63 or code == 0x64:
                return ref_type(self.heap_type(), code == 0x63)
            self.fail(features.unsupported("malformed reference type", features.VALUE_TYPES,
                                           code), pos)
        return t

    def heap_type(self):
        """An abstract heap type ('func', 'extern', 'exn', 'noexn') or a type index (a
        non-negative s33)."""
        pos = self.pos
        heap = self.sleb(33)
        if heap >= 0:
            return heap
        code = heap & 0x7F
        if heap < -0x40 or code not in HEAPTYPE_CODES:
            self.fail(features.unsupported("malformed heap type", features.VALUE_TYPES, code),
                      pos)
        return HEAPTYPE_CODES[code]

    def length(self):
        """A u32 size or count, which cannot exceed the bytes left counted from its own
        first byte (the reference's len32: the spec tests depend on that origin)."""
        pos = self.pos
        n = self.u32()
        if n > self.end - pos:
            self.fail("length out of bounds", pos)
        return n

    def vec(self, read_item):
        return [read_item() for _ in range(self.length())]

    def limits(self, flags_of_features, version):
        """(Limits, address type). 3.0 reads the numbers as u64s, whatever the address type
        (the validator bounds them); `flags_of_features`: the flags features pywamr lacks
        give limits (features.py)."""
        pos = self.pos
        flag = self.byte()          # a LEB128 of the flag bits that must fit one byte
        if flag in _LIMIT_FLAGS[version]:
            number = self.u32 if version == "2.0" else self.u64
            minimum = number()
            return Limits(minimum, number() if flag & 1 else None), I64 if flag & 4 else I32
        if flag in flags_of_features:
            self.fail(features.unsupported("integer too large", flags_of_features, flag), pos)
        if version == "3.0":
            self.fail("malformed limits flags", pos)
        self.fail("integer too large" if flag & 0x7F > 1 else "integer representation too long",
                  pos)

    def memory_type(self, version):
        limits, address_type = self.limits(features.MEMORY_LIMIT_FLAGS, version)
        return MemoryType(limits, address_type)

    def table_type(self, version):
        elem = self.reftype()
        limits, address_type = self.limits(features.TABLE_LIMIT_FLAGS, version)
        return TableType(elem, limits, address_type)

    def global_type(self):
        valtype = self.valtype()
        pos = self.pos
        mut = self.byte()
        if mut > 1:
            self.fail("malformed mutability", pos)
        return GlobalType(valtype, mut == 1)

    def tag_type(self):
        """A tag's type: an attribute byte, 0 (an exception), and a type index."""
        pos = self.pos
        if self.byte() != 0:
            self.fail("malformed tag attribute", pos)
        return self.u32()

    def zero_byte(self):
        pos = self.pos
        if self.byte() != 0:
            self.fail("zero byte expected", pos)
        return 0


class Decoder:
    """Decodes one module. `module_offset` is added to reported offsets (0 for a whole file)."""

    def __init__(self, data, version="3.0"):
        # Immutable: bodies the fast pass checked are decoded from these bytes later.
        self.data = data if isinstance(data, bytes) else bytes(data)
        self.version = version
        self.byte_valid = _BYTE_VALID if version == "3.0" else _BYTE_VALID_2_0
        self.module = Module()
        self.func_count = None          # from the function section
        self.uses_data_count = False    # memory.init / data.drop seen in code
        self.known_locals = {}          # locals declarations seen, by their bytes

    def decode(self):
        data = self.data
        # Each 4-byte word is read whole before it is compared.
        if len(data) < 4:
            raise MalformedModule("unexpected end", len(data))
        if data[:4] != MAGIC:
            raise MalformedModule("magic header not detected", 0)
        if len(data) < 8:
            raise MalformedModule("unexpected end", len(data))
        if data[4:8] != VERSION:
            raise MalformedModule("unknown binary version: " + features.COMPONENT
                                  if data[4:8] == features.COMPONENT_VERSION
                                  else "unknown binary version", 4)
        r = Reader(data, 8)
        last_order = 0
        while not r.eof():
            section_id = data[r.pos]
            if section_id != 0:
                order = SECTION_ORDER.get(section_id)
                if order is None or (self.version == "2.0"
                                     and section_id in _VERSION_2_0_SECTIONS):
                    r.fail(features.unsupported("malformed section id", features.SECTIONS,
                                                section_id))
                if order <= last_order:
                    r.fail("unexpected content after last section")
                last_order = order
            r.pos += 1
            size = r.length()
            end = r.pos + size
            self.decode_section(section_id, r, end)
            if r.pos != end:
                r.fail("section size mismatch")
        self.finish()
        return self.module

    def finish(self):
        m = self.module
        if (self.func_count or 0) != len(m.codes):
            raise MalformedModule("function and code section have inconsistent lengths")
        if m.data_count is not None and m.data_count != len(m.datas):
            raise MalformedModule("data count and data section have inconsistent lengths")
        # memory.init and data.drop need the data count section (spec 5.5.16) so a one-pass
        # validator knows the segments. With no data section at all there are no segments,
        # and the validator reports the index as unknown, as the spec's text-format tests do.
        if self.uses_data_count and m.data_count is None and m.datas:
            raise MalformedModule("data count section required", len(self.data))

    def decode_section(self, section_id, r, end):
        """Decode a section's contents, which should end at `end` (the caller checks)."""
        m = self.module
        if section_id == 0:
            name = r.name()
            if r.pos > end:
                r.fail("unexpected end of section or function", end)
            payload = bytes(r.bytes(end - r.pos))
            m.customs.append((name, payload))
            if name == "name":
                m.func_names = parse_function_names(payload)
        elif section_id == 1:
            m.types = []
            for _ in range(r.length()):
                m.types += self.rec_type(r, len(m.types))
        elif section_id == 2:
            m.imports = r.vec(lambda: self.import_entry(r))
        elif section_id == 3:
            count = r.length()
            indices = r.data[r.pos:r.pos + count]
            if len(indices) == count and (not count or max(indices) < 0x80):
                m.funcs = list(indices)     # the usual form: every type index one byte
                r.pos += count
            else:
                m.funcs = [r.u32() for _ in range(count)]
            self.func_count = len(m.funcs)
        elif section_id == 4:
            entries = r.vec(lambda: self.table_entry(r))
            m.tables = [table for table, _ in entries]
            m.table_inits = [init for _, init in entries]
        elif section_id == 5:
            m.memories = r.vec(lambda: r.memory_type(self.version))
        elif section_id == 13:
            m.tags = r.vec(r.tag_type)
        elif section_id == 6:
            m.globals = r.vec(lambda: Global(r.global_type(), self.const_expr(r)))
        elif section_id == 7:
            m.exports = r.vec(lambda: self.export_entry(r))
        elif section_id == 8:
            m.start = r.u32()
        elif section_id == 9:
            m.elems = r.vec(lambda: self.elem_segment(r))
        elif section_id == 12:
            m.data_count = r.u32()
        elif section_id == 10:
            m.codes = self.code_section(r)
        elif section_id == 11:
            m.datas = r.vec(lambda: self.data_segment(r))

    def rec_type(self, r, first):
        """The types of one entry of the type section, whose first type gets index `first`:
        a recursion group (0x4E) of subtypes, or one subtype, a group of its own."""
        if r.pos < r.end and r.data[r.pos] == 0x4E:
            r.pos += 1
            size = r.length()
            return [self.sub_type(r, first, size) for _ in range(size)]
        return [self.sub_type(r, first, 1)]

    def sub_type(self, r, first, size):
        """A function type, with the group it is in; `sub` (0x50) and `sub final` (0x4F)
        declare supertypes. A final type without supertypes alone in its group is the plain
        function type of 2.0 (group None)."""
        final, supertypes = True, ()
        if r.pos < r.end and r.data[r.pos] in (0x50, 0x4F):
            final = r.byte() == 0x4F
            supertypes = tuple(r.vec(r.u32))
        params, results = self.func_type(r)
        group = None
        if size != 1 or not final or supertypes:
            group = TypeGroup(first, size, final, supertypes)
        return FuncType(params, results, group)

    def func_type(self, r):
        """The parameter and result types of a function type (0x60)."""
        pos = r.pos
        form = r.byte()
        if form != 0x60:            # the reference reads the form as a 7-bit signed LEB128
            r.fail("integer representation too long" if form & 0x80 else
                   features.unsupported("malformed function type", features.TYPE_FORMS, form),
                   pos)
        params = tuple(r.vec(r.valtype))
        results = tuple(r.vec(r.valtype))
        return params, results

    def import_entry(self, r):
        module_name = r.name()
        name = r.name()
        pos = r.pos
        kind = self.extern_kind(r)
        if kind == "func":
            desc = r.u32()
        elif kind == "table":
            desc = r.table_type(self.version)
        elif kind == "memory":
            desc = r.memory_type(self.version)
        elif kind == "global":
            desc = r.global_type()
        elif kind == "tag":
            desc = r.tag_type()
        else:
            r.fail("malformed import kind", pos)
        return Import(module_name, name, kind, desc)

    def export_entry(self, r):
        name = r.name()
        pos = r.pos
        kind = self.extern_kind(r)
        if kind is None:
            r.fail("malformed export kind", pos)
        return Export(name, kind, r.u32())

    def extern_kind(self, r):
        code = r.byte()
        if self.version == "2.0" and code in _VERSION_2_0_KINDS:
            return None
        return EXTERN_KINDS.get(code)

    def elem_segment(self, r):
        pos = r.pos
        flags = r.u32()
        if flags > 7:
            r.fail("malformed elements segment kind", pos)
        # Bit 0: passive or declarative; bit 1: explicit table index (active) or declarative
        # (passive); bit 2: elements are expressions rather than function indices.
        active = not flags & 1
        table = r.u32() if flags & 3 == 2 else 0
        offset = self.const_expr(r) if active else None
        # 3.0 types a segment of function indices (ref func): its elements are not null.
        if flags & 3 == 0:
            elem_type = "funcref" if flags & 4 else "(ref func)"    # flags 0 and 4: no type
        elif flags & 4:
            elem_type = r.reftype()
        else:
            kind_pos = r.pos
            if r.byte() != 0x00:
                r.fail("malformed element kind", kind_pos)
            elem_type = "(ref func)"
        if flags & 4:
            init = r.vec(lambda: self.const_expr(r))
        else:
            init = [[Instr(0xD2, func_index, -1)] for func_index in r.vec(r.u32)]
        mode = "active" if active else ("declarative" if flags & 2 else "passive")
        return ElemSegment(mode, elem_type, init, table, offset)

    def data_segment(self, r):
        pos = r.pos
        flags = r.u32()
        if flags == 0:
            offset = self.const_expr(r)
            return DataSegment("active", bytes(r.bytes(r.length())), 0, offset)
        if flags == 1:
            return DataSegment("passive", bytes(r.bytes(r.length())))
        if flags == 2:
            memory = r.u32()
            offset = self.const_expr(r)
            return DataSegment("active", bytes(r.bytes(r.length())), memory, offset)
        r.fail("malformed data segment kind", pos)

    def table_entry(self, r):
        """A defined table's type and initialiser: 0x40 0x00 before the type introduces one
        (3.0); without, the elements start null."""
        pos = r.pos
        if r.byte() != 0x40:
            r.pos = pos
            return r.table_type(self.version), None
        if r.byte() != 0x00:
            r.fail("malformed table", pos)
        return r.table_type(self.version), self.const_expr(r)

    def const_expr(self, r):
        """A constant expression: instructions up to the terminating `end` (excluded)."""
        code = self.instructions(r, stop_at_depth_zero_end=True)
        return code[:-1]

    def code_section(self, r):
        """The function bodies. One that the fast pass (body_check.py) accepts is kept as a
        position in the module's bytes, decoded into Instrs on first use; any other is
        decoded here, as the reference does, and left to the validator."""
        from .body_check import BodyChecker
        checker = BodyChecker(self.module)
        data = r.data
        source = (data, self.version)
        count = r.length()
        codes = []

        def read_locals(pos):
            r.pos = pos
            return self.locals_declaration(r), r.pos

        while True:
            # The fast pass takes the bodies up to one it leaves to the reference path.
            r.pos = checker.check_bodies(data, r.pos, count - len(codes),
                                         checker.first_defined + len(codes),
                                         self.known_locals, read_locals, source, codes)
            if len(codes) == count:
                return codes
            body_pos = r.pos
            size = r.length()
            end = r.pos + size
            locals_, total, _ = self.locals_declaration(r)
            code = self.instructions(r, stop_at_depth_zero_end=True)
            if r.pos != end:
                r.fail("section size mismatch")
            codes.append(FunctionBody(locals_, code, body_pos, total, size=size))

    def locals_declaration(self, r):
        """([(count, valtype)], their total, the bytes that declare them or None). Bodies
        declaring the same locals in the same bytes share the list."""
        data, pos = r.data, r.pos
        key = None
        if pos < len(data) and data[pos] < 0x80:
            stop = pos + 1 + 2 * data[pos]
            key = data[pos:stop]
            known = self.known_locals.get(key)
            if known is not None:
                r.pos = stop
                return known
        locals_ = []
        total = 0
        for _ in range(r.length()):
            count = r.u32()
            total += count
            locals_.append((count, r.valtype()))
        if total > MAX_LOCALS:              # checked once all are read, as the reference does
            r.fail("too many locals", pos)
        if key is not None and r.pos == stop:   # one byte per count and per type: cacheable
            self.known_locals[key] = locals_, total, key
            return locals_, total, key
        return locals_, total, None

    def instructions(self, r, stop_at_depth_zero_end):
        """Decode instructions until the `end` that closes depth 0; it is included."""
        data = r.data
        byte_imm, byte_valid, structure = _BYTE_IMM, self.byte_valid, _STRUCTURE
        code = []
        append = code.append
        depth = 0
        open_ifs = [False]      # per open block: is it an `if` still waiting for its `else`?
        while True:
            pos = r.pos
            if pos >= r.end:
                r.fail("unexpected end of section or function")
            op = data[pos]
            r.pos = pos + 1
            if op == 0xFC or op == 0xFD:
                sub = r.u32()
                op = (op << 8) + sub
                info = OPCODES.get(op)
                if info is None:
                    r.fail(features.unsupported("illegal opcode", features.PREFIXED_OPCODES, op),
                           pos)
                kind = info[1]
                if op == 0xFC08 or op == 0xFC09:
                    self.uses_data_count = True
            else:
                if not byte_valid[op]:
                    r.fail(features.unsupported("illegal opcode", features.OPCODES, op), pos)
                kind = byte_imm[op]
                if op == 0x0B:
                    append(Instr(op, None, pos))
                    if depth == 0:
                        return code
                    depth -= 1
                    open_ifs.pop()
                    continue
                nesting = structure[op]
                if nesting:
                    if nesting <= _OPENS_IF:
                        depth += 1
                        open_ifs.append(nesting == _OPENS_IF)
                    elif nesting == _ELSE:
                        if not open_ifs[-1]:
                            r.fail("END opcode expected: else without matching if", pos)
                        open_ifs[-1] = False
                    elif depth:                 # delegate closes its try as `end` does
                        append(Instr(op, r.u32(), pos))
                        depth -= 1
                        open_ifs.pop()
                        continue
            imm = None if kind is None else self.immediate(r, kind)
            append(Instr(op, imm, pos))

    def immediate(self, r, kind):
        if kind == "local" or kind == "global" or kind == "label" or kind == "func" \
                or kind == "table" or kind == "elem" or kind == "data" or kind == "type":
            return r.u32()
        if kind == "memarg":
            align, memory = self.memarg_flags(r)
            return (align, self.memarg_offset(r), memory)
        if kind == "i32":
            return r.sleb(32)
        if kind == "i64":
            return r.sleb(64)
        if kind == "blocktype":
            return self.block_type(r)
        if kind == "f32":
            return int.from_bytes(r.bytes(4), "little")
        if kind == "f64":
            return int.from_bytes(r.bytes(8), "little")
        if kind == "br_table":
            labels = tuple(r.vec(r.u32))
            return (labels, r.u32())
        if kind == "call_indirect":
            return (r.u32(), r.u32())
        if kind == "memory":
            return self.memory_index(r)
        if kind == "heaptype":
            return ref_type(r.heap_type(), True)
        if kind == "select_t":
            return tuple(r.vec(r.valtype))
        if kind == "memory.init":
            return (r.u32(), self.memory_index(r))
        if kind == "memory.copy":
            return (self.memory_index(r), self.memory_index(r))
        if kind == "table.init" or kind == "table.copy":
            return (r.u32(), r.u32())
        if kind == "tag":
            return r.u32()
        if kind == "try_table":
            blocktype = self.block_type(r)
            return (blocktype, tuple(r.vec(lambda: self.catch_clause(r))))
        if kind == "v128":
            return int.from_bytes(r.bytes(16), "little")
        if kind == "shuffle":
            return tuple(r.bytes(16))
        if kind == "lane":
            return r.byte()
        if kind == "memarg_lane":
            align, memory = self.memarg_flags(r)
            return (align, self.memarg_offset(r), r.byte(), memory)
        raise AssertionError(f"unknown immediate kind {kind}")

    def catch_clause(self, r):
        """(kind, tag index or None, label) of one of a try_table's catches."""
        pos = r.pos
        kind = r.byte()
        if kind > 3:
            r.fail("malformed catch clause", pos)
        tag = r.u32() if kind < 2 else None     # catch and catch_ref name a tag
        return (kind, tag, r.u32())

    def memarg_flags(self, r):
        """(alignment exponent, memory index) of a memarg. In 3.0 bit 6 of the flags says a
        memory index follows (multi-memory); an alignment too large for its access is the
        validator's to refuse."""
        pos = r.pos
        flags = r.u32()
        if self.version == "2.0":
            if flags >= 32:         # 2**align would not fit the u32 2.0 decodes
                r.fail("malformed memop flags", pos)
            return flags, 0
        if flags >= 0x80:
            r.fail("malformed memop flags", pos)
        if flags & 0x40:
            return flags & 0x3F, r.u32()
        return flags, 0

    def memarg_offset(self, r):
        """A memarg's offset: a u64 in 3.0 (memory64), where the validator bounds that of a
        32-bit memory; a u32 in 2.0."""
        return r.u32() if self.version == "2.0" else r.u64()

    def memory_index(self, r):
        """A memory index: 2.0 has a zero byte in its place."""
        return r.zero_byte() if self.version == "2.0" else r.u32()

    def block_type(self, r):
        pos = r.pos
        b = r.byte()
        if b == 0x40:
            return None
        valtype = VALTYPE_CODES.get(b)
        if valtype is not None:
            return valtype
        if b == 0x63 or b == 0x64:
            return ref_type(r.heap_type(), b == 0x63)
        r.pos = pos
        index = r.sleb(33)
        if index < 0:
            r.fail("malformed block type", pos)
        return index


def parse_function_names(payload):
    """Function names from a `name` custom section; a malformed one is ignored (spec 7.4)."""
    names = {}
    try:
        r = Reader(payload)
        while not r.eof():
            sub_id = r.byte()
            size = r.u32()
            end = r.pos + size
            if end > r.end:
                r.fail("unexpected end of section or function")
            if sub_id == 1:
                names = _name_map(payload, r.pos, end)
            r.pos = end
    except (MalformedModule, UnicodeDecodeError):
        return {}
    return names


def _name_map(payload, pos, end):
    """The function names of a name map at payload[pos:end]. An entry whose index takes one
    or two bytes and whose name's size one, the usual ones (thousands in a C program), is
    read inline; any other by the Reader, which raises if it is malformed (as it would
    have at the entries read inline, were they malformed: they are not)."""
    sub = Reader(payload, pos, end)
    names = {}
    count = sub.u32()
    pos = sub.pos
    for _ in range(count):
        if pos + 2 < end:
            index = payload[pos]
            at = pos + 1
            if index >= 0x80:
                high = payload[at]
                at = 0 if high >= 0x80 else pos + 2
                index = index - 0x80 | high << 7
            if at and at < end:
                size = payload[at]
                start = at + 1
                if size < 0x80 and start + size <= end:
                    names[index] = payload[start:start + size].decode("utf-8")
                    pos = start + size
                    continue
        sub.pos = pos
        index = sub.u32()
        names[index] = sub.name()
        pos = sub.pos
    return names


def decode_code(data, offset, version):
    """The Instr list of the function body at `offset`, which the decoder has already found
    well-formed (FunctionBody.body decodes a body with this on first use)."""
    r = Reader(data, offset)
    r.u32()
    for _ in range(r.u32()):
        r.u32()
        r.valtype()
    return Decoder(data, version).instructions(r, stop_at_depth_zero_end=True)


def decode_module(data, version="3.0") -> Module:
    """Decode a binary module of the binary format of `version` ("3.0" or "2.0"); raises
    MalformedModule with the byte offset of the problem."""
    return Decoder(data, version).decode()
