"""Every Athena view, query and dashboard panel, executed: transpiled with sqlglot (athena →
duckdb) and run in DuckDB over the Hive-partitioned tree the real binary wrote for the test
fleet (fleet.py), each result compared with the answer worked out in Python from the JSON
lines the binary wrote beside the Parquet files."""

import datetime
import json
import re
from collections import defaultdict

import pytest
import sqlglot
from sqlglot import exp

import athena_files as af
from fleet import A, B, CLUSTERS, EVENING_RERUN, GHOST, TODAY
from harness import ROOT

SCHEMA = json.loads((ROOT / "terraform" / "schema" / "tables.json").read_text())
BASE_TABLES = {"clusters", "findings"}


def day(s):
    return datetime.date.fromisoformat(s)


def since(days):
    return str(TODAY - datetime.timedelta(days=days))


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def key(row):
    return (row["account_id"], row["region"], row["cluster_name"])


def latest(cluster_rows, lookback=30):
    """The newest row of each cluster among rows of the last `lookback` days."""
    best = {}
    for r in cluster_rows:
        if r["dt"] >= since(lookback) and (key(r) not in best or ts(r["run_time"]) > ts(best[key(r)]["run_time"])):
            best[key(r)] = r
    return best


def rows(answer, name):
    return [tuple(r) for r in answer["results"][name]["rows"]]


def nulls_last(value):
    return (value is None, value or "")


@pytest.fixture(scope="module")
def fleet_rows(fleet_data):
    return fleet_data.json_rows("clusters"), fleet_data.json_rows("findings")


@pytest.fixture(scope="module")
def answer(fleet_data):
    return af.run(fleet_data.root, {p.stem: p.read_text() for p in af.query_files()})


def test_the_fleet_has_what_the_queries_must_find(fleet_data, fleet_rows):
    clusters, findings = fleet_rows
    assert {r["dt"] for r in clusters} == {since(n) for n in range(4)}
    assert {r["account_id"] for r in clusters} == {A, B, None}
    assert {r["region"] for r in clusters} == {"us-east-1", "eu-west-1", "us-west-2"}
    assert {r["status"] for r in clusters} >= {"ok", "error"}
    writers = {p.stem.split(".", 1)[1] for p in fleet_data.root.glob("clusters/dt=*/*.parquet")}
    assert writers == {"central", "analytics-incluster"}
    for run in fleet_data.runs:
        expected = 3 if any("cluster" in t for t in run.entries) else 0
        assert run.code == expected, f"{run.day} {run.writer}: exit {run.code}\n{run.stderr}"
    now = latest(clusters)
    assert now[(A, "us-east-1", "payments")]["days_to_end_of_standard_support"] == 23
    assert now[(A, "eu-west-1", "legacy")]["support_status"] == "extended"
    assert now[(None, GHOST["region"], GHOST["name"])]["status"] == "error"


@pytest.mark.parametrize("path", af.view_files() + af.query_files(), ids=lambda p: p.name)
def test_each_file_has_a_header_naming_what_it_answers_reads_and_takes(path):
    h = af.header(path)
    for k in af.HEADER_KEYS:
        assert h.get(k), f"{path.name}: the header comment has no `-- {k}:` line"
    kind = "View" if path.parent == af.VIEWS else "Query"
    assert h.get(kind) == path.stem, f"{path.name}: `-- {kind}: {path.stem}` must name the file"
    # Every `table: col, col` list of Reads names real columns (the view adds dt).
    columns = {t: {c["Name"] for c in SCHEMA[t]} | {"dt"} for t in BASE_TABLES}
    columns["latest_cluster_state"] = columns["clusters"]
    for part in re.sub(r"\([^)]*\)", "", h["Reads"]).split(";"):
        table, _, cols = part.partition(":")
        table = table.strip()
        assert table in columns, f"{path.name}: Reads names unknown table {table!r}"
        named = {c.strip() for c in cols.split(",")} - {"every column"}
        unknown = named - columns[table]
        assert not unknown, f"{path.name}: Reads names columns {table} does not have: {unknown}"


