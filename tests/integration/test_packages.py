#!/usr/bin/env python3
"""The Debian packages, for real (issue 13): scripts/package.sh builds them
with dpkg-buildpackage and lintian must pass; then they are installed on
this machine with dpkg -i, their file lists are compared with what each
package must hold, the installed programs check the installed
configuration (after enrolment with leakwatch-certs), every installed unit
is verified by systemd-analyze and its exposure measured, a reinstall keeps
an edited conffile, remove keeps the state, and purge leaves nothing.

It needs root and changes the machine (CI's is fresh): where leakwatch
packages are installed already it touches nothing and skips."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

from lwtest import done, ok, skip_all

SRC = os.environ["LW_SOURCE_ROOT"]
PKGS = ["leakwatch-agent", "leakwatch-collector"]

# What each package holds (files and symlinks, not directories).
WANT = {
    "leakwatch-agent": {
        "/usr/sbin/leakwatchd", "/usr/bin/leakwatch",
        "/usr/libexec/leakwatch/leakwatch-classify", "/usr/sbin/leakwatch-report-run",
        "/etc/leakwatch/agent.json", "/etc/leakwatch/policy.json",
        "/lib/systemd/system/leakwatchd.service",
        "/lib/systemd/system/leakwatch-report@.service",
        "/lib/systemd/system/leakwatch-report@.timer",
        "/lib/systemd/system-generators/leakwatch-generator",
        "/usr/lib/sysctl.d/60-leakwatch.conf",
        "/usr/share/bash-completion/completions/leakwatch",
        "/usr/share/man/man1/leakwatch.1.gz", "/usr/share/man/man8/leakwatchd.8.gz",
        "/usr/share/man/man8/leakwatch-generator.8.gz",
        "/usr/share/man/man8/leakwatch-report-run.8.gz",
        "/usr/share/doc/leakwatch-agent/changelog.gz",
        "/usr/share/doc/leakwatch-agent/copyright",
        "/usr/share/lintian/overrides/leakwatch-agent",
    },
    "leakwatch-collector": {
        "/usr/sbin/leakwatch-collector", "/usr/sbin/leakwatch-certs",
        "/etc/leakwatch/collector.json",
        "/lib/systemd/system/leakwatch-collector.service",
        "/usr/share/man/man8/leakwatch-collector.8.gz",
        "/usr/share/man/man8/leakwatch-certs.8.gz",
        "/usr/share/doc/leakwatch-collector/changelog.gz",
        "/usr/share/doc/leakwatch-collector/copyright",
        "/usr/share/lintian/overrides/leakwatch-collector",
    },
}
UNITS = ["leakwatchd.service", "leakwatch-collector.service",
         "leakwatch-report@weekly.service", "leakwatch-report@weekly.timer"]
EXPOSURE_MAX = {"leakwatchd.service": 5.0, "leakwatch-collector.service": 2.0}


def run(*cmd, **kw):
    return subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, **kw)


def out(r):
    return r.stdout.decode(errors="replace")


def installed(pkg):
    r = run("dpkg-query", "-W", "-f=${Status}", pkg)
    return r.returncode == 0 and out(r).strip() not in ("", "unknown ok not-installed")


def leftovers():
    """Every path under the system's trees that names leakwatch."""
    found = []
    for top in ("/etc", "/usr", "/lib", "/var/lib", "/run/systemd/generator"):
        for root, dirs, files in os.walk(top):
            if root.startswith(("/var/lib/dpkg", "/usr/src")):
                continue
            for n in dirs + files:
                if "leakwatch" in n:
                    found.append(os.path.join(root, n))
    return sorted(found)


def check_lists():
    for pkg in PKGS:
        r = run("dpkg", "-L", pkg)
        got = {p for p in out(r).split("\n")
               if p.strip() and not os.path.isdir(p) and p != "/."}
        ok(r.returncode == 0 and got == WANT[pkg], "dpkg -L %s: exactly the expected files"
           % pkg, "missing: %s\nunexpected: %s" % (sorted(WANT[pkg] - got),
                                                   sorted(got - WANT[pkg])))


