"""EKS106 on the real binary: the cluster's certificate authorities as EKS answers
ListCertificateAuthorities / DescribeCertificateAuthority (served by the stand-in, which moto
lacks), judged as of AS_OF (2026-06-01), and their columns in the `clusters` table."""

import datetime
from collections import Counter

import pyarrow.parquet as pq

from aws_fixture import certificate_authority
from harness import http_json, run_eksup

SIGNING = certificate_authority("ca-0a1b2c3d", "IN_USE", "COMPLETE", created="2024-03-01",
                                not_after="2026-08-15", activated="2024-03-01")
# Appended by EKS 2026-05-20, still being distributed; EKS activates it by 2026-06-13.
SUCCESSOR = certificate_authority("ca-4e5f6a7b", "NOT_USED", "IN_PROGRESS", created="2026-05-20",
                                  not_after="2036-05-20", first="2026-06-06", final="2026-06-13")


def analyze(standin, tmp_path, name):
    http_json(f"{standin}/_standin/reset-calls", "POST", {})
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    return run.json(), Counter(http_json(f"{standin}/_standin/stats")["calls"])


def eks106(report):
    return [f for f in report["findings"] if f["code"] == "EKS106"]


def test_one_ca_far_from_expiry_is_silent_and_costs_one_call(eks_cluster, tmp_path, standin):
    only = certificate_authority("ca-9c8d7e6f", "IN_USE", "COMPLETE", created="2024-01-01", not_after="2034-01-01",
                                 activated="2024-01-01")
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={"certificate_authorities": [only]})
    report, calls = analyze(standin, tmp_path, name)
    assert eks106(report) == []
    assert "EKS106" not in {s["code"] for s in report["skipped_checks"]}, "it ran, and found nothing"
    # Outside a rotation the list says enough: no DescribeCertificateAuthority.
    assert (calls["eks:ListCertificateAuthorities"], calls["eks:DescribeCertificateAuthority"]) == (1, 0)


def test_a_successor_being_distributed_with_auto_activation_in_12_days_is_required(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={"certificate_authorities": [SIGNING, SUCCESSOR]})
    report, calls = analyze(standin, tmp_path, name)
    [f] = eks106(report)
    print("EKS106:", f["remediation"], f["message"])
    assert (f["remediation"], f["resource_kind"], f["resource_name"]) == ("required", "CertificateAuthority", "ca-4e5f6a7b")
    assert "EKS distribution IN_PROGRESS" in f["message"]
    assert "EKS activates it by 2026-06-13 (12 days) (it may from 2026-06-06)" in f["message"]
    assert "signing CA ca-0a1b2c3d expires on 2026-08-15 (75 days)" in f["message"]
    for client in ("kubeconfig", "CI system", "GitOps agent", "self-managed and hybrid nodes"):
        assert client in f["message"], client
    assert f["details"]["days_to_final_auto_activation"] == 12
    assert report["metadata"]["readiness"] == "blocked"
    assert calls["eks:ListCertificateAuthorities"] == 1 and calls["eks:DescribeCertificateAuthority"] == 2

    # The same cluster through `eksup run`: the clusters row carries the rotation, read back from Parquet.
    (tmp_path / "eksup.yaml").write_text(f"clusters:\n  - {{cluster: {name}}}\noutputs:\n  directory: out\n  stdout: false\n")
    run = run_eksup(["run", "--config", "eksup.yaml", "--as-of", "2026-06-01"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    [row] = pq.read_table(next((tmp_path / "out" / "clusters").rglob("*.parquet"))).to_pylist()
    assert (row["ca_successor_status"], row["ca_successor_distribution"]) == ("NOT_USED", "IN_PROGRESS")
    assert row["ca_next_auto_activation"] == datetime.date(2026, 6, 6), "the first auto-activation is still ahead"
    assert row["ca_signing_expires"] == datetime.date(2026, 8, 15)
    [finding] = [f for f in pq.read_table(next((tmp_path / "out" / "findings").rglob("*.parquet"))).to_pylist()
                 if f["code"] == "EKS106"]
    assert finding["remediation"] == "required"


def test_a_successor_far_from_its_dates_is_recommended_and_its_first_date_passed(eks_cluster, tmp_path, standin):
    signing = certificate_authority("ca-1", "IN_USE", "COMPLETE", created="2024-01-01", not_after="2027-01-01",
                                    activated="2024-01-01")
    successor = certificate_authority("ca-2", "NOT_USED", "COMPLETE", created="2026-04-01", not_after="2036-04-01",
                                      first="2026-05-15", final="2026-07-02")
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={"certificate_authorities": [signing, successor]})
    report, _ = analyze(standin, tmp_path, name)
    [f] = eks106(report)
    # 2026-07-02 is 31 days after 2026-06-01, the expiry 214: not yet required.
    assert f["remediation"] == "recommended"
    assert "EKS activates it by 2026-07-02 (31 days) (it may from 2026-05-15)" in f["message"]
    assert "EKS distribution COMPLETE" in f["message"]


def test_a_denied_list_skips_the_check_and_the_verdict_is_unknown(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={"certificate_authorities": [SIGNING, SUCCESSOR]})
    http_json(f"{standin}/_standin/faults", "POST", {"faults": [
        {"operation": "eks:ListCertificateAuthorities", "status": 403, "code": "AccessDeniedException", "times": -1}]})
    report, _ = analyze(standin, tmp_path, name)
    assert report["collection_errors"] == [{
        "source": "eks/certificate-authorities",
        "message": "ListCertificateAuthorities denied: add eks:ListCertificateAuthorities to eksup's IAM policy"}]
    skipped = {s["code"]: s for s in report["skipped_checks"]}
    assert skipped["EKS106"]["cause"] == "not_collected"
    assert eks106(report) == []
    assert report["metadata"]["readiness"] != "ready", "a check that could block did not look"


def test_a_failed_describe_is_a_source_error_too(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={"certificate_authorities": [SIGNING, SUCCESSOR]})
    http_json(f"{standin}/_standin/faults", "POST", {"faults": [
        {"operation": "eks:DescribeCertificateAuthority", "status": 500, "code": "ServerException", "times": -1}]})
    report, _ = analyze(standin, tmp_path, name)
    assert [e["source"] for e in report["collection_errors"]] == ["eks/certificate-authorities"]
    assert "DescribeCertificateAuthority" in report["collection_errors"][0]["message"]
    assert {s["code"]: s["cause"] for s in report["skipped_checks"]}["EKS106"] == "not_collected"