def _reads_a_table(select):
    return any(t.name in BASE_TABLES | {"latest_cluster_state"} for t in select.find_all(exp.Table)
               if t.find_ancestor(exp.Select) is select)


@pytest.mark.parametrize("path", af.view_files() + af.query_files(), ids=lambda p: p.name)
def test_every_select_over_a_table_filters_on_dt(path):
    tree = sqlglot.parse_one(path.read_text(), read="athena")
    scanned = 0
    for select in tree.find_all(exp.Select):
        if not _reads_a_table(select):
            continue
        scanned += 1
        where = select.args.get("where")
        dt_filters = [c for c in where.find_all(exp.Column) if c.name == "dt"] if where else []
        assert dt_filters, f"{path.name}: a SELECT reading a table has no dt filter:\n{select.sql('athena')[:300]}"
    assert scanned, f"{path.name} reads no table"


def test_the_view_has_the_clusters_columns_then_dt(answer):
    view = answer["results"]["latest_cluster_state"]
    assert view["columns"] == [c["Name"] for c in SCHEMA["clusters"]] + ["dt"]


def test_latest_cluster_state_is_the_newest_row_per_cluster(fleet_data, fleet_rows):
    clusters, _ = fleet_rows
    got = af.run(fleet_data.root, {"q": "SELECT account_id, region, cluster_name, run_id FROM latest_cluster_state "
                                        "WHERE dt >= '2000-01-01' ORDER BY 1, 2, 3"})
    want = sorted(((k[0], k[1], k[2], r["run_id"]) for k, r in latest(clusters).items()), key=lambda t: (nulls_last(t[0]), t[1], t[2]))
    assert rows(got, "q") == want
    payments = latest(clusters)[(A, "us-east-1", "payments")]
    assert payments["run_time"].startswith(f"{TODAY}T18:00"), "the evening re-run is the latest state"


def test_clusters_near_end_of_standard_support(fleet_data, fleet_rows, answer):
    clusters, _ = fleet_rows
    sql = (af.QUERIES / "clusters_near_end_of_standard_support.sql").read_text()
    assert "SELECT 90 AS notice_days" in sql
    wider = af.run(fleet_data.root, {"n30": sql.replace("SELECT 90 AS notice_days", "SELECT 30 AS notice_days"),
                                     "n160": sql.replace("SELECT 90 AS notice_days", "SELECT 160 AS notice_days")})

    def want(notice):
        out = []
        for r in latest(clusters).values():
            if r["dt"] < since(7) or not r["end_of_standard_support"]:
                continue
            left = (day(r["end_of_standard_support"]) - TODAY).days
            if 0 <= left <= notice:
                out.append((r["account_id"], r["region"], r["cluster_name"], r["current_version"], r["target_version"],
                            r["end_of_standard_support"], left, r["required_findings"]))
        return sorted(out, key=lambda t: (t[6], t[0], t[1], t[2]))

    assert rows(answer, "clusters_near_end_of_standard_support") == want(90)
    assert rows(wider, "n30") == want(30)
    assert rows(wider, "n160") == want(160)
    # Within 30 days: payments (1.33, standard support ends 2026-07-29). web left 1.33 on day 3.
    assert [r[2] for r in want(30)] == ["payments"] and want(30)[0][6] == 23
    assert {r[2] for r in want(160)} == {"payments", "web", "retired"}
    print("clusters_near_end_of_standard_support:", json.dumps(answer["results"]["clusters_near_end_of_standard_support"]))


