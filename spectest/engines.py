"""The engines the runner can drive. `prepare` runs on the build machine (e.g. compiles);
`load` runs where the code executes and turns prepared bytes into a module to instantiate."""


class InterpEngine:
    name = "interp"

    def prepare(self, wasm):
        return wasm

    def load(self, data):
        from pywamr.runtime.interp import Module
        return Module(data)


class AotEngine:
    name = "aot"

    def __init__(self, target=None, opt_level=3, size_level=3, bounds_checks=False,
                 compile_jobs=None, part_bytes=None):
        self.target = target
        self.opt_level = opt_level
        self.size_level = size_level
        self.bounds_checks = bounds_checks
        self.compile_jobs = compile_jobs              # pyaotc -j
        self.part_bytes = part_bytes    # None: the compiler's split

    def prepare(self, wasm):
        from pywamr.compiler.driver import CompileOptions, compile_wasm
        options = CompileOptions(target=self.target, opt_level=self.opt_level,
                                 size_level=self.size_level, bounds_checks=self.bounds_checks,
                                 jobs=self.compile_jobs)
        if self.part_bytes:
            options.part_bytes = self.part_bytes
        return compile_wasm(wasm, options)

    def load(self, data):
        from pywamr.loader.aot_module import AotModule
        return AotModule(data)


def load_engine(name, **options):
    if name == "interp":
        return InterpEngine()
    if name == "aot":
        return AotEngine(**options)
    raise ValueError(f"unknown engine {name!r}")