def enrol(ca):
    """An organisation's CA, a collector and an agent certificate, placed
    where the packaged configurations name them, as README says."""
    certs = "/usr/sbin/leakwatch-certs"
    for args in (["init"], ["issue", "collector", "collector", "--san", "DNS:localhost"],
                 ["issue", "agent", "ws042"]):
        r = run(certs, "-d", ca, *args)
        ok(r.returncode == 0, "leakwatch-certs %s" % " ".join(args), out(r))
    for name in ("ca.crt", "crl.pem", "collector.crt", "collector.key"):
        r = run("install", "-m", "0640", "-g", "_leakwatch", os.path.join(ca, name),
                "/etc/leakwatch/collector/")
    for name in ("ca.crt", "crl.pem", "ws042.crt", "ws042.key"):
        run("install", "-m", "0600", os.path.join(ca, name), "/etc/leakwatch/agent/")


def check_programs(ca):
    r = run("/usr/sbin/leakwatchd", "--check-config")
    ok(r.returncode == 0 and "/etc/leakwatch/agent.json: ok" in out(r)
       and "no collector" in out(r),
       "leakwatchd --check-config: the installed agent.json checks (no collector yet)", out(r))
    r = run("/usr/sbin/leakwatch-collector", "--check-config")
    ok(r.returncode == 2 and "/etc/leakwatch/collector.json: /tls/ca:" in out(r)
       and "/etc/leakwatch/collector/ca.crt" in out(r),
       "the collector's check before enrolment names the missing CA file", out(r))
    enrol(ca)
    # as the unit runs it: the service user, which must be able to read the
    # configuration and the key, and to create the database
    r = run("setpriv", "--reuid=_leakwatch", "--regid=_leakwatch", "--clear-groups",
            "/usr/sbin/leakwatch-collector", "--check-config")
    ok(r.returncode == 0 and "/etc/leakwatch/collector.json: ok" in out(r),
       "after enrolment the collector's check passes as _leakwatch", out(r))
    ok(os.path.isfile("/var/lib/leakwatch-collector/collector.db"),
       "its database is in /var/lib/leakwatch-collector")
    with open("/etc/leakwatch/agent.json") as f:
        text = f.read()
    edited = text.rstrip().rstrip("}").rstrip() + ''',
  "collector": {"url": "https://localhost:8443", "ca": "agent/ca.crt",
                "cert": "agent/ws042.crt", "key": "agent/ws042.key", "crl": "agent/crl.pem"}
}
'''
    with open("/etc/leakwatch/agent.json", "w") as f:
        f.write(edited)
    r = run("/usr/sbin/leakwatchd", "--check-config")
    ok(r.returncode == 0 and "; collector https://localhost:8443)" in out(r),
       "with a collector named, leakwatchd --check-config says where events go", out(r))
    r = run("/usr/bin/leakwatch", "--help")
    ok(r.returncode == 0 and "/etc/leakwatch/agent.json" in out(r),
       "the installed CLI defaults to /etc/leakwatch/agent.json", out(r)[:300])
    return edited


def check_units():
    man = [] if shutil.which("man") else ["--man=no"]
    for u in UNITS:
        # by name, from systemd's unit path (cwd /: a meson build
        # directory holds generated units of the same names)
        r = run("systemd-analyze", "verify", *man, u, cwd="/")
        ok(r.returncode == 0 and out(r).strip() == "", "systemd-analyze verify %s: clean" % u,
           out(r))
    # the agent's unit as systemd will load it, with the generator's drop-in
    units = tempfile.mkdtemp(prefix="lw-units.")
    try:
        r = run("/lib/systemd/system-generators/leakwatch-generator", units, units, units)
        dropin = os.path.join(units, "leakwatchd.service.d", "50-watched-roots.conf")
        text = open(dropin).read() if os.path.exists(dropin) else ""
        ok(r.returncode == 0 and 'ReadWritePaths="-/home"' in text
           and 'ReadWritePaths="-/var/lib/leakwatch"' in text,
           "the installed generator gives the agent write access to /home and its state",
           out(r) + text)
        shutil.copy("/lib/systemd/system/leakwatchd.service", units)
        r = run("systemd-analyze", "verify", *man, os.path.join(units, "leakwatchd.service"))
        ok(r.returncode == 0 and out(r).strip() == "",
           "systemd-analyze verify leakwatchd.service with the generated drop-in: clean",
           out(r))
    finally:
        shutil.rmtree(units, ignore_errors=True)
    for u, most in EXPOSURE_MAX.items():
        r = run("systemd-analyze", "security", "--offline=yes", "/lib/systemd/system/" + u)
        m = re.search(r"Overall exposure level for %s: ([0-9.]+)" % re.escape(u), out(r))
        level = float(m.group(1)) if m else 99
        print("# %s: systemd-analyze security exposure %s" % (u, m.group(1) if m else "?"))
        ok(level <= most, "%s: exposure %.1f, at most %.1f" % (u, level, most), out(r)[-3000:])


