"""A wasm module as LLVM IR: `aot_func_N` for every defined function (and `aot_tail_N` for
one that makes tail calls, calls.py), `aot_import_N` for every imported one,
`aot_array_call_T` for every type.

The module is lowered a part at a time (partition.py): each part is an LLVM module of its
own, holding a run of consecutive function bodies; the first part also holds the import
adapters, array calls and handlers. A call into another part is a declaration, resolved
when the parts' objects are merged (object_merge.py) or, for `--format object|llvmir`,
when the parts are linked in LLVM (backend.parse_and_link).
"""

from pywamr.runtime import opcodes

from . import CompileError
from .calls import define_tail_wrapper
from .guard_pages import define_fault_handler
from .interruption import define_interrupt_handler, define_request_interrupt
from .trampolines import define_array_call, define_import_adapter
from .translator import FunctionTranslator


def build_llvm_part(menv, part, progress=None):
    """The ir_text.Module of `part` (a partition.Part). `progress`, if given, is called
    after each function body with the number done in this part."""
    menv.start_llvm_module()
    if part.index == 0:
        define_shared_code(menv)
    for done, i in enumerate(part.codes, 1):
        func_index = menv.num_imported_funcs + i
        FunctionTranslator(menv, func_index, menv.wasm.codes[i]).translate()
        if menv.has_tail_entry(func_index):
            define_tail_wrapper(menv, func_index)
        if progress is not None:
            progress(done)
    for i in part.codes:
        menv.wasm.codes[i].release()     # a worker's memory follows its part
    return menv.llvm


def define_shared_code(menv):
    """What is not a function body: import adapters, array calls, the handlers."""
    for func_index in range(menv.num_imported_funcs):
        define_import_adapter(menv, func_index)
    for type_index in range(len(menv.wasm.types)):
        define_array_call(menv, type_index)
    if not menv.bounds_checks:
        define_fault_handler(menv)
    define_interrupt_handler(menv)
    define_request_interrupt(menv)


def refuse_simd(module):
    """CompileError for the first use of v128 or a SIMD instruction (--disable-simd)."""
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
        for instr in body.instructions():
            if instr.op >= 0xFD00:
                raise CompileError(f"{disabled}: function {func_index} uses "
                                   f"{opcodes.name(instr.op)}")
