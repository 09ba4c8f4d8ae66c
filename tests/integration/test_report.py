"""`eksup report`: the fleet as one self-contained HTML page.

A tree written by the real binary under libfaketime (fleet.py's helpers) over four days, two
accounts and three regions, with a blocked, an unknown, a ready (once the verdict column is
written), an errored, a stopped and three extended-support clusters, one named
`<script>alert(1)</script>` and messages holding `</table>`:

| cluster                     | account | region    | version        | what it shows                        |
|-----------------------------|---------|-----------|----------------|--------------------------------------|
| payments                    | A       | us-east-1 | 1.33 (23 d)    | blocked; re-run on TODAY's evening   |
| web                         | A       | us-east-1 | 1.33 → 1.34    | no required findings                 |
| legacy                      | A       | eu-west-1 | 1.32           | extended support                     |
| batch                       | B       | us-west-2 | 1.30           | extended support                     |
| partial                     | B       | eu-west-1 | 1.35           | a source failed: `</table>` message  |
| <script>alert(1)</script>   | B       | us-west-2 | 1.34           | blocked; findings about `…</table>`  |
| retired                     | B       | us-west-2 | 1.34           | stopped reporting after two days     |
| ghost                       | —       | eu-west-1 | 1.31, then —   | read from a snapshot for two days,   |
|                             |         |           |                | then cannot be read: errored, and    |
|                             |         |           |                | still 1.31 in extended support       |

Every figure of the page is computed again here from the Parquet with pyarrow, and the page
is loaded in a real headless Chromium with the network offline.
"""

import datetime
import html.parser
import json
import os
import re
import shutil
import urllib.parse
from collections import defaultdict
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

import fleet as fl
from browser import Browser
from harness import REGION, ROOT, http_json, run_eksup

A, B = fl.A, fl.B
TODAY, DAYS = fl.TODAY, fl.DAYS
XSS = "<script>alert(1)</script>"
TABLE_BREAK = "</table>"
def prices():
    """data/eks-prices.csv as {item: value}: the page's money must follow the data."""
    import csv
    with open(ROOT / "data" / "eks-prices.csv") as f:
        return {r["item"]: float(r["value"]) for r in csv.DictReader(f)}


PRICES = prices()
EXTENDED_PER_HOUR, STANDARD_PER_HOUR = PRICES["extended_support"], PRICES["standard_support"]
HOURS_PER_MONTH = PRICES["hours_per_month"]
assert (EXTENDED_PER_HOUR, STANDARD_PER_HOUR, HOURS_PER_MONTH) == (0.60, 0.10, 730), "the published prices"

CLUSTERS = [
    fl.Cluster("payments", A, "us-east-1", fl.DEMO, ("1.33",) * 4),
    fl.Cluster("web", A, "us-east-1", fl.SNAPSHOTS / "healthy.json", ("1.33", "1.33", "1.34", "1.34")),
    fl.Cluster("legacy", A, "eu-west-1", fl.SNAPSHOTS / "mixed-capacity.json", ("1.32",) * 4),
    fl.Cluster("batch", B, "us-west-2", fl.SNAPSHOTS / "two-hop.json", ("1.30",) * 4),
    fl.Cluster("partial", B, "eu-west-1", fl.SNAPSHOTS / "healthy.json", ("1.35",) * 4, writer="partial-incluster"),
    fl.Cluster(XSS, B, "us-west-2", fl.DEMO, ("1.34",) * 4),
    fl.Cluster("retired", B, "us-west-2", fl.DEMO, ("1.34", "1.34", None, None)),
    # Read on the first two days (a snapshot without an account, like the live cluster entry's
    # error rows), unreadable on the last two (fl.GHOST): its latest row is an error and the
    # page keeps the version of its newest earlier row.
    fl.Cluster("ghost", None, "eu-west-1", fl.SNAPSHOTS / "two-hop.json", ("1.31", "1.31", None, None)),
]


