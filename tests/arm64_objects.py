"""AArch64 ELF objects made by LLVM (through llvmlite) for testing the relocator on real
compiler output, and their description as plain data for tests/arm64_object_loader.py.

The module below uses every kind of address the compiler's code needs: calls to libc and libm
(far from the code, so through veneers), globals of each access size, a vector, a constant
pool, a jump table, a function pointer in data, and an external variable through the GOT.
EXPECTED says what each function returns, from Python's own arithmetic.
"""

import math

TRIPLE = "aarch64-unknown-linux-gnu"

MODULE = r"""
@table = dso_local global [4 x i64] [i64 100, i64 200, i64 300, i64 400]
@bytes = dso_local global [8 x i8] c"ABCDEFGH"
@half = dso_local global i16 -7
@word = dso_local global i32 1000
@vector = dso_local global <4 x i32> <i32 1, i32 2, i32 30000, i32 4>
@buffer = dso_local global [4 x i64] zeroinitializer
@callback = dso_local global ptr @twice
@host_value = external global i32

declare double @fmod(double, double)
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)

define i32 @twice(i32 %x) #0 {
  %r = shl i32 %x, 1
  ret i32 %r
}

define i64 @sum_globals(i32 %i) #0 {
  %pt = getelementptr [4 x i64], ptr @table, i32 0, i32 %i
  %t = load i64, ptr %pt
  %pb = getelementptr [8 x i8], ptr @bytes, i32 0, i32 %i
  %b = load i8, ptr %pb
  %h = load i16, ptr @half
  %w = load i32, ptr @word
  %v = load <4 x i32>, ptr @vector
  %e = extractelement <4 x i32> %v, i32 2
  %g = load i32, ptr @host_value
  %b64 = zext i8 %b to i64
  %h64 = sext i16 %h to i64
  %w64 = sext i32 %w to i64
  %e64 = sext i32 %e to i64
  %g64 = sext i32 %g to i64
  %s1 = add i64 %t, %b64
  %s2 = add i64 %s1, %h64
  %s3 = add i64 %s2, %w64
  %s4 = add i64 %s3, %e64
  %s5 = add i64 %s4, %g64
  ret i64 %s5
}

define double @fmod_plus(double %a) #0 {
  %r = call double @fmod(double %a, double 3.3)
  %s = fadd double %r, 0.1
  ret double %s
}

define i64 @copy_table(i64 %n) #0 {
  call void @llvm.memcpy.p0.p0.i64(ptr @buffer, ptr @table, i64 %n, i1 false)
  %p = getelementptr [4 x i64], ptr @buffer, i32 0, i32 1
  %v = load i64, ptr %p
  ret i64 %v
}

define i32 @dispatch(i32 %x) #0 {
entry:
  switch i32 %x, label %other [ i32 0, label %c0  i32 1, label %c1  i32 2, label %c2
                                i32 3, label %c3  i32 4, label %c4  i32 5, label %c5
                                i32 6, label %c6 ]
c0:
  ret i32 11
c1:
  %r1 = call i32 @dispatch(i32 0)
  %a1 = add i32 %r1, 1
  ret i32 %a1
c2:
  %f = load ptr, ptr @callback
  %r2 = call i32 %f(i32 21)
  ret i32 %r2
c3:
  %r3 = tail call i32 @twice(i32 50)
  ret i32 %r3
c4:
  ret i32 44
c5:
  ret i32 55
c6:
  ret i32 66
other:
  ret i32 -1
}

attributes #0 = { uwtable ATTRIBUTES }
"""

HOST_VALUE = -5  # the value of @host_value, which the object loader defines

# (function, ctypes signature, arguments, result)
EXPECTED = [
    ("sum_globals", "i64(i32)", [2], 300 + ord("C") - 7 + 1000 + 30000 + HOST_VALUE),
    ("sum_globals", "i64(i32)", [3], 400 + ord("D") - 7 + 1000 + 30000 + HOST_VALUE),
    ("fmod_plus", "f64(f64)", [100.5], math.fmod(100.5, 3.3) + 0.1),
    ("fmod_plus", "f64(f64)", [-7.25], math.fmod(-7.25, 3.3) + 0.1),
    ("copy_table", "i64(i64)", [16], 200),
    *[("dispatch", "i32(i32)", [x], result)
      for x, result in enumerate([11, 12, 42, 100, 44, 55, 66, -1, -1])],
]


def compile_object(code_model, opt, attributes=""):
    """The test module as an AArch64 ELF relocatable object."""
    import llvmlite.binding as llvm

    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    target = llvm.Target.from_triple(TRIPLE)
    machine = target.create_target_machine(opt=opt, codemodel=code_model, reloc="static")
    module = llvm.parse_assembly(MODULE.replace("ATTRIBUTES", attributes))
    module.triple = TRIPLE
    module.data_layout = str(machine.target_data)
    module.verify()
    if opt:
        tuning = llvm.create_pipeline_tuning_options(speed_level=opt)
        builder = llvm.create_pass_builder(machine, tuning)
        builder.getModulePassManager().run(module, builder)
    return machine.emit_object(module)


def describe_object(data):
    """The allocated sections, defined functions and relocations of an ELF object, as plain
    data (JSON-ready). A relocation's target is {"section", "value"} or {"undefined": name}."""
    import lief

    elf = lief.ELF.parse(list(data))
    sections = [s for s in elf.sections if s.has(lief.ELF.Section.FLAGS.ALLOC)]
    names = {s.name for s in sections}

    def target(symbol):
        if symbol.shndx == 0:
            return {"undefined": symbol.name}
        return {"section": elf.sections[symbol.shndx].name, "value": symbol.value}

    return {
        "sections": [{"name": s.name,
                      "size": s.size,
                      "alignment": max(s.alignment, 1),
                      "executable": s.has(lief.ELF.Section.FLAGS.EXECINSTR),
                      "data": None if s.type == lief.ELF.Section.TYPE.NOBITS
                      else bytes(s.content).hex()} for s in sections],
        "functions": {sym.name: {"section": elf.sections[sym.shndx].name, "value": sym.value}
                      for sym in elf.symbols
                      if sym.type == lief.ELF.Symbol.TYPE.FUNC and sym.shndx != 0},
        "relocations": [{"section": r.section.name,
                         "offset": r.address,
                         "type": int(r.type) & 0xFFFF,
                         "addend": r.addend,
                         "target": target(r.symbol)}
                        for r in elf.relocations if r.section.name in names],
    }
