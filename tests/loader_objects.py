"""Inputs for the loader tests: x86_64 objects LLVM makes from hand-written IR (every code
model and relocation model, so every relocation kind LLVM emits shows up), and `.aot` files
compiled from WAT by the real compiler."""

import ctypes
import subprocess

import llvmlite.binding as llvm

from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.compiler.elf_reader import read_elf_object
from pywamr.loader.aot_file import AotFile, Relocation, Section, Symbol, Target
from pywamr.runtime.module import Module

TRIPLE = "x86_64-unknown-linux-gnu"

# A jump table, a constant pool, initialised and zeroed data, a function pointer in data,
# libc and libm calls, and the address of a libm function (through the GOT when PIC).
IR_MODULE = r"""
@table = internal constant [4 x i64] [i64 10, i64 20, i64 30, i64 40]
@data = internal global [4 x i64] [i64 1, i64 2, i64 3, i64 4]
@zeros = internal global [64 x i64] zeroinitializer
@callback = internal global ptr @pick
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
declare double @fmod(double, double)

define i32 @pick(i32 %x) noinline {
entry:
  switch i32 %x, label %other [ i32 0, label %a  i32 1, label %b  i32 2, label %c
                                i32 3, label %d  i32 4, label %e ]
a: ret i32 11
b: ret i32 22
c: ret i32 33
d: ret i32 44
e: ret i32 55
other:
  %i = and i32 %x, 3
  %p = getelementptr [4 x i64], ptr @table, i32 0, i32 %i
  %v = load i64, ptr %p
  %t = trunc i64 %v to i32
  ret i32 %t
}

define double @work(ptr %dst, double %a) noinline {
  call void @llvm.memcpy.p0.p0.i64(ptr %dst, ptr @data, i64 32, i1 false)
  %r = call double @fmod(double %a, double 3.25)
  %s = fadd double %r, 1.5
  %f = load ptr, ptr @callback
  %z = call i32 %f(i32 2)
  %zf = sitofp i32 %z to double
  %p = getelementptr [64 x i64], ptr @zeros, i32 0, i32 63
  store i64 7, ptr %p
  %q = load i64, ptr %p
  %qf = sitofp i64 %q to double
  %u = fadd double %s, %zf
  %w = fadd double %u, %qf
  ret double %w
}

define ptr @fmod_address() noinline {
  ret ptr @fmod
}
"""
# work(dst, 10.0): fmod(10, 3.25) + 1.5 + pick(2) + 7
WORK_RESULT = 10.0 % 3.25 + 1.5 + 33 + 7

CODE_MODELS = ["small", "kernel", "medium", "large"]


def object_aot_file(ir=IR_MODULE, code_model="small", reloc="pic", opt=2):
    """An AotFile (as the reader returns it) holding LLVM's object for `ir`."""
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    module = llvm.parse_assembly(f'target triple = "{TRIPLE}"\n' + ir)
    machine = llvm.Target.from_triple(TRIPLE).create_target_machine(
        opt=opt, reloc=reloc, codemodel=code_model)
    image = read_elf_object(machine.emit_object(module), "x86_64")
    return AotFile(
        Target("x86_64", TRIPLE, "generic", "", code_model, opt, 0, "explicit", 65536), Module(),
        [Section(s.name, s.data, s.size, s.align, s.executable, s.writable)
         for s in image.sections],
        [Symbol(s.name, s.section, s.offset) for s in image.symbols],
        [Relocation(r.section, r.offset, r.type, r.symbol, r.addend)
         for r in image.relocations])


def native_function(address, restype, *argtypes):
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)


def wat_to_wasm(text, tmp_path, name="module"):
    source = tmp_path / f"{name}.wat"
    source.write_text(text)
    out = tmp_path / f"{name}.wasm"
    subprocess.run(["wat2wasm", "-o", str(out), str(source)], check=True)
    return out.read_bytes()


def compile_wat(text, tmp_path, name="module", **options):
    """The `.aot` bytes the real compiler makes from WAT source."""
    return compile_wasm(wat_to_wasm(text, tmp_path, name), CompileOptions(**options))