def variant(c, version, into: Path, n: int) -> Path:
    """fleet.variant, under a file name safe for any cluster name, with this test's twists."""
    snap = json.loads(c.base.read_text())
    snap["cluster"].update(name=c.name, account_id=c.account, region=c.region, version=version,
                           arn=f"arn:aws:eks:{c.region}:{c.account or ''}:cluster/{c.name}")
    for ng in (snap.get("aws") or {}).get("node_groups", []):
        ng["version"] = version
    if c.name == XSS:
        for w in snap["kubernetes"]["workloads"]:
            w["name"] += TABLE_BREAK
        # An insight's reason is quoted in its finding's message.
        for insight in snap["aws"]["insights"]:
            insight["reason"] = f"{insight['reason']} {TABLE_BREAK}<i>x</i>"
    if c.name == "partial":
        snap["collection_errors"] = [{"source": "kubernetes/poddisruptionbudgets",
                                      "message": f"list failed: 500 {TABLE_BREAK}<b>not bold</b>"}]
    path = into / f"snap-{n}.json"
    path.write_text(json.dumps(snap))
    return path


def build(work: Path) -> Path:
    out, snaps = work / "out", work / "snapshots"
    snaps.mkdir(parents=True)
    counter = iter(range(10_000))

    def run(day, writer, entries, at, env=None, report=False):
        cwd = work / f"{writer}-{day}-{at.hour:02d}"
        cwd.mkdir()
        fl.write_config(cwd / "eksup.yaml", entries, out, writer, stdout=False)
        if report:
            text = (cwd / "eksup.yaml").read_text().replace("outputs:\n", "outputs:\n  fleet_page: true\n")
            (cwd / "eksup.yaml").write_text(text)
        proc = fl.run_at(datetime.datetime.combine(day, at), ["run", "--config", "eksup.yaml"], cwd, env)
        ghost = any("cluster" in t for t in entries)
        assert proc.returncode == (3 if ghost else 0), proc.stderr[-3000:]
        return proc

    for i, day in enumerate(DAYS):
        by_writer = defaultdict(list)
        for c in CLUSTERS:
            if c.versions[i]:
                by_writer[c.writer].append({"snapshot": str(variant(c, c.versions[i], snaps, next(counter)))})
        if day in fl.GHOST["days"]:
            by_writer["central"].append({"cluster": "ghost", "region": "eu-west-1"})
        for writer, entries in by_writer.items():
            run(day, writer, entries, datetime.time(6, 0 if writer == "central" else 30))
    payments = CLUSTERS[0]
    # The evening re-run with two checks off, writing the page too: its rows must win.
    run(TODAY, "central", [{"snapshot": str(variant(payments, "1.33", snaps, next(counter)))}],
        datetime.time(18, 0), env={"EKSUP_CHECKS__DISABLED": "K8S002,K8S005"}, report=True)
    return out


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return build(tmp_path_factory.mktemp("report-fleet"))


# ---- the expected figures, computed independently from the Parquet -------------------------

def parquet_rows(root: Path, table: str, first: datetime.date, last: datetime.date):
    rows = []
    for path in sorted((root / table).glob("dt=*/*.parquet")):
        dt = datetime.date.fromisoformat(path.parent.name.removeprefix("dt="))
        if first <= dt <= last:
            rows += [{**r, "dt": dt, "file": path.name} for r in pq.read_table(path).to_pylist()]
    return rows


def verdict(r):
    # The recorded verdict when the binary writes it; rows without it: blocked if they have a
    # required finding, else unknown (the reader's documented fallback).
    if r.get("readiness"):
        return r["readiness"]
    return "blocked" if r["status"] != "error" and r["required_findings"] > 0 else "unknown"


