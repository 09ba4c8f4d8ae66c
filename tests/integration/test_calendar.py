"""The calendar through 1.37 on the real binary (issue 19): 1.37 is a version EKS ships whose
support dates are not yet public. It is a valid target without AWS — from a snapshot and with
`--no-aws` against the real kube-apiserver — every hop's rules apply on the way through 1.36, and
its support is shown as unknown, never guessed."""

from harness import ROOT, run_eksup
from real_kube import serviceaccount, start_real, token_kubeconfig

HEALTHY = ROOT / "tests" / "fixtures" / "snapshots" / "healthy.json"


def test_a_snapshot_targets_137_through_136(tmp_path):
    run = run_eksup(["analyze", "--snapshot", str(HEALTHY), "--target-version", "1.37", "--format", "json",
                     "--as-of", "2026-12-02"], tmp_path)
    assert run.code == 0, run.stderr
    meta = run.json()["metadata"]
    assert (meta["current_version"], meta["target_version"]) == ("1.34", "1.37")
    assert meta["upgrade_path"] == ["1.35", "1.36", "1.37"]
    assert meta["target_support"] is None, "1.37's dates are not published: unknown, not invented"
    assert meta["support"]["days_to_end_of_standard_support"] == 0, "1.34 leaves standard support that day"
    text = run_eksup(["analyze", "--snapshot", str(HEALTHY), "--target-version", "1.37", "--as-of", "2026-12-02"],
                     tmp_path)
    assert "Support for 1.37 (target): unknown" in text.stdout, text.stdout
    # One past what eksup knows is still refused, naming the newest it knows.
    late = run_eksup(["analyze", "--snapshot", str(HEALTHY), "--target-version", "1.38"], tmp_path)
    assert late.code == 2 and "1.37" in late.stderr, late.stderr


def test_no_aws_targets_137_and_reads_services_only_past_136(tmp_path):
    kube = start_real(tmp_path / "control-plane", "upgrade-blockers.yaml")
    try:
        config = token_kubeconfig(tmp_path / "kubeconfig", kube, serviceaccount(kube))
        args = ["analyze", "--no-aws", "--kubeconfig", str(config), "--context", "edge", "--format", "json"]
        env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
        run = run_eksup([*args, "--target-version", "1.37"], tmp_path, env=env)
        assert run.code == 0, run.stderr
        report = run.json()
        assert report["metadata"]["upgrade_path"] == ["1.35", "1.36", "1.37"]
        assert report["metadata"]["target_support"] is None
        levels = {(f["code"], f["remediation"]) for f in report["findings"]}
        # 1.36's rules apply on the way: gitRepo and containerd 1.x are refused there.
        assert ("K8S015", "required") in levels and ("K8S014", "required") in levels, levels
        external = [f["resource_name"] for f in report["findings"] if f["code"] == "K8S016"]
        assert external == ["legacy-ips"]
        assert [r["path"] for r in kube.stats()].count("/api/v1/services") == 1
        # The default target (1.35) does not reach 1.36: no Service list at all.
        before = len(kube.stats())
        run = run_eksup(args, tmp_path, env=env)
        assert run.code == 0, run.stderr
        assert run.json()["metadata"]["target_version"] == "1.35"
        assert not any(r["path"].startswith("/api/v1/services") for r in kube.stats()[before:])
    finally:
        kube.stop()
