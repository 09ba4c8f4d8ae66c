"""The fleet benchmark (bench/fleet.py) stays runnable: a small fleet through the same
harness — multi-tenant API server reached through path-prefixed endpoints, latency in both
fakes — and eksup's own request counters agree with what the fakes saw."""

import json
import os
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
    assert [f["concurrency"] for f in figures] == [1, 4]
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
