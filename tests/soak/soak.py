#!/usr/bin/env python3
"""Soak test of the real gardien daemon and its control socket (`make soak`; docs/soak.md).

For DURATION (default 10m; `SOAK_DURATION=90s make soak`) it runs the Release `gardien` in a
temp dir with its own socket and a generated config (100 crash-looping programs, 20 healthy
ones, a keeper), while 50 client threads send status, restart (crash-loopers only) and logs at
random over the wire protocol, some through the real `gardienctl`. Every minute and at the end
it quiesces the clients and checks: the daemon's RSS and fd count stay flat after the first
minute, no zombie in the daemon's tree, every healthy program keeps its original pid, every
request got a valid answer. Beside it, a second daemon runs 100 small HTTP servers, each with
an http health check every second: its CPU must stay under 1% of a core, its RSS and fds flat,
every check passing (no health restart). Exits 1 naming each failed check; cleans up every
process it started (also on Ctrl-C or SIGTERM).

Python 3 standard library only.
"""

import argparse
import collections
import ctypes
import fnmatch
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

CRASH_COUNT = 100
HEALTH_PROGRAMS = 100
HEALTHY_SLEEPERS = 10
HEALTHY_WRITERS = 10
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def parse_duration(text):
    """'10m', '90s', '1m30s', '1.5h', '250ms' or a bare number of seconds -> seconds."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    total, pos = 0.0, 0
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(text) or pos == 0:
        raise argparse.ArgumentTypeError(
            f"not a duration: {text!r} (write it like 90s, 10m or 1m30s)")
    return total


def fmt_s(seconds):
    return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"


def now():
    return time.monotonic()


# ---------------------------------------------------------------------------------------------
# /proc


def read_stat(pid):
    """(state, ppid, starttime, comm) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except OSError:
        return None
    close = data.rfind(")")
    comm = data[data.find("(") + 1:close]
    fields = data[close + 2:].split()
    # fields[0] is field 3 (state): ppid is field 4, starttime field 22.
    return fields[0], int(fields[1]), int(fields[19]), comm


def all_processes():
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = read_stat(int(name))
            if st:
                out[int(name)] = st
    return out


def tree_of(root, procs):
    """Pids of root's descendants (not root itself)."""
    children = collections.defaultdict(list)
    for pid, (_, ppid, _, _) in procs.items():
        children[ppid].append(pid)
    out, todo = [], [root]
    while todo:
        for c in children[todo.pop()]:
            out.append(c)
            todo.append(c)
    return out


def zombies_under(root):
    """{(pid, starttime): description} of zombies whose parent is root or one of its descendants."""
    procs = all_processes()
    members = set(tree_of(root, procs)) | {root}
    return {(pid, st[2]): f"pid {pid} ({st[3]}) parent {st[1]}"
            for pid, st in procs.items() if st[0] == "Z" and st[1] in members}


def memory_kib(pid):
    """VmRSS and RssAnon (the heap's share: no shared library pages) of a process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "RssAnon"):
                out[key] = int(line.split()[1])
    return out["VmRSS"], out.get("RssAnon", 0)


def fd_targets(pid):
    """{fd: what it refers to ('pipe:[123]', 'socket:[45]', a path)} of a process; {} if gone."""
    out = {}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for fd in fds:
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass  # closed meanwhile
    return out


def fd_kind(target):
    return target.split(":", 1)[0] if ":" in target and not target.startswith("/") else "file"


def fd_kinds(pid):
    """fd count by kind (socket, pipe, anon_inode, file) of a process."""
    return collections.Counter(fd_kind(t) for t in fd_targets(pid).values())


def output_pipes_of(pids):
    """The pipes ('pipe:[N]') that are stdout or stderr of any of `pids`. Only those: a child
    between clone and exec still holds copies of every fd of the daemon's."""
    out = set()
    for pid in pids:
        for fd in (1, 2):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("pipe:"):
                out.add(target)
    return out


def steady_fds(daemon, healthy_pids):
    """The daemon's fds, less the output pipes of the programs that come and go: a pipe that is
    stdout or stderr of a process of the daemon's tree outside the healthy programs' trees (a
    crash-loop instance between its spawn and its exit). -> (set of (fd, target), fd count)."""
    fds = fd_targets(daemon)
    procs = all_processes()
    healthy = set()
    for pid in healthy_pids:
        healthy.add(pid)
        healthy.update(tree_of(pid, procs))
    passing = [p for p in tree_of(daemon, procs) if p not in healthy]
    busy = output_pipes_of(passing)
    return {(fd, t) for fd, t in fds.items() if t not in busy}, len(fds)


def processes_with_marker(marker):
    """Pids whose environment holds SOAK_MARKER=marker: everything this run started."""
    needle = f"SOAK_MARKER={marker}".encode()
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    out.append(int(name))
        except OSError:
            pass
    return out


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def uptime():
    if shutil.which("uptime"):
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return f"load average: {load_average()}"


# ---------------------------------------------------------------------------------------------
# The daemon's config


def toml_str(s):
    return json.dumps(s)  # a JSON string is a valid TOML basic string for what we write


