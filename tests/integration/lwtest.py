"""lwtest — harness for leakwatch integration tests (Python 3 stdlib only).

Each test runs the real leakwatchd on a temporary root and state directory,
changes the file system, and checks through the real `leakwatch` CLI that
the inventory converges to exactly what is on disk: every file with its
SHA-256, nothing extra. Output is TAP so meson counts each check.

Paths are bytes: the CLI writes names that are not UTF-8 with the
surrogateescape convention, which os.fsencode() reverses.
"""
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

LEAKWATCHD = os.environ.get("LEAKWATCHD", "leakwatchd")
LEAKWATCH = os.environ.get("LEAKWATCH", "leakwatch")

_count = 0
_failed = 0


def ok(cond, name, diag=None):
    global _count, _failed
    _count += 1
    if not cond:
        _failed += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", _count, name), flush=True)
    if not cond and diag:
        for line in str(diag).splitlines()[:80]:
            print("#   " + line, flush=True)
    if not cond:
        # meson shows a failed test's stderr, not its TAP diagnostics: CI
        # logs must say why without a re-run
        print("not ok %d - %s" % (_count, name), file=sys.stderr, flush=True)
        for line in str(diag or "").splitlines()[:80]:
            print("#   " + line, file=sys.stderr, flush=True)
    return cond


def done():
    print("1..%d" % _count, flush=True)
    sys.exit(1 if _failed else 0)


def skip_all(reason):
    print("1..0 # SKIP " + reason, flush=True)
    sys.exit(0)  # TAP: the "1..0 # SKIP" plan is what says skipped


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def disk_inventory(root, skip=(), exclude=lambda p: False):
    """{path(bytes): sha256 hex or None} for every non-directory under root,
    like `find root ! -type d` + sha256sum. Unreadable files map to
    'unreadable'."""
    inv = {}
    root = os.fsencode(root)
    skip = {os.fsencode(s) for s in skip}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames
                       if os.path.join(dirpath, d) not in skip
                       and not exclude(os.path.join(dirpath, d))]
        for dn in list(dirnames):
            p = os.path.join(dirpath, dn)
            if os.path.islink(p):          # os.walk lists symlinks to dirs here
                dirnames.remove(dn)
                inv[p] = None
        for fn in filenames:
            p = os.path.join(dirpath, fn)
            if exclude(p):
                continue
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode):
                try:
                    inv[p] = sha256_file(p)
                except PermissionError:
                    inv[p] = "unreadable"
                except FileNotFoundError:
                    continue
            else:
                inv[p] = None
    return inv


def diff_summary(want, got, limit=10):
    lines = []
    missing = [p for p in want if p not in got]
    extra = [p for p in got if p not in want]
    wrong = [p for p in want if p in got and want[p] != got[p]]
    lines.append("missing %d, extra %d, wrong hash %d (want %d, got %d)"
                 % (len(missing), len(extra), len(wrong), len(want), len(got)))
    for tag, lst in (("missing", missing), ("extra", extra), ("wrong", wrong)):
        for p in lst[:limit]:
            lines.append("%s: %r want=%s got=%s" % (tag, p, want.get(p), got.get(p)))
    return "\n".join(lines)


