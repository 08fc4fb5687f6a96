"""The compile cache: `.aot` files compiled from wasm modules, kept so that a module is
compiled once, not at every `pyiwasm app.wasm` (docs/compile-cache.md).

Design. As wasmtime's cache, it is a directory of files named by a content hash; there is
no index to keep consistent, and every process works on it alone:

- The key hashes what the code depends on: the module's bytes, the compile options (as
  options_text() writes them), this machine (its architecture and the CPU feature flags of
  /proc/cpuinfo, which the host-default compile follows; read here because the compiler's
  own source of them, LLVM, is not imported by pyiwasm), pywamr's version and the .aot
  format version, and the runtime's and the compiler's source files by name, size and
  mtime, so that a checkout whose code changes between versions (a developer's) does not
  load code of its past, as the interpreter's code cache does not (interp/code_cache.py).
  Another module, option, machine or compiler is another entry, never a stale one.
- An entry is written to a temporary file in the cache directory, then renamed over its
  name (os.replace, atomic): a reader sees the old entry, the new one or none, never part
  of one. Two processes compiling the same module both write and rename; the last rename
  wins, with the same code.
- The cache keeps at most max_bytes (PYWAMR_CACHE_MAX_BYTES, 512 MiB by default): after a
  store, the least recently used entries go first. A hit touches its entry's mtime, so
  mtime is the time of last use.
- Entries are native code that pyiwasm maps and runs, so load() hands out only a file this
  user owns and no one else can write; the directory is made readable by its user alone.
  An entry cut short (a crash before the disk had it all) is a miss; the loader's checks,
  its checksum among them, refuse the rest, and pyiwasm then compiles again.

Start-up imports this module on every `pyiwasm app.wasm`, so it imports little: tempfile
and time only to store.
"""

import os

from . import VERSION
from .aot_layout import FORMAT_VERSION, HEADER, MAGIC

try:
    from _blake2 import blake2b     # hashlib's own, without hashlib's 2 ms of loading OpenSSL
except ImportError:
    from hashlib import blake2b

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
ENTRY_SUFFIX = ".aot"
TEMPORARY_PREFIX = ".tmp-"
# A temporary file this old was left by a process that died while writing it.
STALE_TEMPORARY_SECONDS = 3600
# The code that compiles: the runtime's and the compiler's, which pywamr installs next to the
# runtime (as the repository has them), found so without importing it.
RUNTIME_FOLDER = os.path.dirname(os.path.abspath(__file__))
SOURCE_FOLDERS = (RUNTIME_FOLDER, os.path.join(os.path.dirname(RUNTIME_FOLDER), "compiler"))


def default_directory():
    """$PYWAMR_CACHE_DIR, else $XDG_CACHE_HOME/pywamr, else ~/.cache/pywamr."""
    if os.environ.get("PYWAMR_CACHE_DIR"):
        return os.environ["PYWAMR_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):         # the XDG spec: a relative path is to be ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pywamr")


def default_max_bytes():
    """$PYWAMR_CACHE_MAX_BYTES, else DEFAULT_MAX_BYTES; ValueError for a bad value."""
    text = os.environ.get("PYWAMR_CACHE_MAX_BYTES", "")
    if not text:
        return DEFAULT_MAX_BYTES
    if not text.isdigit():
        raise ValueError(f"bad PYWAMR_CACHE_MAX_BYTES {text!r}: expected a number of bytes")
    return int(text)


def options_text(settings):
    """The canonical text of compile options: `settings` maps each CompileOptions field
    that is not at its default to its value. Both pyiwasm and compile_cached write options
    this way, so the same options find the same entry."""
    return " ".join(f"{name}={settings[name]!r}" for name in sorted(settings))


