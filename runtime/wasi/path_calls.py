"""The path_* calls: every path is resolved inside its directory descriptor by sandbox.resolve,
and the host call is made relative to the directory the walk ended in, never by full path.

A mixin of WasiHost (see fd_calls.py for the conventions).
"""

import os
import stat

from . import abi
from .descriptors import Descriptor, filetype_of
from .errors import WasiError
from .fd_calls import new_times, pack_filestat
from .sandbox import resolve, symlink_target_escapes

_FDFLAGS_TO_HOST = ((abi.FDFLAGS_APPEND, os.O_APPEND), (abi.FDFLAGS_DSYNC, os.O_DSYNC),
                    (abi.FDFLAGS_RSYNC, os.O_RSYNC), (abi.FDFLAGS_SYNC, os.O_SYNC),
                    (abi.FDFLAGS_NONBLOCK, os.O_NONBLOCK))
_OFLAGS_TO_HOST = ((abi.OFLAGS_CREAT, os.O_CREAT), (abi.OFLAGS_DIRECTORY, os.O_DIRECTORY),
                   (abi.OFLAGS_EXCL, os.O_EXCL), (abi.OFLAGS_TRUNC, os.O_TRUNC))
_READ_RIGHTS = abi.RIGHT_FD_READ | abi.RIGHT_FD_READDIR
_WRITE_RIGHTS = abi.RIGHT_FD_WRITE | abi.RIGHT_FD_ALLOCATE | abi.RIGHT_FD_FILESTAT_SET_SIZE


def open_flags(oflags, rights, fdflags):
    """Host os.open flags for a path_open request. The access mode follows the rights asked
    for (as wasi-libc derives them from O_RDONLY/O_WRONLY/O_RDWR), so a directory asked for
    with write rights fails as the host's open(2) answers, EISDIR (ENOENT if there is none),
    as wasmtime and the WASI test suite (rust/path_open_preopen) expect. The last component
    is never followed: the walk already did that."""
    flags = os.O_NOFOLLOW | os.O_CLOEXEC
    if rights & _WRITE_RIGHTS:
        flags |= os.O_RDWR if rights & _READ_RIGHTS else os.O_WRONLY
    for wasi_flag, host_flag in _OFLAGS_TO_HOST:
        if oflags & wasi_flag:
            flags |= host_flag
    for wasi_flag, host_flag in _FDFLAGS_TO_HOST:
        if fdflags & wasi_flag:
            flags |= host_flag
    return flags


def new_name(resolved):
    """The name to create a link at: with the guest's trailing "/" put back, so that the
    host answers a link that would have to be a directory as it does (ENOENT, or EEXIST if
    the name exists; rust/path_link, rust/path_symlink_trailing_slashes)."""
    return resolved.name + b"/" if resolved.must_be_dir else resolved.name


def stat_resolved(resolved):
    """lstat of the walk's result; a path written with a trailing "/" must be a directory."""
    st = os.stat(resolved.name, dir_fd=resolved.dir_fd, follow_symlinks=False)
    if resolved.must_be_dir and not stat.S_ISDIR(st.st_mode):
        raise WasiError(abi.ENOTDIR)
    return st