class Agent:
    """A leakwatchd on a private temporary tree."""

    def __init__(self, name, extra_config=None, root=None, state=None, wrapper=()):
        self.base = tempfile.mkdtemp(prefix="lw-%s." % name)
        os.chmod(self.base, 0o755)
        self.root = root or os.path.join(self.base, "root")
        self.state = state or os.path.join(self.base, "state")
        os.makedirs(self.root, exist_ok=True)
        self.config = os.path.join(self.base, "agent.json")
        cfg = {"watch": [self.root], "state_dir": self.state, "log_level": "info",
               "degraded_rescan_interval": 1}
        # LW_BACKEND: the suite once more on a named backend (meson.build)
        if os.environ.get("LW_BACKEND"):
            cfg["backend"] = os.environ["LW_BACKEND"]
        cfg.update(extra_config or {})
        with open(self.config, "w") as f:
            json.dump(cfg, f)
        self.proc = None
        self.log = os.path.join(self.base, "agent.log")
        self.wrapper = list(wrapper)

    def start(self):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.wrapper + [LEAKWATCHD, "-c", self.config],
                                     stdout=logf, stderr=logf)
        logf.close()
        return self

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        if os.environ.get("LW_KEEP_TMP"):
            print("# kept %s" % self.base)
            return
        subprocess.run(["chmod", "-R", "u+rwx", self.base], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.base, ignore_errors=True)

    def cli(self, *args, check=True):
        r = subprocess.run([LEAKWATCH, "-c", self.config] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and r.returncode not in (0, 1):
            raise RuntimeError("leakwatch %s: %s" % (" ".join(args), r.stderr.decode()))
        return r

    def status(self):
        r = self.cli("status", "--json", check=False)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def violations(self, *args):
        """The agent's local violations (leakwatch violations --json)."""
        r = self.cli("violations", "--json", *args, check=False)
        return [json.loads(l) for l in r.stdout.decode().splitlines()]

    def rows(self, *extra):
        r = self.cli("files", "--json", *extra)
        out = []
        for line in r.stdout.decode("utf-8", "surrogateescape").splitlines():
            o = json.loads(line)
            o["path"] = os.fsencode(o["path"])
            out.append(o)
        return out

    def inventory(self):
        inv = {}
        for o in self.rows():
            sha = o["sha256"]
            if o["kind"] == "regular" and o.get("error") and "open:" in o["error"]:
                sha = "unreadable"
            inv[o["path"]] = sha
        return inv

    def wait_status(self, pred, timeout=10):
        """The first status for which pred(status) holds, or the last one
        seen (status is published once a second)."""
        end = time.time() + timeout
        s = None
        while time.time() < end:
            s = self.status()
            if s and pred(s):
                return s, True
            time.sleep(0.2)
        return s, False

    def wait_ready(self, timeout=60):
        """Until the start-up scan has finished."""
        end = time.time() + timeout
        while time.time() < end:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError("agent exited with %s:\n%s"
                                   % (self.proc.returncode, open(self.log).read()[-3000:]))
            s = self.status()
            if s and s.get("running") and s.get("full_scans_done", 0) >= 1 \
                    and not s.get("scanning") and s.get("pending") == 0:
                return s
            time.sleep(0.1)
        raise RuntimeError("agent not ready after %ss:\n%s" % (timeout, open(self.log).read()[-3000:]))

    def converge(self, name, timeout=120, want=None, **kw):
        """Checks that the inventory reaches the disk's state. The cheap
        status (row count, work pending) gates the expensive comparison, so
        that polling does not compete with the agent for the CPU."""
        end = time.time() + timeout
        got = {}
        while True:
            want_now = want if want is not None else disk_inventory(
                self.root, skip=[self.state], **kw)
            if self.proc and self.proc.poll() is not None:
                return ok(False, name, "agent died:\n" + self.log_text()[-3000:])
            s = self.status()
            settled = s and s.get("files") == len(want_now) and s.get("pending") == 0 \
                and not s.get("scanning")
            last = time.time() > end
            if settled or last:
                try:
                    got = self.inventory()
                except (RuntimeError, json.JSONDecodeError):
                    got = {}
                if got == want_now:
                    return ok(True, name)
            if last:
                return ok(False, name, diff_summary(want_now, got) + "\n" + self.diagnose())
            time.sleep(0.25)

    def diagnose(self):
        """Status and the log's tail, for a failure's TAP diagnostics."""
        try:
            st = json.dumps(self.status())
        except Exception as e:  # noqa: BLE001 - diagnostics must not raise
            st = "status unavailable: %s" % e
        return "status: %s\nagent log (tail):\n%s" % (st, self.log_text()[-2500:])

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()


def wait_until(pred, timeout=30, interval=0.1):
    """The first true value of pred() within timeout seconds, else None."""
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return None


def write(path, data):
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)


def run(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, **kw)


REPORT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "doc",
                             "report-schema.json")


def validate_report(doc, name):
    """One check: @doc is valid against doc/report-schema.json."""
    try:
        import jsonschema
    except ImportError:
        print("ok - %s # SKIP python3-jsonschema not installed" % name)
        return
    with open(REPORT_SCHEMA) as f:
        schema = json.load(f)
    err = None
    try:
        jsonschema.validate(doc, schema)
    except jsonschema.ValidationError as e:
        err = "%s at %s" % (e.message, list(e.absolute_path))
    ok(err is None, name, err)
