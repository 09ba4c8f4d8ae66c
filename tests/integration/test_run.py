"""`eksup run`: Parquet and JSON lines to moto's S3 and a local directory, read back with
pyarrow and DuckDB; JSON lines on stdout; faults."""

import datetime
import io
import json
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq

from harness import ACCOUNT, REGION, ROOT, run_eksup

HEALTHY = ROOT / "tests" / "fixtures" / "snapshots" / "healthy.json"
DEMO = ROOT / "examples" / "snapshot.json"
GLUE_TO_ARROW = {"string": pa.string(), "int": pa.int32(), "bigint": pa.int64(),
                 "timestamp": pa.timestamp("ms", tz="UTC"), "date": pa.date32()}


def s3(moto):
    return boto3.client("s3", region_name=REGION, endpoint_url=moto, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def declared_schema(tmp_path, table):
    run = run_eksup(["schema", "--format", "glue-json"], tmp_path)
    assert run.code == 0, run.stderr
    return pa.schema([pa.field(c["Name"], GLUE_TO_ARROW[c["Type"]], c["Parameters"]["eksup.nullable"] == "true")
                      for c in json.loads(run.stdout)[table]])


def write_config(tmp_path, targets, outputs, extra=""):
    lines = ["clusters:"] + [f"  - {{snapshot: {t}}}" if isinstance(t, Path) else f"  - {t}" for t in targets]
    lines += ["outputs:"] + [f"  {line}" for line in outputs.splitlines()]
    (tmp_path / ".eksup.yaml").write_text("\n".join(lines) + "\n" + extra)


def normalize(value):
    """JSON lines carry RFC 3339 text where Parquet carries typed values."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def json_rows(text):
    rows = [json.loads(line) for line in text.splitlines()]
    for r in rows:
        r["run_time"] = datetime.datetime.fromisoformat(r["run_time"])
    return rows


def test_run_writes_the_layout_to_s3_with_the_declared_schema(moto, standin, tmp_path):
    from harness import http_json
    http_json(f"{standin}/_standin/reset", "POST", {})
    client = s3(moto)
    client.create_bucket(Bucket="fleet-reports")
    kms = boto3.client("kms", region_name=REGION, endpoint_url=moto, aws_access_key_id="testing",
                       aws_secret_access_key="testing").create_key()["KeyMetadata"]["Arn"]
    write_config(tmp_path, [HEALTHY, DEMO],
                 f"stdout: false\ns3: {{bucket: fleet-reports, prefix: eksup/v1, kms_key_id: '{kms}', "
                 f"expected_bucket_owner: '{ACCOUNT}', force_path_style: true}}",
                 extra="writer: runner-1\n")
    run = run_eksup(["run", "--as-of", "2026-06-01"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    assert run.stdout == "", "stdout: false"
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="fleet-reports")["Contents"])
    run_id = json.loads(client.get_object(Bucket="fleet-reports", Key=next(k for k in keys if "/json/clusters/" in k))["Body"]
                        .read().splitlines()[0])["run_id"]
    dt = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    assert keys == sorted([
        f"eksup/v1/findings/dt={dt}/{run_id}-0000.runner-1.parquet",
        f"eksup/v1/clusters/dt={dt}/{run_id}-0000.runner-1.parquet",
        f"eksup/v1/json/findings/dt={dt}/{run_id}-0000.runner-1.jsonl",
        f"eksup/v1/json/clusters/dt={dt}/{run_id}-0000.runner-1.jsonl",
        f"eksup/v1/cluster-reports/dt={dt}/123456789012/us-east-1/healthy/{run_id}.runner-1.json",
        f"eksup/v1/cluster-reports/dt={dt}/123456789012/us-east-1/demo/{run_id}.runner-1.json",
        f"eksup/v1/runs/dt={dt}/{run_id}.runner-1.json",
    ])
    print("objects written to moto:\n" + "\n".join(keys))
    # The keys the binary writes are exactly those IAM lets this writer put (the patterns of
    # terraform/modules/object-keys), and none another writer may put.
    import iam_keys
    mine = iam_keys.patterns(str(tmp_path), "eksup/v1", ("runner-1",))
    assert [k for k in keys if not iam_keys.may_put(k, mine)] == []
    theirs = iam_keys.patterns(str(tmp_path), "eksup/v1", ("runner-10", "1", "runner"))
    assert [k for k in keys if iam_keys.may_put(k, theirs)] == []

    def get(key):
        return client.get_object(Bucket="fleet-reports", Key=key)["Body"].read()

    for table, rows_expected in (("findings", None), ("clusters", 2)):
        parquet_key = next(k for k in keys if k.startswith(f"eksup/v1/{table}/"))
        tbl = pq.read_table(io.BytesIO(get(parquet_key)))
        assert tbl.schema.remove_metadata().equals(declared_schema(tmp_path, table)), tbl.schema
        print(f"{table} schema:\n{tbl.schema}")
        jsonl = json_rows(get(parquet_key.replace(f"eksup/v1/{table}/", f"eksup/v1/json/{table}/").replace(".parquet", ".jsonl")).decode())
        assert [{k: normalize(v) for k, v in r.items()} for r in tbl.to_pylist()] == jsonl
        if rows_expected:
            assert tbl.num_rows == rows_expected
    findings = pq.read_table(io.BytesIO(get(next(k for k in keys if k.startswith("eksup/v1/findings/")))))
    reports = [json.loads(get(k)) for k in keys if "/cluster-reports/" in k]
    assert findings.num_rows == sum(len(r["findings"]) for r in reports)
    assert set(findings.column("run_id").to_pylist()) == {run_id}
    clusters = pq.read_table(io.BytesIO(get(next(k for k in keys if k.startswith("eksup/v1/clusters/"))))).to_pylist()
    healthy = next(c for c in clusters if c["cluster_name"] == "healthy")
    assert (healthy["status"], healthy["end_of_standard_support"], healthy["days_to_end_of_standard_support"]) == \
        ("ok", datetime.date(2026, 12, 2), 184)
    puts = json.loads(__import__("urllib.request").request.urlopen(f"{standin}/_standin/stats").read())["s3_puts"]
    # Six objects, and the manifest twice: `running` first, `complete` last.
    assert len(puts) == 8
    assert sum(1 for p in puts if "/runs/" in p["path"]) == 2
    for p in puts:
        assert p["x-amz-server-side-encryption"] == "aws:kms"
        assert p["x-amz-server-side-encryption-aws-kms-key-id"] == kms
        assert p["x-amz-expected-bucket-owner"] == ACCOUNT
    head = client.head_object(Bucket="fleet-reports", Key=keys[0])
    assert head["ServerSideEncryption"] == "aws:kms"


def test_two_runs_of_two_clusters_latest_state_in_duckdb(tmp_path):
    import duckdb
    write_config(tmp_path, [HEALTHY, DEMO], "directory: out\nstdout: false")
    first = run_eksup(["run"], tmp_path)
    assert first.code == 0, first.stderr
    second = run_eksup(["run"], tmp_path, env={"EKSUP_CHECKS__DISABLED": "K8S002,K8S005"})
    assert second.code == 0, second.stderr
    con = duckdb.connect()
    root = tmp_path / "out"
    rows = con.execute(f"""
        WITH ranked AS (
          SELECT *, row_number() OVER (PARTITION BY account_id, region, cluster_name ORDER BY run_time DESC) AS rn
          FROM read_parquet('{root}/clusters/**/*.parquet', hive_partitioning = true, hive_types_autocast = false))
        SELECT cluster_name, required_findings, typeof(dt), account_id FROM ranked WHERE rn = 1 ORDER BY cluster_name
    """).fetchall()
    print("latest state per cluster:", rows)
    runs = con.execute(f"SELECT count(DISTINCT run_id) FROM read_parquet('{root}/clusters/**/*.parquet')").fetchone()[0]
    assert runs == 2
    # The second run disabled K8S002 (3 required) and K8S005 (2 required) findings of demo.
    first_demo = con.execute(f"""SELECT required_findings FROM read_parquet('{root}/clusters/**/*.parquet')
                                 WHERE cluster_name = 'demo' ORDER BY run_time LIMIT 1""").fetchone()[0]
    assert rows == [("demo", first_demo - 5, "VARCHAR", "123456789012"), ("healthy", 0, "VARCHAR", "123456789012")]
    latest_findings = con.execute(f"""
        SELECT count(*) FROM read_parquet('{root}/findings/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)
        WHERE run_id = (SELECT max(run_id) FROM read_parquet('{root}/findings/**/*.parquet')) AND code IN ('K8S002', 'K8S005')
    """).fetchone()[0]
    assert latest_findings == 0


def test_stdout_json_lines_carry_cluster_code_remediation_resource(tmp_path):
    run = run_eksup(["run", "--snapshot", str(DEMO), "--output-dir", "out"], tmp_path)
    assert run.code == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    findings = [l for l in lines if l["event"] == "finding"]
    summaries = [l for l in lines if l["event"] == "cluster"]
    report = json.loads(next((tmp_path / "out" / "cluster-reports").rglob("*.json")).read_text())
    assert len(findings) == len(report["findings"]) and len(summaries) == 1
    for f in findings:
        for key in ("cluster", "code", "remediation", "resource_kind", "resource_namespace", "resource_name",
                    "message", "run_id", "account_id", "region", "timestamp", "level"):
            assert key in f, key
    first = findings[0]
    assert (first["cluster"], first["level"], first["category"]) == ("demo", "INFO", "aws")
    assert summaries[0]["status"] == "ok" and summaries[0]["required"] == report["summary"]["required"]
    assert "wrote 4 table file(s) in 1 batch(es), 1 report(s) under out" in run.stderr


def test_a_wrong_bucket_fails_before_any_cluster_is_read(moto, standin, tmp_path):
    from harness import http_json
    http_json(f"{standin}/_standin/reset", "POST", {})
    write_config(tmp_path, [DEMO], "directory: out\ns3: {bucket: no-such-bucket, force_path_style: true}")
    run = run_eksup(["run"], tmp_path, aws_url=standin)
    assert run.code == 3
    assert "no-such-bucket" in run.stderr and "error: cannot write" in run.stderr
    assert "no cluster was read" in run.stderr
    assert run.wall_seconds < 10, "fails in seconds, not after the collection"
    assert not (tmp_path / "out").exists(), "nothing was analyzed"
    assert run.stdout == ""
    calls = http_json(f"{standin}/_standin/stats")["calls"]
    assert calls == ["s3:PutObject"], "the manifest PUT is the only call"


def test_a_failing_target_gets_an_error_row_and_the_others_complete(eks_cluster, standin, tmp_path):
    name, _ = eks_cluster("healthy.yaml", version="1.34")
    write_config(tmp_path, [f"{{cluster: {name}}}", "{cluster: vanished}"], "directory: out\nstdout: false")
    run = run_eksup(["run"], tmp_path, aws_url=standin)
    assert run.code == 3, run.stderr
    clusters = pq.read_table(next((tmp_path / "out" / "clusters").rglob("*.parquet"))).to_pylist()
    by_name = {c["cluster_name"]: c for c in clusters}
    assert by_name[name]["status"] == "ok"
    assert by_name["vanished"]["status"] == "error"
    assert "cluster `vanished` does not exist" in by_name["vanished"]["error"]
    assert by_name["vanished"]["current_version"] is None


def test_flags_override_configured_targets_defaults(tmp_path):
    write_config(tmp_path, [DEMO], "directory: out\nstdout: false")
    run = run_eksup(["run", "--target-version", "1.34"], tmp_path)
    assert run.code == 0, run.stderr
    row = pq.read_table(next((tmp_path / "out" / "clusters").rglob("*.parquet"))).to_pylist()[0]
    assert (row["current_version"], row["target_version"]) == ("1.34", "1.34")


def test_schema_ddl_declares_partition_projection(tmp_path):
    run = run_eksup(["schema", "--format", "ddl"], tmp_path)
    assert run.code == 0
    assert "PARTITIONED BY (`dt` string)" in run.stdout and "'projection.dt.type' = 'date'" in run.stdout


def test_large_objects_go_up_in_parts(moto, standin, tmp_path):
    """Parts are at least 5 MiB (S3's minimum, MIN_PART in src/output/sink/s3.rs), so the
    findings have to exceed that: the bundled example plus 9,000 copies of its one-replica
    Deployment (one K8S finding each) makes JSON lines of about 6 MiB. Each object above
    the threshold goes up in ceil(size / 5 MiB) parts and reads back byte for byte as the
    directory sink wrote it in the same run."""
    import math
    from harness import http_json
    part = 5 * 1024 * 1024
    snapshot = json.loads(DEMO.read_text())
    workloads = snapshot["kubernetes"]["workloads"]
    single = next(w for w in workloads if w["name"] == "single")
    copies = 9000
    for i in range(copies):
        w = json.loads(json.dumps(single))
        w["namespace"], w["name"] = "bulk", f"single-{i:05d}"
        w["pod"]["labels"] = {"app": w["name"]}
        workloads.append(w)
    big_snapshot = tmp_path / "big.json"
    big_snapshot.write_text(json.dumps(snapshot))
    http_json(f"{standin}/_standin/reset", "POST", {})
    client = s3(moto)
    client.create_bucket(Bucket="parts")
    write_config(tmp_path, [big_snapshot],
                 f"stdout: false\ndirectory: out\ns3: {{bucket: parts, force_path_style: true, multipart_threshold_bytes: {part}}}")
    run = run_eksup(["run"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    calls = http_json(f"{standin}/_standin/stats")["calls"]
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="parts")["Contents"]]
    sizes = {k: client.head_object(Bucket="parts", Key=k)["ContentLength"] for k in keys}
    findings = next(k for k in keys if k.startswith("json/findings/"))
    assert sizes[findings] > part, sizes
    big = [k for k in keys if sizes[k] > part]
    for k in big:
        etag = client.head_object(Bucket="parts", Key=k)["ETag"].strip('"')
        assert etag.endswith(f"-{math.ceil(sizes[k] / part)}"), (k, sizes[k], etag)
    assert calls.count("s3:UploadPart") == sum(math.ceil(sizes[k] / part) for k in big) >= 2
    assert calls.count("s3:CreateMultipartUpload") == len(big) == calls.count("s3:CompleteMultipartUpload")
    # Every small object once, and the run manifest (runs/) twice: `running`, then `complete`.
    assert calls.count("s3:PutObject") == len(keys) - len(big) + 1
    tables_and_reports = [k for k in keys if not k.startswith("runs/")]
    assert set(big) <= set(tables_and_reports)
    for k in tables_and_reports:
        body = client.get_object(Bucket="parts", Key=k)["Body"].read()
        assert body == (tmp_path / "out" / k).read_bytes(), k
    # One line per finding: the example's own (as of the tests' day) and one per copy.
    example = run_eksup(["analyze", "--snapshot", str(DEMO), "--format", "json"], tmp_path).json()["findings"]
    lines = client.get_object(Bucket="parts", Key=findings)["Body"].read().splitlines()
    assert len(lines) == len(example) + copies
    assert sum(json.loads(line)["resource_namespace"] == "bulk" for line in lines) == copies