def expected(root: Path, as_of: datetime.date, days: int = 14):
    first = as_of - datetime.timedelta(days=days - 1)
    rows = [r for r in parquet_rows(root, "clusters", first, as_of) if r["cluster_name"] != "*"]
    latest = {}
    versioned = {}
    for r in rows:
        k = (r["account_id"], r["region"], r["cluster_name"])
        if k not in latest or (r["run_time"], r["run_id"]) > (latest[k]["run_time"], latest[k]["run_id"]):
            latest[k] = r
        if r["current_version"] and (k not in versioned or (r["run_time"], r["run_id"]) >
                                     (versioned[k]["run_time"], versioned[k]["run_id"])):
            versioned[k] = r
    # A latest row without a version (an error) keeps the version and support dates of the
    # cluster's newest row in the window that has one.
    for k, r in latest.items():
        if not r["current_version"] and k in versioned:
            v = versioned[k]
            latest[k] = {**r, "version_from": v["dt"], **{c: v[c] for c in (
                "current_version", "end_of_standard_support", "end_of_extended_support")}}
    cs = list(latest.values())
    eoss = {k: r["end_of_standard_support"] for k, r in latest.items()}
    days_left = {k: (d - as_of).days for k, d in eoss.items() if d is not None}
    extended = sum(1 for d in eoss.values() if d is not None and d < as_of)
    figures = {
        "clusters": len(cs),
        "accounts": len({r["account_id"] for r in cs if r["account_id"]}),
        "regions": len({r["region"] for r in cs if r["region"]}),
        "blocked": sum(verdict(r) == "blocked" for r in cs),
        "unknown": sum(verdict(r) == "unknown" for r in cs),
        "ready": sum(verdict(r) == "ready" for r in cs),
        "extended": extended,
        "extended-cost": f"${extended * EXTENDED_PER_HOUR * HOURS_PER_MONTH:,.2f}",
        "extra-cost": f"${extended * (EXTENDED_PER_HOUR - STANDARD_PER_HOUR) * HOURS_PER_MONTH:,.2f}",
        "within-30": sum(0 <= d <= 30 for d in days_left.values()),
        "within-90": sum(0 <= d <= 90 for d in days_left.values()),
        "errored": sum(r["status"] == "error" for r in cs),
        "stopped": sum(r["dt"] < as_of - datetime.timedelta(days=1) for r in cs),
    }
    findings = [f for f in parquet_rows(root, "findings", first, as_of) if f["remediation"] == "required"]
    required = defaultdict(list)
    for k, r in latest.items():
        required[k] = [f for f in findings if f["run_id"] == r["run_id"]
                       and (f["account_id"], f["region"], f["cluster_name"]) == k]
    return figures, latest, required


class PageParser(html.parser.HTMLParser):
    """Figures (`id="fig-…"`), cluster-table rows and their links, section ids, text."""

    def __init__(self):
        super().__init__()
        self.figures, self.rows, self.ids, self.text = {}, [], set(), []
        self._fig = None
        self._row = None
        self._cell = None
        self._in_table = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if a.get("id", "").startswith("fig-"):
            self._fig = a["id"][4:]
            self.figures[self._fig] = ""
        if tag == "table" and a.get("id") == "cluster-table":
            self._in_table = True
        if self._in_table and tag == "tr" and "data-cluster" in a:
            self._row = {"cells": [], "href": None}
        if self._row is not None and tag == "td":
            self._cell = ""
        if self._row is not None and tag == "a":
            self._row["href"] = a.get("href")

    def handle_endtag(self, tag):
        if tag in ("dd", "span"):
            self._fig = None
        if tag == "td" and self._row is not None:
            self._row["cells"].append(self._cell.strip())
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        if tag == "table":
            self._in_table = False

    def handle_data(self, data):
        self.text.append(data)
        if self._fig:
            self.figures[self._fig] += data + " "
        if self._cell is not None:
            self._cell += data


def parse(page: str):
    p = PageParser()
    p.feed(page)
    figures = {k: v.strip().split()[0] for k, v in p.figures.items() if v.strip()}
    return p, figures


def report(tree, tmp_path, *extra):
    out = tmp_path / "fleet.html"
    run = run_eksup(["report", "--from", str(tree), "--as-of", str(TODAY), "--output", str(out), *extra], tmp_path)
    assert run.code == 0, run.stderr
    return out


