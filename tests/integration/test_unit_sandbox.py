#!/usr/bin/env python3
"""The agent under its own unit's sandbox (issue 13): leakwatchd is started
with systemd-run and every sandboxing line of the built leakwatchd.service,
plus the ReadWritePaths= that leakwatch-generator computes from the same
agent.json, watching a directory in /home. A classified file dropped into
its sync zone must be quarantined: moved out of the home directory that
ProtectHome=read-only protects. A second run without the generator's lines
must fail to quarantine ("Read-only file system"), which shows that the
first run used the real sandbox and that the generator is what opens it.

Needs systemd as PID 1 and root. Where systemd is not running (containers,
CI sandboxes), the whole test is skipped and says so."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from lwtest import LEAKWATCH, LEAKWATCHD, done, ok, skip_all

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "..", "packaging", "policy.json")
UNIT = os.environ.get("LW_AGENT_UNIT", "")
GENERATOR = os.environ.get("LW_GENERATOR", "")
SECRET = ("NATO SECRET\n\nSubject: convoy routes for exercise STEADFAST\n\n"
          "1. The convoy leaves at dawn and follows the northern route.\n\nNATO SECRET\n")
# lines that say how to start the service, not how to confine it; the state
# directory is the test's own (the generator names it)
NOT_SANDBOX = ("ExecStart", "ExecStartPre", "ExecReload", "Restart", "RestartSec", "Type",
               "StateDirectory", "StateDirectoryMode")


def systemd_is_pid1():
    return os.path.isdir("/run/systemd/system") and \
        os.path.basename(os.path.realpath("/proc/1/exe")) == "systemd"


def unit_properties(path):
    props, section = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line and not line.startswith("#"):
                key = line.split("=", 1)[0]
                if key not in NOT_SANDBOX:
                    props.append(line)
    return props


def generated_paths(config, out):
    r = subprocess.run([GENERATOR, "-c", config, out, out, out], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    conf = os.path.join(out, "leakwatchd.service.d", "50-watched-roots.conf")
    lines = [l.strip() for l in open(conf)] if os.path.exists(conf) else []
    return r, [l for l in lines if l.startswith("ReadWritePaths=")]


def cli(config, *args):
    return subprocess.run([LEAKWATCH, "-c", config] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)


def run_case(name, props, config, home, timeout=40):
    """Starts the sandboxed agent, drops the file, returns its violation."""
    unit = "lwtest-sandbox-%d-%s" % (os.getpid(), name)
    cmd = ["systemd-run", "--unit", unit, "--service-type=exec", "--quiet"]
    for p in props:
        cmd += ["--property", p]
    cmd += [LEAKWATCHD, "-c", config]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ok(r.returncode == 0, "%s: systemd-run starts leakwatchd with %d unit properties"
       % (name, len(props)), r.stdout)
    if r.returncode != 0:
        return None
    try:
        end = time.time() + timeout
        ready = False
        while time.time() < end and not ready:
            r = cli(config, "status", "--json")
            if r.returncode == 0:
                s = json.loads(r.stdout)
                ready = s.get("running") and s.get("full_scans_done", 0) >= 1 \
                    and not s.get("scanning")
            time.sleep(0.2)
        ok(ready, "%s: the sandboxed agent finished its start-up scan" % name,
           subprocess.run(["journalctl", "-u", unit, "-n", "40", "--no-pager"],
                          stdout=subprocess.PIPE).stdout)
        target = os.path.join(home, "sync", "upload-%s.txt" % name)
        with open(target, "w") as f:
            f.write(SECRET)
        while time.time() < end:
            r = cli(config, "violations", "--json")
            hits = [json.loads(l) for l in r.stdout.decode().splitlines()]
            hits = [v for v in hits if v["file"]["path"] == target]
            if hits:
                return hits[0], target
            time.sleep(0.2)
        return None, target
    finally:
        subprocess.run(["systemctl", "stop", unit], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["systemctl", "reset-failed", unit], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def main():
    if not systemd_is_pid1():
        skip_all("systemd is not PID 1 on this machine: the unit's sandbox cannot be"
                 " applied (systemd-run needs a running systemd)")
    if os.geteuid() != 0 or not shutil.which("systemd-run"):
        skip_all("needs root and systemd-run")
    if not UNIT or not GENERATOR:
        skip_all("LW_AGENT_UNIT and LW_GENERATOR are not set (meson sets them)")
    base = tempfile.mkdtemp(prefix="lwsandbox.")
    home = tempfile.mkdtemp(prefix="lwsandbox.", dir="/home")
    try:
        os.makedirs(os.path.join(home, "sync"))
        with open(SHIPPED) as f:
            pol = json.load(f)
        pol["zones"] = {"sync": [home + "/sync/**"]}
        with open(os.path.join(base, "policy.json"), "w") as f:
            json.dump(pol, f)
        for name, with_paths in (("generated", True), ("without", False)):
            state = os.path.join(base, "state-" + name)
            config = os.path.join(base, "agent-%s.json" % name)
            with open(config, "w") as f:
                json.dump({"watch": [home], "state_dir": state,
                           "policy": "policy.json"}, f)
            gen_out = os.path.join(base, "gen-" + name)
            os.makedirs(gen_out)
            r, paths = generated_paths(config, gen_out)
            ok(r.returncode == 0 and 'ReadWritePaths="-%s"' % home in paths,
               "%s: the generator opens the watched home directory" % name, paths)
            props = unit_properties(UNIT) + (paths if with_paths else
                                             ['ReadWritePaths="-%s"' % state])
            hit, target = run_case(name, props, config, home) or (None, None)
            if with_paths:
                ok(hit is not None and hit["action"] == "quarantine"
                   and hit["action_result"] == "ok" and not os.path.exists(target),
                   "%s: under the unit's sandbox a classified file is quarantined out of"
                   " /home" % name, hit)
            else:
                ok(hit is not None and hit["action_result"] != "ok"
                   and "Read-only file system" in hit["action_result"]
                   and os.path.exists(target),
                   "%s: without the generator's lines the same quarantine fails: the"
                   " sandbox was real" % name, hit)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
        done()


if __name__ == "__main__":
    sys.exit(main())