def host_identity():
    """This machine as far as compiled code is concerned: its architecture and its CPU's
    feature flags (the first flags line of /proc/cpuinfo, where there is one)."""
    machine = os.uname().machine.encode()
    try:
        with open("/proc/cpuinfo", "rb") as cpuinfo:
            for line in cpuinfo:
                if line.startswith((b"flags", b"Features")):
                    return machine + b" " + line.strip()
    except OSError:
        pass
    return machine


def source_identity(folders=SOURCE_FOLDERS):
    """The .py files in `folders`, each by name, size and mtime: what changes with the code
    that compiles."""
    files = []
    for folder in folders:
        try:
            with os.scandir(folder) as scan:
                for item in scan:
                    if item.name.endswith(".py"):
                        status = item.stat()
                        files.append(f"{os.path.basename(folder)}/{item.name} "
                                     f"{status.st_size} {status.st_mtime_ns}")
        except OSError:
            continue
    return "\n".join(sorted(files)).encode()


def is_whole_aot(data):
    """Whether `data` starts as a .aot file and is as long as its header says."""
    return (len(data) >= HEADER.size and data.startswith(MAGIC)
            and len(data) == HEADER.size + HEADER.unpack_from(data)[3])


class CompileCache:
    """A directory of compiled modules; see the module docstring. Nothing touches the disk
    before load() or store()."""

    def __init__(self, directory=None, max_bytes=None):
        self.directory = os.fspath(directory) if directory is not None else default_directory()
        self.max_bytes = max_bytes if max_bytes is not None else default_max_bytes()

    def key(self, wasm: bytes, options: str) -> str:
        """The entry name of the module `wasm` compiled with `options` (options_text())."""
        digest = blake2b(digest_size=32)
        for part in (f"pywamr {VERSION}".encode(), f"aot format {FORMAT_VERSION}".encode(),
                     host_identity(), source_identity(), options.encode()):
            digest.update(part + b"\0")
        digest.update(wasm)
        return digest.hexdigest()

    def path(self, key):
        return os.path.join(self.directory, key + ENTRY_SUFFIX)

    def load(self, key) -> bytes | None:
        """The .aot file stored under `key`, or None: none there, or one this user does not
        own alone, or one cut short. A hit marks the entry as just used."""
        try:
            with open(self.path(key), "rb") as file:
                status = os.fstat(file.fileno())
                if status.st_uid != os.getuid() or status.st_mode & 0o022:
                    return None
                aot = file.read()
                os.utime(file.fileno())
        except OSError:
            return None
        return aot if is_whole_aot(aot) else None

    def store(self, key, aot: bytes) -> bool:
        """Store `aot` under `key`, atomically, then evict down to max_bytes. Whether it was
        stored: a cache that cannot be written (a full disk, a read-only directory) is left
        as it was, which is no error, as the caller has its .aot either way."""
        import tempfile
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX,
                                                     dir=self.directory)
        except OSError:
            return False
        try:
            with open(descriptor, "wb") as file:
                file.write(aot)
            os.replace(temporary, self.path(key))
        except OSError:
            _remove(temporary)
            return False
        self.evict(keep=key)
        return True

    def evict(self, keep=None):
        """Remove the least recently used entries until the cache holds at most max_bytes,
        never the entry `keep` (just stored: it stays even if alone it is larger), and the
        temporary files of processes that died while writing one."""
        import time
        kept = self.path(keep) if keep is not None else None
        entries = []
        now = time.time()
        try:
            with os.scandir(self.directory) as scan:
                for item in scan:
                    try:
                        status = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if item.name.startswith(TEMPORARY_PREFIX):
                        if now - status.st_mtime > STALE_TEMPORARY_SECONDS:
                            _remove(item.path)
                    elif item.name.endswith(ENTRY_SUFFIX):
                        entries.append((status.st_mtime, status.st_size, item.path))
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            if path != kept:
                _remove(path)
                total -= size


def _remove(path):
    """Remove a file that another process may have removed first."""
    try:
        os.unlink(path)
    except OSError:
        pass
