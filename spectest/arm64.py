"""Where `--target aarch64` executes on a non-ARM host: the arm64 Python under qemu that
build-scripts/arm64.py prepares (a checkout-only tool, loaded by path)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "build-scripts" / "arm64.py"


def python_command():
    if not SCRIPT.exists():
        raise SystemExit("spectest: --target aarch64 needs a source checkout (build-scripts/)")
    spec = importlib.util.spec_from_file_location("pywamr_build_arm64", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.python_command()
