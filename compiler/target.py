"""The target description: which machine the code is for and how LLVM should generate it.

Two architectures are supported, x86_64 and AArch64, always as ELF objects (the `.aot`
loader reads ELF relocations on every host). Code is position independent so the loader can
map it anywhere. `--size-level` picks the LLVM code model, i.e. how far code may reach:

    size level   x86_64    aarch64    (aarch64 has only tiny/small/large)
    0            large     large
    1            medium    small
    2            kernel    small
    3 (default)  small     small

Without --target the code is for this machine, but not for everything its CPU can do: the
host default is the architecture's generic CPU (LLVM's generic tuning, as `--target`) plus
this machine's instruction-set features, less AVX-512. With AVX-512 (or AVX2 with the
fast-gather tuning of Skylake and later) LLVM's x86 cost model takes gathers for cheap and
asks the loop vectoriser to keep addresses in vector registers, so a strided store loop
(sieve's) is vectorised with every address extracted lane by lane for a scalar store, 1.3x
slower than the generic code; AVX-512 gained a few percent at most elsewhere. `--cpu
native` gives the whole CPU, its name's tuning and all its features. docs/compiler.md, "The
host default", has the measurements.
"""

import os
import platform
import tempfile
from dataclasses import dataclass

from . import CompileError

ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}

CODE_MODELS = {
    "x86_64": ("large", "medium", "kernel", "small"),
    "aarch64": ("large", "small", "small", "small"),
}

# Features the architecture cannot do without (LLVM aborts on x86_64 code for a CPU without
# 64bit, e.g. --cpu i386, so it is always requested).
REQUIRED_FEATURES = {"x86_64": "+64bit", "aarch64": ""}

# Host features the default leaves out, by name prefix (AVX10 and AMX-AVX512 imply AVX-512),
# and what it adds to make sure: -avx512f also turns off any feature that implies it.
HOST_EXCLUDED = {"x86_64": ("avx512", "avx10", "amx-avx512"), "aarch64": ()}
HOST_DISABLED = {"x86_64": "-avx512f", "aarch64": ""}

_NON_ELF_SYSTEMS = ("darwin", "macos", "ios", "tvos", "watchos", "windows", "win32", "uefi")


@dataclass(frozen=True)
class TargetSpec:
    arch: str           # 'x86_64' | 'aarch64'
    triple: str
    cpu: str
    features: str       # '+a,-b'
    code_model: str
    opt_level: int
    size_level: int

    def as_dict(self, bounds_checks, memory_limit, fuel=False, interrupt_checks=True):
        """The `target` record the `.aot` writer stores."""
        return {"arch": self.arch, "triple": self.triple, "cpu": self.cpu,
                "features": self.features, "code_model": self.code_model,
                "opt_level": self.opt_level, "size_level": self.size_level,
                "bounds_checks": bounds_checks, "memory_limit": memory_limit, "fuel": fuel,
                "interrupt_checks": interrupt_checks}


def host_arch():
    machine = platform.machine().lower()
    if machine not in ARCH_ALIASES:
        raise CompileError(f"host architecture {machine!r} is not supported; "
                           f"give --target x86_64 or aarch64")
    return ARCH_ALIASES[machine]


def resolve_target(target=None, cpu=None, cpu_features=None, opt_level=3, size_level=3):
    """Turn the command-line choices into a TargetSpec (CompileError on a bad choice).

    Without --target the code is for this machine: the host default (module docstring),
    `--cpu native` for its own CPU with all its features, or the CPU --cpu names. With
    --target the CPU is 'generic' unless --cpu names one.
    """
    if opt_level not in (0, 1, 2, 3):
        raise CompileError(f"--opt-level must be 0 to 3, not {opt_level}")
    if size_level not in (0, 1, 2, 3):
        raise CompileError(f"--size-level must be 0 to 3, not {size_level}")
    features = _check_features(cpu_features or "")
    if target is None:
        arch = host_arch()
        triple = f"{arch}-unknown-linux-gnu"
        if cpu is None:
            features = _join(host_default_features(arch, host_cpu_features()), features)
        elif cpu == "native":
            import llvmlite.binding as llvm
            cpu = llvm.get_host_cpu_name()
            features = _join(host_cpu_features().flatten(), features)
    else:
        if cpu == "native":
            raise CompileError("--cpu native is this machine's CPU; it does not go with "
                               "--target")
        arch, triple = _parse_target(target)
    features = _add_required_features(arch, features)
    return TargetSpec(arch=arch, triple=triple, cpu=cpu or "generic", features=features,
                      code_model=CODE_MODELS[arch][size_level], opt_level=opt_level,
                      size_level=size_level)


