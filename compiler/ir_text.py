"""LLVM IR built in Python and printed as text for LLVM to parse: the part of llvmlite.ir's
API the compiler uses (types, constants, functions, blocks, an IRBuilder), at a fraction of
its cost.

llvmlite.ir made lowering and printing most of a -O0 compile (docs/compiler.md, "Where the
time goes"): it checks every operand, registers every name in a scope, keeps several
objects per instruction and formats each through str.format and nested __str__ calls. Here
an instruction is one small object that holds its operands until the module is printed
(later code still changes some: phis and switches gain edges, a bounds check is widened,
metadata and flags are added), and the module prints with one f-string per instruction.
Nothing is checked: LLVM's parser and verifier reject IR that is wrong.

The text is what llvmlite printed, up to spacing and to pointer types (always `ptr` here),
and values get llvmlite's names (unnamed ones numbered `.1`, `.2`, ... per function, in
the order they are made; explicit names made unique with `.1`, `.2`, ...), so LLVM reads
the same module from either.
"""

import struct

# --- types -----------------------------------------------------------------------------------


class Type:
    """A type is its text; two types of the same text are equal."""

    null = "zeroinitializer"

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text

    def __repr__(self):
        return f"<type {self.text}>"

    def __eq__(self, other):
        return isinstance(other, Type) and self.text == other.text

    def __hash__(self):
        return hash(self.text)


class IntType(Type):
    null = "0"

    def __init__(self, width):
        super().__init__(f"i{width}")
        self.width = width

    def format_constant(self, value):
        return str(value)


class FloatType(Type):
    null = "0.0"

    def __init__(self):
        super().__init__("float")

    def format_constant(self, value):
        # LLVM reads float constants as doubles that a float holds exactly.
        single = struct.unpack("<f", struct.pack("<f", value))[0]
        return f"0x{struct.unpack('<Q', struct.pack('<d', single))[0]:016X}"


class DoubleType(Type):
    null = "0.0"

    def __init__(self):
        super().__init__("double")

    def format_constant(self, value):
        return f"0x{struct.unpack('<Q', struct.pack('<d', value))[0]:016X}"


class PointerType(Type):
    """The opaque `ptr`, the only pointer type."""

    null = "null"

    def __init__(self):
        super().__init__("ptr")


class VoidType(Type):
    def __init__(self):
        super().__init__("void")


class MetaDataType(Type):
    def __init__(self):
        super().__init__("metadata")


class VectorType(Type):
    def __init__(self, element, count):
        super().__init__(f"<{count} x {element.text}>")
        self.element = element
        self.count = count

    def format_constant(self, values):
        """`values`: one value for every lane, or a list of a value (or Constant) per lane."""
        if not isinstance(values, (list, tuple)):
            values = [values] * self.count
        element = self.element
        lanes = [value if isinstance(value, Constant) else Constant(element, value)
                 for value in values]
        return "<" + ", ".join([f"{lane.type.text} {lane.ref}" for lane in lanes]) + ">"


class ArrayType(Type):
    def __init__(self, element, count):
        super().__init__(f"[{count} x {element.text}]")
        self.element = element
        self.count = count


class FunctionType(Type):
    def __init__(self, return_type, args):
        args = tuple(args)
        super().__init__(f"{return_type.text} ({', '.join([a.text for a in args])})")
        self.return_type = return_type
        self.args = args


_PTR = PointerType()
_I1 = IntType(1)
_VOID = VoidType()
_LABEL = Type("label")
_METADATA = MetaDataType()

# --- values ----------------------------------------------------------------------------------


class Value:
    """Anything an instruction can use: `type` and `ref`, its text as an operand."""

    __slots__ = ("type", "ref")


class _UndefinedValue:
    """The `undef` marker of Constant(typ, Undefined)."""


Undefined = _UndefinedValue()


class Constant(Value):
    """A constant; `constant` is the Python value (an int, a float, a list for a vector),
    None for zero (0 for an integer) or Undefined. Constants of the same text are equal, as
    in llvmlite: an address or a local may be keyed by one (addresses.py)."""

    __slots__ = ("constant",)

    def __init__(self, typ, constant):
        self.type = typ
        if constant is None:
            self.ref = typ.null
            if isinstance(typ, IntType):
                constant = 0
        elif constant is Undefined:
            self.ref = "undef"
        else:
            self.ref = typ.format_constant(constant)
        self.constant = constant

    def bitcast(self, typ):
        return FormattedConstant(typ, f"bitcast ({self.type.text} {self.ref} to {typ.text})")

    def __eq__(self, other):
        return (isinstance(other, Constant) and self.ref == other.ref
                and self.type == other.type)

    def __hash__(self):
        return hash(self.ref)

    def __repr__(self):
        return f"<constant {self.type.text} {self.ref}>"


