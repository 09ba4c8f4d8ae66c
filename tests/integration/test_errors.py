"""Bad input and unreachable clusters: a clear one-line error, exit 2 or 3, never a panic."""

from harness import run_eksup


def one_line_error(run):
    lines = [l for l in run.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{run.stderr}"
    assert lines[0].startswith("error: "), lines[0]
    assert "panicked" not in run.stderr
    return lines[0]


def test_bad_flag(tmp_path):
    run = run_eksup(["analyze", "--clustr", "x"], tmp_path)
    assert run.code == 2
    assert "--clustr" in one_line_error(run)


def test_bad_format_value(tmp_path):
    run = run_eksup(["analyze", "--cluster", "x", "--format", "yaml"], tmp_path)
    assert run.code == 2
    assert "yaml" in one_line_error(run)


def test_unknown_config_key_names_key_and_file(tmp_path):
    (tmp_path / ".eksup.yaml").write_text("checks:\n  K8S002:\n    min_replica: 3\n")
    run = run_eksup(["analyze", "--cluster", "x"], tmp_path)
    assert run.code == 2
    line = one_line_error(run)
    assert ".eksup.yaml" in line and "checks.K8S002" in line and "min_replica" in line


def test_unknown_environment_key(tmp_path):
    run = run_eksup(["analyze", "--cluster", "x"], tmp_path, env={"EKSUP_TARGET_VERSON": "1.31"})
    assert run.code == 2
    assert "target_verson" in one_line_error(run)


def test_malformed_target_version(tmp_path):
    run = run_eksup(["analyze", "--cluster", "x", "--target-version", "latest"], tmp_path)
    assert run.code == 2
    assert "latest" in one_line_error(run)


def test_unknown_and_lower_target_versions(tmp_path):
    from harness import ROOT
    snap = str(ROOT / "examples" / "snapshot.json")
    run = run_eksup(["analyze", "--snapshot", snap, "--target-version", "1.99"], tmp_path)
    assert run.code == 2
    assert "1.99 is newer than the newest EKS version" in one_line_error(run)
    run = run_eksup(["analyze", "--snapshot", snap, "--target-version", "1.20"], tmp_path)
    assert run.code == 2
    assert "below the control plane version 1.34" in one_line_error(run)


def test_missing_snapshot_file(tmp_path):
    run = run_eksup(["analyze", "--snapshot", "nope.json"], tmp_path)
    assert run.code == 2
    assert "nope.json" in one_line_error(run)


def test_no_cluster_given(tmp_path):
    run = run_eksup(["analyze"], tmp_path)
    assert run.code == 2
    assert "--cluster" in one_line_error(run)


def test_an_unparseable_cluster_ca_is_a_usage_error(moto, standin, tmp_path):
    """DescribeCluster works, but its certificate authority is not a certificate (and its
    endpoint has nothing listening): the client is never built, so nothing is dialled. A bad
    certificate is a usage error (exit 2), named as the root certificate."""
    import socket
    from harness import create_cluster, http_json
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    import base64
    from pathlib import Path
    create_cluster(moto, "gone", "1.31")
    ca = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n").decode()
    http_json(f"{standin}/_standin/clusters/gone", "POST", {"endpoint": f"https://127.0.0.1:{port}", "ca": ca})
    run = run_eksup(["analyze", "--cluster", "gone"], tmp_path, aws_url=standin)
    assert run.code == 2, run.stderr
    line = one_line_error(run)
    assert line.startswith("error: cannot build the Kubernetes client: "), line
    assert "failed to add a root certificate" in line, line


def test_unreachable_api_server_with_valid_ca(moto, standin, certs, tmp_path):
    import socket
    from harness import create_cluster, http_json
    import base64
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    create_cluster(moto, "dark", "1.31")
    ca = base64.b64encode(certs["ca"].read_bytes()).decode()
    http_json(f"{standin}/_standin/clusters/dark", "POST", {"endpoint": f"https://127.0.0.1:{port}", "ca": ca})
    run = run_eksup(["analyze", "--cluster", "dark"], tmp_path, aws_url=standin)
    assert run.code == 3
    assert "the Kubernetes API server cannot be read" in one_line_error(run)


def test_cluster_not_in_eks(moto, standin, tmp_path):
    run = run_eksup(["analyze", "--cluster", "does-not-exist"], tmp_path, aws_url=standin)
    assert run.code == 3
    assert "eks:DescribeCluster" in one_line_error(run)


def test_describe_cluster_denied(moto, standin, tmp_path):
    from harness import http_json
    http_json(f"{standin}/_standin/faults", "POST",
              {"faults": [{"operation": "eks:DescribeCluster", "status": 403, "code": "AccessDeniedException", "times": 1}]})
    run = run_eksup(["analyze", "--cluster", "whatever"], tmp_path, aws_url=standin)
    assert run.code == 3
    assert "add eks:DescribeCluster" in one_line_error(run)


def test_an_unreachable_aws_endpoint_reads_as_its_causes_not_a_debug_dump(fleet_data):
    """The ghost cluster's AWS endpoint refuses connections: its row names the call and the
    causes, without the SDK's Debug form (`DispatchFailure(…)`) in a table cell."""
    from fleet import GHOST
    errors = [r["error"] for r in fleet_data.json_rows("clusters") if r["cluster_name"] == GHOST["name"]]
    assert errors, "the ghost has rows"
    for e in errors:
        assert e.startswith("eks:DescribeCluster"), e
        assert "Connection refused" in e, e
        assert "DispatchFailure(" not in e and "ConnectorError {" not in e, e
