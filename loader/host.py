"""Can this machine run code compiled for a given target? Architecture and CPU features.

CPU features are checked against the flags Linux reports in /proc/cpuinfo. Only the features
the `.aot` file lists explicitly with `+` are checked (the compiler records the full feature
list when it compiles for the host CPU), and only those in the tables below.
"""

import functools
import os

from pywamr.runtime.errors import AotFormatError

ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}

# LLVM feature name -> /proc/cpuinfo flag, for the features LLVM uses on its own when
# generating code (vector and bit-manipulation instructions). Instructions that only appear
# through intrinsics (rdrand, rdseed, aes, xsave, ...) are left out: compiled wasm never
# uses them, and the kernel hides some of them even when CPUID has them (rdseed on Zen 5).
X86_64_FLAGS = {
    "sse": "sse", "sse2": "sse2", "sse3": "pni", "ssse3": "ssse3", "sse4.1": "sse4_1",
    "sse4.2": "sse4_2", "sse4a": "sse4a", "avx": "avx", "avx2": "avx2", "fma": "fma",
    "fma4": "fma4", "f16c": "f16c", "bmi": "bmi1", "bmi2": "bmi2", "lzcnt": "abm",
    "popcnt": "popcnt", "movbe": "movbe", "adx": "adx", "sahf": "lahf_lm", "gfni": "gfni",
    "avxvnni": "avx_vnni", "avx512f": "avx512f", "avx512cd": "avx512cd",
    "avx512bw": "avx512bw", "avx512dq": "avx512dq", "avx512vl": "avx512vl",
    "avx512ifma": "avx512ifma", "avx512vbmi": "avx512vbmi", "avx512vbmi2": "avx512_vbmi2",
    "avx512vnni": "avx512_vnni", "avx512bitalg": "avx512_bitalg",
    "avx512vpopcntdq": "avx512_vpopcntdq", "avx512bf16": "avx512_bf16",
    "avx512fp16": "avx512_fp16", "tbm": "tbm", "xop": "xop", "cmov": "cmov", "cx8": "cx8",
    "mmx": "mmx", "fxsr": "fxsr", "64bit": "lm",
}
AARCH64_FLAGS = {
    "fp-armv8": "fp", "neon": "asimd", "crc": "crc32", "lse": "atomics", "aes": "aes",
    "sha2": "sha2", "sha3": "sha3", "sm4": "sm4", "rdm": "asimdrdm", "dotprod": "asimddp",
    "fullfp16": "asimdhp", "rcpc": "lrcpc", "sve": "sve", "sve2": "sve2", "i8mm": "i8mm",
    "bf16": "bf16", "fp16fml": "asimdfhm", "jsconv": "jscvt", "complxnum": "fcma",
    "flagm": "flagm", "ssbs": "ssbs", "sb": "sb", "bti": "bti", "mte": "mte",
}
_FLAG_TABLES = {"x86_64": X86_64_FLAGS, "aarch64": AARCH64_FLAGS}


def host_arch():
    machine = os.uname().machine.lower()
    return ARCH_ALIASES.get(machine, machine)


def check_target(arch, features):
    """Raise AotFormatError unless this machine can run code for `arch` with `features`."""
    host = host_arch()
    if arch != host:
        raise AotFormatError(f"compiled for {arch}, this machine is {host}")
    flags = cpu_flags()
    if flags is None:
        return
    table = _FLAG_TABLES.get(arch, {})
    missing = [name for name in required_features(features)
               if name in table and table[name] not in flags]
    if missing:
        raise AotFormatError(f"compiled for CPU features this machine lacks: "
                             f"{', '.join('+' + name for name in missing)}")


def required_features(features):
    """The names an LLVM feature string enables, e.g. "+avx2,-sse4a" -> ["avx2"]."""
    return [item[1:] for item in features.split(",") if item.startswith("+")]


@functools.cache
def cpu_flags():
    """The CPU's feature flags from /proc/cpuinfo, or None where there is no such file."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):
                    return frozenset(value.split())
    except OSError:
        pass
    return None
