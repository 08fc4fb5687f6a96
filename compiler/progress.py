"""What a compile reports as it goes: a progress bar on stderr, for compiling big modules on a
terminal (the caller decides), and the time of each phase (pyaotc -v)."""

import sys
import time

BAR_WIDTH = 30


class Progress:
    def __init__(self, total, label, enabled, stream=None):
        self.stream = stream or sys.stderr
        self.total = total
        self.label = label
        self.enabled = enabled
        self._shown = -1

    def update(self, done):
        if not self.enabled or self.total == 0:
            return
        percent = done * 100 // self.total
        if percent == self._shown:
            return
        self._shown = percent
        filled = BAR_WIDTH * done // self.total
        self.stream.write(f"\r{self.label} [{'#' * filled}{' ' * (BAR_WIDTH - filled)}] "
                          f"{done}/{self.total}")
        self.stream.flush()

    def phase(self, text):
        """Replace the bar with a status line (for the LLVM phases, which give no progress)."""
        if self.enabled:
            self.stream.write(f"\r\033[K{text}")
            self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


class PhaseClock:
    """Reports each phase's time to `log` (a function of one line of text), if there is one."""

    def __init__(self, log):
        self.log = log
        self.last = time.perf_counter()

    def note(self, text):
        if self.log:
            self.log(text)

    def lap(self, phase):
        now = time.perf_counter()
        self.note(f"{phase}: {now - self.last:.2f} s")
        self.last = now
