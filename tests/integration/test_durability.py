"""The nightly job loses nothing (DESIGN.md, "Fleet mode"): rows leave the run in batches while
it goes, a SIGKILL loses at most the last unflushed batch, SIGTERM ends the run within its
grace period with every finished cluster's rows and an `interrupted` manifest, and an output
that fails drops only its own object.

The fleet runs for real: the runner assumes a role in a moto account, lists the clusters
there and reaches each through one fake API server whose node list answers after a delay, so
clusters finish one after another over several seconds. The test reads the binary's stdout
as it comes and timestamps every `cluster` event: that is when the cluster finished."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

import athena_files as af
from harness import ROOT, assumed, clean_env, eksup_bin, http_json, start_kube
from test_fleet import create_cluster

MEMBER = "444455556666"
REGION = "us-east-1"
BATCH_SECONDS = 1
# A batch is written within BATCH_SECONDS of its oldest row; this much more is allowed for
# encoding and writing it.
WRITE_MARGIN = 0.5
DEMO = ROOT / "examples" / "snapshot.json"


class LiveRun:
    """`eksup run` started in the background, its stdout lines timestamped as they arrive."""

    def __init__(self, cwd, standin, env=None):
        self.lines = []  # (monotonic time, parsed line)
        self.proc = subprocess.Popen(
            [str(eksup_bin()), "run", "--config", "fleet.yaml"], cwd=cwd,
            env=clean_env(cwd, standin, env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL)
        self.stderr = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

    def _read_stdout(self):
        for raw in self.proc.stdout:
            try:
                self.lines.append((time.monotonic(), json.loads(raw)))
            except json.JSONDecodeError:
                pass

    def finished(self):
        """(time, cluster name) of every `cluster` event so far."""
        return [(t, l["cluster"]) for t, l in list(self.lines)
                if l.get("event") == "cluster"]

    def wait_for(self, clusters, timeout=60):
        deadline = time.monotonic() + timeout
        while len(self.finished()) < clusters:
            assert self.proc.poll() is None, f"eksup ended early: {self.err()}"
            assert time.monotonic() < deadline, f"{clusters} clusters did not finish; {self.err()}"
            time.sleep(0.02)

    def err(self):
        return b"".join(self.stderr).decode(errors="replace")


@pytest.fixture
def slow_fleet(moto, standin, certs, tmp_path):
    """`n` clusters in one member account, all served by one fake API server whose node list
    takes `delay` seconds; `hung` of them by a second server that never answers in time."""
    servers = []

    def make(n, delay, hung=0, grace=None):
        http_json(f"{moto}/moto-api/reset", "POST", {})
        http_json(f"{standin}/_standin/reset", "POST", {})
        creds = assumed(moto, MEMBER)
        slow = start_kube(certs, fixture="healthy.yaml")
        slow.faults({"path": "^/api/v1/nodes$", "delay": delay, "times": -1})
        servers.append(slow)
        names = [f"c{i:02d}" for i in range(n)]
        stuck = []
        if hung:
            frozen = start_kube(certs, fixture="healthy.yaml")
            frozen.faults({"path": "^/api/v1/nodes$", "delay": 120, "times": -1})
            servers.append(frozen)
            # Listed first, so it takes a slot before the signal and holds it.
            stuck = [f"a-hung{i}" for i in range(hung)]
        for name in names + stuck:
            create_cluster(moto, creds, REGION, name)
            server = frozen if name in stuck else slow
            http_json(f"{standin}/_standin/clusters/{name}", "POST", {"endpoint": server.url, "ca": server.ca_b64})
        config = {
            "fleet": {"role_name": "eksup-reader", "accounts": [MEMBER], "regions": [REGION],
                      "concurrency": 2, "cluster_timeout_seconds": 100},
            "outputs": {"directory": "out", "stdout": True, "batch": {"seconds": BATCH_SECONDS}},
            "writer": "nightly",
        }
        if grace is not None:
            config["shutdown_grace_seconds"] = grace
        (tmp_path / "fleet.yaml").write_text(json.dumps(config))
        return names, stuck

    yield make
    for s in servers:
        s.stop()


def parquet_clusters(root):
    con = duckdb.connect()
    return {r[0]: r[1:] for r in con.execute(
        f"SELECT cluster_name, status, error FROM read_parquet('{root}/clusters/dt=*/*.parquet', "
        "hive_partitioning = true, hive_types_autocast = false)").fetchall()}


def view_clusters(root):
    """The cluster names the Athena latest-state view gives over `root`, on DuckDB."""
    request = {"root": str(root), "views": {p.stem: p.read_text() for p in af.view_files()},
               "queries": {"now": "SELECT cluster_name FROM latest_cluster_state"}}
    proc = subprocess.run([sys.executable, str(af.RUNNER)], input=json.dumps(request), capture_output=True,
                          text=True, timeout=120, check=True)
    return {r[0] for r in json.loads(proc.stdout)["results"]["now"]["rows"]}


def manifest(root):
    (path,) = list((root / "runs").rglob("*.json"))
    return json.loads(path.read_text())


def test_sigkill_loses_at_most_the_last_batch(slow_fleet, standin, tmp_path):
    names, _ = slow_fleet(24, delay=0.8)
    run = LiveRun(tmp_path, standin)
    run.wait_for(9)
    killed_at = time.monotonic()
    run.proc.send_signal(signal.SIGKILL)
    run.proc.wait(10)
    finished = run.finished()
    safe = sorted(name for t, name in finished if t < killed_at - BATCH_SECONDS - WRITE_MARGIN)
    root = tmp_path / "out"
    rows = parquet_clusters(root)
    print(f"finished before the kill: {len(finished)}; more than {BATCH_SECONDS + WRITE_MARGIN} s before it: "
          f"{len(safe)}; rows kept: {len(rows)} {sorted(rows)}")
    assert len(safe) >= 5, "the run was killed too early to show anything"
    assert len(finished) < len(names), "the run was killed before its end"
    missing = [n for n in safe if n not in rows]
    assert not missing, f"finished more than one batch interval before the kill, yet lost: {missing}"
    assert set(rows) <= {name for _, name in finished}, "a row for a cluster that never finished"
    assert all(status == "ok" for status, _ in rows.values()), rows
    # Several batches, each its own file per table and format, all complete.
    batches = sorted((root / "clusters").rglob("*.parquet"))
    assert len(batches) >= 2, batches
    assert {p.name.split(".", 1)[1] for p in batches} == {"nightly.parquet"}
    # Every file a reader would read is whole (a `.partial` beside one is what the kill
    # interrupted; no reader reads it).
    jsonl = sorted((root / "json" / "clusters").rglob("*.jsonl"))
    assert sum(len([json.loads(line) for line in p.read_text().splitlines()]) for p in jsonl) == len(rows)
    assert [p.name.replace(".jsonl", "") for p in jsonl] == [p.name.replace(".parquet", "") for p in batches]
    # The latest-state view counts every cluster whose rows were kept.
    assert view_clusters(root) == set(rows)
    # The manifest still says `running`: a reader can tell this run did not end.
    m = manifest(root)
    assert (m["status"], m["ended_at"], m["writer"]) == ("running", None, "nightly")
    assert m["plan"]["work"] == {"kind": "fleet", "accounts": [MEMBER], "regions": [REGION], "concurrency": 2,
                                 "cluster_timeout_seconds": 100, "target_version": None}


def test_sigterm_finishes_in_flight_within_the_grace_period(slow_fleet, standin, tmp_path):
    grace = 3
    names, stuck = slow_fleet(12, delay=0.5, hung=1, grace=grace)
    run = LiveRun(tmp_path, standin)
    run.wait_for(3)
    term_at = time.monotonic()
    run.proc.send_signal(signal.SIGTERM)
    code = run.proc.wait(grace + 10)
    ended = time.monotonic() - term_at
    stderr = run.err()
    print(f"SIGTERM → exit {code} after {ended:.1f} s (grace {grace} s)\n{stderr}")
    assert code == 3, stderr
    assert ended < grace + 2, "the run must end within its grace period (and before the pod's SIGKILL)"
    root = tmp_path / "out"
    rows = parquet_clusters(root)
    finished = {name for _, name in run.finished()}
    m = manifest(root)
    print("manifest of the interrupted run:\n" + json.dumps(m, indent=2))
    assert m["status"] == "interrupted"
    assert m["interrupted"]["signal"] == "SIGTERM" and m["interrupted"]["grace_seconds"] == grace
    # Every cluster that finished has its rows; the one that hung was cut off with an error row.
    assert finished <= set(rows)
    cut = {n for n, (status, error) in rows.items() if status == "error"}
    assert cut == {stuck[0]}, rows
    assert "grace period" in rows[stuck[0]][1]
    assert m["interrupted"]["cut_off"] == [f"{MEMBER}/{REGION}/{stuck[0]}"]
    assert ended >= grace, "the cluster in flight was given its grace period"
    assert len(rows) < len(names) + len(stuck), "clusters not started have no rows"
    assert m["rows"]["clusters"] == len(rows)
    assert sum(f["rows"] for f in m["files"] if f["table"] == "clusters" and f["format"] == "parquet") == len(rows)
    for f in m["files"]:
        assert (root / f["key"]).stat().st_size == f["bytes"], f
    assert m["clusters"].get("ok", 0) == len(rows) - len(cut)
    # The stdout `run` line says the same, for log aggregators.
    (end,) = [l for _, l in run.lines if l.get("event") == "run"]
    assert (end["status"], end["signal"]) == ("interrupted", "SIGTERM")


def test_a_failed_object_drops_only_itself(moto, standin, tmp_path):
    """An S3 PUT that fails after its retries (500 on one key, 403 on another) loses only that
    object: every other file, the stdout events and the EMF lines still go out, and the
    manifest and the exit code say what failed."""
    import boto3
    http_json(f"{standin}/_standin/reset", "POST", {})
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto, aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket="nightly")
    http_json(f"{standin}/_standin/faults", "POST", {"faults": [
        {"operation": "s3:PutObject", "status": 500, "code": "InternalError", "path": "/json/findings/", "times": -1},
        {"operation": "s3:PutObject", "status": 403, "code": "AccessDenied", "path": "/b-copy/", "times": -1},
    ]})
    b = tmp_path / "b-copy.json"
    snap = json.loads(DEMO.read_text())
    snap["cluster"]["name"] = "b-copy"
    b.write_text(json.dumps(snap))
    (tmp_path / "fleet.yaml").write_text(json.dumps({
        "clusters": [{"snapshot": str(DEMO)}, {"snapshot": str(b)}],
        "outputs": {"stdout": True, "emf": {}, "s3": {"bucket": "nightly", "force_path_style": True}},
        "writer": "w1",
    }))
    run = LiveRun(tmp_path, standin)
    code = run.proc.wait(60)
    time.sleep(0.2)
    stderr = run.err()
    assert code == 3, stderr
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="nightly")["Contents"])
    print("written:", *keys, sep="\n  ")
    tables = [k for k in keys if not k.startswith(("runs/", "cluster-reports/"))]
    assert sorted(k.split("/dt=")[0] for k in tables) == ["clusters", "findings", "json/clusters"]
    reports = [k for k in keys if k.startswith("cluster-reports/")]
    assert len(reports) == 1 and "/demo/" in reports[0]
    (mkey,) = [k for k in keys if k.startswith("runs/")]
    m = json.loads(s3.get_object(Bucket="nightly", Key=mkey)["Body"].read())
    assert m["status"] == "failed"
    assert sorted(f["key"] for f in m["files"]) == sorted(tables)
    failed = " ".join(m["failed"])
    assert "json/findings/" in failed and "InternalError" in failed or "500" in failed, m["failed"]
    assert "/b-copy/" in failed, m["failed"]
    assert len(m["failed"]) == 2, m["failed"]
    # The stdout events and the EMF lines of both clusters still went out.
    events = [l for _, l in run.lines]
    clusters = [l for l in events if l.get("event") == "cluster"]
    assert sorted(l["cluster"] for l in clusters) == ["b-copy", "demo"]
    emf = [l for l in events if "_aws" in l]
    assert sorted(l.get("ClusterName", "*") for l in emf) == ["*", "b-copy", "demo"]
    (totals,) = [l for l in emf if "ClustersAnalyzed" in l]
    assert (totals["ClustersAnalyzed"], totals["run_status"]) == (2, "failed")
    assert "error: cannot write s3://nightly/json/findings/" in stderr
