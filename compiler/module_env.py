"""What every function's lowering shares: the wasm module's index spaces, and the LLVM module
being built with its functions, intrinsics and metadata nodes.

A big wasm module is lowered into several LLVM modules in turn (see module_codegen.py), so
`start_llvm_module` begins a fresh one; a function defined in another part is declared here
when it is called.
"""

from pywamr.runtime import aot_abi as abi
from pywamr.runtime import opcodes

from . import ir_text as ir
from .signatures import (I32, TAIL_CALLING_CONVENTION, WASM_CALLING_CONVENTION,
                         llvm_function_type, mark_wasm_function)

TAIL_CALL_OPS = frozenset(opcodes.NAMES[name] for name in (
    "return_call", "return_call_indirect", "return_call_ref"))
CALL_OPS = frozenset(opcodes.NAMES[name] for name in (
    "call", "call_indirect", "call_ref")) | TAIL_CALL_OPS


class ModuleEnv:
    def __init__(self, module, triple, bounds_checks=True, signed_addresses=False, fuel=False,
                 interrupt_checks=True, opt_level=3):
        self.wasm = module
        self.triple = triple
        # -O0: LLVM selects instructions with its fast selector (FunctionEnv.isolate_terminator)
        self.fast_selection = opt_level == 0
        self.bounds_checks = bounds_checks
        self.fuel = fuel            # charge fuel (runtime/fuel.py)
        self.interrupt_checks = interrupt_checks   # docs/aot-abi.md, "Interruption"
        # Memory is limited to 2 GiB, so addresses may be sign-extended (addresses.py).
        self.signed_addresses = signed_addresses
        self.func_types = [module.types[t] for t in module.func_type_indices()]
        self.num_imported_funcs = module.num_imported_funcs
        self.global_types = module.all_global_types()
        self.tag_types = [module.types[t] for t in module.tag_type_indices()]
        # Whether each memory and table is 64-bit (memory64): i64 addresses, sizes, indices.
        self.memory64 = [t.address_type == "i64" for t in module.all_memories()]
        self.table64 = [t.address_type == "i64" for t in module.all_tables()]
        # Results of multi-value calls pass through a buffer of u64 slots as big as the largest
        # result list needs.
        self.max_result_slots = max((abi.slot_count(t.results) for t in module.types), default=0)
        self._checks_at_entry = {}
        self._tail_entries = {}
        self.start_llvm_module()

    def checks_at_entry(self, func_index):
        """Whether the function checks the stack limit at its entry: a defined function that
        calls (translator.py)."""
        return self._body_uses(func_index, CALL_OPS, self._checks_at_entry)

    def has_tail_entry(self, func_index):
        """Whether the function's body is a tail entry (`aot_tail_N`, calls.py): a defined
        function that makes tail calls."""
        return self._body_uses(func_index, TAIL_CALL_OPS, self._tail_entries)

    def _body_uses(self, func_index, ops, known):
        """Whether the function is defined and its body has one of `ops`; remembered in
        `known`. The body may be in another part: looked into without keeping it decoded."""
        if func_index not in known:
            defined = func_index - self.num_imported_funcs
            known[func_index] = defined >= 0 and any(
                instr.op in ops for instr in self.wasm.codes[defined].instructions())
        return known[func_index]

    def start_llvm_module(self):
        self.llvm = ir.Module(name="wasm")
        self.llvm.triple = self.triple
        self.invariant = self.llvm.add_metadata([])
        # Branch weights (taken, not taken) of a branch to a trap exit: keeps trap blocks off
        # the fast path in LLVM's block placement.
        self.unlikely = self.llvm.add_metadata(
            [ir.MetaDataString(self.llvm, "branch_weights"), ir.Constant(I32, 1),
             ir.Constant(I32, 2000)])

    def release_llvm_module(self):
        """Free the finished LLVM module's Python objects before LLVM works on its text."""
        self.llvm.discard()
        self.llvm = self.invariant = self.unlikely = None

    def function(self, func_index):
        """`aot_func_N` of a defined function in the current LLVM module: a declaration until
        its body is translated into it."""
        name = abi.func_symbol(func_index)
        existing = self.llvm.globals.get(name)
        if existing is not None:
            return existing
        return self.define_wasm_function(name, self.func_types[func_index])

    def tail_entry(self, func_index):
        """`aot_tail_N` of a function that has one, in the current LLVM module. Never inlined
        into its `aot_func_N`, where its tail calls would not be jumps."""
        name = abi.tail_symbol(func_index)
        existing = self.llvm.globals.get(name)
        if existing is not None:
            return existing
        fn = self.define_wasm_function(name, self.func_types[func_index],
                                       TAIL_CALLING_CONVENTION)
        fn.attributes.add("noinline")
        return fn

    def body_function(self, func_index):
        """The function a defined function's body is translated into."""
        if self.has_tail_entry(func_index):
            return self.tail_entry(func_index)
        return self.function(func_index)

    def define_wasm_function(self, name, functype, convention=WASM_CALLING_CONVENTION):
        """A function of the wasm calling convention (signatures.py), or a tail entry's."""
        fn = self.define_function(name, llvm_function_type(functype))
        return mark_wasm_function(fn, convention)

    def define_function(self, name, fnty):
        """A global function with the attributes every compiled function carries."""
        fn = ir.Function(self.llvm, fnty, name)
        # Unwind tables (.eh_frame), which a trap's backtrace is read with (traps.py).
        fn.attributes.add("nounwind")
        fn.attributes.add("uwtable")
        return fn

    def intrinsic(self, name, ret, args):
        """Declare (once) and return an LLVM intrinsic or libc function."""
        existing = self.llvm.globals.get(name)
        if existing is not None:
            return existing
        return ir.Function(self.llvm, ir.FunctionType(ret, args), name)

    def metadata_string(self, text):
        return ir.MetaDataString(self.llvm, text)

    def constrained_args(self):
        """The two metadata arguments of a constrained FP intrinsic: default rounding, and
        'may trap', which forbids folds that would let a signalling NaN through unquieted."""
        return [self.metadata_string("round.tonearest"), self.metadata_string("fpexcept.maytrap")]
