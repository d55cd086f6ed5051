#!/usr/bin/env python3
"""The agent under its own unit's sandbox (issue 13), watching a directory
in which a classified file dropped into the sync zone must be quarantined:
moved out of a directory that ProtectSystem=strict/ProtectHome=read-only
make read-only, through the ReadWritePaths= that leakwatch-generator
computes from the same agent.json.

Two ways, both from the built leakwatchd.service's own lines:
- systemd-run with every sandboxing line of the unit. Needs systemd as PID
  1; where it is not (containers, CI sandboxes), these checks are skipped
  and say so.
- Everywhere (root): the same unit's CapabilityBoundingSet= (setpriv),
  SystemCallFilter= expanded by systemd-analyze (tests/sandbox-exec.c,
  libseccomp, EPERM like SystemCallErrorNumber=), NoNewPrivileges, and
  ProtectSystem=strict with ReadWritePaths= as read-only bind mounts in a
  mount namespace of its own (unshare). Not emulated: PrivateDevices and
  the Protect* of kernel tunables, logs and clock.
Negative runs show the sandbox is real: without the generator's paths the
quarantine fails ("Read-only file system"), and with the bounding set the
unit had before this issue (no CAP_SETUID/CAP_SETGID) the classify helper
cannot drop its privileges, so nothing is classified or quarantined."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import time

from lwtest import LEAKWATCH, LEAKWATCHD, done, ok, skip_all

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "..", "packaging", "policy.json")
UNIT = os.environ.get("LW_AGENT_UNIT", "")
GENERATOR = os.environ.get("LW_GENERATOR", "")
SANDBOX_EXEC = os.environ.get("LW_SANDBOX_EXEC", "")
SECRET = ("NATO SECRET\n\nSubject: convoy routes for exercise STEADFAST\n\n"
          "1. The convoy leaves at dawn and follows the northern route.\n\nNATO SECRET\n")
# lines that say how to start the service, not how to confine it; the state
# directory is the test's own (the generator names it)
NOT_SANDBOX = ("ExecStart", "ExecStartPre", "ExecReload", "Restart", "RestartSec", "Type",
               "StateDirectory", "StateDirectoryMode")
# the bounding set of leakwatchd.service before issue 13
OLD_CAPS = "CAP_DAC_READ_SEARCH CAP_DAC_OVERRIDE CAP_FOWNER CAP_CHOWN"

# ProtectSystem=strict (so ProtectHome=read-only too): every mount but the
# API file systems read-only; then ReadWritePaths= bound read-write. $1...
# up to "--" are the writable paths, the command follows.
MOUNT_SCRIPT = r"""
set -e
rw=""
while [ "$1" != "--" ]; do rw="$rw
$1"; shift; done
shift
for m in $(awk '{print $5}' /proc/self/mountinfo | sort -u); do
	case $m in /proc | /proc/* | /sys | /sys/* | /dev | /dev/*) continue ;; esac
	mount -o remount,bind,ro "$m" 2>/dev/null || true
done
IFS='
'
for p in $rw; do
	[ -e "$p" ] || continue
	mount --bind "$p" "$p"
	mount -o remount,bind,rw "$p"
done
unset IFS
exec "$@"
"""


def systemd_is_pid1():
    return os.path.isdir("/run/systemd/system") and \
        os.path.basename(os.path.realpath("/proc/1/exe")) == "systemd"


def unit_service_lines(path):
    lines, section = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line and not line.startswith("#"):
                lines.append(line)
    return lines


def unit_properties(path):
    return [l for l in unit_service_lines(path) if l.split("=", 1)[0] not in NOT_SANDBOX]


def expand_filter(groups, seen=None):
    """System-call names of "@group name ..." as systemd expands them."""
    seen = set() if seen is None else seen
    names = set()
    for g in groups:
        if not g.startswith("@"):
            names.add(g)
            continue
        if g in seen:
            continue
        seen.add(g)
        r = subprocess.run(["systemd-analyze", "syscall-filter", g], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        items = [l.strip() for l in r.stdout.decode().splitlines()[1:]]
        names |= expand_filter([i for i in items if i and not i.startswith("#")], seen)
    return names


def unit_syscalls(path):
    allow = set()
    for line in unit_service_lines(path):
        key, value = line.split("=", 1)
        if key != "SystemCallFilter":
            continue
        if value.startswith("~"):
            allow -= expand_filter(value[1:].split())
        else:
            allow |= expand_filter(value.split())
    return allow


def unit_caps(path):
    for line in unit_service_lines(path):
        if line.startswith("CapabilityBoundingSet="):
            return line.split("=", 1)[1]
    return ""


def generated_paths(config, out):
    r = subprocess.run([GENERATOR, "-c", config, out, out, out], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    conf = os.path.join(out, "leakwatchd.service.d", "50-watched-roots.conf")
    lines = [l.strip() for l in open(conf)] if os.path.exists(conf) else []
    return r, [l for l in lines if l.startswith("ReadWritePaths=")]


def cli(config, *args):
    return subprocess.run([LEAKWATCH, "-c", config] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)


def start_systemd(name, config, rw_lines):
    unit = "lwtest-sandbox-%d-%s" % (os.getpid(), name)
    cmd = ["systemd-run", "--unit", unit, "--service-type=exec", "--quiet"]
    for p in unit_properties(UNIT) + rw_lines:
        cmd += ["--property", p]
    r = subprocess.run(cmd + [LEAKWATCHD, "-c", config], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    ok(r.returncode == 0, "%s: systemd-run starts leakwatchd with the unit's lines" % name,
       r.stdout)

    def stop():
        for verb in ("stop", "reset-failed"):
            subprocess.run(["systemctl", verb, unit], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return subprocess.run(["journalctl", "-u", unit, "-n", "40", "--no-pager"],
                              stdout=subprocess.PIPE).stdout.decode()
    return (stop if r.returncode == 0 else None)


def start_emulated(name, config, rw_lines, caps, syscalls_file, log):
    rw = [json.loads(l.split("=", 1)[1]).lstrip("-") for l in rw_lines]
    bset = ",".join(["-all"] + ["+" + c[4:].lower() for c in caps.split()])
    cmd = (["unshare", "--mount", "--propagation", "private", "sh", "-c", MOUNT_SCRIPT,
            "sh"] + rw + ["--", "setpriv", "--inh-caps=-all", "--bounding-set=" + bset,
                          SANDBOX_EXEC, syscalls_file, LEAKWATCHD, "-c", config])
    out = open(log, "w")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)

    def stop():
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()
        return open(log).read()[-3000:]
    return stop


def drop_and_wait(name, config, home, stop, want_violation, timeout=40):
    """Waits for the start-up scan, drops the file, returns (violation or
    None, path, the agent's log)."""
    target = os.path.join(home, "sync", "upload-%s.txt" % name)
    hit = None
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
        with open(target, "w") as f:
            f.write(SECRET)
        # a violation that must not come is given 10 s
        end = time.time() + (timeout if want_violation else 10)
        while time.time() < end and hit is None:
            r = cli(config, "violations", "--json")
            hits = [json.loads(l) for l in r.stdout.decode().splitlines()]
            hits = [v for v in hits if v["file"]["path"] == target]
            hit = hits[0] if hits else None
            time.sleep(0.2)
    finally:
        log = stop()
    return hit, target, ready, log


def setup(base, home, name):
    state = os.path.join(base, "state-" + name)
    config = os.path.join(base, "agent-%s.json" % name)
    with open(config, "w") as f:
        json.dump({"watch": [home], "state_dir": state, "policy": "policy.json"}, f)
    os.makedirs(state, mode=0o700)
    gen_out = os.path.join(base, "gen-" + name)
    os.makedirs(gen_out)
    r, paths = generated_paths(config, gen_out)
    ok(r.returncode == 0 and 'ReadWritePaths="-%s"' % home in paths
       and 'ReadWritePaths="-%s"' % state in paths,
       "%s: the generator opens the watched directory and the state" % name, paths)
    return config, state, paths


def check_quarantined(name, hit, target, ready, log):
    ok(ready, "%s: the sandboxed agent finished its start-up scan" % name, log)
    ok(hit is not None and hit["action"] == "quarantine" and hit["action_result"] == "ok"
       and not os.path.exists(target),
       "%s: a classified file is quarantined out of the read-only tree" % name,
       json.dumps(hit) + "\n" + log)


def check_readonly(name, hit, target, log):
    ok(hit is not None and "Read-only file system" in (hit.get("action_result") or "")
       and os.path.exists(target),
       "%s: without the generator's paths the same quarantine fails: the sandbox is real"
       % name, json.dumps(hit) + "\n" + log)


def main():
    if os.geteuid() != 0:
        skip_all("needs root (mount namespaces, capabilities, systemd-run)")
    for need, what in ((UNIT, "LW_AGENT_UNIT"), (GENERATOR, "LW_GENERATOR"),
                       (SANDBOX_EXEC, "LW_SANDBOX_EXEC")):
        if not need:
            skip_all("%s is not set (meson sets it)" % what)
    for tool in ("unshare", "setpriv", "systemd-analyze"):
        if not shutil.which(tool):
            skip_all("%s is missing" % tool)
    base = tempfile.mkdtemp(prefix="lwsandbox.")
    home_parent = "/home" if os.path.isdir("/home") else None
    home = tempfile.mkdtemp(prefix="lwsandbox.", dir=home_parent)
    try:
        os.makedirs(os.path.join(home, "sync"))
        with open(SHIPPED) as f:
            pol = json.load(f)
        pol["zones"] = {"sync": [home + "/sync/**"]}
        with open(os.path.join(base, "policy.json"), "w") as f:
            json.dump(pol, f)
        syscalls = unit_syscalls(UNIT)
        syscalls_file = os.path.join(base, "syscalls")
        with open(syscalls_file, "w") as f:
            f.write("\n".join(sorted(syscalls)) + "\n")
        ok(len(syscalls) > 300 and "seccomp" in syscalls and "inotify_add_watch" in syscalls
           and "mount" not in syscalls and "reboot" not in syscalls,
           "the unit's SystemCallFilter= expands to %d calls: seccomp and inotify in,"
           " mount and reboot out" % len(syscalls))
        caps = unit_caps(UNIT)

        config, state, paths = setup(base, home, "emulated")
        stop = start_emulated("emulated", config, paths, caps, syscalls_file,
                              os.path.join(base, "emulated.log"))
        hit, target, ready, log = drop_and_wait("emulated", config, home, stop, True)
        check_quarantined("emulated", hit, target, ready, log)

        config, state, paths = setup(base, home, "emulated-no-paths")
        only_state = ['ReadWritePaths="-%s"' % state]
        stop = start_emulated("emulated-no-paths", config, only_state, caps, syscalls_file,
                              os.path.join(base, "no-paths.log"))
        hit, target, ready, log = drop_and_wait("emulated-no-paths", config, home, stop, True)
        check_readonly("emulated-no-paths", hit, target, log)

        config, state, paths = setup(base, home, "emulated-old-caps")
        stop = start_emulated("emulated-old-caps", config, paths, OLD_CAPS, syscalls_file,
                              os.path.join(base, "old-caps.log"))
        hit, target, ready, log = drop_and_wait("emulated-old-caps", config, home, stop,
                                                False)
        ok(hit is None and os.path.exists(target) and "drop privileges" in log,
           "emulated-old-caps: with the old bounding set the classify helper cannot drop"
           " to nobody, and nothing is found (the defect this unit fixes)",
           json.dumps(hit) + "\n" + log)

        if not systemd_is_pid1() or not shutil.which("systemd-run"):
            ok(True, "systemd-run with the unit's lines # SKIP systemd is not PID 1 on this"
               " machine: the unit itself cannot be started")
            ok(True, "systemd-run without the generator's paths # SKIP systemd is not PID 1")
        else:
            config, state, paths = setup(base, home, "systemd")
            stop = start_systemd("systemd", config, paths)
            if stop:
                hit, target, ready, log = drop_and_wait("systemd", config, home, stop, True)
                check_quarantined("systemd", hit, target, ready, log)
            config, state, paths = setup(base, home, "systemd-no-paths")
            stop = start_systemd("systemd-no-paths", config, ['ReadWritePaths="-%s"' % state])
            if stop:
                hit, target, ready, log = drop_and_wait("systemd-no-paths", config, home,
                                                        stop, True)
                check_readonly("systemd-no-paths", hit, target, log)
    except Exception:  # noqa: BLE001 - a crash is a failed check, not a pass
        ok(False, "the test itself failed", traceback.format_exc())
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
        done()


if __name__ == "__main__":
    sys.exit(main())
