#!/usr/bin/env python3
"""The HTML report (report/report-html.c) through `leakwatch report render`:
the sample document, a document with every list empty and every count 0,
and one with hostile names. The page must carry no script and no external
reference, its four charts and its sections in order; where chromium is
installed it must render without console errors, and every printed page
must carry the marking banner (pdftotext, page by page)."""
import copy
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from lwtest import LEAKWATCH, ok, done

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "report", "sample.json")
SECTIONS = ["envelope", "coverage", "summary", "holdings", "violations", "custody",
            "integrity", "controls"]
CHARTS = ["daily", "heatmap", "severity", "holdings"]
HOSTILE = '/home/eve/<script>alert("x")</script>&\'.txt'


def zeroed(doc):
    """Every list empty, every count 0, the source empty."""
    d = copy.deepcopy(doc)
    env = d["envelope"]
    env.update(agents=[], roots=[], empty=True, marking={"banner": "UNCLASSIFIED", "rank": 0},
               policy={"in_force": [], "changes": []})
    d["coverage"] = {"figure": 1, "days": [], "agents": []}
    zero = {"value": 0, "previous": 0}
    s = d["summary"]
    s.update(classified=dict(zero), violations=dict(zero), classified_by_marking=[],
             files={k: dict(zero) for k in ("new", "changed", "moved", "removed")},
             by_severity=[dict(zero, key=k) for k in ("critical", "high", "medium", "low")],
             by_state={"open": 0, "quarantined": 0, "restored": 0},
             top_rules=[], top_agents=[], top_owners=[], daily=[])
    d["holdings"] = {"by_level_zone": [], "outside_secure": {"total": 0, "rows": []}}
    d["violations"] = {"total": 0, "rows": [], "by_rule": [], "by_severity": [],
                       "by_agent": [], "by_day": []}
    d["custody"] = {"total": 0, "documents": []}
    d["integrity"] = {"chains": [], "note": "no chain"}
    return d


def hostile(doc):
    """Names with markup, quotes and a byte that is not UTF-8 (\\udcff)."""
    d = copy.deepcopy(doc)
    v = d["violations"]
    v["rows"][0]["path"] = HOSTILE
    v["rows"][1]["path"] = "/home/eve/bad-\udcff-name.txt"
    v["rows"][2]["rule"] = "<script>evil()</script>"
    v["rows"][3]["owner"] = '"><img src="http://evil.example/x.png">'
    v["total"] = 20   # more than rows: "N more not listed"
    d["holdings"]["outside_secure"]["rows"][0]["path"] = HOSTILE
    d["envelope"]["generator"] = "<a href='https://evil.example/'>x</a>"
    return d


