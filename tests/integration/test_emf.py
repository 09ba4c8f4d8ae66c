"""CloudWatch Embedded Metric Format lines of `eksup run` (outputs.emf): each line checked
against the structure the EMF specification prescribes, the values against the rows the
same runs wrote, and the alarms of terraform/modules/alerts against the metric names and
namespace the binary really emits."""

import datetime
import json
import numbers

import pytest

import tf_files
from fleet import EMF_NAMESPACE, GHOST, TODAY

# CloudWatch's metric units (MetricDatum.Unit), the values the EMF specification allows.
UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
    "Count/Second", "None",
}


def _is_number(v):
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def emf_problems(doc) -> list:
    """What makes `doc` (one parsed log line) not an embedded metric format document:
    - the root is an object with an `_aws` object holding an integer `Timestamp` (ms since
      the epoch) and a non-empty `CloudWatchMetrics` array of MetricDirectives;
    - a MetricDirective has `Namespace` (1–255 characters), `Dimensions` (an array of at
      least one DimensionSet: arrays of at most 9 dimension-key strings, possibly empty) and
      `Metrics` (at most 100 MetricDefinitions: `Name` 1–255 characters, optional `Unit` one
      of CloudWatch's units);
    - every dimension key is a top-level member with a string value, every metric name a
      top-level member with a number (or an array of at most 100 numbers)."""
    p = []
    if not isinstance(doc, dict):
        return ["the root is not an object"]
    aws = doc.get("_aws")
    if not isinstance(aws, dict):
        return ["no `_aws` metadata object"]
    stamp = aws.get("Timestamp")
    if not (isinstance(stamp, int) and not isinstance(stamp, bool) and stamp >= 0):
        p.append(f"_aws.Timestamp is not milliseconds since the epoch: {stamp!r}")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return p + ["_aws.CloudWatchMetrics is not a non-empty array"]
    for i, d in enumerate(directives):
        where = f"CloudWatchMetrics[{i}]"
        if not isinstance(d, dict):
            p.append(f"{where} is not an object")
            continue
        ns = d.get("Namespace")
        if not (isinstance(ns, str) and 1 <= len(ns) <= 255):
            p.append(f"{where}.Namespace is not a 1-255 character string: {ns!r}")
        dims = d.get("Dimensions")
        if not isinstance(dims, list) or not dims:
            p.append(f"{where}.Dimensions is not an array of dimension sets")
            dims = []
        for dset in dims:
            if not isinstance(dset, list) or len(dset) > 9:
                p.append(f"{where}: dimension set {dset!r} is not an array of at most 9 keys")
                continue
            for k in dset:
                if not (isinstance(k, str) and 1 <= len(k) <= 255):
                    p.append(f"{where}: dimension key {k!r} is not a 1-255 character string")
                elif not isinstance(doc.get(k), str):
                    p.append(f"{where}: dimension {k!r} is not a top-level string member")
        metrics = d.get("Metrics")
        if not isinstance(metrics, list) or len(metrics) > 100:
            p.append(f"{where}.Metrics is not an array of at most 100 definitions")
            metrics = []
        for m in metrics:
            name = m.get("Name") if isinstance(m, dict) else None
            if not (isinstance(name, str) and 1 <= len(name) <= 255):
                p.append(f"{where}: metric definition {m!r} has no 1-255 character Name")
                continue
            if "Unit" in m and m["Unit"] not in UNITS:
                p.append(f"{where}: {name}: unit {m['Unit']!r} is not a CloudWatch unit")
            value = doc.get(name)
            if not (_is_number(value) or (isinstance(value, list) and 0 < len(value) <= 100
                                          and all(_is_number(v) for v in value))):
                p.append(f"{where}: metric {name!r} is not a top-level number member: {value!r}")
    return p


