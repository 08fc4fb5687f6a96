"""The arm64 Python under qemu-user, for the tests (build-scripts/arm64.py, loaded by path)."""

import importlib.util
from pathlib import Path

_SCRIPT = Path(__file__).resolve().parent.parent / "build-scripts" / "arm64.py"
_spec = importlib.util.spec_from_file_location("pywamr_arm64_runner", _SCRIPT)
arm64 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(arm64)


def run_arm64_python(args, input=None, cwd=None):
    """Run `python3.11 *args` on the arm64 root; its stdout, or AssertionError with its stderr
    when it fails."""
    process = arm64.run_arm64(args, input=input, capture_output=True, text=True, cwd=cwd)
    assert process.returncode == 0, f"arm64 python {args} failed:\n{process.stderr}"
    return process.stdout