def make_config(work, args):
    crash = [f"crash-{i:03d}" for i in range(CRASH_COUNT)]
    sleepers = [f"healthy-sleep-{i:02d}" for i in range(HEALTHY_SLEEPERS)]
    writers = [f"healthy-write-{i:02d}" for i in range(HEALTHY_WRITERS)]
    lines = [
        "[supervisor]",
        f"socket = {toml_str(os.path.join(work, 'ctl.sock'))}",
        # warn: the daemon's log stays small although ~100 programs spawn every second; warnings
        # and errors (an `illegal` event is one) are what the soak looks at.
        f"log-level = {toml_str(args.log_level)}",
        'log-format = "json"',
        'shutdown-timeout = "20s"',
        "",
    ]
    # Small rings (2 KiB) fill during the warm-up minute, so a full ring is not mistaken for a
    # leak; default rings of 1 MiB would take hours to fill at these output rates.
    ring = 'log-buffer-size = "2KiB"'
    for i, name in enumerate(crash):
        # Half exit silently, half write a line first (an output pipe opened and drained per
        # spawn).
        cmd = (toml_str("false") if i % 2 == 0 else
               toml_str('echo "$GARDIEN_INSTANCE crashing"; echo oops >&2; exit 3'))
        lines += [
            f"[program.{name}]",
            f"command = {'[' + cmd + ']' if i % 2 == 0 else cmd}",
            'restart = "always"',
            "start-retries = 0",  # never fatal: it loops for the whole soak
            f"backoff = {toml_str(args.backoff)}",
            f"backoff-max = {toml_str(args.backoff_max)}",
            'stop-timeout = "2s"',
            ring,
            "",
        ]
    for name in sleepers:
        lines += [f"[program.{name}]", 'command = ["sleep", "infinity"]', 'start-seconds = "1s"',
                  ring, ""]
    for i, name in enumerate(writers):
        # A line every 0.5 s on stdout and every 5 s on stderr; `sh` itself is the pid checked.
        script = ('i=0; while :; do i=$((i+1)); echo "$GARDIEN_INSTANCE line $i"; '
                  '[ $((i % 10)) = 0 ] && echo "$GARDIEN_INSTANCE warning $i" >&2; sleep 0.5; done')
        lines += [f"[program.{name}]", f"command = {toml_str(script)}", 'start-seconds = "1s"',
                  'stop-timeout = "2s"', ring, ""]
    # Config mode exits once every program has ended: this one never ends (docs/container.md).
    lines += ["[program.keeper]", 'command = ["sleep", "infinity"]', ""]
    path = os.path.join(work, "soak.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path, crash, sleepers + writers + ["keeper"], writers


def free_ports(n):
    """n distinct TCP ports on 127.0.0.1 that were free a moment ago (all bound at once, then
    released for the servers to take)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def make_health_config(work, http_ok, count, period="1s", extra=()):
    """A config of `count` programs hNNN, each `http_ok PORT` with `ready` and `health` http
    checks of its own port every `period`. Also used by bench/readiness. -> (path, names)."""
    lines = ["[supervisor]",
             f"socket = {toml_str(os.path.join(work, 'health.sock'))}",
             'log-format = "json"', 'shutdown-timeout = "20s"', *extra, ""]
    names = []
    for i, port in enumerate(free_ports(count)):
        name = f"h{i:03d}"
        url = toml_str(f"http://127.0.0.1:{port}/healthz")
        names.append(name)
        lines += [f"[program.{name}]",
                  f"command = [{toml_str(http_ok)}, \"{port}\"]",
                  f"ready = {{ http = {url}, period = \"100ms\" }}",
                  f"health = {{ http = {url}, period = {toml_str(period)}, timeout = \"1s\" }}",
                  'log-buffer-size = "0"', ""]
    path = os.path.join(work, "health.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path, names


class HealthSoak:
    """The second daemon: HEALTH_PROGRAMS http servers, each checked every second. It gets no
    client traffic; what it spends is the checks' cost."""

    def __init__(self, gardien, http_ok, work, env):
        self.work = work
        config, self.names = make_health_config(work, http_ok, HEALTH_PROGRAMS,
                                                extra=('log-level = "warn"',))
        self.sock_path = os.path.join(work, "health.sock")
        sub = os.path.join(work, "health")
        os.mkdir(sub)
        self.daemon, self.log_path = start_daemon(gardien, config, sub, env)
        self.pids = wait_until_up(self.daemon, self.sock_path, set(self.names), 60)

    def sample(self, t0):
        """RSS, the fds held through 10 samples over ~1 s (a check's socket in flight is not
        held), CPU, and which programs are not running healthy with their first pid."""
        pid = self.daemon.pid
        steady = None
        for _ in range(10):
            fds = set(fd_targets(pid).items())
            steady = fds if steady is None else steady & fds
            time.sleep(0.1)
        bad = []
        for i in direct_status(self.sock_path):
            name = i["name"]
            if (i["state"] != "running" or i["pid"] != self.pids.get(name) or
                    i.get("health") != "healthy"):
                bad.append(f"{name}: {i['state']} health {i.get('health')} pid {i['pid']} "
                           f"(was {self.pids.get(name)}) {i.get('info', '')}".strip())
        return {"t": now() - t0, "rss": memory_kib(pid)[0], "fds": len(steady),
                "cpu": cpu_seconds(pid), "bad": bad}


def print_health_sample(h):
    print(f"          health daemon: rss {h['rss']} KiB | fds {h['fds']} | CPU {h['cpu']:.2f} s | "
          f"{'all healthy' if not h['bad'] else str(len(h['bad'])) + ' NOT healthy'}", flush=True)


def evaluate_health(args, samples, check):
    base, last = samples[0], samples[-1]
    secs = last["t"] - base["t"]
    cpu = 100 * (last["cpu"] - base["cpu"]) / secs if secs > 0 else 0.0
    check("health checks cheap", cpu < args.health_cpu_bound,
          f"the health daemon's CPU {cpu:.2f}% of one core over {secs:.0f} s for "
          f"{HEALTH_PROGRAMS} http checks a second (bound {args.health_cpu_bound}%)")
    rss_max = max(h["rss"] for h in samples[1:]) if len(samples) > 1 else base["rss"]
    check("health rss flat", rss_max - base["rss"] <= args.rss_bound_kib,
          f"VmRSS {base['rss']} KiB at {base['t']:.0f}s, at most {rss_max} KiB after; per check: "
          + " ".join(str(h["rss"]) for h in samples))
    fd_max = max(h["fds"] for h in samples[1:]) if len(samples) > 1 else base["fds"]
    check("health fds flat", fd_max - base["fds"] <= args.fd_bound,
          f"{base['fds']} steady fds at {base['t']:.0f}s, at most {fd_max} after; per check: "
          + " ".join(str(h["fds"]) for h in samples))
    bad = [b for h in samples for b in h["bad"]]
    check("health checks pass", not bad,
          f"{HEALTH_PROGRAMS} programs" + (f"; {bad[:5]}" if bad else " running healthy with "
                                            "their first pid at every check"))


# ---------------------------------------------------------------------------------------------
# Counting


class Stats:
    """Per verb: sent, answered, ok, expected errors, invalid answers, timeouts, connection errors."""

    FIELDS = ("sent", "answered", "ok", "expected_error", "invalid", "timeout", "conn_error")

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.defaultdict(collections.Counter)
        self.problems = []  # the first few invalid answers, for the report
        self.latencies = collections.defaultdict(list)  # verb -> seconds until the final line

    def add(self, verb, field, n=1):
        with self.lock:
            self.counts[verb][field] += n

    def problem(self, verb, text):
        with self.lock:
            self.counts[verb]["invalid"] += 1
            if len(self.problems) < 20:
                self.problems.append(f"{verb}: {text}")

    def latency(self, verb, seconds):
        with self.lock:
            self.latencies[verb].append(seconds)

    def snapshot(self):
        with self.lock:
            return {v: collections.Counter(c) for v, c in self.counts.items()}


def totals(snap):
    t = collections.Counter()
    for c in snap.values():
        t.update(c)
    return t


# ---------------------------------------------------------------------------------------------
# Clients


class Invalid(Exception):
    """An answer that breaks the protocol's contract."""


class Connection:
    """One client connection speaking docs/protocol.md: JSON lines, streamed lines with more."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.reader = self.sock.makefile("rb")
        self.next_id = random.randint(1, 1 << 40)

    def close(self):
        try:
            self.reader.close()
        finally:
            self.sock.close()

    def send(self, cmd, args):
        self.next_id += 1
        line = json.dumps({"v": 1, "id": self.next_id, "cmd": cmd, "args": args})
        self.sock.sendall(line.encode() + b"\n")
        return self.next_id

    def read_line(self, want_id):
        raw = self.reader.readline()
        if not raw:
            raise ConnectionError("connection closed by the daemon before the answer ended")
        if not raw.endswith(b"\n"):
            raise Invalid(f"answer line without a newline: {raw[:200]!r}")
        try:
            msg = json.loads(raw)
        except ValueError:
            raise Invalid(f"answer is not JSON: {raw[:200]!r}")
        if not isinstance(msg, dict) or msg.get("id") != want_id or not isinstance(
                msg.get("ok"), bool):
            raise Invalid(f"answer for id {want_id} is {raw[:300]!r}")
        if msg["ok"] != ("result" in msg) or msg["ok"] == ("error" in msg):
            raise Invalid(f"ok/result/error mismatch: {raw[:300]!r}")
        return msg

    def read_answer(self, want_id):
        """Lines until one without more:true -> (progress lines, final line)."""
        progress = []
        while True:
            msg = self.read_line(want_id)
            if msg.get("more") is True:
                if not msg["ok"]:
                    raise Invalid(f"an error line marked more:true: {msg}")
                progress.append(msg)
            else:
                return progress, msg


class Soak:

    def __init__(self, args, sock_path, ctl, crash, healthy, writers, pids, marker):
        self.args = args
        self.sock_path = sock_path
        self.ctl = ctl
        self.crash = crash
        self.healthy = healthy
        self.writers = writers
        self.all_names = crash + healthy
        self.original_pids = pids  # healthy instance -> pid
        self.env = dict(os.environ, SOAK_MARKER=marker)
        self.stats = Stats()
        self.stop = threading.Event()
        self.gate = threading.Event()  # set: clients may work; cleared: quiesce
        self.gate.set()
        self.active_lock = threading.Condition()
        self.active = 0
        self.pid_mismatches = []
        self.threads = []
        self.start_times = {}  # healthy instance -> start time of its process (/proc stat)
        self.idle_sockets = 1  # the daemon's sockets with no client connected

    # --- selections -------------------------------------------------------------------------

    def select(self, names):
        """What the daemon selects for NAMEs (programs are single instances here)."""
        out = []
        for n in names:
            for c in self.all_names:
                if fnmatch.fnmatchcase(c, n) and c not in out:
                    out.append(c)
        return out

    def random_crash_names(self, rng):
        r = rng.random()
        if r < 0.7:
            return rng.sample(self.crash, rng.randint(1, 3))
        if r < 0.9:
            return [f"crash-0{rng.randint(0, 9)}?"]  # 10 instances
        return [f"crash-0[{rng.randint(0, 4)}-{rng.randint(5, 9)}]*"]  # 20..100 instances

    def random_status_names(self, rng):
        r = rng.random()
        if r < 0.3:
            return []
        if r < 0.5:
            return ["healthy-*"]
        if r < 0.6:
            return ["all"]
        return rng.sample(self.all_names, rng.randint(1, 5))

    def random_log_names(self, rng):
        r = rng.random()
        if r < 0.2:
            return None
        if r < 0.6:
            return rng.sample(self.writers, rng.randint(1, 3))
        if r < 0.8:
            return rng.sample(self.crash, rng.randint(1, 3))
        return ["healthy-write-*"]

    # --- checks of answers -------------------------------------------------------------------

    def check_status(self, names, final):
        if not final["ok"]:
            raise Invalid(f"status failed: {final['error']}")
        inst = final["result"].get("instances")
        want = self.select(names) if names and names != ["all"] else self.all_names
        if not isinstance(inst, list) or sorted(i.get("name") for i in inst) != sorted(want):
            raise Invalid(f"status {names}: instances {[i.get('name') for i in inst or []]}")
        self.check_healthy_pids(inst)

    def check_healthy_pids(self, instances):
        for i in instances:
            want = self.original_pids.get(i["name"])
            if want is not None and (i.get("pid") != want or i.get("state") != "running"):
                with self.stats.lock:
                    if len(self.pid_mismatches) < 20:
                        self.pid_mismatches.append(
                            f"{i['name']}: {i.get('state')} pid {i.get('pid')}, was {want}")

    def check_restart(self, names, wait, progress, final):
        want = self.select(names)
        if not wait:
            if not final["ok"]:
                raise Invalid(f"restart --no-wait failed: {final['error']}")
            got = [i["name"] for i in final["result"]["instances"]]
            if sorted(got) != sorted(want):
                raise Invalid(f"restart {names} --no-wait: instances {got}")
            return False
        streamed = [p["result"]["name"] for p in progress]
        if sorted(streamed) != sorted(want):
            raise Invalid(f"restart {names}: streamed {streamed}, expected {want}")
        if final["ok"]:
            raise Invalid(f"restart {names}: a crash-looper reported running: {final}")
        # A crash-looper never reaches running: the expected answer is `failed`.
        if final["error"].get("code") != "failed":
            raise Invalid(f"restart {names}: {final['error']}")
        return True

    def check_logs(self, names, count, stream, final):
        if names == ["no-such-program"]:
            if final["ok"] or final["error"].get("code") != "unknown_program":
                raise Invalid(f"logs of an unknown program: {final}")
            return True
        if not final["ok"]:
            raise Invalid(f"logs failed: {final['error']}")
        res = final["result"]
        lines = res.get("lines")
        if not isinstance(res.get("name_width"), int) or not isinstance(lines, list):
            raise Invalid(f"logs result: {str(res)[:300]}")
        allowed = set(self.select(names)) if names else set(self.all_names)
        if count > 0 and len(lines) > count:
            raise Invalid(f"logs -n {count}: {len(lines)} lines")
        for ln in lines:
            if ln.get("name") not in allowed or not isinstance(ln.get("text"), str):
                raise Invalid(f"logs {names}: line {ln}")
            if stream and ln.get("stream") != stream:
                raise Invalid(f"logs --stream {stream}: line {ln}")
        return False

    # --- one request of each kind, over the socket --------------------------------------------

    def request(self, conn, rng):
        """Sends 1..3 pipelined requests on conn and checks each answer, in order."""
        batch = [self.make_request(rng) for _ in range(3 if rng.random() < 0.15 else 1)]
        ids = []
        sent_at = now()
        for verb, cmd, args, check in batch:
            self.stats.add(verb, "sent")
            ids.append(conn.send(cmd, args))
        for (verb, cmd, args, check), rid in zip(batch, ids):
            try:
                progress, final = conn.read_answer(rid)
            except Invalid as e:
                self.stats.add(verb, "answered")
                self.stats.problem(verb, str(e))
                raise
            except (socket.timeout, TimeoutError):
                self.stats.add(verb, "timeout")
                raise
            self.stats.add(verb, "answered")
            self.stats.latency(verb, now() - sent_at)
            try:
                expected_error = check(progress, final)
            except Invalid as e:
                self.stats.problem(verb, str(e))
                continue
            self.stats.add(verb, "expected_error" if expected_error else "ok")

    def make_request(self, rng):
        r = rng.random()
        if r < 0.4:
            names = self.random_status_names(rng)
            args = {"names": names} if names else {}
            return "status", "status", args, lambda p, f: (self.check_status(names, f), False)[1]
        if r < 0.7:
            names = self.random_crash_names(rng)
            wait = rng.random() < 0.7
            args = {"names": names, "wait": wait}
            if wait and rng.random() < 0.3:
                args["timeout_ms"] = 20000
            return ("restart", "restart", args,
                    lambda p, f: self.check_restart(names, wait, p, f))
        if rng.random() < 0.03:
            names = ["no-such-program"]
            args = {"names": names}
            return "logs", "logs", args, lambda p, f: self.check_logs(names, 0, None, f)
        names = self.random_log_names(rng)
        count = rng.choice([0, 1, 10, 10, 50, 200])
        stream = rng.choice([None, None, "stdout", "stderr"])
        args = {"lines": count}
        if names:
            args["names"] = names
        if stream:
            args["stream"] = stream
        return "logs", "logs", args, lambda p, f: self.check_logs(names, count, stream, f)

    def follow(self, rng):
        """logs follow on a writer: at least one line must come; then the client leaves."""
        name = rng.choice(self.writers)
        want = rng.randint(1, 3)
        self.stats.add("logs-follow", "sent")
        try:
            conn = Connection(self.sock_path, self.args.request_timeout)
        except OSError as e:
            self.conn_error("logs-follow", f"connect: {e}")
            return
        try:
            rid = conn.send("logs", {"names": [name], "lines": 0, "follow": True})
            got = 0
            while got < want:
                msg = conn.read_line(rid)
                if not msg["ok"] or msg.get("more") is not True:
                    raise Invalid(f"follow line: {msg}")
                for ln in msg["result"]["lines"]:
                    if ln.get("name") != name:
                        raise Invalid(f"follow {name}: line of {ln.get('name')}")
                    got += 1
            self.stats.add("logs-follow", "answered")
            self.stats.add("logs-follow", "ok")
        except Invalid as e:
            self.stats.add("logs-follow", "answered")
            self.stats.problem("logs-follow", str(e))
        except (socket.timeout, TimeoutError):
            self.stats.add("logs-follow", "timeout")
        except (OSError, ConnectionError) as e:
            self.conn_error("logs-follow", str(e))
        finally:
            conn.close()

    def conn_error(self, verb, text):
        self.stats.add(verb, "conn_error")
        with self.stats.lock:
            if len(self.stats.problems) < 20:
                self.stats.problems.append(f"{verb}: connection: {text}")

    # --- the same through gardienctl ------------------------------------------------------------

    def via_ctl(self, rng):
        r = rng.random()
        if r < 0.4:
            names = self.random_status_names(rng)
            argv, verb = ["status", *names], "ctl-status"
        elif r < 0.7:
            names = self.random_crash_names(rng)
            wait = rng.random() < 0.7
            argv, verb = ["restart", *names] + ([] if wait else ["--no-wait"]), "ctl-restart"
        else:
            names = self.random_log_names(rng) or []
            count = rng.choice([0, 5, 20])
            argv, verb = ["logs", "-n", str(count), *names], "ctl-logs"
        self.stats.add(verb, "sent")
        sent_at = now()
        try:
            proc = subprocess.run([self.ctl, "--socket", self.sock_path, "--json", *argv],
                                  stdin=subprocess.DEVNULL, capture_output=True, env=self.env,
                                  timeout=self.args.request_timeout)
        except subprocess.TimeoutExpired:
            self.stats.add(verb, "timeout")
            return
        self.stats.add(verb, "answered")
        self.stats.latency(verb, now() - sent_at)
        try:
            lines = [json.loads(x) for x in proc.stdout.splitlines()]
            if not lines:
                raise Invalid(f"no output, exit {proc.returncode}: {proc.stderr[:300]!r}")
            final = lines[-1]
            if verb == "ctl-status":
                self.check_status(names, final)
                # 0: all that should run runs; 3: a crash-looper (never running) is selected.
                selected = self.select(names) if names and names != ["all"] else self.all_names
                ok_codes = (3,) if any(n in self.crash for n in selected) else (0,)
                expected_error = False
            elif verb == "ctl-restart":
                expected_error = self.check_restart(names, "--no-wait" not in argv, lines[:-1],
                                                    final)
                ok_codes = (1,) if expected_error else (0,)
            else:
                expected_error = self.check_logs(names, count, None, final)
                ok_codes = (0,)
            if proc.returncode not in ok_codes:
                raise Invalid(f"gardienctl {' '.join(argv)}: exit {proc.returncode}, expected "
                              f"{ok_codes}: {proc.stderr[:300]!r}")
            self.stats.add(verb, "expected_error" if expected_error else "ok")
        except (Invalid, ValueError, KeyError, TypeError) as e:
            self.stats.problem(verb, str(e))

    # --- the client threads -------------------------------------------------------------------

    def enter(self):
        """Waits for the gate; False when the soak ends."""
        while not self.stop.is_set():
            self.gate.wait(0.2)
            with self.active_lock:
                if self.gate.is_set() and not self.stop.is_set():
                    self.active += 1
                    return True
        return False

    def leave(self):
        with self.active_lock:
            self.active -= 1
            self.active_lock.notify_all()

    def client(self, seed):
        rng = random.Random(seed)
        while self.enter():
            try:
                r = rng.random()
                if r < self.args.ctl_fraction:
                    self.via_ctl(rng)
                elif r < self.args.ctl_fraction + 0.01:
                    self.follow(rng)
                else:
                    self.session(rng)
            except Exception as e:  # a bug of this script: counted, and the client goes on
                self.conn_error("client", f"{type(e).__name__}: {e}")
            finally:
                self.leave()
            if self.args.think > 0:
                time.sleep(rng.uniform(0, 2 * self.args.think))

    def session(self, rng):
        """One connection, 1..20 requests, think time between them; ends at a quiesce."""
        try:
            conn = Connection(self.sock_path, self.args.request_timeout)
        except OSError as e:
            self.conn_error("connect", str(e))
            return
        try:
            for _ in range(rng.randint(1, 20)):
                try:
                    self.request(conn, rng)
                except Invalid:
                    return  # counted
                except (socket.timeout, TimeoutError):
                    return  # counted
                except (OSError, ConnectionError) as e:
                    self.conn_error("connection", str(e))
                    return
                if not self.gate.is_set() or self.stop.is_set():
                    return
                if self.args.think > 0:
                    time.sleep(rng.uniform(0, 2 * self.args.think))
        finally:
            conn.close()

    def start_clients(self):
        for i in range(self.args.clients):
            t = threading.Thread(target=self.client, args=(self.args.seed * 1000 + i,),
                                 name=f"client-{i}", daemon=True)
            t.start()
            self.threads.append(t)

    def quiesce(self, timeout):
        """Stops new work and waits for every client to finish what it is doing."""
        self.gate.clear()
        deadline = now() + timeout
        with self.active_lock:
            while self.active and now() < deadline:
                self.active_lock.wait(0.2)
            return self.active

    def resume(self):
        self.gate.set()

    def finish(self):
        self.stop.set()
        self.gate.clear()
        deadline = now() + self.args.request_timeout + 10
        for t in self.threads:
            t.join(max(0.1, deadline - now()))
        return [t.name for t in self.threads if t.is_alive()]


# ---------------------------------------------------------------------------------------------
# The run


def direct_status(sock_path, timeout=30):
    conn = Connection(sock_path, timeout)
    try:
        rid = conn.send("status", {})
        _, final = conn.read_answer(rid)
    finally:
        conn.close()
    if not final["ok"]:
        raise RuntimeError(f"status failed: {final['error']}")
    return final["result"]["instances"]


def settle_sockets(pid, idle_sockets, timeout):
    """Polls until the daemon holds only its idle sockets (the clients' are closed)."""
    deadline = now() + timeout
    while True:
        n = fd_kinds(pid)["socket"]
        if n <= idle_sockets or now() >= deadline:
            return n
        time.sleep(0.05)


def checkpoint(soak, daemon, t0, idle_sockets, log_path):
    """Quiesces the clients, measures the daemon, checks the tree; returns a dict."""
    busy = soak.quiesce(soak.args.request_timeout + 5)
    pid = daemon.pid
    cp = {"t": now() - t0, "busy_clients": busy}
    z1 = zombies_under(pid)
    t_z1 = now()
    cp["sockets_after_quiesce"] = settle_sockets(pid, idle_sockets, 5)
    # Like with like: crash-loop instances between spawn and exit hold two output pipes each,
    # and under load dozens of them may be there at any moment. So the fds counted are those
    # held through 10 samples over ~1 s, less the pipes a crash-loop process holds too: the
    # daemon's own set (listener, signal fds, log, the healthy programs' pipes). A leaked fd
    # stays in every sample; one of an instance mid-restart does not.
    steady, totals = None, []
    for _ in range(10):
        fds, total = steady_fds(pid, soak.original_pids.values())
        steady = fds if steady is None else steady & fds
        totals.append(total)
        time.sleep(0.1)
    cp["fds"] = len(steady)
    cp["fd_kinds"] = collections.Counter(fd_kind(t) for _, t in steady)
    cp["fds_min"], cp["fds_max"] = min(totals), max(totals)
    cp["rss"], cp["rss_anon"] = memory_kib(pid)
    cp["cpu"] = cpu_seconds(pid)
    # A zombie seen in two scans >= 2 s apart (same pid and start time) was not reaped.
    time.sleep(max(0.0, 2.0 - (now() - t_z1)))
    z2 = zombies_under(pid)
    cp["zombies"] = [z1[k] for k in z1.keys() & z2.keys()]
    cp["zombies_transient"] = len(z2)
    inst = direct_status(soak.sock_path)
    bad = []
    for i in inst:
        want = soak.original_pids.get(i["name"])
        if want is None:
            continue
        st = read_stat(want)
        if i["pid"] != want or i["state"] != "running":
            bad.append(f"{i['name']}: {i['state']} pid {i['pid']} (was {want})")
        elif st is None or st[0] == "Z" or st[1] != pid or st[2] != soak.start_times[i["name"]]:
            bad.append(f"{i['name']}: pid {want} is not the original process in /proc ({st})")
    cp["healthy_bad"] = bad
    cp["spawns"] = sum(i["restarts"] for i in inst if i["name"].startswith("crash-"))
    cp["stats"] = soak.stats.snapshot()
    cp["load"] = load_average()
    cp["log_errors"] = count_log_errors(log_path)
    soak.resume()
    return cp


def count_log_errors(log_path):
    """error-level lines of the daemon's JSON log (an `illegal` event, an internal error)."""
    out = []
    with open(log_path, errors="replace") as f:
        for line in f:
            if line.startswith("{") and '"level":"error"' in line:
                out.append(line.strip()[:300])
    return out


def print_checkpoint(cp):
    st = totals(cp["stats"])
    k = cp["fd_kinds"]
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(k.items()))
    per_verb = " ".join(
        f"{v}={c['answered']}/{c['sent']}" for v, c in sorted(cp["stats"].items()) if c["sent"])
    print(f"[{cp['t']:6.0f}s] rss {cp['rss']} KiB (anon {cp['rss_anon']}) | fds {cp['fds']} "
          f"steady ({kinds}; all fds {cp['fds_min']}..{cp['fds_max']} in 1 s) | zombies {len(cp['zombies'])} kept ({cp['zombies_transient']} transient)"
          f" | healthy {'ok' if not cp['healthy_bad'] else 'BAD'} | crash-loop restarts "
          f"{cp['spawns']} | daemon CPU {cp['cpu']:.1f} s | load {cp['load']}", flush=True)
    print(f"          requests answered/sent {st['answered']}/{st['sent']}: {per_verb}; invalid "
          f"{st['invalid']}, timeouts {st['timeout']}, connection errors {st['conn_error']}",
          flush=True)


def start_daemon(gardien, config, work, env):
    libc = ctypes.CDLL(None, use_errno=True)

    def child_setup():
        # The daemon shuts down gracefully if this script dies without cleaning up.
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    log_path = os.path.join(work, "gardien.log")
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen([gardien, "-c", config], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=log, env=env,
                                  preexec_fn=child_setup)
    return daemon, log_path


def wait_until_up(daemon, sock_path, healthy, timeout):
    deadline = now() + timeout
    last = "no answer"
    while now() < deadline:
        if daemon.poll() is not None:
            raise RuntimeError(f"gardien exited with code {daemon.returncode} during start-up")
        if os.path.exists(sock_path):
            try:
                inst = direct_status(sock_path, timeout=10)
                running = {i["name"]: i["pid"] for i in inst
                           if i["name"] in healthy and i["state"] == "running"}
                if len(running) == len(healthy):
                    return running
                last = f"{len(running)} of {len(healthy)} healthy programs running"
            except (OSError, ValueError, RuntimeError, Invalid) as e:
                last = str(e)
        time.sleep(0.2)
    raise RuntimeError(f"the daemon did not come up in {timeout:.0f} s: {last}")


def stop_daemon(daemon, marker, timeout=30):
    """SIGTERM, wait, SIGKILL what is left (with marker None: the daemon only, leftovers are
    swept by the last call); returns (exit code, leftovers killed, processes remaining)."""
    code = daemon.poll()
    if code is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            code = daemon.wait(timeout)
        except subprocess.TimeoutExpired:
            daemon.kill()
            code = daemon.wait()
    if marker is None:
        return code, [], []
    leftovers = []
    deadline = now() + 5
    while True:
        # This script is a child subreaper: what the daemon left behind is reparented here.
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        pids = [p for p in processes_with_marker(marker) if p != os.getpid()]
        if not pids or now() > deadline:
            break
        for p in pids:
            st = read_stat(p)
            if st and st[0] != "Z":
                if p not in [x[0] for x in leftovers]:
                    leftovers.append((p, st[3]))
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.05)
    return code, leftovers, [p for p in processes_with_marker(marker) if p != os.getpid()]


