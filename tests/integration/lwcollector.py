"""lwcollector — harness for the collector's integration tests (stdlib only).

Real parts throughout: certificates from packaging/leakwatch-certs, the real
leakwatch-collector binary, mutual TLS through Python's ssl module, a real
SQLite file or a private throw-away PostgreSQL cluster.
"""
import hashlib
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import uuid as uuidlib

from lwtest import ok  # noqa: F401  (re-exported for the tests)

COLLECTOR = os.environ.get("LEAKWATCH_COLLECTOR", "leakwatch-collector")
LEAKWATCH = os.environ.get("LEAKWATCH", "leakwatch")
CERTS = os.environ.get("LEAKWATCH_CERTS",
                       os.path.join(os.path.dirname(__file__), "..", "..",
                                    "packaging", "leakwatch-certs"))
ZERO = "0" * 64


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keep():
    return bool(os.environ.get("LW_KEEP_TMP"))


class CA:
    """An organisation CA made by leakwatch-certs in a temporary directory."""

    def __init__(self, base, name="ca", cn="leakwatch test CA"):
        self.dir = os.path.join(base, name)
        self.run("init", "--cn", cn)

    def run(self, *args):
        r = subprocess.run(["sh", CERTS, "-d", self.dir] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError("leakwatch-certs %s: %s" % (" ".join(args), r.stderr.decode()))
        return r

    def issue(self, role, name, *extra):
        if not os.path.exists(self.crt(name)):
            self.run("issue", role, name, *extra)
        return self

    def crt(self, name):
        return os.path.join(self.dir, name + ".crt")

    def key(self, name):
        return os.path.join(self.dir, name + ".key")

    @property
    def ca(self):
        return os.path.join(self.dir, "ca.crt")

    @property
    def crl(self):
        return os.path.join(self.dir, "crl.pem")


class Collector:
    """A leakwatch-collector on a free loopback port."""

    def __init__(self, base, ca, database, admins=("boss",), limits=None, name="collector",
                 crl=True):
        self.base = base
        self.ca = ca
        self.port = free_port()
        self.config = os.path.join(base, name + ".json")
        self.log = os.path.join(base, name + ".log")
        ca.issue("collector", "localhost", "--san", "DNS:localhost,IP:127.0.0.1")
        cfg = {
            "listen": "127.0.0.1:%d" % self.port,
            "tls": {"ca": ca.ca, "cert": ca.crt("localhost"), "key": ca.key("localhost")},
            "database": database,
            "admins": list(admins),
            "log_level": "info",
            "limits": limits or {},
        }
        if crl:
            cfg["tls"]["crl"] = ca.crl
        with open(self.config, "w") as f:
            json.dump(cfg, f)
        self.proc = None

    def start(self, timeout=20):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([COLLECTOR, "-c", self.config], stdout=logf, stderr=logf)
        logf.close()
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("collector exited with %s:\n%s"
                                   % (self.proc.returncode, self.log_text()[-3000:]))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("collector not listening:\n" + self.log_text()[-3000:])

    def stop(self, sig=signal.SIGTERM, timeout=30):
        rc = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = "hung"
        elif self.proc:
            rc = self.proc.returncode
        self.proc = None
        return rc

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def context(self, name, ca=None, cafile=None):
        """An ssl client context presenting certificate @name of @ca (None:
        no client certificate)."""
        ctx = ssl.create_default_context(cafile=cafile or self.ca.ca)
        ctx.check_hostname = True
        if name is not None:
            ca = ca or self.ca
            ctx.load_cert_chain(ca.crt(name), ca.key(name))
        return ctx

    def client(self, name, **kw):
        return Client(self, name, **kw)


class Client:
    """Requests as certificate @name; a fresh connection per request unless
    keep=True (the server's idle timeout is short in these tests)."""

    def __init__(self, collector, name, ca=None, keepalive=False):
        self.c = collector
        self.name = name
        self.ctx = collector.context(name, ca=ca)
        self.conn = None
        self.keepalive = keepalive

    def _conn(self):
        if self.conn is None or not self.keepalive:
            if self.conn:
                self.conn.close()
            self.conn = http.client.HTTPSConnection("localhost", self.c.port,
                                                    context=self.ctx, timeout=30)
        return self.conn

    def request(self, method, path, body=None, headers=None):
        """(status, parsed JSON or text). Raises on TLS refusal."""
        conn = self._conn()
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        if not self.keepalive:
            conn.close()
            self.conn = None
        ctype = resp.getheader("Content-Type", "")
        if "json" in ctype:
            try:
                return resp.status, json.loads(data)
            except ValueError:
                return resp.status, data
        return resp.status, data.decode(errors="replace")

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body):
        return self.request("POST", path, body)

    def tls_version(self):
        with socket.create_connection(("127.0.0.1", self.c.port)) as raw:
            with self.ctx.wrap_socket(raw, server_hostname="localhost") as s:
                return s.version()


def refused(collector, ctx):
    """True if a request with @ctx gets no HTTP answer (TLS refused)."""
    try:
        conn = http.client.HTTPSConnection("localhost", collector.port, context=ctx, timeout=10)
        conn.request("GET", "/health")
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return False, "answered %d" % resp.status
    except (ssl.SSLError, ConnectionError, http.client.HTTPException, OSError) as e:
        return True, repr(e)