class FormattedConstant(Constant):
    """A constant expression given as text."""

    __slots__ = ()

    def __init__(self, typ, text):
        self.type = typ
        self.ref = self.constant = text


class MetaDataString(Value):
    """`module`: unused, as llvmlite's is."""

    __slots__ = ()

    def __init__(self, module, string):
        self.type = _METADATA
        self.ref = f'!"{string}"'


class MDValue(Value):
    """An unnamed metadata node, !N: Module.add_metadata makes them."""

    __slots__ = ("text",)

    def __init__(self, ref, operands_text):
        self.type = _METADATA
        self.ref = ref
        self.text = f"{ref} = !{{ {operands_text} }}"


class InlineAsm(Value):
    __slots__ = ("function_type",)

    def __init__(self, ftype, asm, constraint, side_effect=False):
        self.type = ftype.return_type
        self.function_type = ftype
        sideeffect = " sideeffect" if side_effect else ""
        self.ref = f'asm{sideeffect} "{asm}", "{constraint}"'


class Argument(Value):
    __slots__ = ("attributes",)

    def __init__(self, typ, name):
        self.type = typ
        self.ref = f'%"{name}"'
        self.attributes = []

    def add_attribute(self, attribute):
        self.attributes.append(attribute)

    def text(self):
        return " ".join([self.type.text] + self.attributes + [self.ref])


class GlobalVariable(Value):
    """An external global, known by its address."""

    __slots__ = ("value_type",)

    def __init__(self, module, typ, name):
        self.type = _PTR
        self.value_type = typ
        self.ref = f'@"{name}"'
        module.globals[name] = self

    def text(self):
        return f"{self.ref} = external global {self.value_type.text}"


class Function(Value):
    """A function of the module: a declaration until it has blocks. Its value is its address
    (`ptr @name`)."""

    __slots__ = ("name", "function_type", "args", "blocks", "attributes", "linkage",
                 "calling_convention", "_unnamed", "_names", "_suffixes")

    def __init__(self, module, ftype, name):
        self.type = _PTR
        self.ref = f'@"{name}"'
        self.name = name
        self.function_type = ftype
        self.blocks = []
        self.attributes = set()
        self.linkage = ""
        self.calling_convention = ""
        self._unnamed = 0
        self._names = set()
        self._suffixes = {}
        self.args = tuple([Argument(t, self.unique_name("")) for t in ftype.args])
        self.unique_name("")        # llvmlite's name of the return value
        module.globals[name] = self

    def unique_name(self, name):
        """`name`, or with a suffix that makes it unique in the function, as llvmlite names."""
        if not name:
            self._unnamed += 1
            return f".{self._unnamed}"
        unique = name
        while unique in self._names:
            suffix = self._suffixes.get(name, 0) + 1
            self._suffixes[name] = suffix
            unique = f"{name}.{suffix}"
        self._names.add(unique)
        return unique

    def append_basic_block(self, name=""):
        block = Block(self, self.unique_name(name))
        self.blocks.append(block)
        return block

    def text(self):
        head = " ".join(part for part in ("define" if self.blocks else "declare", self.linkage,
                                          self.calling_convention,
                                          self.function_type.return_type.text) if part)
        args = ", ".join([arg.text() for arg in self.args])
        attributes = "".join([" " + a for a in sorted(self.attributes)])
        lines = [f"{head} {self.ref}({args}){attributes}"]
        if self.blocks:
            lines.append("{")
            for block in self.blocks:
                block.print_to(lines)
            lines.append("}")
        lines.append("")
        return "\n".join(lines)


class Block(Value):
    __slots__ = ("function", "name", "instructions")

    def __init__(self, function, name):
        self.type = _LABEL
        self.function = function
        self.name = name
        self.ref = f'%"{name}"'
        self.instructions = []

    def print_to(self, lines):
        lines.append(f'"{self.name}":')
        for instr in self.instructions:
            if instr.type.text == "void":
                lines.append("  " + instr.text())
            else:
                lines.append(f"  {instr.ref} = {instr.text()}")


