"""Translations kept on disk between runs, as CPython keeps bytecode in __pycache__.

One file per translated function, holding its marshalled code object, in a directory named
after a digest of the module's bytes, of the translation options, of the translator's own
source files and of the Python version: any change to one of them starts a new directory, so a stale translation is never
loaded. A cache that cannot be read or written is simply not used.
"""

import marshal
import os
import sys
from pathlib import Path
from types import CodeType

_translator_digest = None


def _translator_source_digest():
    """A digest of this package's source: the translation is a function of it."""
    global _translator_digest
    if _translator_digest is None:
        import hashlib      # here, not at the top: only a module with a cache_dir needs it
        digest = hashlib.sha256(sys.implementation.cache_tag.encode())
        for path in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        _translator_digest = digest.digest()
    return _translator_digest


class CodeCache:
    def __init__(self, directory, wasm_bytes, variant=b""):
        """`variant`: translation options (fuel) that change the code."""
        import hashlib
        key = hashlib.sha256(_translator_source_digest() + variant + b"\0" + wasm_bytes)
        key = key.hexdigest()[:32]
        self.directory = Path(directory) / key

    def load(self, func_index):
        """The cached code object of a function, or None."""
        try:
            code = marshal.loads((self.directory / f"{func_index}.code").read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return code if isinstance(code, CodeType) else None

    def store(self, func_index, code):
        path = self.directory / f"{func_index}.code"
        temporary = path.with_name(f"{func_index}.{os.getpid()}.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(marshal.dumps(code))
            os.replace(temporary, path)            # readers never see a partial file
        except OSError:
            pass