def test_extended_support_cost(fleet_rows, answer):
    clusters, _ = fleet_rows
    want = sorted(
        [(r["account_id"], r["region"], r["cluster_name"], r["current_version"], r["end_of_standard_support"],
          r["end_of_extended_support"], (day(r["end_of_extended_support"]) - TODAY).days, "365.00")
         for r in latest(clusters).values()
         # Past the end of standard support on the day, as src/output/fleet.rs counts it.
         if r["dt"] >= since(7) and r["end_of_standard_support"] and day(r["end_of_standard_support"]) < TODAY
         and r["cluster_name"] != "*"],
        key=lambda t: (t[6], t[0], t[1], t[2]))
    got = rows(answer, "extended_support_cost")
    assert [g[:8] for g in got] == want
    assert {g[8] for g in got} == {f"{365 * len(want)}.00"}, "fleet total: $365.00 per cluster per month"
    assert [g[2] for g in got] == ["batch", "legacy"], "1.30 ends extended support first"
    print("extended_support_cost:", json.dumps(answer["results"]["extended_support_cost"]))


def test_extended_support_extra_cost_by_account(fleet_rows, answer):
    """The per-cluster figure the binary wrote, summed by account: every latest row past the
    end of standard support at its run is priced $365.00 a month, the others $0.00."""
    clusters, _ = fleet_rows
    newest = [r for r in latest(clusters).values() if r["dt"] >= since(7) and r["cluster_name"] != "*"]
    for r in newest:
        if r["status"] != "error" and r["support_status"]:
            billed = r["support_status"] in ("extended", "ended")
            assert r["extended_support_extra_cents_per_month"] == (36500 if billed else 0), r
    by_account = defaultdict(int)
    for r in newest:
        by_account[r["account_id"]] += r["extended_support_extra_cents_per_month"] or 0
    got = rows(answer, "extended_support_extra_cost_by_account")
    assert {g[0]: g[2] for g in got} == {a: f"{c / 100:.2f}" for a, c in by_account.items()}
    total = sum(by_account.values())
    assert total >= 2 * 36500, "the fleet has clusters in extended support"
    assert {g[3] for g in got} == {f"{total / 100:.2f}"}
    assert sum(g[1] or 0 for g in got) == total // 36500
    print("extended_support_extra_cost_by_account:",
          json.dumps(answer["results"]["extended_support_extra_cost_by_account"]))


def test_the_sql_prices_are_the_data_files(tmp_path):
    """fleet_summary restates the prices; they must be data/eks-prices.csv's, in cents."""
    import csv
    with open(af.ATHENA.parent / "data" / "eks-prices.csv") as f:
        data = {r["item"]: r["value"] for r in csv.DictReader(f)}
    sql = (af.QUERIES / "fleet_summary.sql").read_text()
    cents = lambda usd: str(round(float(usd) * 100))
    assert f"{cents(data['extended_support'])} AS extended_cents_per_hour" in sql
    assert f"{cents(data['standard_support'])} AS standard_cents_per_hour" in sql
    assert f"{data['hours_per_month']} AS hours_per_month" in sql


def _latest_findings(clusters, findings, lookback=7):
    now = {k: r for k, r in latest(clusters).items() if r["dt"] >= since(lookback)}
    return now, [f for f in findings if key(f) in now and f["run_id"] == now[key(f)]["run_id"]]


def test_blocking_findings_by_cluster(fleet_rows, answer):
    clusters, findings = fleet_rows
    now, current = _latest_findings(clusters, findings)
    groups = defaultdict(list)
    for f in current:
        if f["remediation"] == "required":
            groups[key(f) + (now[key(f)]["current_version"], f["target_version"])].append(f["code"])
    want = sorted([k + (len(codes), len(set(codes)), ", ".join(sorted(set(codes)))) for k, codes in groups.items()],
                  key=lambda t: (-t[5], t[0], t[1], t[2]))
    got = rows(answer, "blocking_findings_by_cluster")
    assert got == want
    for g in got:
        assert now[g[:3]]["required_findings"] == g[5], "the count agrees with the clusters row"
    payments = next(g for g in got if g[2] == "payments")
    morning = {f["code"] for f in findings if f["cluster_name"] == "payments" and f["dt"] == str(TODAY)
               and f["remediation"] == "required" and f["run_id"] != now[(A, "us-east-1", "payments")]["run_id"]}
    for code in EVENING_RERUN["disabled"].split(","):
        assert code in morning and code not in payments[7], f"{code}: the latest (evening) run is the one counted"
    assert "web" not in {g[2] for g in got} and "analytics" not in {g[2] for g in got}, "healthy clusters block nothing"
    print("blocking_findings_by_cluster:", json.dumps(answer["results"]["blocking_findings_by_cluster"]))


