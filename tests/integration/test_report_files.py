#!/usr/bin/env python3
"""The JSON and CSV reports through `leakwatch report render` and
`leakwatch report verify`: tests/report/sample.json rendered as JSON (signed
with a fresh Ed25519 key) must validate against doc/report-schema.json
(python3-jsonschema; that check is skipped without it), rendered as CSV
every table must parse with a header row and one column count, and verify
must exit 0 on both, 2 after one byte of the report changed, and 1 on an
unsigned report."""
import csv
import io
import json
import os
import shutil
import subprocess
import tempfile

from lwtest import LEAKWATCH, ok, done

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
SAMPLE = os.path.join(ROOT, "tests", "report", "sample.json")
SCHEMA = os.path.join(ROOT, "doc", "report-schema.json")


def lw(*args):
    p = subprocess.run([LEAKWATCH, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def render(fmt, out, key=None):
    args = ["report", "render", SAMPLE, "--format", fmt, "-o", out]
    if key:
        args += ["--sign-key", key]
    return lw(*args)


def main():
    tmp = tempfile.mkdtemp(prefix="lw-report-files-")
    try:
        key = os.path.join(tmp, "ed25519.pem")
        p = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key],
                           capture_output=True, text=True)
        ok(p.returncode == 0, "openssl genpkey -algorithm ed25519", p.stderr)

        # JSON, signed
        rj = os.path.join(tmp, "r.json")
        rc, out = render("json", rj, key)
        ok(rc == 0 and os.path.exists(rj + ".sig"), "render --format json --sign-key", out)
        ok(os.stat(rj).st_mode & 0o777 == 0o600 and os.stat(rj + ".sig").st_mode & 0o777 == 0o600,
           "r.json and r.json.sig are 0600")
        with open(rj, encoding="utf-8", errors="surrogateescape") as f:
            doc = json.load(f)
        try:
            import jsonschema
        except ImportError:
            jsonschema = None
        if jsonschema is None:
            ok(True, "r.json validates against doc/report-schema.json"
               " # SKIP python3-jsonschema is not installed")
        else:
            with open(SCHEMA, encoding="utf-8") as f:
                schema = json.load(f)
            validator = jsonschema.validators.validator_for(schema)(schema)
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
            ok(not errors, "r.json validates against doc/report-schema.json",
               "\n".join("%s: %s" % ("/".join(map(str, e.path)), e.message)
                         for e in errors[:20]))
        with open(rj + ".sig", encoding="utf-8") as f:
            sig = json.load(f)
        ok(sig.get("format") == "leakwatch-report-signature/1" and
           sig.get("algorithm") == "ed25519" and sig.get("signature") and
           sig.get("public_key", "").startswith("-----BEGIN PUBLIC KEY-----"),
           "r.json.sig: format, algorithm, signature, public key", json.dumps(sig)[:500])
        st = json.loads(sig.get("statement", "{}"))
        ok([f["name"] for f in st.get("files", [])] == ["r.json"] and
           st.get("chains") == doc["integrity"]["chains"],
           "the statement lists r.json and the chains", sig.get("statement", "")[:500])

        rc, out = lw("report", "verify", rj)
        ok(rc == 0 and "ok   signature ed25519" in out, "verify r.json: exit 0", out)

        # CSV, signed
        cdir = os.path.join(tmp, "csv")
        rc, out = render("csv", cdir, key)
        ok(rc == 0 and os.path.isdir(cdir), "render --format csv", out)
        names = sorted(n for n in os.listdir(cdir) if n.endswith(".csv"))
        ok(len(names) == 24, "24 CSV tables", names)
        for n in names:
            with open(os.path.join(cdir, n), "rb") as f:
                raw = f.read()
            text = raw.decode("utf-8")
            rows = list(csv.reader(io.StringIO(text, newline="")))
            widths = {len(r) for r in rows}
            ok(rows and rows[0] and all(rows[0]) and len(widths) == 1 and
               raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""),
               "%s: header row, %d columns in every row, CRLF" % (n, len(rows[0]) if rows else 0),
               "widths %s\n%s" % (widths, text[:400]))
        rc, out = lw("report", "verify", cdir)
        ok(rc == 0, "verify the CSV directory: exit 0", out)

        # one byte changed
        with open(rj, "r+b") as f:
            f.seek(20)
            b = f.read(1)
            f.seek(20)
            f.write(bytes([b[0] ^ 1]))
        rc, out = lw("report", "verify", rj)
        ok(rc == 2 and "FAIL file r.json" in out, "verify after one byte changed: exit 2", out)

        # unsigned
        ru = os.path.join(tmp, "unsigned.json")
        rc, out = render("json", ru)
        ok(rc == 0, "render --format json without a key", out)
        rc, out = lw("report", "verify", ru)
        ok(rc == 1 and "UNSIGNED" in out, "verify an unsigned report: exit 1", out)
    finally:
        if not os.environ.get("LW_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
