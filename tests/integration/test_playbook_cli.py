"""`eksup playbook` end to end: against moto + the fake API server it writes
<cluster>-v<target>-upgrade.md; from a snapshot it can print to stdout."""

from harness import ROOT, run_eksup
from test_aws_checks import TRIPS_AWS, eni_configs


def test_playbook_for_a_live_cluster_writes_the_default_file(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("healthy.yaml", version="1.32", aws=TRIPS_AWS)
    eni_configs(kube, "pod-a")
    run = run_eksup(["playbook", "--cluster", name], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    path = tmp_path / f"{name}-v1.33-upgrade.md"
    assert run.stderr.strip() == f"wrote {path.name}"
    md = path.read_text()
    assert md.startswith(f"# Upgrade playbook: {name} 1.32 → 1.33\n")
    assert f"aws eks update-cluster-version --region us-east-1 --name {name} --kubernetes-version 1.33" in md
    assert "#### Managed node group ng-al2 (1.33)" in md
    assert "· EKS008 · NodeGroup `ng-al2`" in md, "the node group's own findings are under it"
    assert "#### Self-managed node group asg-mixed (1.33)" in md and "through its mixed-instances policy" in md
    assert "#### Fargate profile fp-batch (1.33)" in md


def test_playbook_from_a_snapshot_to_stdout(tmp_path):
    run = run_eksup(["playbook", "--snapshot", str(ROOT / "examples" / "snapshot.json"), "--output", "-"], tmp_path)
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("# Upgrade playbook: demo 1.34 → 1.35\n")
    assert list(tmp_path.glob("*.md")) == []


def test_playbook_two_hops_from_a_snapshot(tmp_path):
    snap = str(ROOT / "tests" / "fixtures" / "snapshots" / "two-hop.json")
    run = run_eksup(["playbook", "--snapshot", snap, "--target-version", "1.35"], tmp_path)
    assert run.code == 0, run.stderr
    md = (tmp_path / "stepping-v1.35-upgrade.md").read_text()
    assert "## Hop 1: 1.33 to 1.34" in md and "## Hop 2: 1.34 to 1.35" in md
