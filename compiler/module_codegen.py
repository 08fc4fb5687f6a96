"""A whole wasm module as LLVM IR: `aot_func_N` for every defined function, `aot_import_N`
for every imported one, `aot_array_call_T` for every type.

llvmlite.ir keeps about 2 KB of Python objects per wasm instruction, so a big module is
lowered in parts of about PART_INSTRUCTIONS instructions each: every part becomes LLVM IR text
and is parsed and linked into one LLVM module before the next is built (driver.py). A call
into another part is a declaration that linking resolves.
"""

from pywamr.runtime import opcodes

from . import CompileError
from .guard_pages import define_fault_handler
from .interruption import define_interrupt_handler, define_request_interrupt
from .module_env import ModuleEnv
from .trampolines import define_array_call, define_import_adapter
from .translator import FunctionTranslator

PART_INSTRUCTIONS = 100_000


def build_llvm_modules(module, triple, bounds_checks=True, signed_addresses=False, simd=True,
                       progress=None, fuel=False, interrupt_checks=True):
    """Lower `module` (decoded and validated), yielding llvmlite ir.Modules that together
    define everything. `signed_addresses`: memory stops at 2 GiB (addresses.py).
    `simd=False` refuses modules that use v128 (--disable-simd).
    `progress`, if given, is called with the number of function bodies done so far.
    `fuel`: charge fuel (runtime/fuel.py, pyaotc --fuel). `interrupt_checks`: check
    ExecEnv.interrupt at loop headers and function entries (--interrupt-checks)."""
    if not simd:
        refuse_simd(module)
    menv = ModuleEnv(module, triple, bounds_checks, signed_addresses, fuel, interrupt_checks)
    for func_index in range(menv.num_imported_funcs):
        define_import_adapter(menv, func_index)
    for type_index in range(len(module.types)):
        define_array_call(menv, type_index)
    if not bounds_checks:
        define_fault_handler(menv)
    define_interrupt_handler(menv)
    define_request_interrupt(menv)
    part_size = 0
    for i, body in enumerate(module.codes):
        if part_size >= PART_INSTRUCTIONS:
            yield menv.llvm
            menv.start_llvm_module()
            part_size = 0
        FunctionTranslator(menv, menv.num_imported_funcs + i, body).translate()
        part_size += len(body.body)
        if progress is not None:
            progress(i + 1)
    yield menv.llvm


def refuse_simd(module):
    """CompileError for the first use of v128 or a SIMD instruction."""
    disabled = "SIMD is disabled (--disable-simd)"
    for type_index, functype in enumerate(module.types):
        if "v128" in functype.params or "v128" in functype.results:
            raise CompileError(f"{disabled}: type {type_index} uses v128")
    for global_index, globaltype in enumerate(module.all_global_types()):
        if globaltype.valtype == "v128":
            raise CompileError(f"{disabled}: global {global_index} is a v128")
    for i, body in enumerate(module.codes):
        func_index = module.num_imported_funcs + i
        if any(valtype == "v128" for _, valtype in body.locals):
            raise CompileError(f"{disabled}: function {func_index} has a v128 local")
        for instr in body.body:
            if instr.op >= 0xFD00:
                raise CompileError(f"{disabled}: function {func_index} uses "
                                   f"{opcodes.name(instr.op)}")
