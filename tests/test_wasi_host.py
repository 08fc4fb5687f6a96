"""The WASI host through its import functions, with a bytearray memory (no engine needed):
each test makes the calls a wasm program would and checks memory, errnos and the host
file system."""

import io
import os
import socket
import struct
import time

import pytest

from pywamr.runtime.errors import WasiExit
from pywamr.runtime.wasi import WasiConfigError, WasiHost, abi
from pywamr.runtime.wasi.errors import wasi_errno

from wasi_guest import Guest

ALL = abi.FILE_RIGHTS | abi.DIRECTORY_RIGHTS
CREAT_TRUNC = abi.OFLAGS_CREAT | abi.OFLAGS_TRUNC
READ_ONLY = ALL & ~(abi.RIGHT_FD_WRITE | abi.RIGHT_FD_ALLOCATE | abi.RIGHT_FD_FILESTAT_SET_SIZE)


@pytest.fixture
def sandbox(tmp_path):
    root = tmp_path / "sandbox"
    root.mkdir()
    return root


@pytest.fixture
def guest(sandbox):
    guest = Guest(["prog"], preopens=[("/data", str(sandbox))],
                  stdout=io.BytesIO(), stderr=io.BytesIO())
    yield guest
    guest.close()


PREOPEN = 3


# Arguments, environment, clocks, random, process.

def test_args_and_environ_layout():
    guest = Guest(["prog.wasm", "one", "två"], env={"A": "1", "LANG": "C"})
    for sizes, get, expected in (("args_sizes_get", "args_get",
                                  [b"prog.wasm", b"one", "två".encode()]),
                                 ("environ_sizes_get", "environ_get", [b"A=1", b"LANG=C"])):
        count_ptr, size_ptr = guest.alloc(4), guest.alloc(4)
        assert guest.call(sizes, count_ptr, size_ptr) == 0
        count, size = guest.u32(count_ptr), guest.u32(size_ptr)
        assert count == len(expected)
        assert size == sum(len(s) + 1 for s in expected)
        pointers, buf = guest.alloc(4 * count), guest.alloc(size)
        assert guest.call(get, pointers, buf) == 0
        strings = []
        for index in range(count):
            start = guest.u32(pointers + 4 * index)
            end = guest.get(start, size).index(b"\0")
            strings.append(guest.get(start, end))
        assert strings == expected


def test_no_environment_unless_given():
    guest = Guest(["prog"])
    count_ptr, size_ptr = guest.alloc(4), guest.alloc(4)
    assert guest.call("environ_sizes_get", count_ptr, size_ptr) == 0
    assert (guest.u32(count_ptr), guest.u32(size_ptr)) == (0, 0)


def test_bad_environment_name_is_a_config_error():
    with pytest.raises(WasiConfigError):
        WasiHost(["prog"], env={"A=B": "1"})


def test_clocks():
    guest = Guest(["prog"])
    ptr = guest.alloc(8)
    assert guest.call("clock_time_get", abi.CLOCK_REALTIME, 0, ptr) == 0
    assert abs(guest.u64(ptr) - time.time_ns()) < 10**9
    assert guest.call("clock_time_get", abi.CLOCK_MONOTONIC, 0, ptr) == 0
    first = guest.u64(ptr)
    assert guest.call("clock_time_get", abi.CLOCK_MONOTONIC, 0, ptr) == 0
    assert guest.u64(ptr) >= first
    for clock in (abi.CLOCK_PROCESS_CPUTIME_ID, abi.CLOCK_THREAD_CPUTIME_ID):
        assert guest.call("clock_time_get", clock, 0, ptr) == 0
        assert guest.u64(ptr) > 0
    for clock in range(4):
        assert guest.call("clock_res_get", clock, ptr) == 0
        assert 1 <= guest.u64(ptr) <= 10**9
    assert guest.call("clock_time_get", 4, 0, ptr) == abi.EINVAL
    assert guest.call("clock_res_get", 99, ptr) == abi.EINVAL


