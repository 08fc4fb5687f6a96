"""The four preview1 clocks, read from the host's clock_gettime."""

import time

from . import abi
from .errors import WasiError

_HOST_CLOCKS = {
    abi.CLOCK_REALTIME: time.CLOCK_REALTIME,
    abi.CLOCK_MONOTONIC: time.CLOCK_MONOTONIC,
    abi.CLOCK_PROCESS_CPUTIME_ID: time.CLOCK_PROCESS_CPUTIME_ID,
    abi.CLOCK_THREAD_CPUTIME_ID: time.CLOCK_THREAD_CPUTIME_ID,
}


def _host_clock(clock_id):
    try:
        return _HOST_CLOCKS[clock_id]
    except KeyError:
        raise WasiError(abi.EINVAL) from None


def clock_now(clock_id):
    """The clock's current time in nanoseconds."""
    return time.clock_gettime_ns(_host_clock(clock_id))


def clock_resolution(clock_id):
    """The clock's resolution in nanoseconds (at least 1)."""
    return max(1, round(time.clock_getres(_host_clock(clock_id)) * 1e9))