def test_figures_table_and_sections_match_the_parquet(tree, tmp_path):
    page = report(tree, tmp_path).read_text()
    want, latest, required = expected(tree, TODAY)
    p, got = parse(page)
    assert got == {k: str(v) for k, v in want.items()}, (got, want)
    # The fleet covers every kind of cluster the page distinguishes.
    assert want["blocked"] >= 2 and want["errored"] == 1 and want["stopped"] == 1 and want["extended"] == 3
    assert want["within-30"] >= 1

    # Every cluster has a row that links to its section; the row says what its latest row says.
    assert len(p.rows) == len(latest)
    by_name = {r["cells"][2]: r for r in p.rows}
    assert set(by_name) == {k[2] for k in latest}
    for (account, region, name), r in latest.items():
        row = by_name[name]
        cells = row["cells"]
        assert cells[0] == (account or "") and cells[1] == (region or "")
        assert row["href"].startswith("#") and row["href"][1:] in p.ids
        assert cells[4].split()[0] == verdict(r)
        assert cells[6] == str(r["required_findings"]) and cells[7] == str(r["recommended_findings"])
        if r["end_of_standard_support"]:
            assert cells[5] == str((r["end_of_standard_support"] - TODAY).days)
        version = r["current_version"] or "?"
        if r.get("version_from"):
            version += f" (from the run of {r['version_from']})"
        assert cells[3].split(" → ")[0] == version, cells
    # The errored ghost still runs 1.31, read on DAYS[1]: it is counted in extended support.
    ghost = latest[(None, "eu-west-1", "ghost")]
    assert ghost["status"] == "error" and ghost["version_from"] == DAYS[1] and ghost["current_version"] == "1.31"
    # The evening re-run of payments (two checks off) is the latest row, not the morning's.
    pay = latest[(A, "us-east-1", "payments")]
    assert pay["run_time"].hour == 18
    assert by_name["payments"]["cells"][6] == str(pay["required_findings"])

    # Each cluster's section lists exactly its latest run's required findings.
    text = "".join(p.text)
    for k, fs in required.items():
        assert len(fs) == latest[k]["required_findings"], k
        if fs:
            assert f"Required findings of {k[2]} ({len(fs)})" in text, k
    assert "list failed: 500 </table><b>not bold</b>" in text, "the collection error, as text"
    assert "were detected. </table><i>x</i>" in text and "single</table>" in text, "finding messages and resources, as text"


def test_escaping_keeps_data_as_text(tree, tmp_path):
    page = report(tree, tmp_path).read_text()
    assert XSS not in page and "<b>not bold</b>" not in page and "<i>x</i>" not in page
    assert "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;" in page
    # The only </table> tags close the page's own tables.
    assert page.count("</table>") == page.count("<table")
    findings = parquet_rows(tree, "findings", TODAY, TODAY)
    assert any(TABLE_BREAK in f["message"] for f in findings if f["cluster_name"] == XSS)
    assert any(TABLE_BREAK in f["resource_name"] for f in findings if f["cluster_name"] == XSS)


