"""The fleet benchmark (bench/fleet.py) stays runnable: a small fleet through the same
harness — multi-tenant API server reached through path-prefixed endpoints, latency in both
fakes — and eksup's own request counters agree with what the fakes saw."""

import json
import os
import re
import subprocess

from harness import PY, ROOT, eksup_bin


def test_fleet_benchmark_runs_and_counts_agree(tmp_path):
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [PY, str(ROOT / "bench" / "fleet.py"), "--clusters", "12", "--accounts", "3", "--concurrency", "1,4",
         "--kube-latency-ms", "5", "--aws-latency-ms", "5", "--binary", str(eksup_bin()),
         "--json", str(out), "--keep-output", str(tmp_path / "trees"), "--check"],
        capture_output=True, text=True, timeout=300, env={**os.environ})
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout
    figures = json.loads(out.read_text())
    # A warm-up run at the highest concurrency (moto answers live), then one run per level
    # (moto's answers replayed by the stand-in): the same calls, so the same counts.
    assert [(f["label"], f["concurrency"]) for f in figures] == [("warmup", 4), ("c1", 1), ("c4", 4)]
    assert figures[0]["aws_calls_by_operation"] == figures[2]["aws_calls_by_operation"]
    for f in figures:
        assert f["rows"] == 12 and f["statuses"] == "12 ok", f
        # Per (account, region) reads are shared: 12 clusters in 6 pairs need fewer than
        # 12 × the single-cluster count of 27.
        assert f["aws_calls"] / f["rows"] <= 20, f
        assert f["aws_calls_by_operation"]["eks:DescribeCluster"] == 12
        assert f["aws_calls_by_operation"]["sts:AssumeRole"] == 3
        assert f["kube_requests"] == f["kube_requests_seen"] and f["kube_requests"] > 0
    # Every cluster wrote its row: 12 clusters rows per run, in the kept tree.
    rows = [json.loads(line) for p in (tmp_path / "trees" / "c4" / "json" / "clusters").rglob("*.jsonl")
            for line in p.read_text().splitlines()]
    assert sorted(r["cluster_name"] for r in rows) == [f"bench-{i:04d}" for i in range(12)]
    assert "| 4 | 12 (12 ok) |" in proc.stdout


def test_large_cluster_benchmark_command_compares_binaries(tmp_path):
    """bench/run.py on a small generated cluster: two labelled eksup runs, a run with
    `collect.replicasets: all`, and a reference binary (here eksup behind the public tool's
    command line: Kubernetes from $KUBECONFIG), all in one run; the figures are the fake API
    server's own counts."""
    ref = tmp_path / "reference"
    ref.write_text("#!/bin/sh\n# The public tool's command line: analyze --cluster N --region R --format json …\n"
                   f'exec "{eksup_bin()}" "$@" --kubeconfig "$KUBECONFIG" --as-of 2026-06-01\n')
    ref.chmod(0o755)
    out = tmp_path / "figures.json"
    spec = ("nodes=20,deployments=200,replicasets_per_deployment=6,unowned_replicasets=4,cronjobs=4,"
            "jobs_per_cronjob=2,unowned_jobs=1,namespaces=10,server_fields=1,cascade_orphans=2,version=v1.30.4-eks-1")
    proc = subprocess.run(
        [PY, str(ROOT / "bench" / "run.py"), "--binary", str(eksup_bin()), "--label", "before",
         "--binary", str(eksup_bin()), "--label", "after", "--config", "collect: {replicasets: all}",
         "--reference", str(ref), "--spec", spec, "--json", str(out)],
        capture_output=True, text=True, timeout=600, env={**os.environ})
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout
    runs = {r["label"]: r for r in json.loads(out.read_text())["runs"]}
    assert list(runs) == ["before", "after", "after + collect: {replicasets: all}", "reference"]
    by_label, everything = runs["after"], runs["after + collect: {replicasets: all}"]
    # 1,206 ReplicaSets in pages of 500 without the selector, one page with it, and the two
    # orphaned with --cascade=orphan fetched in full.
    assert everything["requests"] == by_label["requests"] + 2 + 2
    assert everything["decoded_bytes"] > 2 * by_label["decoded_bytes"] > by_label["wire_bytes"] > 0
    assert everything["apf_seats"] > by_label["apf_seats"]
    assert by_label["findings"]["K8S002"] == 4 and everything["findings"]["K8S002"] == 6
    for r in runs.values():
        assert r["exit_code"] in (0, 1) and r["pod_requests"] == 0, r
        assert r["cpu_seconds"] > 0 and r["peak_rss_mib"] > 1 and r["wall_seconds"] > 0
    assert runs["before"]["requests"] == runs["after"]["requests"] == runs["reference"]["requests"]
    assert "| binary | requests | on the wire | decoded |" in proc.stdout
    assert "Against the reference (binary ÷ reference):" in proc.stdout
    # The same binary both ways: the same bytes on the wire, give or take the metrics page.
    assert re.search(r"^\| after \| (0\.9[5-9]\d|1\.0[0-4]\d)× \|", proc.stdout, re.M), proc.stdout