class Chain:
    """One agent's event log: sequence numbers, UUIDs and the hash chain,
    exactly as doc/protocol.md defines them."""

    def __init__(self):
        self.seq = 0
        self.prev = ZERO
        self.events = []

    @staticmethod
    def hash(prev, seq, uuid, t, kind, body):
        data = "%s\n%d\n%s\n%s\n%s\n%s" % (prev, seq, uuid, t, kind, body)
        return hashlib.sha256(data.encode()).hexdigest()

    def next(self, kind="violation", body=None, **over):
        self.seq += 1
        if body is None:
            body = violation_body() if kind == "violation" else sighting_body()
        if not isinstance(body, str):
            body = json.dumps(body, separators=(",", ":"))
        ev = {"seq": self.seq, "uuid": str(uuidlib.uuid4()),
              "time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
              "kind": kind, "prev": self.prev}
        ev["body"] = body
        ev["hash"] = self.hash(ev["prev"], ev["seq"], ev["uuid"], ev["time"], kind, body)
        ev.update(over)
        self.prev = ev["hash"]
        self.events.append(ev)
        return ev

    def batch(self, n, **kw):
        return [self.next(**kw) for _ in range(n)]


def violation_body(rule="nato-secret-offsite", severity="high", path="/home/alice/x.docx",
                   sha="ab" * 32, **extra):
    b = {"id": "v-%d" % time.monotonic_ns(), "time": "2026-11-23T05:10:34.123Z",
         "rule": rule, "severity": severity, "message": "classified document outside the secure zone",
         "action": "alert", "action_result": "ok",
         "event": {"kind": "created", "from": None, "from_zone": None},
         "zones": ["staging"],
         "file": {"path": path, "sha256": sha, "size": 123, "type": "docx", "uid": 1000,
                  "owner": "alice", "mode": 420,
                  "classification": {"scheme": "NATO", "level": "SECRET", "marking": "NATO SECRET"},
                  "pii": [], "matches": []}}
    b.update(extra)
    return b


def sighting_body(path="/srv/share/report.pdf", sha="cd" * 32, matches=(), deleted=False):
    return {"path": path, "sha256": sha, "size": 4096, "type": "pdf",
            "classification": {"scheme": "NATO", "level": "SECRET", "marking": "NATO SECRET"},
            "pii": [], "matches": [{"id": m, "kind": "partial", "coverage": 0.5} for m in matches],
            "first_seen": "2026-11-23T05:00:00.000Z", "last_seen": "2026-11-23T05:00:00.000Z",
            "deleted": deleted}


class Postgres:
    """A private PostgreSQL cluster under a temporary directory on a free
    port, started with initdb + pg_ctl (as user postgres through runuser
    when we are root: the server refuses to run as root). fsync is off
    unless asked for: the tests need speed, not durability; benchmarks that
    compare with SQLite's synchronous=FULL turn it on."""

    def __init__(self, fsync=False):
        self.fsync = fsync
        bins = sorted(d for d in (os.path.join("/usr/lib/postgresql", v, "bin")
                                  for v in (os.listdir("/usr/lib/postgresql")
                                            if os.path.isdir("/usr/lib/postgresql") else []))
                      if os.path.exists(os.path.join(d, "initdb")))
        self.bin = bins[-1] if bins else None
        self.base = None
        self.port = None

    def available(self):
        return self.bin is not None

    def _as_owner(self, args):
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + args
        return args

    def start(self):
        self.base = tempfile.mkdtemp(prefix="lw-pg.")
        self.data = os.path.join(self.base, "data")
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
        self.port = free_port()
        r = subprocess.run(self._as_owner([os.path.join(self.bin, "initdb"), "-D", self.data,
                                           "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                           "--locale=C", "--no-sync"]),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError("initdb failed:\n" + r.stdout.decode(errors="replace"))
        opts = ("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "
                "-c fsync=%s -c max_connections=50"
                % (self.port, self.base, "on" if self.fsync else "off"))
        r = subprocess.run(self._as_owner([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                                           "-l", os.path.join(self.base, "pg.log"), "-o", opts,
                                           "-w", "-t", "60", "start"]),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl start failed:\n" + r.stdout.decode(errors="replace")
                               + self.log_text())
        self.createdb("leakwatch")
        return self

    def createdb(self, name):
        r = subprocess.run(self._as_owner([os.path.join(self.bin, "createdb"), "-h", "127.0.0.1",
                                           "-p", str(self.port), "-U", "postgres", name]),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError("createdb failed: " + r.stdout.decode(errors="replace"))

    def uri(self, db="leakwatch"):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, db)

    def psql(self, sql, db="leakwatch"):
        r = subprocess.run(self._as_owner([os.path.join(self.bin, "psql"), "-h", "127.0.0.1",
                                           "-p", str(self.port), "-U", "postgres", "-At",
                                           "-c", sql, db]),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return r.stdout.decode(errors="replace").strip()

    def log_text(self):
        try:
            with open(os.path.join(self.base, "pg.log"), errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        if not self.base:
            return
        subprocess.run(self._as_owner([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                                       "-m", "immediate", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not keep():
            shutil.rmtree(self.base, ignore_errors=True)
        self.base = None