def test_a_real_browser_renders_it_offline(tree, tmp_path):
    page = report(tree, tmp_path)
    want, latest, _ = expected(tree, TODAY)
    b = Browser(tmp_path / "chromium-profile")
    try:
        b.open(page.as_uri())
        dom = b.evaluate("document.documentElement.outerHTML")
        (tmp_path / "dom.html").write_text(dom)
        b.screenshot(tmp_path / "report.png")
        # TEST_ARTIFACTS=DIR keeps the page, its DOM and the screenshot for a person to look at.
        if os.environ.get("TEST_ARTIFACTS"):
            keep = Path(os.environ["TEST_ARTIFACTS"])
            keep.mkdir(parents=True, exist_ok=True)
            for f in (page, tmp_path / "dom.html", tmp_path / "report.png"):
                shutil.copy(f, keep / f.name)
        assert b.requests() == [page.as_uri()], "nothing but the page itself is fetched"
        assert b.failures() == [] and b.console_errors() == []
        assert not [e for e in b.events if e["method"] == "Page.javascriptDialogOpening"], "no alert()"
        charts = b.evaluate("""[...document.querySelectorAll('figure')].map(f => {
            const svg = f.querySelector('svg');
            const label = svg && document.getElementById(svg.getAttribute('aria-labelledby'));
            return {id: f.id, role: svg && svg.getAttribute('role'), label: label && label.textContent.trim(),
                    marks: svg ? svg.querySelectorAll('rect').length : 0,
                    width: svg ? svg.getBoundingClientRect().width : 0,
                    table: f.querySelectorAll('details table tbody tr').length}; })""")
        assert [c["id"] for c in charts] == ["chart-versions", "chart-timeline", "chart-codes", "chart-days"]
        for c in charts:
            assert c["role"] == "img" and len(c["label"]) > 20 and c["marks"] > 3 and c["width"] > 300, c
            assert c["table"] > 0, c
        rows = b.evaluate("""[...document.querySelectorAll('#cluster-table tbody tr')].map(r => {
            const a = r.querySelector('a'); const target = document.querySelector(a.getAttribute('href'));
            return {name: a.textContent, linked: !!target && target.querySelector('h3').textContent.startsWith(a.textContent)}; })""")
        assert sorted(r["name"] for r in rows) == sorted(k[2] for k in latest)
        assert all(r["linked"] for r in rows), rows
        # The script-named cluster is text in the DOM, never a script element.
        assert b.evaluate("document.querySelectorAll('script').length") == 1
        assert XSS in b.evaluate("document.body.textContent")
        # Sorting without a server: by required findings, descending on the second click.
        b.evaluate("document.querySelectorAll('#cluster-table th button')[6].click()")
        b.evaluate("document.querySelectorAll('#cluster-table th button')[6].click()")
        counts = b.evaluate("[...document.querySelectorAll('#cluster-table tbody tr')].map(r => +r.cells[6].textContent)")
        assert counts == sorted(counts, reverse=True) and counts[0] == max(r["required_findings"] for r in latest.values())
        assert b.console_errors() == []
    finally:
        b.close()


def test_the_run_writes_the_page_next_to_its_outputs(tree):
    latest = tree / "fleet-page" / "latest.html"
    dated = list((tree / "fleet-page" / f"dt={TODAY}").glob("*.html"))
    assert latest.is_file() and len(dated) == 1
    assert latest.read_bytes() == dated[0].read_bytes()
    _, got = parse(latest.read_text())
    want, _, _ = expected(tree, TODAY)
    assert got["clusters"] == str(want["clusters"]) and got["errored"] == str(want["errored"])


def test_bad_input_is_a_clear_usage_error(tree, tmp_path):
    missing = run_eksup(["report", "--from", str(tmp_path / "nope")], tmp_path)
    assert missing.code == 2 and "no such directory" in missing.stderr, missing.stderr
    empty = run_eksup(["report", "--from", str(tree), "--as-of", "2020-01-01"], tmp_path)
    assert empty.code == 2 and "no clusters table" in empty.stderr, empty.stderr
    days = run_eksup(["report", "--from", str(tree), "--days", "0"], tmp_path)
    assert days.code == 2, days.stderr
    broken = tmp_path / "broken"
    (broken / "clusters" / f"dt={TODAY}").mkdir(parents=True)
    (broken / "clusters" / f"dt={TODAY}" / "x.parquet").write_text("not parquet")
    bad = run_eksup(["report", "--from", str(broken), "--as-of", str(TODAY)], tmp_path)
    assert bad.code == 2 and "not a readable Parquet file" in bad.stderr, bad.stderr
    assert "panicked" not in bad.stderr + empty.stderr + missing.stderr