def test_random_get_fills_exactly_the_buffer():
    guest = Guest(["prog"])
    buf = guest.alloc(80)
    assert guest.call("random_get", buf + 8, 64) == 0
    assert guest.get(buf, 8) == bytes(8) and guest.get(buf + 72, 8) == bytes(8)
    assert guest.get(buf + 8, 64) != bytes(64)


def test_proc_exit_and_proc_raise():
    guest = Guest(["prog"])
    with pytest.raises(WasiExit) as exit_info:
        guest.call("proc_exit", 17)
    assert exit_info.value.code == 17
    assert guest.call("proc_raise", 17) == 0       # SIGCONT: ignored by default
    assert guest.call("proc_raise", 31) == abi.EINVAL
    with pytest.raises(WasiExit) as exit_info:
        guest.call("proc_raise", 15)               # SIGTERM
    assert exit_info.value.code == 128 + 15
    assert guest.call("sched_yield") == 0


def test_every_preview1_function_is_imported_with_its_signature():
    imports = WasiHost(["prog"]).imports()
    functions = imports["wasi_snapshot_preview1"]
    assert len(functions) == 46
    assert str(functions["fd_write"].type) == "[i32 i32 i32 i32] -> [i32]"
    assert str(functions["path_open"].type) == \
        "[i32 i32 i32 i32 i32 i64 i64 i32 i32] -> [i32]"
    assert str(functions["proc_exit"].type) == "[i32] -> []"
    assert all(func.raw for func in functions.values())


def test_only_the_functions_asked_for():
    """What pyiwasm asks for: the calls its module imports; a name WASI lacks is left for
    the linker to report."""
    functions = WasiHost(["prog"]).imports(["proc_exit", "fd_write", "fd_nothing"])
    assert list(functions["wasi_snapshot_preview1"]) == ["proc_exit", "fd_write"]
    assert str(functions["wasi_snapshot_preview1"]["proc_exit"].type) == "[i32] -> []"


def test_host_errno_map():
    import errno
    assert wasi_errno(errno.ENOENT) == abi.ENOENT == 44
    assert wasi_errno(errno.EACCES) == abi.EACCES
    assert wasi_errno(errno.EPERM) == 63
    assert wasi_errno(errno.ENOTEMPTY) == 55
    assert wasi_errno(errno.EXDEV) == 75
    assert wasi_errno(errno.EWOULDBLOCK) == abi.EAGAIN
    assert wasi_errno(errno.EOPNOTSUPP) == abi.ENOTSUP


# Standard streams.

def test_fd_write_gathers_iovecs_in_order():
    stdout = io.BytesIO()
    guest = Guest(["prog"], stdout=stdout)
    assert guest.write(1, b"Hello, ", b"", b"world\n") == (0, 13)
    assert stdout.getvalue() == b"Hello, world\n"


def test_fd_read_scatters_into_iovecs():
    guest = Guest(["prog"], stdin=io.BytesIO(b"abcdefgh"))
    assert guest.read(0, 3, 2) == (0, b"abcde")
    assert guest.read(0, 10) == (0, b"fgh")
    assert guest.read(0, 10) == (0, b"")


def test_stdio_to_real_fds_in_program_order(tmp_path):
    """stdout and stderr given as the same file: writes land in call order, unbuffered."""
    with open(tmp_path / "out", "wb") as out:
        guest = Guest(["prog"], stdout=out.fileno(), stderr=out.fileno())
        guest.write(1, b"1 out\n")
        guest.write(2, b"2 err\n")
        guest.write(1, b"3 out\n")
    assert (tmp_path / "out").read_bytes() == b"1 out\n2 err\n3 out\n"


def test_python_side_writes_are_flushed_before_the_guests(tmp_path):
    with open(tmp_path / "out", "w") as text:
        text.write("python first\n")          # still in the TextIOWrapper's buffer
        guest = Guest(["prog"], stdout=text)
        guest.write(1, b"guest second\n")
    assert (tmp_path / "out").read_bytes() == b"python first\nguest second\n"