def test_findings_by_code(fleet_rows, answer):
    clusters, findings = fleet_rows
    _, current = _latest_findings(clusters, findings)
    by = defaultdict(lambda: [set(), 0])
    for f in current:
        g = by[(f["code"], f["title"], f["remediation"], f["category"])]
        g[0].add(key(f))
        g[1] += 1
    want = sorted([k + (len(v[0]), v[1]) for k, v in by.items()], key=lambda t: (-t[4], -t[5], t[0], t[2]))
    assert rows(answer, "findings_by_code") == want
    assert want and sum(t[5] for t in want) == len(current)


def test_version_distribution(fleet_rows, answer):
    clusters, _ = fleet_rows
    counts = defaultdict(int)
    for r in latest(clusters).values():
        if r["dt"] >= since(7) and r["current_version"]:
            counts[(r["account_id"], r["region"], r["current_version"], r["support_status"])] += 1
    want = sorted([k + (n,) for k, n in counts.items()], key=lambda t: (t[0], t[1], t[2], t[3]))
    assert rows(answer, "version_distribution") == want
    assert (A, "us-east-1", "1.34", "standard", 1) in want, "web counts at its new version only"
    assert (A, "us-east-1", "1.33", "standard", 1) in want, "payments"


def test_findings_per_day(fleet_rows, answer):
    clusters, findings = fleet_rows
    last = {}
    for r in clusters:
        k = (r["dt"],) + key(r)
        if k not in last or ts(r["run_time"]) > ts(last[k]["run_time"]):
            last[k] = r
    per_day = defaultdict(lambda: [0, 0, 0, 0])
    for (dt, *_), r in last.items():
        d = per_day[dt]
        d[0] += 1
        d[1] += r["status"] == "error"
        d[2] += r["required_findings"]
        d[3] += r["recommended_findings"]
        # The clusters row's counts are the findings rows of its run.
        mine = [f for f in findings if f["run_id"] == r["run_id"] and key(f) == key(r)]
        assert (sum(f["remediation"] == "required" for f in mine), sum(f["remediation"] == "recommended" for f in mine)) == \
            (r["required_findings"], r["recommended_findings"])
    want = [(f"{dt}T00:00:00", *v) for dt, v in sorted(per_day.items())]
    assert rows(answer, "findings_per_day") == want
    assert [w[2] for w in want] == [0, 0, 1, 1], "the ghost errors on the last two days"
    assert [w[1] for w in want] == [6, 6, 6, 6]


def test_silent_or_errored_clusters(fleet_rows, answer):
    got = rows(answer, "silent_or_errored_clusters")
    assert [g[:6] for g in got] == [
        ("latest run errored", None, GHOST["region"], GHOST["name"], str(TODAY), 0),
        ("stopped reporting", B, "us-west-2", "retired", since(2), 2),
    ]
    assert "DescribeCluster" in got[0][6] and got[1][6] is None
    retired = next(c for c in CLUSTERS if c.name == "retired")
    assert retired.versions[-2:] == (None, None)


