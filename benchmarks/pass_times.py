"""Where LLVM's time goes in pyaotc: compile one part of a module with LLVM's pass timers on
and print the report (the passes of the optimisation pipeline, then code generation's).

Usage: python pass_times.py MODULE.wasm [OPT_LEVEL] [PART]   (docs/compiler.md, "Where the
time goes")
"""

import sys

import llvmlite.binding as llvm

from pywamr.compiler.driver import CompileOptions
from pywamr.compiler.part_compiler import PartCompiler, PartJob
from pywamr.compiler.partition import split_functions
from pywamr.compiler.target import create_target_machine, resolve_target
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.validator import validate


def main(path, opt_level=3, part_index=0):
    options = CompileOptions(opt_level=opt_level)
    spec = resolve_target(options.target, opt_level=opt_level)
    machine = create_target_machine(spec, check_names=False)
    with open(path, "rb") as f:
        module = decode_module(f.read())
    validate(module)
    part = split_functions(module)[part_index]
    job = PartJob(module, machine, spec.arch, opt_level, bounds_checks=False,
                  signed_addresses=True, fuel=False, interrupt_checks=True)
    llvm.set_time_passes(True)
    image, seconds = PartCompiler(job).compile(part)
    print(llvm.report_and_reset_timings())
    print(f"part {part_index}: {len(part.codes)} functions, {part.size} bytes of code: "
          + ", ".join(f"{phase} {value:.2f} s" for phase, value in seconds.items()))


if __name__ == "__main__":
    main(sys.argv[1], *(int(arg) for arg in sys.argv[2:]))