def test_fdstat_of_stdio_and_preopen(guest, sandbox):
    buf = guest.alloc(24)
    assert guest.call("fd_fdstat_get", PREOPEN, buf) == 0
    filetype, flags, rights, inheriting = abi.FDSTAT.unpack_from(guest.memory.data, buf)
    assert filetype == abi.FILETYPE_DIRECTORY and flags == 0
    assert rights & abi.RIGHT_PATH_OPEN and inheriting & abi.RIGHT_FD_READ
    assert guest.call("fd_fdstat_get", 1, buf) == 0
    assert abi.FDSTAT.unpack_from(guest.memory.data, buf)[2] & abi.RIGHT_FD_WRITE
    assert guest.call("fd_fdstat_get", 9, buf) == abi.EBADF


def test_prestat(guest):
    buf = guest.alloc(8)
    assert guest.call("fd_prestat_get", PREOPEN, buf) == 0
    assert abi.PRESTAT.unpack_from(guest.memory.data, buf) == (abi.PREOPENTYPE_DIR, 5)
    name = guest.alloc(5)
    assert guest.call("fd_prestat_dir_name", PREOPEN, name, 5) == 0
    assert guest.get(name, 5) == b"/data"
    assert guest.call("fd_prestat_dir_name", PREOPEN, name, 4) == abi.ENAMETOOLONG
    assert guest.call("fd_prestat_get", 1, buf) == abi.EBADF     # not a preopen
    assert guest.call("fd_prestat_get", 4, buf) == abi.EBADF     # wasi-libc stops here


def test_a_closed_stdio_fd_stays_closed_and_preopens_stay_at_3(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)            # a number that is not open
    try:
        guest = Guest(["prog"], stdin=read_end, preopens=[("/d", str(tmp_path))])
        assert guest.read(0, 1)[0] == abi.EBADF
        buf = guest.alloc(8)
        assert guest.call("fd_prestat_get", 3, buf) == 0
        assert guest.open(PREOPEN, "new", CREAT_TRUNC) == (0, 0)    # lowest free number
    finally:
        os.close(write_end)


def test_missing_preopen_is_a_config_error(tmp_path):
    with pytest.raises(WasiConfigError, match="cannot preopen"):
        WasiHost(["prog"], preopens=[("x", str(tmp_path / "missing"))])
    (tmp_path / "file").write_text("x")
    with pytest.raises(WasiConfigError, match="Not a directory"):
        WasiHost(["prog"], preopens=[("x", str(tmp_path / "file"))])


# Files.

def test_create_write_seek_read(guest, sandbox):
    errno, fd = guest.open(PREOPEN, "notes.txt", CREAT_TRUNC)
    assert errno == 0
    assert guest.write(fd, b"hello ", b"world") == (0, 11)
    assert (sandbox / "notes.txt").read_bytes() == b"hello world"
    offset = guest.alloc(8)
    assert guest.call("fd_seek", fd, 6, abi.WHENCE_SET, offset) == 0
    assert guest.u64(offset) == 6
    assert guest.read(fd, 100) == (0, b"world")
    assert guest.call("fd_seek", fd, (-3) & (2**64 - 1), abi.WHENCE_END, offset) == 0
    assert guest.u64(offset) == 8
    assert guest.call("fd_tell", fd, offset) == 0 and guest.u64(offset) == 8
    assert guest.call("fd_seek", fd, 0, 7, offset) == abi.EINVAL
    assert guest.call("fd_seek", fd, (-100) & (2**64 - 1), abi.WHENCE_CUR, offset) == abi.EINVAL
    assert guest.call("fd_close", fd) == 0
    assert guest.call("fd_close", fd) == abi.EBADF


def test_pread_pwrite_leave_the_position(guest, sandbox):
    (sandbox / "f").write_bytes(b"0123456789")
    _, fd = guest.open(PREOPEN, "f")
    iov, buf, count = guest.alloc(8), guest.alloc(4), guest.alloc(4)
    struct.pack_into("<II", guest.memory.data, iov, buf, 4)
    assert guest.call("fd_pread", fd, iov, 1, 3, count) == 0
    assert guest.get(buf, guest.u32(count)) == b"3456"
    guest.memory.data[buf:buf + 2] = b"AB"
    struct.pack_into("<II", guest.memory.data, iov, buf, 2)
    assert guest.call("fd_pwrite", fd, iov, 1, 8, count) == 0 and guest.u32(count) == 2
    assert guest.read(fd, 3) == (0, b"012")
    assert (sandbox / "f").read_bytes() == b"01234567AB"