def test_from_s3_lists_only_the_partitions_of_the_window(tree, tmp_path, moto, standin):
    http_json(f"{moto}/moto-api/reset", "POST", {})
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto, aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket="fleet")
    for path in tree.rglob("*"):
        if path.is_file() and path.suffix in (".parquet", ".jsonl"):
            s3.put_object(Bucket="fleet", Key=f"eksup/{path.relative_to(tree)}", Body=path.read_bytes())
    # History outside the window, which the report must not even list.
    old = next((tree / "clusters" / f"dt={DAYS[0]}").glob("*.parquet"))
    for dt in ("2026-01-01", "2026-06-30"):
        s3.put_object(Bucket="fleet", Key=f"eksup/clusters/dt={dt}/{old.name}", Body=old.read_bytes())
    http_json(f"{standin}/_standin/reset-calls", "POST", {})

    out = tmp_path / "s3.html"
    run = run_eksup(["report", "--from", "s3://fleet/eksup", "--days", "2", "--as-of", str(TODAY),
                     "--force-path-style", "--output", str(out)], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    calls = http_json(f"{standin}/_standin/stats")["calls"]
    lists = [urllib.parse.parse_qs(urllib.parse.urlparse(c.split(" ", 1)[1]).query) for c in calls
             if c.startswith("GET ") and "list-type=2" in c]
    prefixes = sorted(q["prefix"][0] for q in lists)
    window = [str(TODAY - datetime.timedelta(days=1)), str(TODAY)]
    # Every clusters partition of the window; findings only of the days holding a latest row.
    _, latest, _ = expected(tree, TODAY, days=2)
    latest_days = sorted({str(r["dt"]) for r in latest.values()})
    assert prefixes == sorted([f"eksup/clusters/dt={d}/" for d in window] +
                              [f"eksup/findings/dt={d}/" for d in latest_days]), prefixes
    gets = [urllib.parse.unquote(c) for c in calls if c.startswith("GET ") and "list-type" not in c]
    assert gets, calls
    assert all(re.search(r"/fleet/eksup/(clusters|findings)/dt=(%s|%s)/" % tuple(window), g) for g in gets), gets

    # Same figures as the local tree read over the same window.
    local = report(tree, tmp_path, "--days", "2")
    assert parse(out.read_text())[1] == parse(local.read_text())[1]
    want, _, _ = expected(tree, TODAY, days=2)
    assert parse(out.read_text())[1] == {k: str(v) for k, v in want.items()}


def test_a_run_to_s3_alone_publishes_the_page_from_s3(tmp_path, moto, standin):
    """`outputs.fleet_page` with S3 as the only output: the page is read back from the bucket
    (only this run's day is listed) and written next to the tables."""
    http_json(f"{moto}/moto-api/reset", "POST", {})
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto, aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket="pages")
    (tmp_path / ".eksup.yaml").write_text(
        f"clusters:\n  - {{snapshot: {fl.DEMO}}}\n  - {{snapshot: {fl.SNAPSHOTS / 'healthy.json'}}}\n"
        "outputs:\n  stdout: false\n  fleet_page: true\n  s3: {bucket: pages, prefix: fleet, force_path_style: true}\n")
    http_json(f"{standin}/_standin/reset-calls", "POST", {})
    run = run_eksup(["run"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    today = datetime.datetime.now(datetime.timezone.utc).date()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="pages", Prefix="fleet/fleet-page/")["Contents"]}
    dated = [k for k in keys if k.startswith(f"fleet/fleet-page/dt={today}/")]
    assert "fleet/fleet-page/latest.html" in keys and len(dated) == 1, keys
    page = s3.get_object(Bucket="pages", Key="fleet/fleet-page/latest.html")
    assert page["ContentType"].startswith("text/html")
    _, figures = parse(page["Body"].read().decode())
    assert figures["clusters"] == "2" and figures["blocked"] == "1", figures
    calls = http_json(f"{standin}/_standin/stats")["calls"]
    prefixes = {urllib.parse.parse_qs(urllib.parse.urlparse(c.split(" ", 1)[1]).query)["prefix"][0]
                for c in calls if c.startswith("GET ") and "list-type=2" in c}
    # The 14-day window ends today; only days that exist are read, but each is listed by its prefix.
    assert all(re.fullmatch(r"fleet/(clusters|findings)/dt=\d{4}-\d\d-\d\d/", p) for p in prefixes), prefixes
    assert f"fleet/clusters/dt={today}/" in prefixes and len([p for p in prefixes if "clusters" in p]) == 14


