"""Running programs through the real `pyiwasm` command line, with either engine.

"interp" runs the .wasm file with `--interp`; "aot" first compiles it with `python -m
pywamr.compiler` (pyaotc). The aot rows run whenever the compiler package is installed: a
broken compiler fails them, it does not skip them. Only a missing compiler package skips,
with the reason shown.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ["interp", "aot"]
TRAP_STATUS = 134


def build_samples():
    """Build the C samples (incrementally) into build/samples/ and return that directory."""
    out = ROOT / "build" / "samples"
    subprocess.run([str(ROOT / "build-scripts" / "build-samples.sh"), str(out)], check=True)
    return out


def pyiwasm(*args, **kwargs):
    """Run `python -m pywamr.loader ARGS` and return the CompletedProcess (bytes output)."""
    kwargs.setdefault("capture_output", True)
    return subprocess.run([sys.executable, "-m", "pywamr.loader", *map(str, args)], **kwargs)


def compile_aot(wasm, out_dir):
    """Compile a .wasm file with pyaotc into out_dir (once: an .aot already there is reused,
    so give a directory that lives no longer than the test session)."""
    if importlib.util.find_spec("pywamr.compiler") is None:
        pytest.skip("the compiler (pywamr.compiler, pyaotc) is not installed")
    wasm = Path(wasm)
    out = Path(out_dir) / f"{wasm.stem}.aot"
    if out.exists():
        return out
    done = subprocess.run([sys.executable, "-m", "pywamr.compiler", "-o", str(out), str(wasm)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and out.exists(), \
        f"pyaotc failed on {wasm.name}:\n{done.stdout}{done.stderr}"
    return out


def program(engine, wasm, aot_dir):
    """The pyiwasm arguments that run `wasm` with `engine`, the file last: `--interp` and the
    .wasm itself, or its .aot made in aot_dir."""
    file = wasm if engine == "interp" else compile_aot(wasm, aot_dir)
    return [*engine_flags(file), file]


def engine_flags(file):
    """The pyiwasm flags that run `file` with the engine its name says: --interp for a .wasm
    (which pyiwasm would otherwise compile), none for a .aot."""
    return ["--interp"] if Path(file).suffix == ".wasm" else []


def wat_module(tmp_path, name, text, check=True):
    """Assemble WAT with wabt's wat2wasm into tmp_path/name.wasm."""
    source = tmp_path / f"{name}.wat"
    source.write_text(text)
    out = tmp_path / f"{name}.wasm"
    subprocess.run(["wat2wasm", *([] if check else ["--no-check"]), "-o", str(out),
                    str(source)], check=True)
    return out
