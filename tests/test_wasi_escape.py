"""Sandbox escapes: every way out of a preopened directory, tried through every kind of path
call, must fail with ENOTCAPABLE (ELOOP for link loops) and leave the host file system
outside the sandbox exactly as it was.

Layout (made fresh for each test):

    tmp/outside/secret.txt            what an escape would read, overwrite or delete
    tmp/outside/dir/                  what an escape would list or remove
    tmp/sandbox/                      the preopen, guest fd 3
    tmp/sandbox/sub/inner.txt
    tmp/sandbox/up_link -> ..                         relative link climbing out
    tmp/sandbox/outside_link -> ../outside            relative link to the outside dir
    tmp/sandbox/abs_link -> /.../outside              absolute link
    tmp/sandbox/secret_link -> ../outside/secret.txt  link to the file
    tmp/sandbox/dangling_link -> ../outside/new.txt   link to a file that does not exist
    tmp/sandbox/sub/deep_link -> ../../outside        climbs out from a subdirectory
    tmp/sandbox/sub/ok_link -> ../sub/inner.txt       stays inside (control case)
    tmp/sandbox/loop_a -> loop_b, loop_b -> loop_a
"""

import os
import stat

import pytest

from pywamr.runtime.wasi import abi

from pyiwasm_support import ENGINES, build_samples, program, pyiwasm
from wasi_guest import Guest

SANDBOX = 3
ALL = abi.FILE_RIGHTS | abi.DIRECTORY_RIGHTS
CREATE = abi.OFLAGS_CREAT | abi.OFLAGS_TRUNC