class Module:
    def __init__(self, name=""):
        self.name = name
        self.triple = ""
        self.data_layout = ""
        self.globals = {}           # name -> Function or GlobalVariable, in order of creation
        self.metadata = []
        self._metadata_by_text = {}

    def add_metadata(self, operands):
        """The node !{operands}, one per distinct list of operands."""
        text = ", ".join([op.ref if op.type.text == "metadata" else f"{op.type.text} {op.ref}"
                          for op in operands])
        node = self._metadata_by_text.get(text)
        if node is None:
            node = MDValue(f"!{len(self.metadata)}", text)
            self.metadata.append(node)
            self._metadata_by_text[text] = node
        return node

    def discard(self):
        """Break the module's reference cycles (blocks branch to each other, functions and
        blocks refer to each other, a loop's phi uses a value computed from it), so that
        reference counting frees it at once, without the cyclic garbage collector
        (part_compiler.py)."""
        for value in self.globals.values():
            if isinstance(value, Function):
                for block in value.blocks:
                    for instr in block.instructions:     # a block's phis come first
                        if not isinstance(instr, PhiInstr):
                            break
                        instr.operands.clear()
                    block.instructions.clear()
                value.blocks.clear()
        self.globals.clear()

    def __str__(self):
        lines = [f'; ModuleID = "{self.name}"', f'target triple = "{self.triple}"',
                 f'target datalayout = "{self.data_layout}"', ""]
        lines += [value.text() for value in self.globals.values()]
        lines += [node.text for node in self.metadata]
        return "\n".join(lines)


# --- instructions ----------------------------------------------------------------------------


class Instruction(Value):
    """`opname [flags] type operands`, e.g. `add nuw i64 %a, 8`: the binary operations. The
    other kinds are subclasses that print themselves their own way. Metadata is printed
    for the kinds that get any: loads, calls, branches."""

    __slots__ = ("opname", "operands", "flags", "metadata")

    def __init__(self, ref, typ, opname, operands):
        self.ref = ref
        self.type = typ
        self.opname = opname
        self.operands = operands
        self.flags = []
        self.metadata = None

    def set_metadata(self, name, node):
        if self.metadata is None:
            self.metadata = {}
        self.metadata[name] = node

    def metadata_text(self):
        if self.metadata is None:
            return ""
        return "".join([f", !{name} {node.ref}" for name, node in self.metadata.items()])

    def text(self):
        a, b = self.operands
        opname = " ".join([self.opname] + self.flags) if self.flags else self.opname
        return f"{opname} {self.type.text} {a.ref}, {b.ref}"


class UnaryInstr(Instruction):
    __slots__ = ()

    def text(self):
        return f"{self.opname} {self.type.text} {self.operands[0].ref}"


class CompareInstr(Instruction):
    """opname is icmp or fcmp; the predicate is the first flag."""

    __slots__ = ()

    def text(self):
        a, b = self.operands
        return f"{self.opname} {self.flags[0]} {a.type.text} {a.ref}, {b.ref}"


class CastInstr(Instruction):
    __slots__ = ()

    def text(self):
        value = self.operands[0]
        return f"{self.opname} {value.type.text} {value.ref} to {self.type.text}"


class SelectInstr(Instruction):
    __slots__ = ()

    def text(self):
        c, a, b = self.operands
        return (f"select {c.type.text} {c.ref}, {a.type.text} {a.ref}, "
                f"{b.type.text} {b.ref}")


class TypedOperandsInstr(Instruction):
    """Every operand with its type: extractelement, insertelement, shufflevector."""

    __slots__ = ()

    def text(self):
        return f"{self.opname} " + ", ".join([f"{op.type.text} {op.ref}"
                                              for op in self.operands])


def _align(align):
    """`, align N`, or nothing when the instruction has no alignment of its own."""
    return f", align {align}" if align is not None else ""


class LoadInstr(Instruction):
    """opname: load, `load volatile`, or `load atomic` with the ordering as a flag."""

    __slots__ = ("align",)

    def text(self):
        pointer = self.operands[0]
        ordering = f" {self.flags[0]}" if self.flags else ""
        return (f"{self.opname} {self.type.text}, ptr {pointer.ref}{ordering}"
                f"{_align(self.align)}{self.metadata_text()}")