class Interrupted(Exception):
    pass


def main():
    ap = argparse.ArgumentParser(
        description="Soak the real gardien daemon (docs/soak.md).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--duration", type=parse_duration,
                    default=parse_duration(os.environ.get("SOAK_DURATION", "10m")),
                    help="how long to run (90s, 10m, 1m30s); default from $SOAK_DURATION or 10m")
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"),
                    help="CMake build dir holding supervisord/gardien and ctl/gardienctl")
    ap.add_argument("--clients", type=int, default=50, help="concurrent client threads")
    ap.add_argument("--interval", type=parse_duration, default=60.0,
                    help="time between checks; the first one is the baseline")
    ap.add_argument("--think", type=parse_duration, default=0.05,
                    help="mean pause of a client between requests")
    ap.add_argument("--ctl-fraction", type=float, default=0.1,
                    help="fraction of client turns that run the gardienctl binary (a turn is "
                    "one gardienctl run, one logs follow, or a connection with 1-20 requests)")
    ap.add_argument("--request-timeout", type=parse_duration, default=30.0,
                    help="an answer slower than this is a lost response")
    ap.add_argument("--backoff", default="100ms", help="crash-loopers' backoff")
    ap.add_argument("--backoff-max", default="1s", help="crash-loopers' backoff-max")
    ap.add_argument("--rss-bound-kib", type=int, default=1024,
                    help="allowed VmRSS growth after the first check")
    ap.add_argument("--fd-bound", type=int, default=0,
                    help="allowed fd count growth after the first check")
    ap.add_argument("--seed", type=int, default=int(time.time()), help="random seed")
    ap.add_argument("--log-level", default="warn", choices=["debug", "info", "warn", "error"],
                    help="the daemon's log level (its log is in the temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (config, daemon log)")
    ap.add_argument("--no-health", dest="health", action="store_false",
                    help=f"skip the second daemon ({HEALTH_PROGRAMS} http health checks a second)")
    ap.add_argument("--health-cpu-bound", type=float, default=1.0,
                    help="the health daemon's allowed CPU, in percent of one core")
    args = ap.parse_args()
    args.duration = max(args.duration, 2.0)
    if args.interval * 2 > args.duration:
        args.interval = args.duration / 2  # at least a baseline and one more check

    gardien = os.path.join(args.build, "supervisord", "gardien")
    ctl = os.path.join(args.build, "ctl", "gardienctl")
    for b in (gardien, ctl):
        if not os.access(b, os.X_OK):
            sys.exit(f"soak: {b} is missing: run `make build` first (or pass --build DIR)")
    gardien, ctl = os.path.abspath(gardien), os.path.abspath(ctl)
    http_ok = os.path.abspath(os.path.join(args.build, "tests", "helpers", "http_ok"))
    if args.health and not os.access(http_ok, os.X_OK):
        sys.exit(f"soak: {http_ok} is missing: run `make build` first (or pass --no-health)")

    def on_signal(signum, _frame):
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    marker = f"{os.getpid()}-{random.getrandbits(64):016x}"
    work = tempfile.mkdtemp(prefix="gardien-soak-", dir="/tmp")
    config, crash, healthy, writers = make_config(work, args)
    sock_path = os.path.join(work, "ctl.sock")
    env = dict(os.environ, SOAK_MARKER=marker)
    print(f"soak: {fmt_s(args.duration)}, {args.clients} clients, {CRASH_COUNT} crash-loopers "
          f"(backoff {args.backoff}..{args.backoff_max}), {len(healthy)} healthy programs; "
          f"checks every {fmt_s(args.interval)}; seed {args.seed}; dir {work}", flush=True)
    print(f"soak: uptime before: {uptime()}",
          flush=True)

    failures = []
    checkpoints = []
    daemon = soak = health = None
    health_samples = []
    interrupted = None
    exit_code = None
    try:
        if args.health:
            health = HealthSoak(gardien, http_ok, work, env)
            print(f"soak: health daemon pid {health.daemon.pid} up, {len(health.pids)} http "
                  "servers ready", flush=True)
        daemon, log_path = start_daemon(gardien, config, work, env)
        pids = wait_until_up(daemon, sock_path, healthy, 60)
        # The daemon's own sockets (its listener), once the start-up status connections are closed.
        idle_sockets = settle_sockets(daemon.pid, 1, 5)
        soak = Soak(args, sock_path, ctl, crash, healthy, writers, pids, marker)
        soak.start_times = {n: read_stat(p)[2] for n, p in pids.items()}
        soak.idle_sockets = idle_sockets
        print(f"soak: gardien pid {daemon.pid} up, {len(pids)} healthy pids recorded, "
              f"{idle_sockets} sockets when idle", flush=True)
        t0 = now()
        soak.start_clients()
        next_check = t0 + args.interval
        end = t0 + args.duration
        while True:
            wake = min(next_check, end)
            while now() < wake:
                if daemon.poll() is not None:
                    raise RuntimeError(f"gardien died with code {daemon.returncode}")
                time.sleep(min(0.5, max(0.0, wake - now())))
            if now() >= end:
                break
            checkpoints.append(checkpoint(soak, daemon, t0, idle_sockets, log_path))
            print_checkpoint(checkpoints[-1])
            if health:
                health_samples.append(health.sample(t0))
                print_health_sample(health_samples[-1])
            next_check += args.interval
        hung = soak.finish()
        if hung:
            failures.append(f"responses: {len(hung)} clients still waiting for an answer at the "
                            f"end: {', '.join(hung[:5])}")
        soak.gate.clear()
        checkpoints.append(checkpoint(soak, daemon, t0, idle_sockets, log_path))
        soak.gate.clear()
        print_checkpoint(checkpoints[-1])
        if health:
            health_samples.append(health.sample(t0))
            print_health_sample(health_samples[-1])
    except Interrupted as e:
        interrupted = e
        failures.append(f"interrupted by {e}")
    except Exception as e:  # noqa: BLE001 (report, clean up, fail)
        failures.append(f"soak error: {type(e).__name__}: {e}")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if soak:
            soak.stop.set()
            soak.gate.clear()
        if health:
            alive = health.daemon.poll() is None
            code, _, _ = stop_daemon(health.daemon, None)
            if not alive:
                failures.append(f"health daemon: exited on its own with code {code}")
            elif code != 0:
                failures.append(f"health daemon: graceful shutdown exited with code {code}, not 0")
        if daemon:
            alive = daemon.poll() is None
            if not alive:
                failures.append(f"daemon: gardien exited on its own with code {daemon.returncode}")
            exit_code, leftovers, remaining = stop_daemon(daemon, marker)
            if alive and exit_code != 0:
                failures.append(f"daemon: graceful shutdown exited with code {exit_code}, not 0")
            if leftovers:
                failures.append("cleanup: processes left after the daemon exited (killed): " +
                                ", ".join(f"{p} ({c})" for p, c in leftovers[:10]))
            if remaining:
                failures.append(f"cleanup: processes still there: {remaining}")

    if checkpoints and not interrupted:
        evaluate(args, soak, checkpoints, failures)
    if health_samples and not interrupted:
        evaluate_health(args, health_samples, make_check(failures))
    if daemon:
        errors = count_log_errors(log_path)
        if errors:
            failures.append(f"daemon log: {len(errors)} error-level lines, first: {errors[0]}")
    if daemon:
        remaining = any(f.startswith("cleanup: processes still there") for f in failures)
        print(f"soak: gardien exited with code {exit_code}; "
              f"{'SOME PROCESSES OF THIS RUN REMAIN' if remaining else 'no process of this run is left'}"
              f" (checked /proc/*/environ for SOAK_MARKER={marker})", flush=True)
    print(f"soak: uptime after: {uptime()}")
    if args.keep or failures:
        print(f"soak: kept {work} (config soak.toml, daemon log gardien.log)")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("\nSOAK FAILED:")
        for f in failures:
            print(f"  FAIL {f}")
        sys.exit(130 if interrupted and len(failures) == 1 else 1)
    print("\nSOAK PASSED")