def snapshot(root):
    """Everything observable about a tree: type, contents, link target, mode, mtime, inode."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in [""] + dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            entry = (stat.S_IFMT(st.st_mode), st.st_mode, st.st_mtime_ns, st.st_ino, st.st_nlink)
            if stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(path),)
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as file:
                    entry += (file.read(),)
            state[os.path.relpath(path, root)] = entry
    return state


def make_layout(tmp_path):
    """Create the layout of the module docstring; return (outside, sandbox)."""
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret.txt").write_bytes(b"TOP SECRET")
    sandbox = tmp_path / "sandbox"
    (sandbox / "sub").mkdir(parents=True)
    (sandbox / "sub" / "inner.txt").write_bytes(b"inner")
    links = {"up_link": "..", "outside_link": "../outside", "abs_link": str(outside),
             "secret_link": "../outside/secret.txt", "dangling_link": "../outside/new.txt",
             "sub/deep_link": "../../outside", "sub/ok_link": "../sub/inner.txt",
             "loop_a": "loop_b", "loop_b": "loop_a"}
    for name, target in links.items():
        os.symlink(target, sandbox / name)
    return outside, sandbox


@pytest.fixture
def world(tmp_path):
    outside, sandbox = make_layout(tmp_path)
    before = snapshot(outside)
    guest = Guest(["prog"], preopens=[("/sandbox", str(sandbox))])
    yield guest, outside, sandbox
    guest.close()
    assert snapshot(outside) == before, "the host file system outside the sandbox changed"
    assert b"TOP SECRET" not in guest.memory.data


# Paths that leave the sandbox, each with the errno the host must give.
ESCAPES = [
    ("../outside/secret.txt", abi.ENOTCAPABLE),          # plain ..
    ("sub/../../outside/secret.txt", abi.ENOTCAPABLE),   # .. after descending
    ("sub/./../.././outside/secret.txt", abi.ENOTCAPABLE),
    ("..", abi.ENOTCAPABLE),
    ("../", abi.ENOTCAPABLE),
    ("sub/../..", abi.ENOTCAPABLE),
    ("/etc/passwd", abi.ENOTCAPABLE),                    # absolute
    ("//outside/secret.txt", abi.ENOTCAPABLE),
    ("up_link/outside/secret.txt", abi.ENOTCAPABLE),     # symlink in an intermediate component
    ("outside_link/secret.txt", abi.ENOTCAPABLE),
    ("abs_link/secret.txt", abi.ENOTCAPABLE),            # absolute symlink, intermediate
    ("sub/deep_link/secret.txt", abi.ENOTCAPABLE),       # climbs from a subdirectory
    ("sub/deep_link/dir", abi.ENOTCAPABLE),
    ("loop_a/x", abi.ELOOP),
]
# The same, where the last component itself is the link (followed when asked to).
FOLLOWED_LAST = [
    ("secret_link", abi.ENOTCAPABLE),
    ("outside_link", abi.ENOTCAPABLE),
    ("abs_link", abi.ENOTCAPABLE),
    ("up_link", abi.ENOTCAPABLE),
    ("dangling_link", abi.ENOTCAPABLE),
    ("sub/deep_link", abi.ENOTCAPABLE),
    ("loop_a", abi.ELOOP),
]


@pytest.mark.parametrize("path, errno", ESCAPES + FOLLOWED_LAST)
def test_open_read_write_create(world, path, errno):
    guest, _, _ = world
    assert guest.open(SANDBOX, path) == (errno, None)
    assert guest.open(SANDBOX, path, CREATE) == (errno, None)
    assert guest.open(SANDBOX, path, abi.OFLAGS_DIRECTORY) == (errno, None)
    assert guest.open(SANDBOX, path + "/new.txt", CREATE) == (errno, None)


@pytest.mark.parametrize("path, errno", ESCAPES + FOLLOWED_LAST)
def test_stat_and_times(world, path, errno):
    guest, _, _ = world
    assert guest.filestat(SANDBOX, path, follow=True) == (errno, None)
    ptr, length = guest.path(path)
    assert guest.call("path_filestat_set_times", SANDBOX, abi.LOOKUP_SYMLINK_FOLLOW, ptr,
                      length, 0, 0, abi.FSTFLAGS_ATIM_NOW | abi.FSTFLAGS_MTIM_NOW) == errno


@pytest.mark.parametrize("path, errno", ESCAPES)
def test_modifying_calls(world, path, errno):
    guest, _, _ = world
    for call in ("path_create_directory", "path_remove_directory", "path_unlink_file"):
        assert guest.path_call(call, SANDBOX, path) == errno, call
    assert guest.path_call("path_create_directory", SANDBOX, path + "/new_dir") == errno
    assert guest.symlink("sub", SANDBOX, path + "/new_link") == errno
    assert guest.readlink(SANDBOX, path) == (errno, None)
    assert guest.rename(SANDBOX, path, SANDBOX, "stolen") == errno
    assert guest.rename(SANDBOX, "sub/inner.txt", SANDBOX, path) == errno
    assert guest.link(SANDBOX, path, SANDBOX, "hard", follow=True) == errno
    assert guest.link(SANDBOX, "sub/inner.txt", SANDBOX, path) == errno


@pytest.mark.parametrize("path", ["secret_link", "abs_link", "dangling_link"])
def test_links_pointing_out_can_be_handled_without_following(world, path):
    """Not following a link that points out is not an escape: the call acts on the link."""
    guest, _, sandbox = world
    assert guest.filestat(SANDBOX, path, follow=False)[1][2] == abi.FILETYPE_SYMBOLIC_LINK
    assert guest.readlink(SANDBOX, path)[0] == 0
    assert guest.open(SANDBOX, path, follow=False)[0] == abi.ELOOP
    assert guest.rename(SANDBOX, path, SANDBOX, "renamed") == 0
    assert guest.path_call("path_unlink_file", SANDBOX, "renamed") == 0
    assert not os.path.lexists(sandbox / path)


def test_links_created_by_the_guest_cannot_point_out(world):
    guest, outside, sandbox = world
    for target in ("../outside", "..", "sub/../..", str(outside), "/", "/etc/passwd"):
        assert guest.symlink(target, SANDBOX, "made_link") == abi.ENOTCAPABLE, target
        assert not os.path.lexists(sandbox / "made_link")
    assert guest.symlink("../../outside", SANDBOX, "sub/made_link") == abi.ENOTCAPABLE
    # Links that stay inside are allowed and work.
    assert guest.symlink("../sub/inner.txt", SANDBOX, "sub/inside_link") == 0
    assert guest.symlink("..", SANDBOX, "sub/parent_link") == 0
    errno, fd = guest.open(SANDBOX, "sub/inside_link")
    assert errno == 0 and guest.read(fd, 10) == (0, b"inner")
    # A link made inside that a rename carries to where it would point out is refused when
    # followed: the check that matters is made at every walk, not only at creation.
    assert guest.symlink("..", SANDBOX, "sub/parent_again") == 0
    assert guest.rename(SANDBOX, "sub/parent_again", SANDBOX, "moved_up") == 0
    assert os.readlink(sandbox / "moved_up") == ".."
    assert guest.open(SANDBOX, "moved_up/outside/secret.txt") == (abi.ENOTCAPABLE, None)
    assert guest.filestat(SANDBOX, "sub/parent_link/../outside/secret.txt") == \
        (abi.ENOTCAPABLE, None)
    assert guest.filestat(SANDBOX, "sub/parent_link/sub/inner.txt")[0] == 0


def test_a_subdirectory_descriptor_is_its_own_sandbox(world):
    """A directory fd opened inside the preopen grants only its own subtree."""
    guest, _, sandbox = world
    errno, sub = guest.open(SANDBOX, "sub", abi.OFLAGS_DIRECTORY)
    assert errno == 0
    assert guest.open(sub, "inner.txt")[0] == 0
    assert guest.open(sub, "../sub/inner.txt") == (abi.ENOTCAPABLE, None)
    assert guest.open(sub, "ok_link") == (abi.ENOTCAPABLE, None)   # ok from the root, not here
    assert guest.path_call("path_create_directory", sub, "../made") == abi.ENOTCAPABLE
    assert not (sandbox / "made").exists()


def test_renumbering_and_closing_do_not_widen_access(world):
    guest, _, _ = world
    _, sub = guest.open(SANDBOX, "sub", abi.OFLAGS_DIRECTORY)
    assert guest.call("fd_renumber", sub, SANDBOX) == 0
    assert guest.open(SANDBOX, "../outside/secret.txt") == (abi.ENOTCAPABLE, None)
    assert guest.open(SANDBOX, "../up_link/outside/secret.txt") == (abi.ENOTCAPABLE, None)
    assert guest.call("fd_close", SANDBOX) == 0
    assert guest.open(SANDBOX, "inner.txt") == (abi.EBADF, None)


def test_paths_with_nul_or_out_of_memory_are_rejected(world):
    guest, _, _ = world
    assert guest.open(SANDBOX, b"sub\0/../../outside/secret.txt") == (abi.EINVAL, None)
    end = len(guest.memory.data)
    assert guest.call("path_open", SANDBOX, 0, end - 3, 10, 0, ALL, ALL, 0, 0) == abi.EFAULT


def test_no_preopen_no_file_system(tmp_path):
    guest = Guest(["prog"])
    for fd in range(3, 6):
        assert guest.open(fd, str(tmp_path)) == (abi.EBADF, None)
    # stdio descriptors are not directories.
    assert guest.open(1, "x") == (abi.ENOTDIR, None)


@pytest.mark.parametrize("engine", ENGINES)
def test_escapes_from_a_c_program(tmp_path, engine):
    """The same escapes made by a C program with plain libc calls, run by pyiwasm."""
    outside, sandbox = make_layout(tmp_path)
    before = snapshot(outside), snapshot(sandbox)
    done = pyiwasm("--map-dir", f"/sandbox::{sandbox}",
                   *program(engine, build_samples() / "escape.wasm", tmp_path), "/sandbox")
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.decode().splitlines() == [
        "open ../outside/secret.txt: ENOTCAPABLE",
        "open sub/../../outside/secret.txt: ENOTCAPABLE",
        "open up_link/outside/secret.txt: ENOTCAPABLE",
        "open abs_link/secret.txt: ENOTCAPABLE",
        "open secret_link: ENOTCAPABLE",
        "create ../outside/new.txt: ENOTCAPABLE",
        "stat ../outside/secret.txt: ENOTCAPABLE",
        "stat secret_link: ENOTCAPABLE",
        "mkdir ../outside/made: ENOTCAPABLE",
        "unlink ../outside/secret.txt: ENOTCAPABLE",
        "unlink up_link/outside/secret.txt: ENOTCAPABLE",
        "rename secret out: ENOTCAPABLE",
        "symlink to ..: ENOTCAPABLE",
        "symlink to /: ENOTCAPABLE",
        "open made_link/outside/secret.txt: ENOENT",
        "open a file inside: SUCCEEDED",
    ]
    assert (snapshot(outside), snapshot(sandbox)) == before
