"""Resolving a guest path inside a directory descriptor without ever leaving it.

The host never hands a guest path to the OS. It walks the path one component at a time from
the descriptor's directory, opening each intermediate directory with O_NOFOLLOW relative to the
previous one (openat style), and expanding symbolic links itself. The walk keeps the stack of
directories it went through, so `..` is a pop, and a pop past the descriptor's own directory
is an escape. Escapes of every kind report ENOTCAPABLE:

- an absolute path, or a symbolic link whose target is absolute;
- `..` past the descriptor's directory, whether written in the path or reached through a link.

The walk ends at (directory fd, last component). The last component is never a `..`, and
when links are followed it is not a symbolic link; callers then use *at() calls that do not
follow a symlink in the last component (O_NOFOLLOW, follow_symlinks=False, unlinkat, ...), so
even a link swapped in behind the host's back cannot lead outside.
"""

import errno
import os

from . import abi
from .errors import WasiError

MAX_SYMLINKS = 40            # like Linux: more expansions in one walk is ELOOP

# O_PATH lets the walk pass through directories that are searchable but not readable.
_DIR_WALK_FLAGS = (getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW
                   | os.O_CLOEXEC)


def _components(path):
    return [part for part in path.split(b"/") if part and part != b"."]


def _readlink(dir_fd, name):
    """The target of `name` if it is a symbolic link, else None."""
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in (errno.EINVAL, errno.ENOENT):
            return None
        raise


class ResolvedPath:
    """The result of a walk: `dir_fd` and `name` for an *at() call; `close()` releases the
    directories the walk opened (use it as a context manager)."""

    def __init__(self, dir_fd, name, opened, must_be_dir):
        self.dir_fd = dir_fd
        self.name = name
        self.must_be_dir = must_be_dir     # the guest path ended in "/" (or "/.")
        self.depth = len(opened)           # directories between the root and dir_fd
        self._opened = opened

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for fd in self._opened:
            os.close(fd)
        self._opened = []


def resolve(root_fd, path, follow_last):
    """Walk `path` (bytes) from the directory `root_fd`; see the module docstring.

    `follow_last`: expand a symbolic link in the last component too (lookupflags
    SYMLINK_FOLLOW). A path ending in "/" always follows its last component.
    """
    if not path:
        raise WasiError(abi.ENOENT)
    if path.startswith(b"/"):
        raise WasiError(abi.ENOTCAPABLE)
    must_be_dir = path.endswith(b"/") or path.endswith(b"/.") or path == b"."
    follow_last = follow_last or must_be_dir
    todo = _components(path)[::-1]       # a stack: the next component is at the end
    stack = [root_fd]                    # directories walked through; stack[0] is the root
    links = 0
    try:
        while todo:
            name = todo.pop()
            if name == b"..":
                if len(stack) == 1:
                    raise WasiError(abi.ENOTCAPABLE)
                os.close(stack.pop())
                continue
            last = not todo
            if last and not follow_last:
                return ResolvedPath(stack[-1], name, stack[1:], must_be_dir)
            target = _readlink(stack[-1], name)
            if target is not None:
                links += 1
                if links > MAX_SYMLINKS:
                    raise WasiError(abi.ELOOP)
                if target.startswith(b"/"):
                    raise WasiError(abi.ENOTCAPABLE)
                todo.extend(_components(target)[::-1])
                continue
            if last:
                return ResolvedPath(stack[-1], name, stack[1:], must_be_dir)
            stack.append(os.open(name, _DIR_WALK_FLAGS, dir_fd=stack[-1]))
        # Everything collapsed ("a/..", ".", a link to "."): the result is the directory itself.
        return ResolvedPath(stack[-1], b".", stack[1:], must_be_dir)
    except BaseException:
        for fd in stack[1:]:
            os.close(fd)
        raise


def symlink_target_escapes(depth, target):
    """Whether a link created `depth` directories below a descriptor's root, with this
    target, would point outside the root when read lexically (absolute, or too many `..`).
    Such links are refused at creation, so no link the guest makes can point out."""
    if target.startswith(b"/"):
        return True
    for part in _components(target):
        depth += -1 if part == b".." else 1
        if depth < 0:
            return True
    return False