def host_cpu_features():
    """LLVM's feature map of this machine's CPU (empty where LLVM cannot tell)."""
    import llvmlite.binding as llvm
    try:
        return llvm.get_host_cpu_features()
    except RuntimeError:
        return llvm.FeatureMap()


def host_default_features(arch, feature_map):
    """The feature string of the host default for a CPU of `arch` with `feature_map`
    (name -> present): its features, less HOST_EXCLUDED, plus HOST_DISABLED."""
    names = sorted(name for name, present in feature_map.items()
                   if present and not name.startswith(HOST_EXCLUDED[arch]))
    return _join(",".join("+" + name for name in names), HOST_DISABLED[arch])


def _join(*feature_strings):
    return ",".join(f for f in feature_strings if f)


def _parse_target(target):
    if target.lower() in ARCH_ALIASES:
        arch = ARCH_ALIASES[target.lower()]
        return arch, f"{arch}-unknown-linux-gnu"
    parts = target.split("-")
    arch = ARCH_ALIASES.get(parts[0].lower())
    if arch is None or len(parts) < 2:
        raise CompileError(f"unsupported target {target!r}: give x86_64, aarch64, arm64 or "
                           f"a triple for one of them, e.g. aarch64-unknown-linux-gnu")
    if any(part.lower().startswith(_NON_ELF_SYSTEMS) for part in parts[1:]):
        raise CompileError(f"target {target!r} does not produce ELF objects; use a linux or "
                           f"none system, e.g. {arch}-unknown-linux-gnu")
    return arch, "-".join([arch] + parts[1:])


def _check_features(features):
    items = [f.strip() for f in features.split(",") if f.strip()]
    for item in items:
        if item[0] not in "+-" or len(item) < 2:
            raise CompileError(f"bad CPU feature {item!r}: write +name or -name, "
                               f"comma-separated")
    return ",".join(items)


def _add_required_features(arch, features):
    items = features.split(",") if features else []
    for required in REQUIRED_FEATURES[arch].split(",") if REQUIRED_FEATURES[arch] else ():
        if "-" + required[1:] in items:
            raise CompileError(f"{arch} code cannot be generated without {required[1:]}")
        if required not in items:
            items.insert(0, required)
    return ",".join(items)


def create_target_machine(spec: TargetSpec, check_names=True):
    """An llvmlite TargetMachine for `spec`. LLVM only warns about an unknown CPU or feature
    (and aborts the process for some, e.g. a 32-bit x86 CPU), so unless the names came from
    LLVM itself (check_names=False: this machine's CPU) they are checked first against the
    lists LLVM prints for `-mcpu=help`."""
    import llvmlite.binding as llvm
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    try:
        target = llvm.Target.from_triple(spec.triple)
    except RuntimeError as exc:
        raise CompileError(f"LLVM does not know target {spec.triple!r}: {exc}") from None
    if check_names:
        cpus, features = _cpus_and_features(target, spec)
        if spec.cpu != "generic" and spec.cpu not in cpus:
            raise CompileError(f"unknown CPU {spec.cpu!r} for {spec.arch}")
        for item in spec.features.split(",") if spec.features else ():
            if item[1:] not in features:
                raise CompileError(f"unknown CPU feature {item[1:]!r} for {spec.arch}")
    return target.create_target_machine(cpu=spec.cpu, features=spec.features,
                                        opt=spec.opt_level, reloc="pic",
                                        codemodel=spec.code_model)


_catalogs = {}


def _cpus_and_features(target, spec):
    """The CPU and feature names LLVM knows for this architecture (cached per process)."""
    if spec.arch not in _catalogs:
        import llvmlite.binding as llvm

        def print_help():
            machine = target.create_target_machine(cpu="help",
                                                   features=REQUIRED_FEATURES[spec.arch])
            machine.emit_object(llvm.parse_assembly(f'target triple = "{spec.triple}"'))

        _, text = _capture_stderr(print_help)
        lists = {"CPUs": set(), "features": set()}
        current = None
        for line in text.splitlines():
            if line.startswith("Available "):
                current = lists.get(line.split()[1])
            elif current is not None and line.startswith("  ") and " - " in line:
                current.add(line.split()[0])
        _catalogs[spec.arch] = (lists["CPUs"], lists["features"])
    return _catalogs[spec.arch]


def _capture_stderr(action):
    """Run `action()` with file descriptor 2 redirected; return its result and the text."""
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            result = action()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        return result, sink.read().decode(errors="replace")
