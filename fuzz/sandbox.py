"""Each engine runs in a forked child that streams its events (outcomes.py) back through a
pipe, so that a crash of native code, or a hang, is a reported result of that engine rather
than the end of the harness; and the events before the crash say which call it was.

A hang is a child that used up its CPU time (RLIMIT_CPU), not one that took long: on a busy
machine a slow engine (the interpreter on a loop-heavy module) would otherwise time out.
Only a child that blocks without using CPU meets the wall-clock backstop, WALL_FACTOR times
its CPU time.

The process that forks must not have started wasmtime itself: neither its compile threads
nor its trap handling survive a fork (a child's compile waits for threads it does not have,
a trap kills it with SIGILL). Tests that compare with wasmtime in pytest's own process run
it in a child for that reason (tests/interp_and_wasmtime.py, in_child).
"""

import faulthandler
import json
import math
import os
import resource
import select
import signal
import time
import traceback

WALL_FACTOR = 10


def run_forked(function, args, timeout):
    """function(*args, emit) in a child; its events, ending with ["crash", ...] if the child
    died or ["timeout", seconds] if it used more than `timeout` seconds of CPU."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        seconds = math.ceil(timeout)
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
        _child(function, args, write_end)
    os.close(write_end)
    events, buffer, deadline = [], b"", time.monotonic() + WALL_FACTOR * timeout
    timed_out = False
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([pipe], [], [], remaining)
            if not ready:
                continue
            chunk = pipe.read(65536)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            events += [json.loads(line) for line in lines]
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if timed_out or os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        events.append(["timeout", timeout])
    elif os.WIFSIGNALED(status):
        events.append(["crash", f"killed by {signal.Signals(os.WTERMSIG(status)).name}"])
    elif os.WEXITSTATUS(status) != 0:
        events.append(["crash", f"exit status {os.WEXITSTATUS(status)}"])
    return events


def _child(function, args, write_end):
    """Never returns: the child must not run the parent's cleanup or pytest's."""
    code = 0
    try:
        quiet = os.open(os.devnull, os.O_WRONLY)    # LLVM or a dying engine may print
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        faulthandler.disable()    # pytest's would print a crash on a copy of stderr
        out = os.fdopen(write_end, "wb", buffering=0)

        def emit(event):
            out.write((json.dumps(event) + "\n").encode())

        try:
            function(*args, emit)
        except Exception as error:    # reported as the run's last event, not a crash
            last = traceback.extract_tb(error.__traceback__)[-1]
            emit(["error", f"{type(error).__name__}: {error} "
                           f"({os.path.basename(last.filename)}:{last.lineno})"])
        out.close()
    except BaseException:
        code = 3
    os._exit(code)
