"""LLVM's part: parse the IR text of the lowering (ir_text.py) and link the parts, verify,
run the optimisation pipeline of the chosen level (new pass manager), and generate the ELF
object."""

import llvmlite.binding as llvm

from . import CompileError

# Every function starts on a 64-byte cache line. Where a hot loop falls relative to a line
# (and the CPU's fetch and decoded-instruction windows) otherwise changes with the size of
# everything before it: fib's identical code ran 12% apart between two builds whose only
# difference was another function's size, and sha256's by 2-5%. Costs 32 bytes a function
# on average.
llvm.set_option("", "-align-all-functions=6")
# The SLP vectoriser (below) only where it saves at least 2 of its cost model's units: at
# its default of 0 it packed sha256's eight final state additions into vectors built lane
# by lane (vpinsrd), 7% slower; at 2 it leaves every benchmark's hot code as it was but
# nbody's, which it pairs as clang does natively (1.23x -> 1.10x native).
llvm.set_option("", "-slp-threshold=2")


def parse_and_link(ir_texts):
    """One llvmlite.binding ModuleRef from the IR texts of all parts, each verified."""
    linked = None
    for text in ir_texts:
        try:
            part = llvm.parse_assembly(text)
            part.verify()
        except RuntimeError as exc:
            # A bug in the lowering, not in the user's module: say so in one line.
            raise CompileError(f"internal error, LLVM rejected the generated IR: "
                               f"{str(exc).strip().splitlines()[0]}") from None
        if linked is None:
            linked = part
        else:
            linked.link_in(part)
    return linked


def optimize(module, machine, opt_level):
    """Run LLVM's pipeline for `opt_level` on the module, in place."""
    module.triple = machine.triple
    module.data_layout = str(machine.target_data)
    tuning = llvm.PipelineTuningOptions(speed_level=opt_level)
    # Both vectorisers from -O2 up, as clang.
    tuning.loop_vectorization = opt_level >= 2
    tuning.slp_vectorization = opt_level >= 2
    passes = llvm.PassBuilder(machine, tuning)
    passes.getModulePassManager().run(module, passes)


def emit_object(module, machine):
    return machine.emit_object(module)