class StoreInstr(Instruction):
    __slots__ = ("align",)

    def text(self):
        value, pointer = self.operands
        return f"store {value.type.text} {value.ref}, ptr {pointer.ref}{_align(self.align)}"


class AllocaInstr(Instruction):
    __slots__ = ("allocated_type", "align")

    def text(self):
        size = "".join([f", {op.type.text} {op.ref}" for op in self.operands])
        return f"alloca {self.allocated_type.text}{size}{_align(self.align)}"


class GEPInstr(Instruction):
    __slots__ = ("source_etype",)

    def text(self):
        pointer, *indices = self.operands
        return (f"{self.opname} {self.source_etype.text}, ptr {pointer.ref}, "
                + ", ".join([f"{i.type.text} {i.ref}" for i in indices]))


class CallInstr(Instruction):
    """operands: the callee (a Function, InlineAsm or signatures.FunctionPointer), then the
    arguments. `attributes`: of the call (nounwind, readnone)."""

    __slots__ = ("cconv", "tail", "arg_attrs", "attributes")

    def text(self):
        callee, *args = self.operands
        attrs = self.arg_attrs
        arg_text = ", ".join([f"{arg.type.text} {' '.join(attrs[i])} {arg.ref}"
                              if attrs and i in attrs else f"{arg.type.text} {arg.ref}"
                              for i, arg in enumerate(args)])
        head = f"{self.tail} call" if self.tail else "call"
        if self.cconv:
            head += " " + self.cconv
        attributes = "".join([" " + a for a in sorted(self.attributes)])
        return (f"{head} {self.type.text} {callee.ref}({arg_text}){attributes}"
                f"{self.metadata_text()}")


class PhiInstr(Instruction):
    """operands: the (value, block) of each incoming edge."""

    __slots__ = ()

    def add_incoming(self, value, block):
        self.operands.append((value, block))

    def text(self):
        return f"phi {self.type.text} " + ", ".join([f"[{v.ref}, {b.ref}]"
                                                      for v, b in self.operands])


class BranchInstr(Instruction):
    """br, unconditional (operands: the block) or conditional (condition, two blocks)."""

    __slots__ = ()

    def text(self):
        if len(self.operands) == 1:
            return f"br label {self.operands[0].ref}"
        condition, then, other = self.operands
        return (f"br i1 {condition.ref}, label {then.ref}, label {other.ref}"
                f"{self.metadata_text()}")


class SwitchInstr(Instruction):
    """operands: the value and the default block; then add_case adds (constant, block)."""

    __slots__ = ("cases",)

    def add_case(self, value, block):
        self.cases.append((value, block))

    def text(self):
        value, default = self.operands
        cases = " ".join([f"{v.type.text} {v.ref}, label {b.ref}" for v, b in self.cases])
        return f"switch {value.type.text} {value.ref}, label {default.ref} [{cases}]"


class ReturnInstr(Instruction):
    __slots__ = ()

    def text(self):
        if not self.operands:
            return "ret void"
        value = self.operands[0]
        return f"ret {value.type.text} {value.ref}"


class UnreachableInstr(Instruction):
    __slots__ = ()

    def text(self):
        return "unreachable"


class AtomicRMWInstr(Instruction):
    """opname: the operation (xchg, and, or...); the ordering is the flag."""

    __slots__ = ()

    def text(self):
        pointer, value = self.operands
        return (f"atomicrmw {self.opname} ptr {pointer.ref}, {value.type.text} {value.ref} "
                f"{self.flags[0]}")


# --- the builder -----------------------------------------------------------------------------

_ICMP_SIGNED = {"==": "eq", "!=": "ne", "<": "slt", "<=": "sle", ">": "sgt", ">=": "sge"}
_ICMP_UNSIGNED = {"==": "eq", "!=": "ne", "<": "ult", "<=": "ule", ">": "ugt", ">=": "uge"}
_FCMP_ORDERED = {"==": "oeq", "!=": "one", "<": "olt", "<=": "ole", ">": "ogt", ">=": "oge",
                 "ord": "ord", "uno": "uno"}
_FCMP_UNORDERED = {"==": "ueq", "!=": "une", "<": "ult", "<=": "ule", ">": "ugt", ">=": "uge",
                   "ord": "ord", "uno": "uno"}


def _bool_type(typ):
    """i1, or a vector of i1 as long as a vector `typ`."""
    if isinstance(typ, VectorType):
        return VectorType(_I1, typ.count)
    return _I1


