#!/usr/bin/env python3
"""Who did it (issue 12): on the fanotify backend a violation names the
process behind the change.

`cp memo.txt ROOT/media/usb/`, run by another user (nobody) from a shell,
must raise classified-on-removable with a process whose uid and user are
nobody's, whose executable is cp, and whose first parent is that shell.
A copy made while the agent is stopped (SIGSTOP: the events are read after
cp was reaped) must say that the process exited, and nothing more: never a
guess from a pid that may name another process by now. On the inotify
backend, which knows no process, the field is absent. A rename onto the
medium names the program that renamed. Needs root (fanotify, setpriv)."""
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import traceback

from lwtest import wait_until, Agent, done, ok, skip_all, write

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "..", "packaging", "policy.json")
SECRET = ("NATO SECRET\n\nSubject: convoy routes for exercise STEADFAST\n\n"
          "1. The convoy leaves at dawn and follows the northern route.\n\nNATO SECRET\n")


def hit_at(agent, path):
    return wait_until(lambda: [v for v in agent.violations() if v["file"]["path"] == path
                         and v["rule"] == "classified-on-removable"])


def make_agent(name, backend):
    agent = Agent(name, extra_config={"backend": backend, "policy": "policy.json"})
    with open(SHIPPED) as f:
        pol = json.load(f)
    pol["zones"]["removable"] = [agent.root + "/media/**"]
    with open(os.path.join(agent.base, "policy.json"), "w") as f:
        json.dump(pol, f)
    usb = os.path.join(agent.root, "media", "usb")
    os.makedirs(usb)
    os.chmod(usb, 0o1777)
    memo = os.path.join(agent.base, "memo.txt")
    write(memo, SECRET)
    os.chmod(memo, 0o644)
    return agent, usb, memo