def test_clusters_by_readiness(fleet_rows, answer):
    clusters, _ = fleet_rows
    order = {"blocked": 0, "unknown": 1, "ready": 2}
    want = sorted(
        [(r["account_id"], r["region"], r["cluster_name"], r["current_version"], r["target_version"],
          r["readiness"] or "unknown", r["checks_run"], r["checks_skipped"], r["required_findings"], r["status"])
         for r in latest(clusters).values() if r["dt"] >= since(7)],
        key=lambda t: (order[t[5]], nulls_last(t[0]), t[1], t[2]))
    got = rows(answer, "clusters_by_readiness")
    assert got == want
    verdicts = {g[2]: g[5] for g in got}
    # A cluster that could not be read is never ready, and has no checks to count.
    assert verdicts[GHOST["name"]] == "unknown"
    ghost = next(g for g in got if g[2] == GHOST["name"])
    assert ghost[6:8] == (None, None)
    for g in got:
        assert (g[5] == "blocked") == (g[8] > 0), f"{g[2]}: blocked exactly when a required finding exists"
    print("clusters_by_readiness:", json.dumps(answer["results"]["clusters_by_readiness"]))


def test_ca_rotations_to_act_on(fleet_rows, answer):
    clusters, findings = fleet_rows
    now, current = _latest_findings(clusters, findings)
    level = {key(f): f["remediation"] for f in current if f["code"] == "EKS106"}
    order = {"required": 0, "recommended": 1, None: 2}

    def left(d):
        return None if d is None else (day(d) - TODAY).days

    want = sorted(
        [(r["account_id"], r["region"], r["cluster_name"], r["ca_successor_status"], r["ca_successor_distribution"],
          r["ca_next_auto_activation"], left(r["ca_next_auto_activation"]), r["ca_signing_expires"],
          left(r["ca_signing_expires"]), level.get(k))
         for k, r in now.items() if r["ca_successor_status"] is not None],
        key=lambda t: (order[t[9]], t[6], t[0], t[1], t[2]))
    got = rows(answer, "ca_rotations_to_act_on")
    assert got == want
    by = {g[2]: g for g in got}
    # payments: first auto-activation in 5 days, final in 12: required; legacy: 150/200 days away.
    assert by["payments"][3:7] == ("NOT_USED", "IN_PROGRESS", str(TODAY + datetime.timedelta(days=5)), 5)
    assert (by["payments"][9], by["legacy"][9]) == ("required", "recommended")
    assert by["legacy"][8] == 260
    assert [g[2] for g in got][-1] == "legacy", "required rotations first"
    assert not {"web", "analytics", "batch"} & set(by), "one CA and no successor: nothing to act on"
    print("ca_rotations_to_act_on:", json.dumps(answer["results"]["ca_rotations_to_act_on"]))


def test_every_dashboard_panel_runs_one_of_the_queries_and_gets_its_rows(fleet_data, answer):
    dashboards = sorted(af.DASHBOARDS.glob("*.json"))
    assert dashboards
    files = {af.body(p.read_text()): p.stem for p in af.query_files()}
    panels = {}
    for path in dashboards:
        dash = json.loads(path.read_text())
        for panel in dash["panels"]:
            for target in panel["targets"]:
                assert panel["datasource"]["type"] == target["datasource"]["type"] == "grafana-athena-datasource"
                sql = target["rawSQL"]
                assert af.body(sql) in files, f"panel {panel['title']!r}: its SQL is none of athena/queries/*.sql"
                panels[f"{path.stem}:{panel['id']}"] = (files[af.body(sql)], sql)
    ran = af.run(fleet_data.root, {k: sql for k, (_, sql) in panels.items()})
    for k, (query, _) in panels.items():
        assert ran["results"][k]["rows"] == answer["results"][query]["rows"], k
        assert ran["results"][k]["rows"], f"{k} ({query}) shows nothing on the test fleet"
    shown = {q for q, _ in panels.values()}
    for required in ("version_distribution", "clusters_near_end_of_standard_support",
                     "blocking_findings_by_cluster", "findings_per_day"):
        assert required in shown, f"the dashboard has no panel for {required}"


def test_every_query_transpiles_to_duckdb_without_athena_only_functions(answer):
    for name, sql in answer["transpiled"].items():
        for athena_only in ("DATE_FORMAT(", "DATE_PARSE(", "ARRAY_JOIN("):
            assert athena_only not in sql.upper(), f"{name}: {athena_only} left for DuckDB"