class IRBuilder:
    """Appends instructions to a block (or inserts them before one, position_before),
    with the method names and arguments of llvmlite's IRBuilder."""

    def __init__(self, block):
        self.block = block
        self._index = None           # None: at the end of the block

    def position_at_end(self, block):
        self.block = block
        self._index = None

    def position_before(self, instr):
        self._index = self.block.instructions.index(instr)

    def append_basic_block(self, name=""):
        return self.block.function.append_basic_block(name)

    def _insert(self, instr):
        if self._index is None:
            self.block.instructions.append(instr)
        else:
            self.block.instructions.insert(self._index, instr)
            self._index += 1
        return instr

    def _ref(self, name=""):
        return f'%"{self.block.function.unique_name(name)}"'

    def _binary(self, opname, a, b, name="", flags=()):
        instr = Instruction(self._ref(name), a.type, opname, (a, b))
        if flags:
            instr.flags.extend(flags)
        return self._insert(instr)

    def add(self, a, b, name="", flags=()):
        return self._binary("add", a, b, name, flags)

    def sub(self, a, b, name="", flags=()):
        return self._binary("sub", a, b, name, flags)

    def mul(self, a, b, name="", flags=()):
        return self._binary("mul", a, b, name, flags)

    def sdiv(self, a, b, name=""):
        return self._binary("sdiv", a, b, name)

    def udiv(self, a, b, name=""):
        return self._binary("udiv", a, b, name)

    def srem(self, a, b, name=""):
        return self._binary("srem", a, b, name)

    def urem(self, a, b, name=""):
        return self._binary("urem", a, b, name)

    def and_(self, a, b, name=""):
        return self._binary("and", a, b, name)

    def or_(self, a, b, name=""):
        return self._binary("or", a, b, name)

    def xor(self, a, b, name=""):
        return self._binary("xor", a, b, name)

    def shl(self, a, b, name=""):
        return self._binary("shl", a, b, name)

    def lshr(self, a, b, name=""):
        return self._binary("lshr", a, b, name)

    def ashr(self, a, b, name=""):
        return self._binary("ashr", a, b, name)

    def fadd(self, a, b, name=""):
        return self._binary("fadd", a, b, name)

    def fsub(self, a, b, name=""):
        return self._binary("fsub", a, b, name)

    def fmul(self, a, b, name=""):
        return self._binary("fmul", a, b, name)

    def fdiv(self, a, b, name=""):
        return self._binary("fdiv", a, b, name)

    def not_(self, value, name=""):
        """xor with all ones, as llvmlite."""
        typ = value.type
        ones = Constant(typ, [-1] * typ.count if isinstance(typ, VectorType) else -1)
        return self._binary("xor", value, ones, name)

    def neg(self, value, name=""):
        """0 - value, as llvmlite."""
        return self._binary("sub", Constant(value.type, 0), value, name)

    def fneg(self, value, name=""):
        return self._insert(UnaryInstr(self._ref(name), value.type, "fneg", (value,)))

    def _compare(self, opname, predicate, a, b, name):
        instr = CompareInstr(self._ref(name), _bool_type(a.type), opname, (a, b))
        instr.flags.append(predicate)
        return self._insert(instr)

    def icmp_signed(self, op, a, b, name=""):
        return self._compare("icmp", _ICMP_SIGNED[op], a, b, name)

    def icmp_unsigned(self, op, a, b, name=""):
        return self._compare("icmp", _ICMP_UNSIGNED[op], a, b, name)

    def fcmp_ordered(self, op, a, b, name=""):
        return self._compare("fcmp", _FCMP_ORDERED[op], a, b, name)

    def fcmp_unordered(self, op, a, b, name=""):
        return self._compare("fcmp", _FCMP_UNORDERED[op], a, b, name)

    def _cast(self, opname, value, typ, name):
        """A cast to the value's own type is the value itself, as in llvmlite."""
        if value.type == typ:
            return value
        return self._insert(CastInstr(self._ref(name), typ, opname, (value,)))

    def trunc(self, value, typ, name=""):
        return self._cast("trunc", value, typ, name)

    def zext(self, value, typ, name=""):
        return self._cast("zext", value, typ, name)

    def sext(self, value, typ, name=""):
        return self._cast("sext", value, typ, name)

    def fptrunc(self, value, typ, name=""):
        return self._cast("fptrunc", value, typ, name)

    def fpext(self, value, typ, name=""):
        return self._cast("fpext", value, typ, name)

    def fptosi(self, value, typ, name=""):
        return self._cast("fptosi", value, typ, name)

    def fptoui(self, value, typ, name=""):
        return self._cast("fptoui", value, typ, name)

    def sitofp(self, value, typ, name=""):
        return self._cast("sitofp", value, typ, name)

    def uitofp(self, value, typ, name=""):
        return self._cast("uitofp", value, typ, name)

    def ptrtoint(self, value, typ, name=""):
        return self._cast("ptrtoint", value, typ, name)

    def inttoptr(self, value, typ, name=""):
        return self._cast("inttoptr", value, typ, name)

    def bitcast(self, value, typ, name=""):
        return self._cast("bitcast", value, typ, name)

    def select(self, condition, a, b, name=""):
        return self._insert(SelectInstr(self._ref(name), a.type, "select", (condition, a, b)))

    def extract_element(self, vector, index, name=""):
        return self._insert(TypedOperandsInstr(self._ref(name), vector.type.element,
                                               "extractelement", (vector, index)))

    def insert_element(self, vector, value, index, name=""):
        return self._insert(TypedOperandsInstr(self._ref(name), vector.type, "insertelement",
                                               (vector, value, index)))

    def shuffle_vector(self, a, b, mask, name=""):
        typ = VectorType(a.type.element, mask.type.count)
        return self._insert(TypedOperandsInstr(self._ref(name), typ, "shufflevector",
                                               (a, b, mask)))

    def load(self, pointer, name="", align=None, typ=None, volatile=False):
        instr = LoadInstr(self._ref(name), typ, "load volatile" if volatile else "load",
                          (pointer,))
        instr.align = align
        return self._insert(instr)

    def load_atomic(self, pointer, ordering, align, name="", typ=None):
        instr = LoadInstr(self._ref(name), typ, "load atomic", (pointer,))
        instr.flags.append(ordering)
        instr.align = align
        return self._insert(instr)

    def store(self, value, pointer, align=None):
        instr = StoreInstr(self._ref(), _VOID, "store", (value, pointer))
        instr.align = align
        return self._insert(instr)

    def alloca(self, typ, size=None, name=""):
        instr = AllocaInstr(self._ref(name), _PTR, "alloca", (size,) if size else ())
        instr.allocated_type = typ
        instr.align = None
        return self._insert(instr)

    def gep(self, pointer, indices, inbounds=False, name="", source_etype=None):
        opname = "getelementptr inbounds" if inbounds else "getelementptr"
        instr = GEPInstr(self._ref(name), _PTR, opname, (pointer, *indices))
        instr.source_etype = source_etype
        return self._insert(instr)

    def call(self, callee, args, name="", cconv=None, tail=None, arg_attrs=None):
        """`cconv`: by default a Function callee's own convention, as in llvmlite (a
        FunctionPointer or InlineAsm has none). `tail`: '', 'tail' or 'notail'."""
        instr = CallInstr(self._ref(name), callee.function_type.return_type, "call",
                          (callee, *args))
        instr.cconv = cconv if cconv is not None else getattr(callee, "calling_convention", "")
        instr.tail = tail or ""
        instr.arg_attrs = arg_attrs
        instr.attributes = set()
        return self._insert(instr)

    def atomic_rmw(self, op, pointer, value, ordering, name=""):
        instr = AtomicRMWInstr(self._ref(name), value.type, op, (pointer, value))
        instr.flags.append(ordering)
        return self._insert(instr)

    def phi(self, typ, name=""):
        return self._insert(PhiInstr(self._ref(name), typ, "phi", []))

    def branch(self, target):
        return self._insert(BranchInstr(self._ref(), _VOID, "br", (target,)))

    def cbranch(self, condition, then, other):
        return self._insert(BranchInstr(self._ref(), _VOID, "br", (condition, then, other)))

    def switch(self, value, default):
        instr = SwitchInstr(self._ref(), _VOID, "switch", (value, default))
        instr.cases = []
        return self._insert(instr)

    def ret(self, value):
        return self._insert(ReturnInstr(self._ref(), _VOID, "ret", (value,)))

    def ret_void(self):
        return self._insert(ReturnInstr(self._ref(), _VOID, "ret", ()))

    def unreachable(self):
        return self._insert(UnreachableInstr(self._ref(), _VOID, "unreachable", ()))