def test_large_cluster_benchmark_on_a_real_server(tmp_path):
    """bench/run.py --real: the generated cluster loaded into a real kube-apiserver (through the
    API, cached by spec), read by eksup both ways and by a reference, each run measured on the
    server itself: its audit log for the requests, its /metrics for the objects it read and
    returned and the APF seats it charged, /proc for its CPU and memory."""
    ref = tmp_path / "reference"
    ref.write_text(f'#!/bin/sh\nexec "{eksup_bin()}" "$@" --kubeconfig "$KUBECONFIG" --as-of 2026-06-01\n')
    ref.chmod(0o755)
    out = tmp_path / "figures.json"
    spec = ("nodes=20,deployments=200,replicasets_per_deployment=6,unowned_replicasets=4,cronjobs=4,"
            "jobs_per_cronjob=2,unowned_jobs=1,namespaces=10,cascade_orphans=2,version=v1.34.1-eks-1")
    proc = subprocess.run(
        [PY, str(ROOT / "bench" / "run.py"), "--real", "1.37", "--binary", str(eksup_bin()), "--label", "eksup",
         "--config", "collect: {replicasets: all}", "--reference", str(ref), "--spec", spec, "--json", str(out)],
        capture_output=True, text=True, timeout=900, env={**os.environ})
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout
    figures = json.loads(out.read_text())
    assert figures["server"] == "1.37"
    runs = {r["label"]: r for r in figures["runs"]}
    by_label, everything = runs["eksup"], runs["eksup + collect: {replicasets: all}"]
    # The ReplicaSets a Deployment made: 1,200, plus 2 left by --cascade=orphan. By label the
    # server returns only the 4 unowned ones; listing them all returns the 1,202 more, in 2 more
    # pages of 500, and the 2 orphans are then fetched in full.
    assert everything["returned_objects"] - by_label["returned_objects"] == 1202
    assert everything["requests"] == by_label["requests"] + 2 + 2
    assert by_label["requests"] == runs["reference"]["requests"]
    for r in runs.values():
        assert r["exit_code"] in (0, 1) and r["pod_requests"] == 0, r
        assert set(r["statuses"]) <= {"200", "404"}, r["statuses"]  # 404: kinds this cluster lacks
        assert r["apf_requests"] == r["requests"] and r["apf_seats"] >= r["requests"], r
        assert r["etcd_objects"] + r["cache_objects"] >= r["returned_objects"] > 200, r
        assert r["wire_bytes"] > 0 and r["cpu_seconds"] > 0 and r["server_cpu_seconds"] >= 0
    assert everything["apf_seats"] > by_label["apf_seats"]
    assert "| binary | requests | bytes sent | read from etcd | from watch cache |" in proc.stdout
