"""What bench/readiness and bench/jobs share: a daemon in its own directory, its JSON log, waits
with a deadline and the summary of a list of samples. Python 3 standard library only; the /proc
readings and the daemon's start and stop are tests/soak/soak.py's."""

import calendar
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "soak"))
import soak  # noqa: E402,F401  (re-exported: the scripts reach soak's helpers through here)

SUPERVISOR = ['log-format = "json"', 'shutdown-timeout = "10s"']


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def read_ns(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        return int(text) if text else None
    except FileNotFoundError:
        return None


def wait_for(cond, timeout, what, poll=0.001):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(poll)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


class Daemon:
    """gardien on a config in its own directory, stopped (SIGTERM, then SIGKILL) on close.
    `config_lines` follow the [supervisor] table's own lines: keys first, then tables."""

    def __init__(self, bins, work, name, config_lines, env):
        self.dir = os.path.join(work, name)
        os.mkdir(self.dir)
        self.sock = os.path.join(self.dir, "ctl.sock")
        config = write(os.path.join(self.dir, "gardien.toml"),
                       ["[supervisor]", f"socket = {soak.toml_str(self.sock)}", *SUPERVISOR,
                        *config_lines])
        self.bins = bins
        self.started_ms = time.time() * 1000
        self.proc, self.log = soak.start_daemon(bins["gardien"], config, self.dir, env)
        self.log_offset, self.log_tail = 0, b""

    def ctl(self, *args):
        r = subprocess.run([self.bins["gardienctl"], "--socket", self.sock, *args],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"gardienctl {' '.join(args)}: exit {r.returncode}: {r.stdout}"
                               f"{r.stderr}")
        return r.stdout

    def events(self):
        """Every JSON event of the log so far."""
        out = []
        with open(self.log, errors="replace") as f:
            for line in f:
                if line.startswith("{"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        return out

    def new_events(self):
        """The JSON events logged since the last call (whole lines only): a log of thousands of
        lines is read once, not once per poll."""
        with open(self.log, "rb") as f:
            f.seek(self.log_offset)
            data = self.log_tail + f.read()
            self.log_offset = f.tell()
        lines = data.split(b"\n")
        self.log_tail = lines.pop()
        out = []
        for line in lines:
            if line.startswith(b"{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def close(self, marker):
        return soak.stop_daemon(self.proc, marker)[0]


class SyscallTrace:
    """`perf trace` of some of the daemon's system calls, where perf can run (Debian's
    linux-perf): the daemon's own share of a latency, from the call that hears of an event to
    the clone() that acts on it."""

    LINE = re.compile(r"\s*([\d.]+) \(\s*([\d.]+) ms\): (\w+)\(.*\)\s+= (-?\d+)")

    def __init__(self, pid, path, calls):
        self.path, self.proc = path, None
        perf = shutil.which("perf")
        if not perf:
            return
        self.proc = subprocess.Popen([perf, "trace", "-p", str(pid), "-e", calls, "-o", path],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)  # perf attaches before the first sample
        if self.proc.poll() is not None:
            self.proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def intervals(self, first, then):
        """From the return of each `first` call with a positive result to the next call whose
        name starts with `then`: (to that call, to its return) in ms, or None without perf."""
        if not self.proc:
            return None
        self.stop()
        issued, returned, heard_at = [], [], None
        with open(self.path, errors="replace") as f:
            for line in f:
                m = self.LINE.match(line)
                if not m:
                    continue
                start, took, call, result = float(m[1]), float(m[2]), m[3], int(m[4])
                if call == first and result > 0:
                    heard_at = start + took
                elif call.startswith(then) and heard_at is not None:
                    issued.append(start - heard_at)
                    returned.append(start + took - heard_at)
                    heard_at = None
        return (issued, returned) if issued else None


class _Ended:
    """A daemon that has exited already: soak.stop_daemon then only sweeps."""

    def poll(self):
        return 0


def sweep(marker):
    """Kills what is left of a run (the processes whose environment holds SOAK_MARKER=marker)
    and reaps what was reparented to this script; -> (killed, still there)."""
    _, killed, remaining = soak.stop_daemon(_Ended(), marker)
    return killed, remaining


def table_lines(kind, name, command, *keys):
    """A [program.NAME] or [task.NAME] table (kind "program" or "task") with its command."""
    return [f"[{kind}.{name}]", "command = [" + ", ".join(soak.toml_str(c) for c in command) + "]",
            *keys, ""]


def event_ms(event):
    """An event's time in wall-clock milliseconds since the epoch."""
    t = event["time"]  # 2026-01-02T03:04:05.678Z
    return calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(t[20:23])


def quantile(values, f):
    v = sorted(values)
    return v[min(len(v) - 1, int(f * len(v)))]


def summary(values, unit="ms"):
    v = sorted(values)
    return (f"median {statistics.median(v):.3f} {unit} (p10 {quantile(v, 0.1):.3f}, p90 "
            f"{quantile(v, 0.9):.3f}, min {v[0]:.3f}, max {v[-1]:.3f}; {len(v)} samples)")