class Page(html.parser.HTMLParser):
    """Tags, section ids and chart sizes of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.sections = []
        self.charts = {}
        self.urls = []
        self._chart = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        for k in ("src", "href", "xlink:href", "action", "data", "poster"):
            if k in a:
                self.urls.append(a[k])
        if tag == "section":
            self.sections.append(a.get("id"))
        if tag == "svg" and "chart" in (a.get("class") or "").split():
            self._chart = a.get("data-chart")
            self.charts[self._chart] = 0
        elif self._chart is not None:
            self.charts[self._chart] += 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self._chart = None


def render(doc, name, work):
    src = os.path.join(work, name + ".json")
    with open(src, "w", encoding="ascii") as f:
        # ensure_ascii: a byte that is not UTF-8 stays the escape \udcXX,
        # as the report writes it (common/wire.h)
        f.write(json.dumps(doc))
    out = os.path.join(work, name + ".html")
    r = subprocess.run([LEAKWATCH, "report", "render", src, "--format", "html", "-o", out],
                       capture_output=True)
    ok(r.returncode == 0, "%s: report render exits 0" % name, r.stderr.decode(errors="replace"))
    exists = os.path.exists(out)
    ok(exists, "%s: the HTML file is written" % name)
    if not exists:
        return None, None
    with open(out, "rb") as f:
        return out, f.read().decode("utf-8", errors="replace")


def check_static(name, text):
    p = Page()
    p.feed(text)
    ok("script" not in p.tags and not re.search(r"<\s*script", text, re.I),
       "%s: no script element" % name)
    bad = [u for u in p.urls if re.match(r"\s*(https?:|//|javascript:)", u, re.I)]
    ok(not bad, "%s: no external reference in src/href" % name, bad)
    ok(not re.search(r"<link\b|@import|url\(", text, re.I), "%s: no link, @import or url()" % name)
    for c in CHARTS:
        ok(p.charts.get(c, 0) > 0, "%s: chart %s present and not empty" % (name, c), p.charts)
    ok(p.sections == SECTIONS, "%s: sections in order" % name, p.sections)
    ok("class=\"banner top" in text and "class=\"banner bottom" in text,
       "%s: banner at the top and the bottom" % name)
    return p


def chromium_checks(name, path, banner, work, chromium):
    url = "file://" + path
    base = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--enable-logging=stderr", "--v=0"]
    errors = []
    # One screenshot of the whole page: headless chromium does not scroll to
    # a #fragment before it shoots (the picture comes out blank), so no
    # per-section anchors. A blank page compresses to a few kB.
    png = os.path.join(work, name + ".png")
    r = subprocess.run([chromium] + base + ["--window-size=1280,7000", "--screenshot=" + png,
                                            url], capture_output=True, timeout=120)
    errors += [l for l in r.stderr.decode(errors="replace").splitlines()
               if "CONSOLE" in l or "Uncaught" in l or "Refused to" in l]
    size = os.path.getsize(png) if os.path.exists(png) else 0
    ok(r.returncode == 0 and size > 50000, "%s: screenshot not blank (%d bytes)" % (name, size),
       r.stderr.decode(errors="replace")[-2000:])
    ok(not errors, "%s: no console errors" % name, "\n".join(errors))
    pdf = os.path.join(work, name + ".pdf")
    r = subprocess.run([chromium] + base + ["--no-pdf-header-footer", "--print-to-pdf=" + pdf,
                                            url], capture_output=True, timeout=120)
    if not ok(os.path.exists(pdf), "%s: printed to PDF" % name, r.stderr.decode()[-2000:]):
        return
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True).stdout
    m = re.search(r"^Pages:\s+(\d+)", info, re.M)
    pages = int(m.group(1)) if m else 0
    ok(pages >= len(SECTIONS), "%s: one page or more per section (%d)" % (name, pages))
    missing = []
    for n in range(1, pages + 1):
        t = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), pdf, "-"],
                           capture_output=True, text=True).stdout
        # the top and the bottom banner
        if t.count(banner) < 2:
            missing.append(n)
    ok(pages and not missing, "%s: banner %r at the top and bottom of every printed page"
       % (name, banner), "pages without both: %s" % missing)


def main():
    with open(SAMPLE, encoding="utf-8") as f:
        sample = json.load(f)
    work = tempfile.mkdtemp(prefix="lw-report-html.")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    have_pdf = shutil.which("pdftotext") and shutil.which("pdfinfo")
    try:
        cases = [("sample", sample, "NATO SECRET"), ("zeroed", zeroed(sample), "UNCLASSIFIED"),
                 ("hostile", hostile(sample), "NATO SECRET")]
        for name, doc, banner in cases:
            path, text = render(doc, name, work)
            if text is None:
                continue
            page = check_static(name, text)
            if name == "sample":
                ok(re.search(r">5 (<[^>]*>)?\(\+3\)", text), "sample: violations shown with their delta")
                ok("SHA-256 of the canonical JSON" in text, "sample: digest explained")
                ok("92.9%" in text, "sample: fractions as percentages")
            if name == "zeroed":
                ok("No violations in the period" in text, "zeroed: 0 violations said positively")
                ok("source held nothing" in text, "zeroed: the empty source is stated")
            if name == "hostile":
                ok("&lt;script&gt;" in text, "hostile: markup in names is escaped")
                ok("\\xff" in text, "hostile: a byte that is not UTF-8 shown escaped")
                ok("more not listed" in text, "hostile: cut list says so")
                ok(not any("evil.example" in u for u in page.urls),
                   "hostile: no injected link", page.urls)
            if not chromium or not have_pdf:
                ok(True, "%s: rendering # SKIP chromium not installed" % name)
                continue
            chromium_checks(name, path, banner, work, chromium)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
