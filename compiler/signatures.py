"""WebAssembly types as LLVM types, and the native signature of a wasm function (see
docs/aot-abi.md, "Calling convention"), including how a value travels as 64 bits in a u64
slot (argv arrays and multi-value result buffers)."""

from llvmlite import ir

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I16 = ir.IntType(16)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
F32 = ir.FloatType()
F64 = ir.DoubleType()
PTR = ir.PointerType()
VOID = ir.VoidType()

VALUE_TYPES = {"i32": I32, "i64": I64, "f32": F32, "f64": F64,
               "funcref": PTR, "externref": PTR}


def llvm_type(valtype):
    return VALUE_TYPES[valtype]


def returns_via_buffer(functype):
    """Two or more results come back through a trailing `u64* results` argument."""
    return len(functype.results) > 1


def llvm_function_type(functype):
    """`R f(VMContext* ctx, P0 p0, ...)`, or `void f(ctx, params..., u64* results)`."""
    params = [PTR] + [llvm_type(t) for t in functype.params]
    if not functype.results:
        return ir.FunctionType(VOID, params)
    if returns_via_buffer(functype):
        return ir.FunctionType(VOID, params + [PTR])
    return ir.FunctionType(llvm_type(functype.results[0]), params)


def to_slot(builder, value, valtype):
    """A value's bits as an i64 for a u64 slot (32-bit values zero-extended)."""
    if valtype == "i64":
        return value
    if valtype == "i32":
        return builder.zext(value, I64)
    if valtype == "f32":
        return builder.zext(builder.bitcast(value, I32), I64)
    if valtype == "f64":
        return builder.bitcast(value, I64)
    return builder.ptrtoint(value, I64)


def from_slot(builder, bits, valtype):
    """The inverse of `to_slot`."""
    if valtype == "i64":
        return bits
    if valtype == "i32":
        return builder.trunc(bits, I32)
    if valtype == "f32":
        return builder.bitcast(builder.trunc(bits, I32), F32)
    if valtype == "f64":
        return builder.bitcast(bits, F64)
    return builder.inttoptr(bits, PTR)


def store_slots(builder, buffer, values, valtypes):
    for i, (value, valtype) in enumerate(zip(values, valtypes)):
        slot = builder.gep(buffer, [ir.Constant(I64, i)], source_etype=I64)
        builder.store(to_slot(builder, value, valtype), slot)


def load_slots(builder, buffer, valtypes):
    values = []
    for i, valtype in enumerate(valtypes):
        slot = builder.gep(buffer, [ir.Constant(I64, i)], source_etype=I64)
        values.append(from_slot(builder, builder.load(slot, typ=I64), valtype))
    return values


class FunctionPointer:
    """A function pointer value together with the signature to call it with: llvmlite's
    `IRBuilder.call` reads the callee's `function_type`, which an opaque `ptr` lacks."""

    def __init__(self, pointer, function_type):
        self.pointer = pointer
        self.function_type = function_type
        self.type = PTR

    def get_reference(self):
        return self.pointer.get_reference()
