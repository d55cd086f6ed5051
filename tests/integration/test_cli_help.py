#!/usr/bin/env python3
"""`leakwatch ... --help` for every command and subcommand, and the bash
completion (packaging/bash-completion/leakwatch) against it (issue 13).

Every command's usage is printed from the command table (cli/cli-help.c);
this test reads it back and checks that each usage documents exactly the
options the command's getopt table accepts (ACCEPTS below, read off the
cli/*.c sources, which are scanned so that a new option there fails here
until it is listed), that `--help` anywhere among the arguments prints it,
that an unknown subcommand exits 2, and that the completion script, driven in
a plain bash (no bash-completion package needed), completes exactly the
commands, subcommands, options and fixed values the usages list.

Environment: LEAKWATCH (the built binary), LW_SOURCE_ROOT (the checkout)."""
import os
import re
import shutil
import subprocess
import tempfile

from lwtest import LEAKWATCH, done, ok

SRC = os.environ.get("LW_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
COMPLETION = os.path.join(SRC, "packaging", "bash-completion", "leakwatch")
FLEET = ["--collector", "https://127.0.0.1:1"]
NODB = "/nonexistent/leakwatch-test/agent.db"

# The long options each command accepts, read off its getopt table and the
# checks after it (cli-inventory.c: status and find refuse the filters).
ACCEPTS = {
    (False, "status", None): ["--json"],
    (False, "files", None): ["--under", "--all", "--label", "--json"],
    (False, "find", None): ["--json"],
    (False, "scan", None): ["--jobs", "--timeout-ms", "--memory-mb", "--policy", "--json"],
    (False, "fingerprint", None): [],
    (False, "fingerprint", "add"): ["--id", "--label", "--benign"],
    (False, "fingerprint", "list"): ["--json"],
    (False, "fingerprint", "remove"): [],
    (False, "violations", None): ["--since", "--severity", "--rule", "--json"],
    (False, "quarantine", None): [],
    (False, "quarantine", "list"): ["--json"],
    (False, "quarantine", "restore"): [],
    (False, "enforce", None): [],
    (False, "enforce", "off"): [],
    (False, "enforce", "on"): [],
    (False, "enforce", "status"): [],
    (False, "policy", None): [],
    (False, "policy", "check"): [],
    (False, "reload", None): [],
    (False, "report", None): ["--period", "--since", "--until", "--format", "--output",
                              "--sign-key", "--redact-paths", "--row-limit"],
    (False, "report", "render"): ["--format", "--output", "--sign-key"],
    (False, "report", "verify"): ["--trust"],
    (True, "agents", None): ["--json"],
    (True, "violations", None): ["--since", "--severity", "--rule", "--agent", "--limit",
                                 "--json"],
    (True, "alerts", None): ["--since", "--agent", "--limit", "--json"],
    (True, "trace", None): ["--json"],
    (True, "report", None): ["--period", "--since", "--until", "--format", "--output",
                             "--sign-key", "--redact-paths", "--row-limit", "--agent"],
    (True, "report", "render"): ["--format", "--output", "--sign-key"],
    (True, "report", "verify"): ["--trust"],
}
SHORT = {(False, "report", None): ["-o"], (False, "report", "render"): ["-o"],
         (True, "report", None): ["-o"], (True, "report", "render"): ["-o"]}
GLOBAL = ["--config", "--db", "--json", "--version", "--help", "--collector", "--cert",
          "--key", "--ca", "--crl"]
GLOBAL_SHORT = ["-c", "-d", "-V", "-h"]
# the fixed sets in the code: policy.c severity_names, store.c store_rank_of(),
# report-period.c, report_format_parse()
VALUES = {"--severity": ["low", "medium", "high", "critical"],
          "--label": ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"],
          "--period": ["day", "week", "month", "quarter"],
          "--format": ["html", "json", "csv"]}


def lw(*args, cwd=None):
    r = subprocess.run([LEAKWATCH] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30, cwd=cwd)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def section(text, title):
    """The lines of the section that starts with a line beginning @title,
    up to the next blank line."""
    lines = text.splitlines()
    for i, l in enumerate(lines):
        if l.startswith(title):
            out = []
            for m in lines[i + 1:]:
                if not m.strip():
                    break
                out.append(m)
            return out
    return []


def parse_options(text):
    """{flag: (arg or None, [values])} from an "Options:" section; values
    from "one of: a, b, c" (continued on lines of their own)."""
    opts = {}
    last, in_values = None, False
    for l in section(text, "Options:"):
        m = re.match(r"  (-[\w-]+(?:, -[\w-]+)?)(?: (\S+))?(?:\s|$)", l)
        if m:
            last, in_values = m.group(1).split(", "), False
            for f in last:
                opts[f] = (m.group(2), [])
            continue
        v = re.match(r"\s+one of: (.*)$", l)
        if v or in_values:
            in_values = True
            for f in last:
                opts[f][1].extend(x.strip() for x in (v.group(1) if v else l).split(",")
                                  if x.strip())
    return opts


def parse_usage(text):
    """The long options the synopsis lines mention."""
    usage = []
    for l in text.splitlines():
        if not l.strip():
            break
        usage.append(l)
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", " ".join(usage)))


def parse_subs(text):
    return [l.split()[0] for l in section(text, "Subcommands:") if re.match(r"  [a-z]", l)]


def commands_in(text, title):
    return sorted({l.split()[0] for l in section(text, title) if re.match(r"  [a-z]", l)})


def complete(words, cwd=None):
    """COMPREPLY of _leakwatch for @words (the last is being completed), in a
    bash without bash-completion."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
              'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _leakwatch; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", COMPLETION,
                        "leakwatch"] + list(words), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, cwd=cwd)
    out = [l.replace("\\ ", " ") for l in r.stdout.decode().splitlines() if l]
    return out, r.stderr.decode()


def main():
    # --- the global usage --------------------------------------------------
    rc, top, err = lw("--help")
    ok(rc == 0 and top.startswith("usage:"), "leakwatch --help: exit 0, usage on stdout", err)
    local_cmds = commands_in(top, "Commands, on this workstation")
    fleet_cmds = commands_in(top, "Fleet commands")
    want_local = sorted({k[1] for k in ACCEPTS if not k[0]})
    want_fleet = sorted({k[1] for k in ACCEPTS if k[0]})
    ok(local_cmds == want_local, "leakwatch --help lists every local command", local_cmds)
    ok(fleet_cmds == want_fleet, "leakwatch --help lists every fleet command", fleet_cmds)
    gopts = parse_options(top)
    ok(sorted(gopts) == sorted(GLOBAL + GLOBAL_SHORT), "leakwatch --help: the global options",
       sorted(gopts))
    rc, out, _ = lw("-h")
    ok(rc == 0 and out == top, "leakwatch -h is --help")

    # every long option of every getopt table in cli/ is listed above
    documented = set(GLOBAL)
    for v in ACCEPTS.values():
        documented |= set(v)
    in_code = set()
    cli_dir = os.path.join(SRC, "cli")
    for name in sorted(os.listdir(cli_dir)):
        if name.endswith(".c"):
            with open(os.path.join(cli_dir, name)) as f:
                in_code |= {"--" + m for m in re.findall(
                    r'\{"([a-z][a-z-]*)",\s*(?:no|required|optional)_argument', f.read())}
    ok(in_code and in_code <= documented, "every option in cli/*.c getopt tables is checked",
       sorted(in_code - documented))

    # --- each command and subcommand ---------------------------------------
    helps = {}
    for fleet, cmds in ((False, local_cmds), (True, fleet_cmds)):
        for cmd in cmds:
            pre = FLEET if fleet else ["-d", NODB]
            rc, out, err = lw(*pre, cmd, "--help")
            where = "%s%s --help" % ("fleet " if fleet else "", cmd)
            ok(rc == 0 and out.startswith("usage: leakwatch ") and not err,
               "%s: exit 0, usage on stdout" % where, out + err)
            helps[(fleet, cmd, None)] = out
            subs = parse_subs(out)
            want_subs = sorted(k[2] for k in ACCEPTS if k[:2] == (fleet, cmd) and k[2])
            ok(sorted(subs) == want_subs, "%s: lists its subcommands" % where, subs)
            for sub in subs:
                rc, sout, err = lw(*pre, cmd, sub, "--help")
                ok(rc == 0 and sout.startswith("usage: leakwatch ") and not err
                   and (" %s %s" % (cmd, sub)) in sout.splitlines()[0],
                   "%s %s --help: exit 0, its own usage" % (where[:-7], sub), sout + err)
                helps[(fleet, cmd, sub)] = sout

    for key, text in sorted(helps.items(), key=lambda kv: str(kv[0])):
        name = "%s%s%s --help" % ("fleet " if key[0] else "", key[1],
                                  " " + key[2] if key[2] else "")
        opts = parse_options(text)
        longs = sorted(o for o in opts if o.startswith("--") and o != "--help")
        want = sorted(ACCEPTS.get(key, []))
        ok(longs == want, "%s: documents exactly the options it accepts" % name,
           "documented %s, accepted %s" % (longs, want))
        shorts = sorted(o for o in opts if not o.startswith("--") and o != "-h")
        ok(shorts == sorted(SHORT.get(key, [])) and "-h" in opts and "--help" in opts,
           "%s: short options, and -h/--help" % name, sorted(opts))
        extra = parse_usage(text) - set(opts) - set(GLOBAL)
        ok(not extra, "%s: the synopsis mentions only those options" % name, sorted(extra))
        wide = [l for l in text.splitlines() if len(l) > 80]
        ok(not wide, "%s: fits in 80 columns" % name, "\n".join(wide))
        para = text.split("\n\n")
        ok(len(para) > 2 and para[1] and not para[1].startswith(" ")
           and para[1].rstrip().endswith("."),
           "%s: a synopsis, then a sentence on what it does" % name, text)
        for opt, (arg, values) in opts.items():
            # fingerprint add --label is a marking of any words
            want = VALUES.get(opt, []) if opt != "--label" or key[1] == "files" else []
            if want or values:
                ok(values == want, "%s: %s lists its values" % (name, opt), values)

    # --help anywhere among the arguments; not as an option's value
    cases = [
        (["-d", NODB, "find", "some-file", "--help"], (False, "find", None)),
        (["-d", NODB, "violations", "--since", "24h", "-h"], (False, "violations", None)),
        (["-d", NODB, "fingerprint", "add", "--id", "x", "f", "--help"],
         (False, "fingerprint", "add")),
        (["-d", NODB, "quarantine", "restore", "ID", "-h"], (False, "quarantine", "restore")),
        (["report", "verify", "r.json", "--trust", "k.pem", "--help"],
         (False, "report", "verify")),
        (["report", "--period", "month", "--help"], (False, "report", None)),
        (FLEET + ["trace", "0" * 64, "--help"], (True, "trace", None)),
        (FLEET + ["report", "render", "r.json", "-h"], (True, "report", "render")),
    ]
    for args, key in cases:
        rc, out, err = lw(*args)
        ok(rc == 0 and out == helps[key], "%s: the usage of %s" % (" ".join(args), key[1:]),
           out + err)
    rc, out, err = lw("-d", NODB, "violations", "--rule", "--help")
    ok(rc == 2 and not out.startswith("usage:"), "--rule --help: --help is the rule's id",
       out + err)
    rc, out, err = lw("-d", NODB, "scan", "--", "--help")
    ok(not out.startswith("usage:"), "scan -- --help: a file named --help", out + err)

    # unknown subcommands, options of another form
    for args in (["fingerprint", "bogus"], ["fingerprint", "bogus", "--help"],
                 ["quarantine", "bogus", "--help"], ["policy", "bogus", "-h"],
                 ["report", "bogus", "--help"], FLEET + ["report", "bogus", "--help"]):
        rc, out, err = lw("-d", NODB, *args) if args[0] != FLEET[0] else lw(*args)
        ok(rc == 2 and not out and err.strip(), "%s: exit 2 with a message" % " ".join(args),
           "rc %d: %s%s" % (rc, out, err))
    rc, _, err = lw("-d", NODB, "fingerprint", "bogus", "--help")
    ok("unknown subcommand 'bogus'" in err, "the message names the unknown subcommand", err)
    rc, out, err = lw("-d", NODB, "fingerprint")
    ok(rc == 2 and "usage" in err, "fingerprint without a subcommand: exit 2", err)
    rc, _, err = lw("report", "verify", "r.json", "--period", "week")
    ok(rc == 2 and "--period does not apply" in err, "report verify refuses --period", err)
    rc, _, err = lw("-d", NODB, "reload", "now")
    ok(rc == 2 and "usage" in err, "reload takes no argument", err)

    # the documented values are accepted, others refused (checked before
    # the database is opened)
    top_dir = base = tempfile.mkdtemp(prefix="lw-help.")
    try:
        sample = os.path.join(SRC, "tests", "report", "sample.json")
        for opt, values, argv, refused in (
                ("--severity", VALUES["--severity"], ["violations", "--severity"], "--severity:"),
                ("--label", VALUES["--label"], ["files", "--label"], "--label:"),
                ("--period", VALUES["--period"], ["report", "--period"], "--period '")):
            good = [v for v in values if refused not in lw("-d", NODB, *argv, v)[2]]
            ok(good == values, "%s: every value listed is accepted" % opt, good)
            rc, _, err = lw("-d", NODB, *argv, "bogus")
            ok(rc == 2 and refused in err, "%s: another is refused" % opt, err)
        good = [v for v in VALUES["--format"] if "--format '" not in lw(
            "report", "render", sample, "--format", v, "-o", os.path.join(base, "r-" + v))[2]]
        ok(good == VALUES["--format"], "--format: every value listed is accepted", good)

        # --- the bash completion, without the bash-completion package -----
        base = os.path.join(base, "completion")  # only these three
        os.makedirs(os.path.join(base, "adir"))
        for n in ("afile.txt", "areport.json"):
            open(os.path.join(base, n), "w").close()
        got, err = complete([""])
        ok(sorted(got) == local_cmds and not err, "complete: the local commands", (got, err))
        got, _ = complete(FLEET + [""])
        ok(sorted(got) == fleet_cmds, "complete: with --collector, the fleet commands", got)
        got, _ = complete(["--collector=https://x", ""])
        ok(sorted(got) == fleet_cmds, "complete: --collector=URL too", got)
        got, _ = complete(["-"])
        ok(sorted(got) == sorted(gopts), "complete: the global options", got)
        got, _ = complete(["-c", "a"], cwd=base)
        ok("afile.txt" in got, "complete: -c FILE completes files", got)
        got, _ = complete(["--json", "-d", os.path.join(base, "af")])
        ok(got == [os.path.join(base, "afile.txt")], "complete: -d FILE", got)

        for key, text in sorted(helps.items(), key=lambda kv: str(kv[0])):
            fleet, cmd, sub = key
            words = (FLEET if fleet else []) + [cmd] + ([sub] if sub else [])
            name = " ".join(words[2:] if fleet else words)
            name = ("fleet " if fleet else "") + name
            opts = parse_options(text)
            got, err = complete(words + ["-"])
            ok(sorted(got) == sorted(opts) and not err,
               "complete %s -: exactly the options --help lists" % name, (sorted(got), err))
            subs = parse_subs(text)
            if subs:
                got, _ = complete(words + [""])
                ok(sorted(got) == sorted(subs), "complete %s: its subcommands" % name, got)
            for opt, (arg, values) in sorted(opts.items()):
                if not arg:
                    continue
                got, _ = complete(words + [opt, ""], cwd=base)
                if values:
                    want = values
                elif arg in ("FILE", "FILE|DIR", "KEY", "PEM"):
                    want = ["adir", "afile.txt", "areport.json"]
                elif arg == "PATH":
                    want = ["adir"]
                else:
                    want = []
                ok(sorted(got) == sorted(want), "complete %s %s: %s" % (name, opt, want or
                                                                        "nothing"), got)
                if values and opt.startswith("--"):
                    got, _ = complete(words + [opt, "=", values[-1][:1]], cwd=base)
                    want = [v for v in values if v.startswith(values[-1][:1])]
                    ok(got == want, "complete %s %s=%s: %s" % (name, opt, values[-1][:1], want),
                       got)
        # positional arguments that are files
        for words, want in ((["find", "a"], ["adir", "afile.txt", "areport.json"]),
                            (["scan", "x", "a"], ["adir", "afile.txt", "areport.json"]),
                            (["fingerprint", "add", "--label", "S", "a"],
                             ["adir", "afile.txt", "areport.json"]),
                            (["policy", "check", "a"], ["adir", "afile.txt", "areport.json"]),
                            (["report", "verify", "a"], ["adir", "afile.txt", "areport.json"]),
                            (["report", "render", "a"], ["adir", "areport.json"]),
                            (["report", "verify", "x", "a"], []),
                            (["status", "a"], []),
                            (["fingerprint", "remove", "a"], []),
                            (["bogus", "a"], [])):
            got, _ = complete(words, cwd=base)
            ok(sorted(got) == want, "complete %s: %s" % (" ".join(words), want or "nothing"),
               got)
        got, _ = complete(["files", "--label", "TOP"])
        ok(got == ["TOP SECRET"], "complete --label TOP: 'TOP SECRET', quoted", got)
    finally:
        shutil.rmtree(top_dir, ignore_errors=True)
    done()


main()
