#!/usr/bin/env python3
"""`meson install` is right for any prefix (issue 13): one build directory,
installed with --destdir under the default prefix and again under /usr
(a reconfigure rebuilds only what the paths touch). In each tree the units
start binaries that are there, with the configuration file the binaries
themselves default to, and that file is installed."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from lwtest import done, ok

SRC = os.environ["LW_SOURCE_ROOT"]


def run(*cmd, **kw):
    return subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def unit_lines(path, key):
    with open(path) as f:
        return [l.split("=", 1)[1].strip() for l in f if l.startswith(key + "=")]


def check_tree(dest, prefix):
    where = "prefix %s" % prefix
    units = []
    for root, _, files in os.walk(dest):
        units += [os.path.join(root, n) for n in files if n.endswith((".service", ".timer"))]
    names = sorted(os.path.basename(u) for u in units)
    ok(names == ["leakwatch-collector.service", "leakwatch-report@.service",
                 "leakwatch-report@.timer", "leakwatchd.service"],
       "%s: the four units are installed" % where, units)
    unitdir = {os.path.dirname(u) for u in units}
    want_unitdir = ("/lib/systemd/system", "/usr/lib/systemd/system") if prefix == "/usr" \
        else (prefix + "/lib/systemd/system",)
    ok(len(unitdir) == 1 and unitdir.pop()[len(dest):] in want_unitdir,
       "%s: units in %s" % (where, " or ".join(want_unitdir)), units)
    agent_unit = [u for u in units if u.endswith("leakwatchd.service")]
    execs = unit_lines(agent_unit[0], "ExecStart") if agent_unit else []
    m = re.match(r"(\S+) -c (\S+)$", execs[0]) if execs else None
    ok(m is not None, "%s: leakwatchd.service starts leakwatchd -c FILE" % where, execs)
    if not m:
        return
    binary, config = m.group(1), m.group(2)
    ok(os.access(dest + binary, os.X_OK) and binary.startswith(prefix + "/"),
       "%s: the unit's binary %s is installed" % (where, binary))
    ok(os.path.isfile(dest + config), "%s: the unit's configuration %s is installed"
       % (where, config))
    r = run(dest + binary, "--help")
    ok("(default %s)" % config in r.stdout.decode(),
       "%s: leakwatchd's own default is the unit's configuration" % where, r.stdout.decode())
    cli = os.path.join(os.path.dirname(binary).replace("/sbin", "/bin"), "leakwatch")
    r = run(dest + cli, "--help")
    ok("(default %s)" % config in r.stdout.decode(),
       "%s: so is the CLI's" % where, r.stdout.decode()[:400])
    collector = os.path.join(os.path.dirname(binary), "leakwatch-collector")
    r = run(dest + collector, "--help")
    ok("(default %s)" % os.path.join(os.path.dirname(config), "collector.json")
       in r.stdout.decode(), "%s: the collector's default is beside it" % where,
       r.stdout.decode())
    cunit = [u for u in units if u.endswith("leakwatch-collector.service")]
    cexec = unit_lines(cunit[0], "ExecStart") if cunit else []
    want = "%s -c %s" % (collector, os.path.join(os.path.dirname(config), "collector.json"))
    ok(cexec == [want] and os.path.isfile(dest + want.split()[-1]),
       "%s: leakwatch-collector.service starts the installed collector with its installed"
       " configuration" % where, (cexec, want))
    check_generator(dest, prefix, config)
    rep = [u for u in units if u.endswith("leakwatch-report@.service")]
    rexec = unit_lines(rep[0], "ExecStart")[0].split()[0] if rep else ""
    renv = unit_lines(rep[0], "EnvironmentFile")[0].lstrip("-") if rep else ""
    ok(os.access(dest + rexec, os.X_OK) and os.path.dirname(renv) == os.path.dirname(config),
       "%s: the report unit runs an installed script, reads its settings beside the"
       " configuration" % where, (rexec, renv))
    sysctl = [os.path.join(r, n) for r, _, fs in os.walk(dest) for n in fs
              if n == "60-leakwatch.conf"]
    want = "/usr/lib/sysctl.d" if prefix == "/usr" else prefix + "/lib/sysctl.d"
    ok(len(sysctl) == 1 and os.path.dirname(sysctl[0])[len(dest):] == want,
       "%s: the sysctl drop-in in %s" % (where, want), sysctl)


def check_generator(dest, prefix, config):
    """The generator is where systemd looks for generators, and turns the
    installed agent.json (and another one) into the unit's ReadWritePaths=."""
    where = "prefix %s" % prefix
    want_dir = ("/lib/systemd/system-generators", "/usr/lib/systemd/system-generators") \
        if prefix == "/usr" else (prefix + "/lib/systemd/system-generators",)
    gens = [os.path.join(r, n) for r, _, fs in os.walk(dest) for n in fs
            if n == "leakwatch-generator"]
    ok(len(gens) == 1 and os.path.dirname(gens[0])[len(dest):] in want_dir
       and os.access(gens[0], os.X_OK),
       "%s: leakwatch-generator in %s" % (where, " or ".join(want_dir)), gens)
    if len(gens) != 1:
        return
    out = tempfile.mkdtemp(prefix="lw-gen.")
    try:
        conf = os.path.join(out, "agent.json")
        with open(dest + config) as f, open(conf, "w") as g:
            doc = json.load(f)
            doc["watch"] = ["/home", "/srv/shared docs", "/srv/100%"]
            json.dump(doc, g)
        r = run(gens[0], "-c", conf, out, out, out)
        dropin = os.path.join(out, "leakwatchd.service.d", "50-watched-roots.conf")
        text = open(dropin).read() if os.path.isfile(dropin) else ""
        lines = [l for l in text.splitlines() if l.startswith("ReadWritePaths=")]
        ok(r.returncode == 0 and lines == [
            'ReadWritePaths="-/home"', 'ReadWritePaths="-/srv/shared docs"',
            'ReadWritePaths="-/srv/100%%"', 'ReadWritePaths="-%s"' % doc["state_dir"]],
           "%s: the generator gives write access to each root and the state directory,"
           " quoted for systemd" % where, (r.stdout.decode(), text))
        shutil.rmtree(os.path.join(out, "leakwatchd.service.d"))
        r = run(gens[0], "-c", os.path.join(out, "missing.json"), out, out, out)
        ok(r.returncode == 0 and not os.path.exists(os.path.join(out, "leakwatchd.service.d"))
           and b"missing.json" in r.stdout,
           "%s: a configuration that does not load: the generator says so, writes nothing"
           % where, r.stdout.decode())
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    base = tempfile.mkdtemp(prefix="lw-install.")
    try:
        build = os.path.join(base, "build")
        r = run("meson", "setup", build, SRC, "-Dtests=false", "-Dbuildtype=debug")
        ok(r.returncode == 0, "meson setup (default prefix)", r.stdout.decode()[-2000:])
        if r.returncode != 0:
            return
        prefix = None
        for line in run("meson", "configure", build).stdout.decode().splitlines():
            f = line.split()
            if f and f[0] == "prefix":
                prefix = f[1]
        for p in (prefix, "/usr"):
            if p == "/usr":
                r = run("meson", "configure", build, "-Dprefix=/usr")
                ok(r.returncode == 0, "reconfigure for /usr", r.stdout.decode()[-2000:])
            dest = os.path.join(base, "dest" + p.replace("/", "-"))
            r = run("meson", "install", "-C", build, "--destdir", dest, "--quiet")
            ok(r.returncode == 0, "meson install --destdir, prefix %s" % p,
               r.stdout.decode()[-3000:])
            if r.returncode == 0:
                check_tree(dest, p)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        done()


if __name__ == "__main__":
    sys.exit(main())
