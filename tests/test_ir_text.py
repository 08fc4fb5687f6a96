"""compiler/ir_text.py: the IR the lowering builds prints as text LLVM reads, with llvmlite's
value names, and with the llvmlite.ir behaviour the lowering relies on."""

import gc

import pytest

pytest.importorskip("llvmlite")

import llvmlite.binding as llvm  # noqa: E402

from pywamr.compiler import ir_text as ir  # noqa: E402

I1, I32, I64, F64 = ir.IntType(1), ir.IntType(32), ir.IntType(64), ir.DoubleType()
PTR = ir.PointerType()


def loop_function():
    """u64 sum(ptr p, i32 n): the sum of n u64s at p, with a phi, a switch, metadata and
    flags added after the instructions were made."""
    module = ir.Module(name="test")
    fn = ir.Function(module, ir.FunctionType(I64, [PTR, I32]), "sum")
    fn.attributes.add("nounwind")
    p, n = fn.args
    entry, loop, done = (fn.append_basic_block(name) for name in ("entry", "loop", "done"))
    b = ir.IRBuilder(entry)
    b.branch(loop)
    b.position_at_end(loop)
    i = b.phi(I32, name="i")
    total = b.phi(I64, name="total")
    i.add_incoming(ir.Constant(I32, 0), entry)
    total.add_incoming(ir.Constant(I64, None), entry)
    address = b.gep(p, [b.zext(i, I64)], inbounds=True, source_etype=I64)
    value = b.load(address, typ=I64, align=8)
    value.set_metadata("invariant.load", module.add_metadata([]))
    next_total = b.add(total, value)
    next_i = b.add(i, ir.Constant(I32, 1))
    next_i.flags.append("nuw")
    i.add_incoming(next_i, loop)
    total.add_incoming(next_total, loop)
    switch = b.switch(b.icmp_unsigned("<", next_i, n), done)
    switch.add_case(ir.Constant(I1, 1), loop)
    b.position_at_end(done)
    b.ret(next_total)
    return module


def test_text_parses_and_keeps_llvmlite_names():
    module = loop_function()
    parsed = llvm.parse_assembly(str(module))
    parsed.verify()
    text = str(parsed)
    # Arguments and the return value take .1 to .3; every instruction takes a number, also
    # a void one (the branch is .4).
    assert "define i64 @sum(ptr %.1, ptr %.2" not in text     # the types are kept
    assert "define i64 @sum(ptr %.1, i32 %.2) #0" in text
    assert "%i = phi i32 [ 0, %entry ], [ %.9, %loop ]" in text
    assert "%.9 = add nuw i32 %i, 1" in text
    assert "load i64, ptr %.6, align 8, !invariant.load !0" in text


def test_names_are_made_unique_as_llvmlite_does():
    fn = ir.Function(ir.Module(), ir.FunctionType(ir.VoidType(), []), "f")
    names = [fn.append_basic_block(name).name for name in ("then", "then", "", "then", "")]
    assert names == ["then", "then.1", ".2", "then.2", ".3"]


def test_a_cast_to_the_same_type_is_the_value():
    fn = ir.Function(ir.Module(), ir.FunctionType(I32, [I32]), "f")
    b = ir.IRBuilder(fn.append_basic_block())
    x = fn.args[0]
    assert b.zext(x, I32) is x and b.bitcast(x, I32) is x
    assert b.zext(x, I64) is not x


def test_constants_of_the_same_text_are_equal():
    """addresses.py keys bounds checks and locals by value; equal constants share a key."""
    assert ir.Constant(I32, 8) == ir.Constant(I32, 8)
    assert len({ir.Constant(I32, 8), ir.Constant(I32, 8), ir.Constant(I64, 8)}) == 2
    assert ir.Constant(I32, None).constant == 0


def test_float_constants_are_exact():
    module = ir.Module()
    fn = ir.Function(module, ir.FunctionType(F64, []), "f")
    ir.IRBuilder(fn.append_basic_block()).ret(ir.Constant(F64, 0.1))
    assert "ret double 1.000000e-01" in str(llvm.parse_assembly(str(module)))


def test_discard_leaves_no_cycles():
    gc.collect()
    gc.disable()
    try:
        module = loop_function()
        module.discard()
        del module
        assert gc.collect() == 0
    finally:
        gc.enable()