def test_append_flag(guest, sandbox):
    (sandbox / "log").write_bytes(b"first\n")
    _, fd = guest.open(PREOPEN, "log", fdflags=abi.FDFLAGS_APPEND)
    guest.write(fd, b"second\n")
    assert (sandbox / "log").read_bytes() == b"first\nsecond\n"
    buf = guest.alloc(24)
    guest.call("fd_fdstat_get", fd, buf)
    assert abi.FDSTAT.unpack_from(guest.memory.data, buf)[1] == abi.FDFLAGS_APPEND
    assert guest.call("fd_fdstat_set_flags", fd, 0) == 0
    assert guest.call("fd_seek", fd, 0, abi.WHENCE_SET, guest.alloc(8)) == 0
    guest.write(fd, b"X")
    assert (sandbox / "log").read_bytes() == b"X" + b"irst\nsecond\n"
    assert guest.call("fd_fdstat_set_flags", fd, abi.FDFLAGS_SYNC) == abi.ENOTSUP


def test_oflags_excl_and_directory(guest, sandbox):
    (sandbox / "exists").write_bytes(b"")
    assert guest.open(PREOPEN, "exists", abi.OFLAGS_CREAT | abi.OFLAGS_EXCL)[0] == abi.EEXIST
    assert guest.open(PREOPEN, "exists", abi.OFLAGS_DIRECTORY)[0] == abi.ENOTDIR
    assert guest.open(PREOPEN, "missing")[0] == abi.ENOENT
    assert guest.open(PREOPEN, "exists/")[0] == abi.ENOTDIR
    assert guest.open(PREOPEN, "")[0] == abi.ENOENT


def test_directories_and_trailing_slashes_answer_as_the_host_does(guest, sandbox):
    """As wasmtime and the WASI test suite: write rights on a directory are EISDIR; a link
    made at a name ending in "/" is ENOENT (EEXIST where the name exists), and a link to a
    file named with a trailing "/" is ENOTDIR."""
    (sandbox / "dir").mkdir()
    (sandbox / "file").write_bytes(b"")
    ptr, length = guest.path("dir")
    for oflags in (0, abi.OFLAGS_DIRECTORY):
        assert guest.call("path_open", PREOPEN, 0, ptr, length, oflags, abi.FILE_RIGHTS, 0, 0,
                          guest.alloc(4)) == abi.EISDIR
    assert guest.open(PREOPEN, "dir", abi.OFLAGS_DIRECTORY)[0] == 0
    assert guest.symlink("file", PREOPEN, "new/") == abi.ENOENT
    assert guest.symlink("file", PREOPEN, "dir/") == abi.EEXIST
    assert guest.link(PREOPEN, "file", PREOPEN, "new/") == abi.ENOENT
    assert guest.link(PREOPEN, "file/", PREOPEN, "new") == abi.ENOTDIR
    assert sorted(os.listdir(sandbox)) == ["dir", "file"]


def test_rights_are_enforced_and_only_dropped(guest, sandbox):
    (sandbox / "f").write_bytes(b"data")
    errno, fd = guest.open(PREOPEN, "f", rights=READ_ONLY)
    assert errno == 0
    assert guest.write(fd, b"x")[0] == abi.EBADF           # opened read-only, like POSIX
    assert guest.call("fd_fdstat_set_rights", fd, abi.RIGHT_FD_READ, 0) == 0
    offset = guest.alloc(8)
    assert guest.call("fd_seek", fd, 1, abi.WHENCE_SET, offset) == abi.ENOTCAPABLE
    assert guest.call("fd_fdstat_set_rights", fd, READ_ONLY, 0) == abi.ENOTCAPABLE
    assert guest.read(fd, 10) == (0, b"data")
    # A directory descriptor without path_create_file cannot create files.
    _, sub = guest.open(PREOPEN, ".", abi.OFLAGS_DIRECTORY,
                        rights=abi.DIRECTORY_RIGHTS & ~abi.RIGHT_PATH_CREATE_FILE)
    assert guest.open(sub, "new", abi.OFLAGS_CREAT)[0] == abi.ENOTCAPABLE
    assert not (sandbox / "new").exists()
    # Rights beyond what the directory may hand out.
    assert guest.open(sub, "f", rights=abi.RIGHT_FD_WRITE)[0] == abi.ENOTCAPABLE


