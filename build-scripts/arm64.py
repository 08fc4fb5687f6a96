"""Run this checkout's loader on an arm64 Python under qemu-user, without ARM hardware.

    python build-scripts/arm64.py -m pywamr.loader ...    # any arguments of `python`

From Python (the tests, the spec-test runner), load this file by path and call
`python_command()` (a command prefix) or `run_arm64(args)`. The root is Debian's arm64 Python,
unpacked by build-arm64-root.sh (into build/arm64-root, or $PYWAMR_ARM64_ROOT). The loader and
runtime are standard library only, so the arm64 Python needs nothing but this checkout's
folders on its path: a shim folder holds `pywamr/` with symlinks to them (a namespace package,
as on the host).
"""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = REPO / "build-scripts" / "build-arm64-root.sh"
DEFAULT_ROOT = REPO / "build" / "arm64-root"
SHIM = REPO / "build" / "arm64-pythonpath"
# The compiler needs llvmlite, which the arm64 root does not have: it stays on the host.
SHIMMED_PACKAGES = ("runtime", "loader", "spectest")
QEMU = Path(".host") / "qemu-aarch64"  # in the root; see build-arm64-root.sh for why


def ensure_arm64_root(root=None) -> Path:
    """The arm64 Python root, built on first use (needs apt and the package registry)."""
    root = Path(root or os.environ.get("PYWAMR_ARM64_ROOT") or DEFAULT_ROOT).resolve()
    subprocess.run(["bash", str(BUILD_SCRIPT), str(root)], check=True, stdout=2)  # log: stderr
    return root


def ensure_python_shim() -> Path:
    """The PYTHONPATH entry under which the arm64 Python finds this checkout as `pywamr`."""
    package = SHIM / "pywamr"
    package.mkdir(parents=True, exist_ok=True)
    for name in SHIMMED_PACKAGES:
        link, target = package / name, REPO / name
        try:
            if os.readlink(link) == str(target):
                continue
        except OSError:  # not there yet
            pass
        # Tests run this from parallel processes: make the link under a private name and rename
        # it into place, which replaces atomically whatever another process put there.
        private = package / f".{name}.{os.getpid()}"
        private.unlink(missing_ok=True)
        private.symlink_to(target, target_is_directory=True)
        os.replace(private, link)
    return SHIM


def python_command(root=None) -> list:
    """The command prefix that runs the arm64 `python3.11` on this checkout; append Python's
    own arguments. It sets its environment itself (through env(1)): the host's PYTHONHOME and
    PYTHONPATH would point the arm64 Python at the host's standard library and packages."""
    root = ensure_arm64_root(root)
    return ["env", "-u", "PYTHONHOME", "-u", "VIRTUAL_ENV",
            f"PYTHONPATH={ensure_python_shim()}", "PYTHONNOUSERSITE=1",
            str(root / QEMU), "-L", str(root), str(root / "usr" / "bin" / "python3.11")]


def run_arm64(args, *, root=None, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run of the arm64 `python3.11 *args`; keyword arguments go to subprocess.run
    (capture_output, input, cwd, env...)."""
    return subprocess.run([*python_command(root), *map(str, args)], **kwargs)


if __name__ == "__main__":
    sys.exit(run_arm64(sys.argv[1:]).returncode)