# ---- one fact, one function: the page's facts, the Athena SQL and the EMF totals agree -----

def with_edge_rows(tree: Path, into: Path) -> Path:
    """A copy of the tree with the rows only old or failed writers leave: a whole account
    that could not be read (`*`), and two rows of a writer older than the `readiness` column
    (one with a required finding, one without)."""
    import pyarrow as pa
    copy = into / "tree"
    shutil.copytree(tree, copy)
    source = sorted((copy / "clusters" / f"dt={TODAY}").glob("*.parquet"))[0]
    table = pq.read_table(source)
    base = table.to_pylist()[0]
    run_time = datetime.datetime.combine(TODAY, datetime.time(5, 0), tzinfo=datetime.timezone.utc)
    scope = {**base, "run_id": "0190-scope", "run_time": run_time, "account_id": "333333333333",
             "region": "ap-south-1", "cluster_name": "*", "status": "error", "error": "AccessDenied",
             "current_version": None, "end_of_standard_support": None, "end_of_extended_support": None,
             "required_findings": 0, "recommended_findings": 0, "readiness": "unknown"}
    pq.write_table(pa.Table.from_pylist([scope], schema=table.schema),
                   copy / "clusters" / f"dt={TODAY}" / "0190-scope-central.parquet", compression="zstd")
    old = [{**base, "run_id": "0190-old", "run_time": run_time, "account_id": A, "region": "us-east-1",
            "cluster_name": name, "status": "ok", "required_findings": required}
           for name, required in (("old-blocked", 2), ("old-clean", 0))]
    old_table = pa.Table.from_pylist(old, schema=table.schema).drop_columns(["readiness", "checks_run", "checks_skipped"])
    pq.write_table(old_table, copy / "clusters" / f"dt={TODAY}" / "0190-old-legacy.parquet", compression="zstd")
    return copy


def test_the_page_and_the_athena_sql_count_the_fleet_alike(tree, tmp_path):
    import athena_files as af
    root = with_edge_rows(tree, tmp_path)
    run = run_eksup(["report", "--from", str(root), "--as-of", str(TODAY), "--format", "json"], tmp_path)
    assert run.code == 0, run.stderr
    view = json.loads(run.stdout)
    figures = view["figures"]
    sql = (af.QUERIES / "fleet_summary.sql").read_text()
    readiness = (af.QUERIES / "clusters_by_readiness.sql").read_text().replace("INTERVAL '7' DAY", "INTERVAL '13' DAY")
    answer = af.run(root, {"fleet_summary": sql, "by_readiness": readiness})
    got = answer["results"]["fleet_summary"]
    counted = dict(zip(got["columns"], got["rows"][0]))
    assert counted == {k: figures[k] for k in counted}, (counted, figures)
    assert set(counted) == set(figures), "the SQL restates every figure of the page"
    print("fleet_summary (SQL on DuckDB) == eksup report --format json figures:", json.dumps(counted))
    # Every edge case is in the tree, so each count is tested against a non-trivial value.
    assert figures["unreadable_scopes"] == 1 and figures["verdicts_derived"] == 2
    assert figures["errored"] >= 1 and figures["stopped"] >= 1 and figures["extended"] >= 1
    assert figures["blocked"] >= 1 and figures["ready"] >= 1 and figures["unknown"] >= 1
    assert figures["within_30"] >= 1
    # Per cluster, the verdict the page shows is the verdict the saved query lists.
    page = {(c["account_id"] or None, c["region"], c["name"]): c["verdict"] for c in view["clusters"]}
    listed = {(r[0], r[1], r[2]): r[5] for r in answer["results"]["by_readiness"]["rows"]}
    assert page == listed
    assert page[(A, "us-east-1", "old-blocked")] == "blocked" and page[(A, "us-east-1", "old-clean")] == "unknown"
    assert not any(name == "*" for _, _, name in page), "a whole-account row is never a cluster"