def test_filestat_truncate_times_allocate(guest, sandbox):
    _, fd = guest.open(PREOPEN, "f", CREAT_TRUNC)
    guest.write(fd, b"0123456789")
    buf = guest.alloc(64)
    assert guest.call("fd_filestat_get", fd, buf) == 0
    stat = abi.FILESTAT.unpack_from(guest.memory.data, buf)
    assert stat[2] == abi.FILETYPE_REGULAR_FILE and stat[4] == 10 and stat[3] == 1
    assert stat[1] == os.stat(sandbox / "f").st_ino
    assert guest.call("fd_filestat_set_size", fd, 4) == 0
    assert (sandbox / "f").read_bytes() == b"0123"
    assert guest.call("fd_allocate", fd, 0, 100) == 0
    assert os.stat(sandbox / "f").st_size == 100
    assert guest.call("fd_filestat_set_times", fd, 5 * 10**9, 7 * 10**9,
                      abi.FSTFLAGS_ATIM | abi.FSTFLAGS_MTIM) == 0
    st = os.stat(sandbox / "f")
    assert (st.st_atime_ns, st.st_mtime_ns) == (5 * 10**9, 7 * 10**9)
    assert guest.call("fd_filestat_set_times", fd, 0, 9 * 10**9, abi.FSTFLAGS_MTIM) == 0
    st = os.stat(sandbox / "f")
    assert (st.st_atime_ns, st.st_mtime_ns) == (5 * 10**9, 9 * 10**9)
    assert guest.call("fd_filestat_set_times", fd, 0, 0,
                      abi.FSTFLAGS_MTIM | abi.FSTFLAGS_MTIM_NOW) == abi.EINVAL
    assert guest.call("fd_filestat_set_size", fd, 2**63) == abi.EINVAL
    for call in ("fd_sync", "fd_datasync"):
        assert guest.call(call, fd) == 0
    assert guest.call("fd_advise", fd, 0, 0, 1) == 0
    assert guest.call("fd_advise", fd, 0, 0, 6) == abi.EINVAL


def test_path_calls(guest, sandbox):
    assert guest.path_call("path_create_directory", PREOPEN, "dir") == 0
    assert (sandbox / "dir").is_dir()
    assert guest.path_call("path_create_directory", PREOPEN, "dir") == abi.EEXIST
    _, fd = guest.open(PREOPEN, "dir/a", CREAT_TRUNC)
    guest.write(fd, b"abc")
    errno, stat = guest.filestat(PREOPEN, "dir/a")
    assert errno == 0 and stat[2] == abi.FILETYPE_REGULAR_FILE and stat[4] == 3
    assert guest.rename(PREOPEN, "dir/a", PREOPEN, "b") == 0
    assert (sandbox / "b").read_bytes() == b"abc" and not (sandbox / "dir/a").exists()
    assert guest.link(PREOPEN, "b", PREOPEN, "dir/hard") == 0
    assert os.stat(sandbox / "b").st_nlink == 2
    assert guest.symlink("../b", PREOPEN, "dir/soft") == 0
    assert os.readlink(sandbox / "dir/soft") == "../b"
    assert guest.readlink(PREOPEN, "dir/soft") == (0, b"../b")
    assert guest.filestat(PREOPEN, "dir/soft", follow=False)[1][2] == abi.FILETYPE_SYMBOLIC_LINK
    assert guest.filestat(PREOPEN, "dir/soft", follow=True)[1][2] == abi.FILETYPE_REGULAR_FILE
    assert guest.open(PREOPEN, "dir/soft", follow=False)[0] == abi.ELOOP
    _, fd = guest.open(PREOPEN, "dir/soft", follow=True)
    assert guest.read(fd, 10) == (0, b"abc")
    assert guest.path_call("path_remove_directory", PREOPEN, "dir") == abi.ENOTEMPTY
    assert guest.path_call("path_unlink_file", PREOPEN, "dir") == abi.EISDIR
    assert guest.path_call("path_unlink_file", PREOPEN, "b/") == abi.ENOTDIR
    for name in ("dir/soft", "dir/hard"):
        assert guest.path_call("path_unlink_file", PREOPEN, name) == 0
    assert guest.path_call("path_remove_directory", PREOPEN, "b") == abi.ENOTDIR
    assert guest.path_call("path_remove_directory", PREOPEN, "dir/") == 0
    assert sorted(os.listdir(sandbox)) == ["b"]
    ptr, length = guest.path("b")
    assert guest.call("path_filestat_set_times", PREOPEN, 0, ptr, length, 0, 3 * 10**9,
                      abi.FSTFLAGS_MTIM) == 0
    assert os.stat(sandbox / "b").st_mtime_ns == 3 * 10**9