class PathCalls:

    def _directory(self, fd, right):
        descriptor = self.fds.get(fd)
        if not descriptor.is_directory:
            raise WasiError(abi.ENOTDIR)
        descriptor.need(right)
        return descriptor

    def _resolve(self, directory, path_ptr, path_len, follow=False):
        return resolve(directory.host_fd, self.memory().path(path_ptr, path_len), follow)

    def path_open(self, fd, dirflags, path_ptr, path_len, oflags, rights, inheriting, fdflags,
                  fd_ptr):
        directory = self._directory(fd, abi.RIGHT_PATH_OPEN)
        if oflags & ~0xF or fdflags & ~0x1F:
            raise WasiError(abi.EINVAL)
        if oflags & abi.OFLAGS_CREAT:
            directory.need(abi.RIGHT_PATH_CREATE_FILE)
        if oflags & abi.OFLAGS_TRUNC:
            directory.need(abi.RIGHT_PATH_FILESTAT_SET_SIZE)
        if rights & ~directory.inheriting or inheriting & ~directory.inheriting:
            raise WasiError(abi.ENOTCAPABLE)
        memory = self.memory()
        memory.check(fd_ptr, 4)
        flags = open_flags(oflags, rights, fdflags)
        with self._resolve(directory, path_ptr, path_len,
                           dirflags & abi.LOOKUP_SYMLINK_FOLLOW) as resolved:
            if resolved.must_be_dir:
                flags |= os.O_DIRECTORY
            host_fd = os.open(resolved.name, flags, 0o666, dir_fd=resolved.dir_fd)
        try:
            filetype = filetype_of(os.fstat(host_fd).st_mode)
        except OSError:
            os.close(host_fd)
            raise
        granted = abi.DIRECTORY_RIGHTS if filetype == abi.FILETYPE_DIRECTORY else abi.FILE_RIGHTS
        descriptor = Descriptor(filetype, rights & granted, inheriting, host_fd=host_fd,
                                fdflags=fdflags)
        memory.store_u32(fd_ptr, self.fds.add(descriptor))
        return abi.ESUCCESS

    def path_create_directory(self, fd, path_ptr, path_len):
        directory = self._directory(fd, abi.RIGHT_PATH_CREATE_DIRECTORY)
        with self._resolve(directory, path_ptr, path_len) as resolved:
            os.mkdir(resolved.name, 0o777, dir_fd=resolved.dir_fd)
        return abi.ESUCCESS

    def path_remove_directory(self, fd, path_ptr, path_len):
        directory = self._directory(fd, abi.RIGHT_PATH_REMOVE_DIRECTORY)
        with self._resolve(directory, path_ptr, path_len) as resolved:
            os.rmdir(resolved.name, dir_fd=resolved.dir_fd)
        return abi.ESUCCESS

    def path_unlink_file(self, fd, path_ptr, path_len):
        directory = self._directory(fd, abi.RIGHT_PATH_UNLINK_FILE)
        with self._resolve(directory, path_ptr, path_len) as resolved:
            if resolved.must_be_dir:
                stat_resolved(resolved)
            os.unlink(resolved.name, dir_fd=resolved.dir_fd)
        return abi.ESUCCESS

    def path_filestat_get(self, fd, lookupflags, path_ptr, path_len, filestat_ptr):
        directory = self._directory(fd, abi.RIGHT_PATH_FILESTAT_GET)
        memory = self.memory()
        memory.check(filestat_ptr, abi.FILESTAT.size)
        with self._resolve(directory, path_ptr, path_len,
                           lookupflags & abi.LOOKUP_SYMLINK_FOLLOW) as resolved:
            pack_filestat(memory, filestat_ptr, stat_resolved(resolved))
        return abi.ESUCCESS

    def path_filestat_set_times(self, fd, lookupflags, path_ptr, path_len, atim, mtim,
                                fstflags):
        directory = self._directory(fd, abi.RIGHT_PATH_FILESTAT_SET_TIMES)
        with self._resolve(directory, path_ptr, path_len,
                           lookupflags & abi.LOOKUP_SYMLINK_FOLLOW) as resolved:
            times = new_times(stat_resolved(resolved), atim, mtim, fstflags)
            os.utime(resolved.name, ns=times, dir_fd=resolved.dir_fd, follow_symlinks=False)
        return abi.ESUCCESS

    def path_readlink(self, fd, path_ptr, path_len, buf, buf_len, bufused_ptr):
        """The link's target, cut to buf_len bytes (readlink(2) semantics, no NUL)."""
        directory = self._directory(fd, abi.RIGHT_PATH_READLINK)
        memory = self.memory()
        memory.check(buf, buf_len)
        memory.check(bufused_ptr, 4)
        with self._resolve(directory, path_ptr, path_len) as resolved:
            target = os.readlink(resolved.name, dir_fd=resolved.dir_fd)[:buf_len]
        memory.write(buf, target)
        memory.store_u32(bufused_ptr, len(target))
        return abi.ESUCCESS

    def path_symlink(self, target_ptr, target_len, fd, path_ptr, path_len):
        """Create a link; a target that is absolute or climbs out of the descriptor's
        directory is refused (ENOTCAPABLE), so every link the guest makes stays inside."""
        directory = self._directory(fd, abi.RIGHT_PATH_SYMLINK)
        target = self.memory().path(target_ptr, target_len)
        with self._resolve(directory, path_ptr, path_len) as resolved:
            if symlink_target_escapes(resolved.depth, target):
                raise WasiError(abi.ENOTCAPABLE)
            os.symlink(target, new_name(resolved), dir_fd=resolved.dir_fd)
        return abi.ESUCCESS

    def path_link(self, old_fd, old_lookupflags, old_path_ptr, old_path_len, new_fd,
                  new_path_ptr, new_path_len):
        old_directory = self._directory(old_fd, abi.RIGHT_PATH_LINK_SOURCE)
        new_directory = self._directory(new_fd, abi.RIGHT_PATH_LINK_TARGET)
        with self._resolve(old_directory, old_path_ptr, old_path_len,
                           old_lookupflags & abi.LOOKUP_SYMLINK_FOLLOW) as old, \
                self._resolve(new_directory, new_path_ptr, new_path_len) as new:
            if old.must_be_dir:
                stat_resolved(old)
            os.link(old.name, new_name(new), src_dir_fd=old.dir_fd, dst_dir_fd=new.dir_fd,
                    follow_symlinks=False)
        return abi.ESUCCESS

    def path_rename(self, old_fd, old_path_ptr, old_path_len, new_fd, new_path_ptr,
                    new_path_len):
        old_directory = self._directory(old_fd, abi.RIGHT_PATH_RENAME_SOURCE)
        new_directory = self._directory(new_fd, abi.RIGHT_PATH_RENAME_TARGET)
        with self._resolve(old_directory, old_path_ptr, old_path_len) as old, \
                self._resolve(new_directory, new_path_ptr, new_path_len) as new:
            if old.must_be_dir:
                stat_resolved(old)
            os.rename(old.name, new.name, src_dir_fd=old.dir_fd, dst_dir_fd=new.dir_fd)
        return abi.ESUCCESS
