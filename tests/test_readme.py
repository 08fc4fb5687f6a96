"""README.md's Python API example runs as written."""

import re
import subprocess
import sys
from pathlib import Path

from pyiwasm_support import build_samples

REPO = Path(__file__).resolve().parent.parent


def test_python_api_example_runs():
    build_samples()             # the example drives build/samples/wordstats.wasm
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["3 b'call 1: 3 words\\n'"]