def make_check(failures):
    def check(name, ok, detail):
        print(f"  {'PASS' if ok else 'FAIL'} {name}: {detail}")
        if not ok:
            failures.append(f"{name}: {detail}")
    return check


def evaluate(args, soak, cps, failures):
    base, rest = cps[0], cps[1:]
    print("\nchecks (baseline: the first check, after the warm-up):")
    check = make_check(failures)

    rss_max = max(c["rss"] for c in rest) if rest else base["rss"]
    check("rss flat", rss_max - base["rss"] <= args.rss_bound_kib,
          f"VmRSS {base['rss']} KiB at {base['t']:.0f}s, at most {rss_max} KiB after "
          f"(+{rss_max - base['rss']} KiB; bound +{args.rss_bound_kib} KiB); per check: "
          + " ".join(str(c["rss"]) for c in cps))
    fd_max = max(c["fds"] for c in rest) if rest else base["fds"]
    check("fds flat", fd_max - base["fds"] <= args.fd_bound,
          f"{base['fds']} steady fds at {base['t']:.0f}s, at most {fd_max} after (bound "
          f"+{args.fd_bound}); per check: " + " ".join(str(c["fds"]) for c in cps) +
          "; all fds (crash-loop pipes included) per check: " +
          " ".join(f"{c['fds_min']}..{c['fds_max']}" for c in cps))
    idle = [c["sockets_after_quiesce"] for c in cps]
    check("client sockets closed", max(idle) <= soak.idle_sockets,
          f"daemon sockets once the clients were quiet: {idle}")
    zombies = [z for c in cps for z in c["zombies"]]
    check("no zombie", not zombies,
          f"{len(zombies)} zombies kept over 2 s in the daemon's tree" +
          (f": {zombies[:5]}" if zombies else ""))
    bad = [b for c in cps for b in c["healthy_bad"]] + soak.pid_mismatches
    check("healthy pids original", not bad,
          f"{len(soak.original_pids)} healthy programs" +
          (f"; {bad[:5]}" if bad else " kept their original pid and process, in every status "
           "answer and in /proc"))
    snap = cps[-1]["stats"]
    t = totals(snap)
    lost = t["sent"] - t["answered"]
    check("every request answered",
          lost == 0 and t["timeout"] == 0 and t["conn_error"] == 0 and t["invalid"] == 0,
          f"{t['sent']} sent, {t['answered']} answered, {t['invalid']} invalid, "
          f"{t['timeout']} timeouts, {t['conn_error']} connection errors" +
          (f"; first problems: {soak.stats.problems[:5]}" if soak.stats.problems else ""))
    busy = [c["busy_clients"] for c in cps]
    check("clients quiesce", max(busy) == 0, f"clients still busy at each check: {busy}")
    print("\nrequests per verb (sent / answered / ok / expected error / invalid / timeout / "
          "connection error; latency until the final line: median / p99 / max ms):")
    for verb, c in sorted(snap.items()):
        lat = sorted(soak.stats.latencies.get(verb, []))
        times = (f"{lat[len(lat) // 2] * 1000:.0f} / {lat[int(len(lat) * 0.99)] * 1000:.0f} / "
                 f"{lat[-1] * 1000:.0f}" if lat else "-")
        print(f"  {verb:12} " + " / ".join(str(c[f]) for f in Stats.FIELDS) + f"; {times}")
    secs = cps[-1]["t"] - base["t"]
    if secs > 0:
        spawns = cps[-1]["spawns"] - base["spawns"]
        reqs = totals(snap)["answered"] - totals(base["stats"])["answered"]
        cpu = cps[-1]["cpu"] - base["cpu"]
        own = sum(os.times()[:2])
        print(f"\ndaemon CPU after the baseline: {cpu:.1f} s in {secs:.0f} s ({100 * cpu / secs:.0f}%"
              f" of one core); this script's own CPU (all of the run): {own:.0f} s")
        print(f"after the baseline: {spawns} crash-loop restarts ({spawns / secs:.0f}/s) and "
              f"{reqs} requests ({reqs / secs:.0f}/s) in {secs:.0f} s: a leak of "
              f"{args.rss_bound_kib * 1024 / max(spawns, 1):.0f} bytes per restart or "
              f"{args.rss_bound_kib * 1024 / max(reqs, 1):.0f} bytes per request would pass the "
              f"RSS bound; one fd per {max(spawns, 1)} restarts would fail the fd bound")


if __name__ == "__main__":
    main()