def as_nobody(script, *args):
    """bash -c SCRIPT as nobody; `; true` keeps bash from exec'ing the last
    command in place of itself, so the shell stays cp's parent."""
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           "--", "/bin/bash", "-c", script + "; true", "bash"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def main():
    if os.geteuid() != 0:
        skip_all("fanotify and setpriv need root")
    if not shutil.which("setpriv"):
        skip_all("setpriv is missing (util-linux)")
    nobody = pwd.getpwnam("nobody")
    cp = os.path.realpath(shutil.which("cp"))
    mv = os.path.realpath(shutil.which("mv"))
    bash = os.path.realpath("/bin/bash")
    agent = None
    try:
        agent, usb, memo = make_agent("process", "fanotify")
        agent.start()
        agent.wait_ready()
        ok(agent.status().get("attribution") is True, "status says changes name their process",
           agent.status())

        # cp copies the memo, then waits on a pipe for a second: it is alive
        # when its event is read even under a slow (sanitizer) build. A cp
        # that is gone by then is the case tested further down.
        r = as_nobody('sleep 1 | cp "$1" /dev/stdin "$2"/', memo, usb)
        ok(r.returncode == 0, "cp memo.txt media/usb/ as nobody", r.stdout)
        dst = os.path.join(usb, "memo.txt")
        hit = hit_at(agent, dst)
        ok(hit, "the copy onto removable media raises classified-on-removable",
           agent.log_text()[-2000:])
        p = (hit or [{}])[0].get("process") or {}
        print("# process: %s" % json.dumps(p))
        ok(p.get("uid") == nobody.pw_uid and p.get("user") == "nobody",
           "the process names nobody's uid and user", p)
        ok(p.get("exe") == cp and p.get("cmdline", "").startswith("cp "),
           "its executable is %s and its command line is the copy" % cp, p)
        ok(memo in p.get("cmdline", ""), "the command line names the source", p)
        par = p.get("parents") or []
        ok(par and par[0].get("exe") == bash and par[0].get("uid") == nobody.pw_uid
           and par[0].get("user") == "nobody",
           "its first parent is nobody's shell, %s" % bash, par)
        ok(all(q.get("pid", 0) > 0 for q in par) and len(par) <= 8,
           "the parent chain is bounded and every parent has a pid", par)
        ok("exited" not in p, "a process resolved while it ran is not said to have exited", p)

        # the compliance report says who, in a line
        r = agent.cli("report", "--since", "1h", "--format", "json", check=False)
        rows = json.loads(r.stdout or b"{}").get("violations", {}).get("rows", [])
        by = [x.get("by") for x in rows if x.get("path") == dst]
        ok(by and by[0] == "nobody (uid %d): %s, from %s" % (nobody.pw_uid, cp, bash),
           "the compliance report's row says nobody, cp and the shell", by or r.stderr)

        # a rename onto the medium from elsewhere in the root
        stage = os.path.join(agent.root, "stage")
        os.makedirs(stage)
        os.chmod(stage, 0o777)  # not sticky: nobody may rename root's file
        staged = os.path.join(stage, "memo2.txt")
        write(staged, SECRET.replace("dawn", "dusk"))
        os.chmod(staged, 0o666)
        time.sleep(0.5)
        r = as_nobody('mv "$1" "$2"/', staged, usb)
        ok(r.returncode == 0 and not os.path.exists(staged), "mv as nobody", r.stdout)
        moved = os.path.join(usb, "memo2.txt")
        hit = hit_at(agent, moved)
        mp = (hit or [{}])[0].get("process") or {}
        # A rename is mv's last act: its event may be read while mv is in
        # exit(2), when /proc has its uid and parents but no executable
        # any more. Then it must say so, not name a wrong program.
        print("# mv: %s" % json.dumps(mp))
        # Under a slow build (ASan) mv may be reaped before the reader sees
        # the rename: then only its pid is known, and must say so.
        ok(hit and hit[0]["event"]["kind"] == "moved" and mp.get("pid")
           and ((mp.get("uid") == nobody.pw_uid
                 and (mp.get("exe") == mv or (mp.get("exited") and mp.get("exe") is None)))
                or (mp.get("exited") is True and "uid" not in mp)),
           "a rename onto the medium by mv names nobody and mv, or that it exited",
           hit or agent.log_text()[-2000:])

        # a renaming process that lives on after the rename is named whole
        perl = os.path.realpath(shutil.which("perl"))
        staged3 = os.path.join(stage, "memo3.txt")
        write(staged3, SECRET.replace("dawn", "noon"))
        os.chmod(staged3, 0o666)
        time.sleep(0.5)
        r = as_nobody('perl -e \'rename($ARGV[0], $ARGV[1]) or die "$!"; sleep 2\' "$1" "$2"/memo3.txt',
                      staged3, usb)
        ok(r.returncode == 0 and not os.path.exists(staged3), "a rename by perl as nobody", r.stdout)
        hit = hit_at(agent, os.path.join(usb, "memo3.txt"))
        pp = (hit or [{}])[0].get("process") or {}
        print("# perl: %s" % json.dumps(pp))
        ok(hit and hit[0]["event"]["kind"] == "moved" and pp.get("uid") == nobody.pw_uid
           and pp.get("exe") == perl and not pp.get("exited"),
           "a rename onto the medium names nobody and the program that renamed", hit or pp)

        # the agent stopped: by the time the events are read cp was reaped
        agent.proc.send_signal(signal.SIGSTOP)
        try:
            r = as_nobody('cp "$1" "$2"/late.txt & echo $!; wait', memo, usb)
            pid = int(r.stdout.split()[0])
        finally:
            agent.proc.send_signal(signal.SIGCONT)
        late = os.path.join(usb, "late.txt")
        hit = hit_at(agent, late)
        lp = (hit or [{}])[0].get("process")
        ok(lp == {"pid": pid, "exited": True},
           "a process reaped before its events were read is 'exited', with its pid only",
           {"got": lp, "cp pid": pid})
        agent.stop()
        agent.cleanup()
        agent = None

        # inotify: no process, so no field
        agent, usb, memo = make_agent("process-inotify", "inotify")
        agent.start()
        agent.wait_ready()
        ok(agent.status().get("attribution") is False, "inotify: status says no attribution")
        as_nobody('cp "$1" "$2"/', memo, usb)
        hit = hit_at(agent, os.path.join(usb, "memo.txt"))
        ok(hit and "process" not in hit[0], "inotify: the violation has no process field", hit)
    except Exception:  # noqa: BLE001 - a crash is a failed check, not a pass
        ok(False, "the test itself failed", traceback.format_exc())
    finally:
        if agent:
            agent.cleanup()
        done()


if __name__ == "__main__":
    sys.exit(main())