VALID = {
    "_aws": {"Timestamp": 1574109732004, "CloudWatchMetrics": [
        {"Namespace": "ns", "Dimensions": [["Service"], []], "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}]}]},
    "Service": "api", "Latency": 100,
}


@pytest.mark.parametrize("breakage, expected", [
    (lambda d: d["_aws"].pop("Timestamp"), "Timestamp"),
    (lambda d: d["_aws"].__setitem__("Timestamp", "2026-07-06"), "Timestamp"),
    (lambda d: d.pop("Service"), "dimension 'Service'"),
    (lambda d: d.__setitem__("Latency", "100"), "metric 'Latency'"),
    (lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].__setitem__("Unit", "Days"), "unit 'Days'"),
    (lambda d: d["_aws"]["CloudWatchMetrics"][0].__setitem__("Dimensions", []), "Dimensions"),
    (lambda d: d["_aws"]["CloudWatchMetrics"][0].pop("Namespace"), "Namespace"),
    (lambda d: d["_aws"]["CloudWatchMetrics"][0]["Dimensions"].append([f"d{i}" for i in range(10)]), "at most 9"),
])
def test_the_validator_rejects_what_the_specification_forbids(breakage, expected):
    assert emf_problems(json.loads(json.dumps(VALID))) == []
    doc = json.loads(json.dumps(VALID))
    breakage(doc)
    problems = emf_problems(doc)
    assert any(expected in p for p in problems), problems


def test_every_emf_line_the_binary_wrote_follows_the_specification(fleet_data):
    lines = fleet_data.emf_lines()
    assert len(lines) > 20
    for doc in lines:
        assert emf_problems(doc) == [], json.dumps(doc)
    # stdout of the in-cluster job mixes JSON event lines and EMF lines: each line is one
    # JSON object, which is what a log agent needs.
    incluster = next(r for r in fleet_data.runs if r.writer == "analytics-incluster")
    kinds = [("_aws" in json.loads(line), json.loads(line).get("event")) for line in incluster.stdout.splitlines()]
    assert (False, "finding") in kinds and (False, "cluster") in kinds and (True, "metrics") in kinds


def test_metric_values_are_the_rows_of_the_same_run(fleet_data):
    clusters = fleet_data.json_rows("clusters")
    by_run = {}
    for r in clusters:
        by_run.setdefault(r["run_id"], []).append(r)
    fleet_lines = 0
    for doc in fleet_data.emf_lines():
        rows = by_run[doc["run_id"]]
        stamp = doc["_aws"]["Timestamp"]
        assert {datetime.datetime.fromisoformat(r["run_time"].replace("Z", "+00:00")).timestamp() * 1000
                for r in rows} == {stamp}, "the metrics carry the run's time"
        directive = doc["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == EMF_NAMESPACE
        if directive["Dimensions"] == [[]]:
            fleet_lines += 1
            ok = [r for r in rows if r["status"] != "error"]
            scopes = [r for r in rows if r["cluster_name"] == "*"]
            assert doc["ClustersAnalyzed"] == len(ok)
            assert doc["ClustersErrored"] == len(rows) - len(ok) - len(scopes)
            assert doc["ScopesUnreadable"] == len(scopes)
            assert doc["ClustersWithinNotice"] == sum(
                0 <= (r["days_to_end_of_standard_support"] or -1) <= doc["notice_days"] for r in ok)
            # Past the end of standard support, whether extended support has ended too or not.
            assert doc["ClustersInExtendedSupport"] == sum(r["support_status"] in ("extended", "ended") for r in ok)
            # ($0.60 - $0.10) x 730 hours per cluster, as the rows' own column says.
            assert doc["ExtendedSupportExtraCostPerMonth"] == doc["ClustersInExtendedSupport"] * 365.0
            assert doc["ExtendedSupportExtraCostPerMonth"] == sum(
                r["extended_support_extra_cents_per_month"] or 0 for r in ok) / 100
        else:
            assert directive["Dimensions"] == [["AccountId", "Region", "ClusterName"]]
            row = next(r for r in rows if (r["account_id"], r["region"], r["cluster_name"]) ==
                       (doc["AccountId"], doc["Region"], doc["ClusterName"]))
            assert (doc["DaysToEndOfStandardSupport"], doc["RequiredFindings"], doc["RecommendedFindings"]) == \
                (row["days_to_end_of_standard_support"], row["required_findings"], row["recommended_findings"])
    assert fleet_lines == len(fleet_data.runs), "one fleet-totals line per run"
    ghost_runs = [r for r in fleet_data.runs if any(t.get("cluster") == GHOST["name"] for t in r.entries)]
    for run in ghost_runs:
        names = [json.loads(l).get("ClusterName") for l in run.stdout.splitlines()]
        assert GHOST["name"] not in names, "an errored cluster has no per-cluster metrics, only ClustersErrored"


def test_todays_central_run_counts_the_fleet_conditions(fleet_data):
    run = next(r for r in fleet_data.runs if r.day == TODAY and r.writer == "central" and len(r.entries) > 1)
    fleet = next(json.loads(l) for l in run.stdout.splitlines() if json.loads(l)["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[]])
    # payments (23 days), legacy and batch (extended), the ghost (error), web (149 days).
    assert {k: fleet[k] for k in ("ClustersAnalyzed", "ClustersErrored", "ClustersWithinNotice",
                                  "ClustersInExtendedSupport")} == {
        "ClustersAnalyzed": 4, "ClustersErrored": 1, "ClustersWithinNotice": 1, "ClustersInExtendedSupport": 2}
    assert fleet["ExtendedSupportExtraCostPerMonth"] == 730.0, "two clusters at $365.00 a month each"
    print("three EMF lines the binary wrote:")
    for line in run.stdout.splitlines()[:2] + [json.dumps(fleet, separators=(",", ":"))]:
        print(line)


def test_the_alarms_watch_exactly_the_metrics_and_namespace_the_binary_emits(fleet_data):
    alerts = tf_files.merged(tf_files.TERRAFORM / "modules" / "alerts")
    alarms = alerts["locals"]["alarms"]
    emitted_fleet, emitted_cluster, namespaces = set(), set(), set()
    for doc in fleet_data.emf_lines():
        d = doc["_aws"]["CloudWatchMetrics"][0]
        namespaces.add(d["Namespace"])
        names = {m["Name"] for m in d["Metrics"]}
        (emitted_fleet if d["Dimensions"] == [[]] else emitted_cluster).update(names)
    assert {a["metric"] for a in alarms.values()} == emitted_fleet, "one alarm per fleet total, no other metric"
    assert emitted_cluster == {"DaysToEndOfStandardSupport", "RequiredFindings", "RecommendedFindings"}
    assert alerts["variable"]["namespace"]["default"] == EMF_NAMESPACE
    assert namespaces == {EMF_NAMESPACE}
    alarm = alerts["resource"]["aws_cloudwatch_metric_alarm"]["this"]
    assert alarm["namespace"] == "${var.namespace}" and alarm["metric_name"] == "${each.value.metric}"
    assert "dimensions" not in alarm, "the fleet totals have no dimension; an alarm with one would see no data"
    assert alarm["period"] == "${var.period_seconds}" and alerts["variable"]["period_seconds"]["default"] == 86400
    complete = tf_files.merged(tf_files.TERRAFORM / "examples" / "complete")["module"]["alerts"]
    assert complete["namespace"] == EMF_NAMESPACE
    stopped = alarms["stopped-reporting"]
    assert stopped["missing"] == "breaching" and stopped["periods"] == "${var.silent_periods}"
    assert alerts["variable"]["silent_periods"]["default"] == 2, "no data for 2 days: the job stopped"