def test_path_calls_on_a_file_descriptor_are_enotdir(guest, sandbox):
    (sandbox / "f").write_bytes(b"")
    _, fd = guest.open(PREOPEN, "f")
    assert guest.open(fd, "x")[0] == abi.ENOTDIR
    assert guest.path_call("path_create_directory", fd, "x") == abi.ENOTDIR


def test_readdir_with_cookies_and_small_buffers(guest, sandbox):
    names = [f"entry-{i:02d}-{'x' * i}" for i in range(30)]
    for name in names:
        (sandbox / name).write_bytes(b"")
    (sandbox / "subdir").mkdir()
    _, fd = guest.open(PREOPEN, ".", abi.OFLAGS_DIRECTORY)
    expected = sorted([".", "..", "subdir"] + names)
    assert sorted(guest.readdir_names(fd)) == expected
    # A buffer smaller than one entry still makes progress via cut entries and cookies.
    assert sorted(guest.readdir_names(fd, buf_len=64)) == expected
    buf, used = guest.alloc(256), guest.alloc(4)
    assert guest.call("fd_readdir", fd, buf, 256, 10**6, used) == 0 and guest.u32(used) == 0
    _, file_fd = guest.open(PREOPEN, "subdir/../" + names[0])
    assert guest.call("fd_readdir", file_fd, buf, 256, 0, used) == abi.ENOTDIR


def test_readdir_types(guest, sandbox):
    (sandbox / "file").write_bytes(b"")
    (sandbox / "dir").mkdir()
    (sandbox / "link").symlink_to("file")
    buf, used = guest.alloc(1024), guest.alloc(4)
    assert guest.call("fd_readdir", PREOPEN, buf, 1024, 0, used) == 0
    types, offset = {}, 0
    while offset < guest.u32(used):
        _, ino, namlen, filetype = abi.DIRENT.unpack_from(guest.memory.data, buf + offset)
        name = guest.get(buf + offset + 24, namlen).decode()
        types[name] = filetype
        if name == "file":
            assert ino == os.stat(sandbox / "file").st_ino
        offset += 24 + namlen
    assert types == {".": abi.FILETYPE_DIRECTORY, "..": abi.FILETYPE_DIRECTORY,
                     "file": abi.FILETYPE_REGULAR_FILE, "dir": abi.FILETYPE_DIRECTORY,
                     "link": abi.FILETYPE_SYMBOLIC_LINK}


def test_renumber(guest, sandbox):
    (sandbox / "a").write_bytes(b"A")
    (sandbox / "b").write_bytes(b"B")
    _, fd_a = guest.open(PREOPEN, "a")
    _, fd_b = guest.open(PREOPEN, "b")
    assert guest.call("fd_renumber", fd_a, fd_b) == 0
    assert guest.read(fd_b, 1) == (0, b"A")
    assert guest.read(fd_a, 1)[0] == abi.EBADF
    assert guest.call("fd_renumber", fd_b, 99) == abi.EBADF
    # Freed numbers are reused lowest first.
    assert guest.open(PREOPEN, "a")[1] == fd_a


# Memory safety of the ABI.

