"""The official WASI test suite (preview1, prebuilt: ../shared/wasi-testsuite, its README says
how a test runs), on both engines through the real `pyiwasm` command line.

Each test is a program, C, Rust or AssemblyScript, with an optional NAME.json: its arguments,
environment, a directory preopened as `/` (copied first: the suite is read-only and tests
write into it), and the exit status and output it must give. AOT compiles at -O0, the
compiler's fastest level: 72 modules of up to 180 KB.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyiwasm_support import ENGINES, ROOT, pyiwasm


def suite_dir():
    env = os.environ.get("PYWAMR_WASI_TESTSUITE")
    return Path(env) if env else ROOT.parent / "shared" / "wasi-testsuite"


SUITE = suite_dir()
TESTS = sorted(SUITE.glob("*/*.wasm"))


def test_the_suite_is_there():
    """72 tests: 12 AssemblyScript, 14 C, 46 Rust (the suite's README)."""
    assert len(TESTS) == 72, f"expected the 72 tests of {SUITE}"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("wasm", TESTS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_wasi(wasm, engine, tmp_path):
    spec_file = wasm.with_suffix(".json")
    spec = json.loads(spec_file.read_text()) if spec_file.exists() else {}
    flags = []
    if "root" in spec:
        root = tmp_path / "root"
        shutil.copytree(wasm.parent / spec["root"], root, symlinks=True)
        flags += ["--map-dir", f"/::{root}"]
    for name, value in spec.get("env", {}).items():
        flags += ["--env", f"{name}={value}"]
    if engine == "interp":
        program = wasm
        flags.insert(0, "--interp")
    else:
        program = tmp_path / f"{wasm.stem}.aot"
        subprocess.run([sys.executable, "-m", "pywamr.compiler", "--opt-level", "0", "-o",
                        str(program), str(wasm)], check=True, capture_output=True)
    done = pyiwasm(*flags, program, *spec.get("args", []), cwd=tmp_path, text=True,
                   stdin=subprocess.DEVNULL)
    assert done.returncode == spec.get("exit_code", 0), done.stderr[-2000:]
    for stream in ("stdout", "stderr"):
        if stream in spec:
            assert getattr(done, stream) == spec[stream]