def main():
    if os.geteuid() != 0:
        skip_all("installs packages on this machine: needs root")
    for tool in ("dpkg-buildpackage", "dpkg", "systemd-analyze", "setpriv"):
        if not shutil.which(tool):
            skip_all("%s is missing (scripts/deps.sh installs the build tools)" % tool)
    if any(installed(p) for p in PKGS):
        skip_all("leakwatch packages are installed on this machine already: not touching"
                 " an administrator's installation")
    before = leftovers()
    base = tempfile.mkdtemp(prefix="lw-pkgtest.")
    try:
        debs = os.path.join(base, "debs")
        r = run(os.path.join(SRC, "scripts", "package.sh"), debs)
        log = out(r)
        ok(r.returncode == 0, "scripts/package.sh: dpkg-buildpackage -b -us -uc and lintian",
           log[-4000:])
        lint = open(os.path.join(debs, "lintian.log")).read() \
            if os.path.exists(os.path.join(debs, "lintian.log")) else "(no log)"
        bad = [l for l in lint.splitlines() if re.match(r"[EW]: ", l)]
        ok(not bad and r.returncode == 0, "lintian: no error, no unexplained warning", lint)
        files = [os.path.join(debs, "%s_%s.deb" % (p, arch_version(debs, p))) for p in PKGS]
        if r.returncode != 0 or not all(os.path.exists(f) for f in files):
            return
        r = run("dpkg", "-i", *files)
        ok(r.returncode == 0, "dpkg -i both packages", out(r))
        if r.returncode != 0:
            return
        ok("leakwatchd is installed but not started" in out(r)
           and "leakwatch-certs issue agent" in out(r),
           "postinst: the agent is not started without a collector, and it says how to enrol",
           out(r))
        ok("the collector is installed but not started" in out(r),
           "postinst: nor the collector without certificates", out(r))
        r = run("getent", "passwd", "_leakwatch")
        ok(r.returncode == 0 and ":/nonexistent:" in out(r),
           "the collector's system user _leakwatch exists", out(r))
        st = os.stat("/etc/leakwatch/collector.json")
        ok(st.st_mode & 0o777 == 0o640, "collector.json is 0640 (group _leakwatch)",
           oct(st.st_mode))
        check_lists()
        edited = check_programs(os.path.join(base, "ca"))
        check_units()
        r = run("dpkg", "-i", *files)
        with open("/etc/leakwatch/agent.json") as f:
            now = f.read()
        ok(r.returncode == 0 and now == edited,
           "a reinstall (upgrade) keeps the administrator's agent.json", out(r))
        r = run("dpkg", "-r", *PKGS)
        ok(r.returncode == 0, "dpkg -r both packages", out(r))
        ok(not os.path.exists("/usr/sbin/leakwatchd")
           and not os.path.exists("/usr/sbin/leakwatch-collector"),
           "remove: the programs are gone")
        ok(os.path.isfile("/etc/leakwatch/agent.json") and
           os.path.isdir("/var/lib/leakwatch") and
           os.path.isfile("/var/lib/leakwatch-collector/collector.db"),
           "remove: configuration and state are kept", leftovers())
        r = run("dpkg", "-P", *PKGS)
        ok(r.returncode == 0, "dpkg -P both packages", out(r))
        ok(not os.path.exists("/etc/leakwatch"), "purge: nothing under /etc/leakwatch",
           leftovers())
        after = [p for p in leftovers() if p not in before]
        ok(after == [], "purge: nothing named leakwatch is left in /etc, /usr, /lib, /var/lib",
           after)
    except Exception:  # noqa: BLE001 - a crash is a failed check, not a pass
        ok(False, "the test itself failed", traceback.format_exc())
    finally:
        for p in PKGS:
            if installed(p):
                run("dpkg", "-P", p)
        shutil.rmtree(base, ignore_errors=True)
        done()


def arch_version(debs, pkg):
    for n in os.listdir(debs):
        m = re.match(r"%s_(.+)\.deb$" % re.escape(pkg), n)
        if m:
            return m.group(1)
    return "missing"


if __name__ == "__main__":
    sys.exit(main())