def test_out_of_range_pointers_are_efault_and_touch_nothing(guest, sandbox):
    end = len(guest.memory.data)
    before = bytes(guest.memory.data)
    assert guest.call("args_sizes_get", end - 2, 0) == abi.EFAULT
    assert guest.call("clock_time_get", abi.CLOCK_MONOTONIC, 0, end - 4) == abi.EFAULT
    assert guest.call("random_get", end - 10, 11) == abi.EFAULT
    assert guest.call("fd_write", 1, end - 4, 1, 0) == abi.EFAULT
    assert guest.call("path_open", PREOPEN, 0, end - 1, 5, 1, ALL, ALL, 0, 0) == abi.EFAULT
    assert guest.call("fd_fdstat_get", 1, 0xFFFFFFFF) == abi.EFAULT
    assert bytes(guest.memory.data) == before
    assert not any(sandbox.iterdir())
    # An iovec whose buffer runs off the end: nothing is written to the file.
    _, fd = guest.open(PREOPEN, "f", CREAT_TRUNC)
    iovs = guest.alloc(16)
    struct.pack_into("<IIII", guest.memory.data, iovs, guest.put(b"ok"), 2, end - 1, 2)
    assert guest.call("fd_write", fd, iovs, 2, guest.alloc(4)) == abi.EFAULT
    assert (sandbox / "f").read_bytes() == b""
    # A bad result pointer is caught before the read consumes any input.
    stdin_guest = Guest(["prog"], stdin=io.BytesIO(b"precious"))
    iov = stdin_guest.alloc(8)
    struct.pack_into("<II", stdin_guest.memory.data, iov, stdin_guest.alloc(8), 8)
    assert stdin_guest.call("fd_read", 0, iov, 1, end) == abi.EFAULT
    assert stdin_guest.read(0, 8) == (0, b"precious")


def test_memory_can_grow_after_io(guest):
    """The host holds no view of the buffer after a call (a bytearray with exported views
    cannot be resized)."""
    guest.write(1, b"x")
    guest.read(0, 0)
    assert guest.memory.grow(1) == 1
    assert guest.write(1, b"after grow") == (0, 10)


def test_no_memory_bound_is_efault():
    host = WasiHost(["prog"])
    sizes = host.imports()["wasi_snapshot_preview1"]["args_sizes_get"]
    assert sizes.call_bits([0, 4]) == [abi.EFAULT]


# poll_oneoff and sockets.

def poll(guest, subscriptions):
    """subscriptions: [(userdata, tag, payload bytes)]; returns [(userdata, error, type,
    nbytes, flags)]."""
    subs = guest.alloc(48 * len(subscriptions))
    for index, (userdata, tag, payload) in enumerate(subscriptions):
        addr = subs + 48 * index
        abi.SUBSCRIPTION_HEAD.pack_into(guest.memory.data, addr, userdata, tag)
        guest.memory.data[addr + 16:addr + 16 + len(payload)] = payload
    events, count = guest.alloc(32 * len(subscriptions)), guest.alloc(4)
    assert guest.call("poll_oneoff", subs, events, len(subscriptions), count) == 0
    return [abi.EVENT.unpack_from(guest.memory.data, events + 32 * i)
            for i in range(guest.u32(count))]


def clock_sub(nanoseconds, clock=abi.CLOCK_MONOTONIC, flags=0):
    return abi.SUBSCRIPTION_CLOCK.pack(clock, nanoseconds, 0, flags)


def test_poll_clock_sleeps_at_least_the_timeout():
    guest = Guest(["prog"])
    start = time.monotonic_ns()
    events = poll(guest, [(42, abi.EVENTTYPE_CLOCK, clock_sub(3_000_000))])
    assert time.monotonic_ns() - start >= 3_000_000
    assert events == [(42, 0, abi.EVENTTYPE_CLOCK, 0, 0)]
    deadline = time.clock_gettime_ns(time.CLOCK_REALTIME) + 2_000_000
    start = time.monotonic_ns()
    events = poll(guest, [(7, abi.EVENTTYPE_CLOCK,
                           clock_sub(deadline, abi.CLOCK_REALTIME,
                                     abi.SUBSCRIPTION_CLOCK_ABSTIME))])
    assert time.clock_gettime_ns(time.CLOCK_REALTIME) >= deadline
    assert events == [(7, 0, abi.EVENTTYPE_CLOCK, 0, 0)]
    assert poll(guest, [(1, abi.EVENTTYPE_CLOCK, clock_sub(0, clock=9))]) == \
        [(1, abi.EINVAL, abi.EVENTTYPE_CLOCK, 0, 0)]


