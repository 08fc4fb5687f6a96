"""poll_oneoff: wait until a clock deadline passes or a descriptor is ready.

A mixin of WasiHost (see fd_calls.py for the conventions). Regular files and streams without
a host fd are always ready; pipes, terminals and sockets are waited on with poll(2); all clock
deadlines are converted to the monotonic clock, so the wait is one poll() or one sleep.
"""

import os
import time

from . import abi
from .clocks import clock_now
from .errors import WasiError


def _bytes_readable(descriptor):
    """nbytes of an fd_read event: what a read could return without blocking, if known."""
    host_fd = descriptor.host_fd
    if host_fd is None:
        return 0
    try:
        if descriptor.filetype == abi.FILETYPE_REGULAR_FILE:
            return max(0, os.fstat(host_fd).st_size - os.lseek(host_fd, 0, os.SEEK_CUR))
        import fcntl
        import termios
        return int.from_bytes(fcntl.ioctl(host_fd, termios.FIONREAD, bytes(4)), "little")
    except OSError:
        return 0


_MAX_POLL_MS = 2**31 - 1     # poll(2) takes an int; a longer wait returns early with no event


def _wait_for_fds(waiting, deadline):
    """poll(2) the fds in `waiting` ({host fd: [(userdata, eventtype, descriptor)]}) until one
    is ready or the monotonic `deadline` passes (ns; one already past, such as 0, means do not
    wait; None means no limit)."""
    import select       # a shared library, which only a program that polls such fds needs
    masks = {abi.EVENTTYPE_FD_READ: select.POLLIN, abi.EVENTTYPE_FD_WRITE: select.POLLOUT}
    poller = select.poll()
    for host_fd, subscribers in waiting.items():
        mask = 0
        for _, tag, _ in subscribers:
            mask |= masks[tag]
        poller.register(host_fd, mask)
    timeout_ms = None
    if deadline is not None:
        timeout_ms = -(-(deadline - time.monotonic_ns()) // 1_000_000)   # rounded up
        timeout_ms = min(max(timeout_ms, 0), _MAX_POLL_MS)
    events = []
    for host_fd, revents in poller.poll(timeout_ms):
        hangup = abi.EVENT_FD_READWRITE_HANGUP if revents & select.POLLHUP else 0
        for userdata, tag, descriptor in waiting[host_fd]:
            if revents & (masks[tag] | select.POLLHUP | select.POLLERR):
                nbytes = _bytes_readable(descriptor) if tag == abi.EVENTTYPE_FD_READ else 0
                events.append((userdata, 0, tag, nbytes, hangup))
    return events


class PollCalls:

    def poll_oneoff(self, in_ptr, out_ptr, nsubscriptions, nevents_ptr):
        if nsubscriptions == 0:
            raise WasiError(abi.EINVAL)
        memory = self.memory()
        memory.check(in_ptr, nsubscriptions * abi.SUBSCRIPTION_SIZE)
        memory.check(out_ptr, nsubscriptions * abi.EVENT.size)
        memory.check(nevents_ptr, 4)

        start = time.monotonic_ns()
        events = []        # (userdata, errno, eventtype, nbytes, flags)
        deadlines = []     # (monotonic deadline in ns, userdata)
        waiting = {}       # host fd -> [(userdata, eventtype, descriptor)]
        for index in range(nsubscriptions):
            addr = in_ptr + index * abi.SUBSCRIPTION_SIZE
            userdata, tag = memory.unpack(abi.SUBSCRIPTION_HEAD, addr)
            if tag == abi.EVENTTYPE_CLOCK:
                clock_id, timeout, _precision, flags = memory.unpack(abi.SUBSCRIPTION_CLOCK,
                                                                     addr + 16)
                try:
                    if flags & abi.SUBSCRIPTION_CLOCK_ABSTIME:
                        timeout -= clock_now(clock_id)
                    else:
                        clock_now(clock_id)     # validates the clock id
                except WasiError as error:
                    events.append((userdata, error.errno, tag, 0, 0))
                    continue
                deadlines.append((start + max(timeout, 0), userdata))
            elif tag in (abi.EVENTTYPE_FD_READ, abi.EVENTTYPE_FD_WRITE):
                (fd,) = memory.unpack(abi.SUBSCRIPTION_FD, addr + 16)
                try:
                    descriptor = self.fds.get(fd)
                    descriptor.need(abi.RIGHT_POLL_FD_READWRITE)
                except WasiError as error:
                    events.append((userdata, error.errno, tag, 0, 0))
                    continue
                if descriptor.host_fd is None or descriptor.filetype in (
                        abi.FILETYPE_REGULAR_FILE, abi.FILETYPE_DIRECTORY):
                    nbytes = _bytes_readable(descriptor) if tag == abi.EVENTTYPE_FD_READ else 0
                    events.append((userdata, 0, tag, nbytes, 0))
                    continue
                waiting.setdefault(descriptor.host_fd, []).append((userdata, tag, descriptor))
            else:
                raise WasiError(abi.EINVAL)

        first_deadline = min(deadlines)[0] if deadlines else None
        if waiting:
            events += _wait_for_fds(waiting, 0 if events else first_deadline)
        elif first_deadline is not None and not events:
            while (remaining := first_deadline - time.monotonic_ns()) > 0:
                time.sleep(min(remaining / 1e9, 86400.0))   # time_t-safe steps

        now = time.monotonic_ns()
        for deadline, userdata in deadlines:
            if deadline <= now:
                events.append((userdata, 0, abi.EVENTTYPE_CLOCK, 0, 0))
        for index, event in enumerate(events):
            memory.pack(abi.EVENT, out_ptr + index * abi.EVENT.size, *event)
        memory.store_u32(nevents_ptr, len(events))
        return abi.ESUCCESS
