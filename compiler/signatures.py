"""WebAssembly types as LLVM types, and the native signature of a wasm function (see
docs/aot-abi.md, "Calling convention"), including how a value travels in u64 slots (argv
arrays and multi-value result buffers): one slot per value, two for a v128."""

from pywamr.runtime.aot_abi import slot_count
from pywamr.runtime.types import ByRepresentation

from . import ir_text as ir

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I16 = ir.IntType(16)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
F32 = ir.FloatType()
F64 = ir.DoubleType()
PTR = ir.PointerType()
VOID = ir.VoidType()
# A v128 at rest: two i64 lanes, the halves it takes in u64 slots (see docs/compiler.md).
V128 = ir.VectorType(I64, 2)

VALUE_TYPES = ByRepresentation({"i32": I32, "i64": I64, "f32": F32, "f64": F64, "v128": V128,
                                "funcref": PTR, "externref": PTR, "exnref": PTR})


def llvm_type(valtype):
    return VALUE_TYPES[valtype]


def returns_via_buffer(functype):
    """Two or more results come back through a trailing `u64* results` argument."""
    return len(functype.results) > 1


# A function's wasm params follow two hidden ones: the calling thread's ExecEnv* and the
# function's instance's VMContext*.
FIRST_PARAM = 2

# Wasm functions use LLVM's Swift convention with the ExecEnv* as its `swiftself` argument,
# which both targets pass in a callee-saved register (r13 on x86_64, x20 on AArch64): every
# function passes it on unchanged, so it stays in that register across calls instead of being
# copied into a callee-saved one and back at each call (fib: 1.28x native -> 1.07x).
WASM_CALLING_CONVENTION = "swiftcc"
# A function that makes tail calls has its body in a tail entry of LLVM's `swifttailcc`, with
# the same signature: a call marked `tail` between two such functions is always a jump, whatever
# their signatures (the callee pops its stack arguments). Only tail entries use it: it keeps
# swiftself in r13/x20 but not across calls (not callee-saved), and pads each call's stack
# arguments, which made fib 12% slower when every function used it (docs/aot-abi.md,
# "Tail calls").
TAIL_CALLING_CONVENTION = "swifttailcc"


def llvm_function_type(functype):
    """`R f(ExecEnv* env, VMContext* ctx, P0 p0, ...)`, or `void f(env, ctx, params...,
    u64* results)`."""
    params = [PTR, PTR] + [llvm_type(t) for t in functype.params]
    if not functype.results:
        return ir.FunctionType(VOID, params)
    if returns_via_buffer(functype):
        return ir.FunctionType(VOID, params + [PTR])
    return ir.FunctionType(llvm_type(functype.results[0]), params)


def mark_wasm_function(fn, convention=WASM_CALLING_CONVENTION):
    """Give a definition of `llvm_function_type` the wasm calling convention (or a tail
    entry's)."""
    fn.calling_convention = convention
    fn.args[0].add_attribute("swiftself")
    return fn


def call_wasm(builder, callee, args, convention=WASM_CALLING_CONVENTION, tail="notail"):
    """Call a wasm function (an ir.Function or FunctionPointer) with `args` = env, ctx,
    params... . Calls are `notail`, but for tail calls between tail entries (`tail`): turning
    recursion into a loop would lose the stack check that makes infinite recursion trap
    "call stack exhausted"."""
    return builder.call(callee, args, cconv=convention, tail=tail,
                        arg_attrs={0: ("swiftself",)})


def to_slots(builder, value, valtype):
    """A value's bits as the i64s of its u64 slots (32-bit values zero-extended; a v128's
    low half first)."""
    if valtype == "i64":
        return [value]
    if valtype == "i32":
        return [builder.zext(value, I64)]
    if valtype == "f32":
        return [builder.zext(builder.bitcast(value, I32), I64)]
    if valtype == "f64":
        return [builder.bitcast(value, I64)]
    if valtype == "v128":
        return [builder.extract_element(value, ir.Constant(I32, i)) for i in range(2)]
    return [builder.ptrtoint(value, I64)]


def from_slots(builder, words, valtype):
    """The inverse of `to_slots`."""
    bits = words[0]
    if valtype == "i64":
        return bits
    if valtype == "i32":
        return builder.trunc(bits, I32)
    if valtype == "f32":
        return builder.bitcast(builder.trunc(bits, I32), F32)
    if valtype == "f64":
        return builder.bitcast(bits, F64)
    if valtype == "v128":
        value = ir.Constant(V128, None)
        for i, word in enumerate(words):
            value = builder.insert_element(value, word, ir.Constant(I32, i))
        return value
    return builder.inttoptr(bits, PTR)


def _slot(builder, buffer, index):
    return builder.gep(buffer, [ir.Constant(I64, index)], source_etype=I64)


def store_slots(builder, buffer, values, valtypes):
    index = 0
    for value, valtype in zip(values, valtypes):
        for word in to_slots(builder, value, valtype):
            builder.store(word, _slot(builder, buffer, index))
            index += 1


def load_slots(builder, buffer, valtypes):
    values = []
    index = 0
    for valtype in valtypes:
        count = slot_count([valtype])
        words = [builder.load(_slot(builder, buffer, index + i), typ=I64) for i in range(count)]
        values.append(from_slots(builder, words, valtype))
        index += count
    return values


class FunctionPointer:
    """A function pointer value together with the signature to call it with: the builder's
    `call` reads the callee's `function_type`, which an opaque `ptr` lacks."""

    def __init__(self, pointer, function_type):
        self.pointer = pointer
        self.function_type = function_type
        self.type = PTR
        self.ref = pointer.ref