def test_poll_fds(guest, sandbox):
    (sandbox / "f").write_bytes(b"12345")
    _, fd = guest.open(PREOPEN, "f")
    fd_sub = abi.SUBSCRIPTION_FD.pack
    read_end, write_end = os.pipe()
    with open(read_end, "rb", buffering=0) as reader, open(write_end, "wb", buffering=0) as writer:
        pipe_guest = Guest(["prog"], stdin=reader)
        # Nothing to read on the pipe yet: the clock fires first.
        events = poll(pipe_guest, [(1, abi.EVENTTYPE_FD_READ, fd_sub(0)),
                                   (2, abi.EVENTTYPE_CLOCK, clock_sub(1_000_000))])
        assert events == [(2, 0, abi.EVENTTYPE_CLOCK, 0, 0)]
        writer.write(b"xyz")
        events = poll(pipe_guest, [(1, abi.EVENTTYPE_FD_READ, fd_sub(0)),
                                   (2, abi.EVENTTYPE_CLOCK, clock_sub(10**10))])
        assert events == [(1, 0, abi.EVENTTYPE_FD_READ, 3, 0)]
        writer.close()
        assert pipe_guest.read(0, 3) == (0, b"xyz")
        events = poll(pipe_guest, [(1, abi.EVENTTYPE_FD_READ, fd_sub(0))])
        assert events[0][4] == abi.EVENT_FD_READWRITE_HANGUP
    # Regular files are always ready; a bad fd is an event with EBADF.
    events = poll(guest, [(5, abi.EVENTTYPE_FD_READ, fd_sub(fd)),
                          (6, abi.EVENTTYPE_FD_WRITE, fd_sub(99))])
    assert sorted(events) == [(5, 0, abi.EVENTTYPE_FD_READ, 5, 0),
                              (6, abi.EBADF, abi.EVENTTYPE_FD_WRITE, 0, 0)]
    assert guest.call("poll_oneoff", 0, guest.alloc(32), 0, guest.alloc(4)) == abi.EINVAL


def test_sockets_only_when_handed_in():
    guest = Guest(["prog"])
    assert guest.call("sock_accept", 1, 0, guest.alloc(4)) == abi.ENOTSOCK
    assert guest.call("sock_shutdown", 7, abi.SHUTDOWN_WR) == abi.EBADF

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = socket.create_connection(listener.getsockname())
    guest = Guest(["prog"], sockets=[listener])
    try:
        fd_ptr = guest.alloc(4)
        assert guest.call("sock_accept", 1, 0, fd_ptr) == abi.ENOTSOCK
        assert guest.call("sock_shutdown", 7, abi.SHUTDOWN_WR) == abi.EBADF
        assert guest.call("sock_accept", 3, 0, fd_ptr) == 0
        conn = guest.u32(fd_ptr)
        client.sendall(b"ping")
        iov, buf, size, flags = guest.alloc(8), guest.alloc(16), guest.alloc(4), guest.alloc(4)
        struct.pack_into("<II", guest.memory.data, iov, buf, 16)
        assert guest.call("sock_recv", conn, iov, 1, 0, size, flags) == 0
        assert guest.get(buf, guest.u32(size)) == b"ping"
        struct.pack_into("<II", guest.memory.data, iov, guest.put(b"pong"), 4)
        assert guest.call("sock_send", conn, iov, 1, 0, size) == 0 and guest.u32(size) == 4
        assert client.recv(4) == b"pong"
        assert guest.call("sock_shutdown", conn, abi.SHUTDOWN_WR) == 0
        assert client.recv(4) == b""
        assert guest.call("sock_shutdown", conn, 0) == abi.EINVAL
    finally:
        guest.close()
        client.close()
