"""What a compile reports as it goes: its phases and a progress bar on stderr, for big
modules (the caller decides), and the CPU time of each phase in one summary line (pyaotc
-v).

On a terminal the phases and the bar share one line, rewritten as they go; on a file or
pipe each phase is a line of its own, and the bar is left out.
"""

import resource
import sys
import time

BAR_WIDTH = 30


class Progress:
    def __init__(self, total, enabled, stream=None):
        self.stream = stream or sys.stderr
        self.total = total
        self.enabled = enabled
        self.terminal = enabled and self.stream.isatty()
        self.label = ""
        self._shown = -1

    def phase(self, label):
        """A phase starts: the status line on a terminal, else a line of its own."""
        if not self.enabled:
            return
        self.label = label
        self._shown = -1
        if self.terminal:
            self.stream.write(f"\r\033[K{label}")
        else:
            self.stream.write(f"pyaotc: {label}\n")
        self.stream.flush()

    def update(self, done):
        """`done` of the `total` function bodies compiled: the bar (terminal only)."""
        if not self.terminal or self.total == 0:
            return
        percent = done * 100 // self.total
        if percent == self._shown:
            return
        self._shown = percent
        filled = BAR_WIDTH * done // self.total
        self.stream.write(f"\r{self.label} [{'#' * filled}{' ' * (BAR_WIDTH - filled)}] "
                          f"{done}/{self.total}")
        self.stream.flush()

    def close(self):
        if self.terminal:
            self.stream.write("\r\033[K")
            self.stream.flush()


class PhaseClock:
    """CPU seconds per phase, this process's own and its workers' added in, reported to
    `log` (a function of one line of text), if there is one."""

    def __init__(self, log):
        self.log = log
        self.cpu = {}
        self.started = time.perf_counter()
        self.last = time.process_time()

    def note(self, text):
        if self.log:
            self.log(text)

    def lap(self, phase):
        """This process's CPU time since the last lap goes to `phase`."""
        now = time.process_time()
        self.add({phase: now - self.last})
        self.last = now

    def add(self, seconds, in_this_process=False):
        """Add {phase: CPU seconds} measured by a worker, or by this process
        (`in_this_process`: the next lap leaves them out)."""
        for phase, value in seconds.items():
            self.cpu[phase] = self.cpu.get(phase, 0.0) + value
        if in_this_process:
            self.last += sum(seconds.values())

    def summary(self, what):
        """One line: `what`, the CPU time in all and per phase, the wall time, and the peak
        memory of the biggest process."""
        wall = time.perf_counter() - self.started
        phases = ", ".join(f"{phase} {seconds:.2f}" for phase, seconds in self.cpu.items())
        self.note(f"{what}: {sum(self.cpu.values()):.2f} s CPU ({phases}), {wall:.2f} s wall, "
                  f"peak memory {peak_memory_mb():.0f} MB")


def peak_memory_mb():
    """The peak resident set of this process or of any of its finished children."""
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
