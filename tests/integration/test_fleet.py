"""Fleet mode: one runner assumes a role in each member account of moto (accounts isolated
through AssumeRole), discovers the clusters of every region, and reaches each cluster's own
fake API server with an EKS token that the server verifies (signed for that cluster name and
region, by that account's credentials). Faults are scoped: an account that cannot be entered,
a region not enabled, ListClusters denied, an API server down, one answering 403, one slower
than the deadline, one answering 429 to everything."""

import json
from collections import Counter

import boto3
import pytest

from real_kube import start_real

import tf_files
from harness import REGION, assumed, http_json, run_eksup, start_kube

RUNNER = "123456789012"
MEMBERS = ("111111111111", "222222222222")
DENIED = "333333333333"
REGIONS = ("us-east-1", "eu-west-1")
DISABLED = "ap-southeast-3"


def create_cluster(moto, creds, region, name):
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=moto, **creds)
    eks = boto3.client("eks", region_name=region, endpoint_url=moto, **creds)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i * 4}.0/24", AvailabilityZone=f"{region}{az}")
               ["Subnet"]["SubnetId"] for i, az in enumerate("ab")]
    eks.create_cluster(name=name, version="1.34", roleArn="arn:aws:iam::000000000000:role/eks",
                       resourcesVpcConfig={"subnetIds": subnets})


class Fleet:
    """Clusters across member accounts and regions, each behind its own API server: a real
    kube-apiserver whose token webhook accepts only EKS tokens signed for that cluster and
    region by that account's credentials, or the fake where the cluster has faults to play."""

    def __init__(self, moto, standin, certs, tmp_path_factory):
        self.moto, self.standin, self.certs, self.tmp = moto, standin, certs, tmp_path_factory
        self.servers = []
        http_json(f"{moto}/moto-api/reset", "POST", {})
        http_json(f"{standin}/_standin/reset", "POST", {})
        self.creds = {a: assumed(moto, a) for a in MEMBERS}

    def credentials(self, account):
        if account not in self.creds:
            self.creds[account] = assumed(self.moto, account)
        return self.creds[account]

    def add(self, account, region, name, faults=(), down=False, fixture="healthy.yaml"):
        create_cluster(self.moto, self.credentials(account), region, name)
        expect = (name, region, account, self.standin)
        if faults:
            kube = start_kube(self.certs, fixture=fixture, token_mode="eks-verified", expect=expect)
        else:
            kube = start_real(self.tmp.mktemp("fleet-kube"), fixture, expect=expect)
        self.servers.append(kube)
        if faults:
            kube.faults(*faults)
        http_json(f"{self.standin}/_standin/clusters/{name}", "POST", {"endpoint": kube.url, "ca": kube.ca_b64})
        if down:
            kube.stop()
        return kube

    def fault(self, **rule):
        http_json(f"{self.standin}/_standin/faults", "POST", {"faults": [{"times": -1, **rule}]})

    def close(self):
        for s in self.servers:
            s.stop()


@pytest.fixture
def fleet(moto, standin, certs, tmp_path_factory):
    f = Fleet(moto, standin, certs, tmp_path_factory)
    yield f
    f.close()


def write_fleet_config(tmp_path, accounts, regions, timeout=8):
    (tmp_path / "fleet.yaml").write_text(json.dumps({
        "fleet": {"role_name": "eksup-reader", "external_id": "ext-1", "accounts": list(accounts),
                  "regions": list(regions), "concurrency": 4, "cluster_timeout_seconds": timeout},
        "outputs": {"directory": "out", "stdout": True},
        "writer": "fleet",
    }))


def rows(tmp_path, table):
    return [json.loads(line) for f in sorted((tmp_path / "out" / "json" / table).rglob("*.jsonl"))
            for line in f.read_text().splitlines()]


def test_fleet_isolates_every_failure_and_completes_the_rest(fleet, tmp_path, standin):
    for region in REGIONS:
        fleet.add(MEMBERS[0], region, f"a-ok-{region}")
        fleet.add(MEMBERS[1], region, f"b-ok-{region}")
    fleet.add(MEMBERS[0], "us-east-1", "a-down", down=True)
    fleet.add(MEMBERS[0], "eu-west-1", "a-slow", faults=[{"path": ".*", "delay": 12, "times": -1}])
    fleet.add(MEMBERS[1], "us-east-1", "b-forbidden",
              faults=[{"path": ".*", "status": 403, "times": -1, "message": "User cannot get path /version"}])
    fleet.add(MEMBERS[1], "eu-west-1", "b-throttled", faults=[{"path": ".*", "status": 429, "retry_after": 1, "times": -1}])
    fleet.fault(operation="sts:AssumeRole", match=DENIED, code="AccessDenied", status=403)
    fleet.fault(operation="eks:ListClusters", account=MEMBERS[0], region=DISABLED, code="UnrecognizedClientException")
    fleet.fault(operation="eks:ListClusters", account=MEMBERS[1], region=DISABLED, code="AccessDeniedException")
    http_json(f"{standin}/_standin/reset-calls", "POST", {})

    write_fleet_config(tmp_path, [*MEMBERS, DENIED], [*REGIONS, DISABLED])
    run = run_eksup(["run", "--config", "fleet.yaml", "--as-of", "2026-06-01"], tmp_path, aws_url=standin, timeout=120)
    print(run.stderr[-3000:])
    assert run.code == 3, run.stderr

    got = {(r["account_id"], r["region"], r["cluster_name"]): r for r in rows(tmp_path, "clusters")}
    status = {k: r["status"] for k, r in got.items()}
    expected = {(a, r, f"{p}-ok-{r}"): "ok" for a, p in zip(MEMBERS, "ab") for r in REGIONS}
    expected.update({
        (MEMBERS[0], "us-east-1", "a-down"): "error",
        (MEMBERS[0], "eu-west-1", "a-slow"): "error",
        (MEMBERS[1], "us-east-1", "b-forbidden"): "error",
        (MEMBERS[1], "eu-west-1", "b-throttled"): "partial",
        (MEMBERS[0], DISABLED, "*"): "error",
        (MEMBERS[1], DISABLED, "*"): "error",
        **{(DENIED, r, "*"): "error" for r in (*REGIONS, DISABLED)},
    })
    assert status == expected

    reason = {k: r["error"] or "" for k, r in got.items()}
    assert "cannot be read at https://127.0.0.1" in reason[(MEMBERS[0], "us-east-1", "a-down")]
    assert "cluster_timeout_seconds (8 s)" in reason[(MEMBERS[0], "eu-west-1", "a-slow")]
    forbidden = reason[(MEMBERS[1], "us-east-1", "b-forbidden")]
    assert "HTTP 403" in forbidden and "access entry" in forbidden and "`eksup-readers`" in forbidden
    assert "region ap-southeast-3 is not enabled for account 111111111111" in reason[(MEMBERS[0], DISABLED, "*")]
    assert "eks:ListClusters denied" in reason[(MEMBERS[1], DISABLED, "*")]
    for r in (*REGIONS, DISABLED):
        assert "sts:AssumeRole into arn:aws:iam::333333333333:role/eksup-reader denied" in reason[(DENIED, r, "*")]

    # 429 to everything: within the deadline, Kubernetes checks skipped with the reason and
    # the AWS checks complete.
    report = json.loads(next((tmp_path / "out" / "cluster-reports").rglob("b-throttled/*.json")).read_text())
    skipped = {s["code"]: s["reason"] for s in report["skipped_checks"]}
    assert all(code in skipped for code in ("K8S001", "K8S002", "K8S004")), skipped
    assert "429" in skipped["K8S002"]
    # AWS and EKS checks run unless they need a Kubernetes source (AWS002 reads ENIConfigs).
    for code, why in skipped.items():
        if code.startswith(("AWS", "EKS")):
            assert "kubernetes/" in why, (code, why)
    assert {"AWS001", "AWS003", "EKS001", "EKS101"}.isdisjoint(skipped), skipped
    assert got[(MEMBERS[1], "eu-west-1", "b-throttled")]["duration_ms"] < 8000

    # Each healthy cluster was read with its own account's token (the fake servers reject
    # any other) and analyzed completely.
    for key, r in got.items():
        if r["status"] == "ok":
            assert r["nodes"] > 0 and r["collection_errors"] == 0, r

    # Account/region-scoped sources are read once per (account, region), not per cluster.
    scoped = Counter((c["account"], c["region"], c["op"]) for c in http_json(f"{standin}/_standin/stats")["scoped"])
    for account in MEMBERS:
        for region in REGIONS:
            for op, n in (("servicequotas:GetServiceQuota", 3), ("eks:DescribeClusterVersions", 1),
                          ("eks:DescribeAddonVersions", 1), ("ec2:DescribeInstances", 1), ("ec2:DescribeVolumes", 1),
                          ("eks:ListClusters", 1), ("eks:DescribeCluster", 2)):
                assert scoped[(account, region, op)] == n, (account, region, op, scoped[(account, region, op)])
    assumes = [c for c in http_json(f"{standin}/_standin/stats")["scoped"] if c["op"] == "sts:AssumeRole"]
    assert len(assumes) == 3 and {c["account"] for c in assumes} == {RUNNER}, "one AssumeRole per account, as the runner"
    # What each AssumeRole asks for: the member role, the external ID, a session named after
    # the run and the source identity `eksup` (which is why the runner policy and the member
    # trust in terraform/ allow sts:SetSourceIdentity: AWS refuses the call otherwise).
    asked = http_json(f"{standin}/_standin/stats")["assume_role"]
    assert sorted(a["RoleArn"] for a in asked) == sorted(
        f"arn:aws:iam::{a}:role/eksup-reader" for a in (*MEMBERS, DENIED))
    for a in asked:
        assert a["ExternalId"] == "ext-1" and a["SourceIdentity"] == "eksup", a
        assert a["RoleSessionName"].startswith("eksup-"), a
    assert "summary:" in run.stderr and "slowest clusters:" in run.stderr and "requests:" in run.stderr


def test_healthy_fleet_exits_0_and_equals_per_cluster_analyze(fleet, tmp_path, standin):
    names = []
    for a, p in zip(MEMBERS, "ab"):
        for region in REGIONS:
            fleet.add(a, region, f"{p}-{region}", fixture="trips-everything.yaml" if p == "a" else "healthy.yaml")
            names.append((a, region, f"{p}-{region}"))
    write_fleet_config(tmp_path, MEMBERS, REGIONS)
    run = run_eksup(["run", "--config", "fleet.yaml", "--as-of", "2026-06-01"], tmp_path, aws_url=standin, timeout=120)
    assert run.code == 0, run.stderr
    print(run.stderr[-2000:])
    clusters = rows(tmp_path, "clusters")
    assert sorted((r["account_id"], r["region"], r["cluster_name"], r["status"]) for r in clusters) == \
        sorted((*n, "ok") for n in names)
    fleet_findings = Counter((f["account_id"], f["region"], f["cluster_name"], f["code"], f["resource_kind"],
                              f["resource_namespace"], f["resource_name"], f["message"]) for f in rows(tmp_path, "findings"))
    single = Counter()
    for account, region, name in names:
        creds = assumed(standin, account)
        env = {"AWS_ACCESS_KEY_ID": creds["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
               "AWS_SESSION_TOKEN": creds["aws_session_token"]}
        one = run_eksup(["analyze", "--cluster", name, "--region", region, "--format", "json", "--as-of", "2026-06-01"],
                        tmp_path, aws_url=standin, env=env)
        assert one.code == 0, one.stderr
        for f in one.json()["findings"]:
            single[(account, region, name, f["code"], f["resource_kind"], f["resource_namespace"], f["resource_name"],
                    f["message"])] += 1
    assert fleet_findings == single
    per_cluster = Counter(k[2] for k in fleet_findings.elements())
    assert per_cluster["a-us-east-1"] > 10 and per_cluster["a-eu-west-1"] > 10, per_cluster


def test_dry_run_prints_the_plan_without_calling_any_api(tmp_path, standin):
    http_json(f"{standin}/_standin/reset-calls", "POST", {})
    write_fleet_config(tmp_path, MEMBERS, REGIONS)
    run = run_eksup(["run", "--config", "fleet.yaml", "--dry-run", "--shard", "1/2"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    assert "fleet accounts: 2" in run.stdout and "(account, region) pairs: 4" in run.stdout
    assert "shard: 1/2" in run.stdout and "directory out" in run.stdout
    assert http_json(f"{standin}/_standin/stats")["calls"] == []
    (tmp_path / "bad.yaml").write_text("fleet: {role_name: r, accounts: [111111111111], regions: [us-east-1]}\n")
    bad = run_eksup(["run", "--config", "bad.yaml", "--dry-run"], tmp_path)
    assert bad.code == 2 and "quote it" in bad.stderr, bad.stderr


def organization(moto):
    """An AWS Organization in moto whose management account is the runner's:

    root ── R
      ├── workloads ── P, X (excluded), S (SUSPENDED)
      │     └── team ── N
      │           └── deep ── 20 SUSPENDED accounts, then D (on the second page)
      └── sandbox ── Y

    Returns {name: account id or OU id}."""
    org = boto3.client("organizations", region_name=REGION, endpoint_url=moto, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    org.create_organization(FeatureSet="ALL")
    ids = {"root": org.list_roots()["Roots"][0]["Id"]}
    for name, parent in (("workloads", "root"), ("team", "workloads"), ("deep", "team"), ("sandbox", "root")):
        ids[name] = org.create_organizational_unit(ParentId=ids[parent], Name=name)["OrganizationalUnit"]["Id"]

    def account(name, ou, suspended=False):
        acct = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]["AccountId"]
        if ou != "root":
            org.move_account(AccountId=acct, SourceParentId=ids["root"], DestinationParentId=ids[ou])
        if suspended:
            org.close_account(AccountId=acct)
        return acct

    for name, ou, suspended in (("R", "root", False), ("P", "workloads", False), ("X", "workloads", False),
                                ("S", "workloads", True), ("N", "team", False),
                                # ListAccountsForParent answers 20 accounts a page: D comes on page 2.
                                *((f"filler{i}", "deep", True) for i in range(20)), ("D", "deep", False),
                                ("Y", "sandbox", False)):
        ids[name] = account(name, ou, suspended)
    return ids


def organization_run(tmp_path, standin, name, organization_settings, code=0):
    """One `eksup run` over the Organization: (run, clusters rows by key, Organizations calls
    by operation, accounts whose clusters were listed)."""
    cwd = tmp_path / name
    cwd.mkdir()
    fleet = {"role_name": "eksup-reader", "organization": organization_settings, "regions": list(REGIONS),
             "concurrency": 4, "cluster_timeout_seconds": 30}
    (cwd / "fleet.yaml").write_text(json.dumps({"fleet": fleet, "outputs": {"directory": "out"}, "writer": "fleet"}))
    before = len(http_json(f"{standin}/_standin/stats")["scoped"])
    run = run_eksup(["run", "--config", "fleet.yaml", "--as-of", "2026-06-01"], cwd, aws_url=standin, timeout=120)
    assert run.code == code, run.stderr
    scoped = http_json(f"{standin}/_standin/stats")["scoped"][before:]
    # The run's own request counter includes the Organizations calls: it equals what the
    # stand-in received.
    assert f"requests: {len(scoped)} AWS," in run.stderr, (len(scoped), run.stderr[-800:])
    if code:
        return run, rows(cwd, "clusters"), None, None
    clusters = {(r["account_id"], r["region"], r["cluster_name"]): r["status"] for r in rows(cwd, "clusters")}
    org_calls = Counter(c["op"] for c in scoped if c["op"].startswith("organizations:"))
    assert {c["account"] for c in scoped if c["op"].startswith("organizations:")} <= {RUNNER}, "as the runner"
    entered = {c["account"] for c in scoped if c["op"] == "eks:ListClusters"}
    return run, clusters, org_calls, entered


def test_organization_discovery_walks_nested_ous(fleet, tmp_path, standin, moto):
    ids = organization(moto)
    fleet.add(ids["R"], "us-east-1", "r-root")
    fleet.add(ids["P"], "us-east-1", "p-workloads")
    fleet.add(ids["N"], "eu-west-1", "n-team")
    fleet.add(ids["D"], "us-east-1", "d-deep")
    fleet.add(ids["Y"], "eu-west-1", "y-sandbox")
    # Never reached (excluded, suspended: its State, the stand-in drops the retired Status):
    # no API server behind them.
    create_cluster(moto, fleet.credentials(ids["X"]), "us-east-1", "x-excluded")
    create_cluster(moto, fleet.credentials(ids["S"]), "us-east-1", "s-suspended")
    cluster = {"R": ("us-east-1", "r-root"), "P": ("us-east-1", "p-workloads"), "N": ("eu-west-1", "n-team"),
               "D": ("us-east-1", "d-deep"), "Y": ("eu-west-1", "y-sandbox")}

    def expected(*names):
        return {(ids[n], *cluster[n]): "ok" for n in names}

    # The workloads OU: its accounts and those of team and deep under it (D on the second
    # page of deep's accounts), not X (excluded), S (suspended), R (root) or Y (sandbox).
    run, clusters, calls, entered = organization_run(tmp_path, standin, "ou", {"ou_ids": [ids["workloads"]],
                                                                               "exclude": [ids["X"]]})
    assert clusters == expected("P", "N", "D"), run.stderr
    assert entered == {ids["P"], ids["N"], ids["D"]}
    # workloads, team, deep (two pages); each OU's child OUs once; sandbox never read.
    assert calls == {"organizations:ListAccountsForParent": 4, "organizations:ListOrganizationalUnitsForParent": 3}
    walk_actions = set(calls)

    # An OU listed and also nested under another listed OU (and listed twice) is read once.
    run, clusters, calls, entered = organization_run(
        tmp_path, standin, "overlap", {"ou_ids": [ids["team"], ids["workloads"], ids["team"]],
                                       "exclude": [ids["X"]]})
    assert clusters == expected("P", "N", "D"), run.stderr
    assert calls == {"organizations:ListAccountsForParent": 4, "organizations:ListOrganizationalUnitsForParent": 3}

    # No ou_ids: the whole Organization from ListAccounts (the runner's own account included,
    # it has no cluster); the SUSPENDED accounts are still skipped.
    run, clusters, calls, entered = organization_run(tmp_path, standin, "all", {"exclude": [ids["X"]]})
    assert clusters == expected("R", "P", "N", "D", "Y"), run.stderr
    assert entered == {RUNNER, *(ids[n] for n in ("R", "P", "N", "D", "Y"))}
    assert calls == {"organizations:ListAccounts": 1}

    # The runner role's Organizations actions (terraform/iam.tf) are exactly the calls made.
    policy = tf_files.merged(tf_files.TERRAFORM)["data"]["aws_iam_policy_document"]["runner"]
    org_statement = next(d["statement"] for d in policy["dynamic"]
                         if d["statement"]["content"][0]["sid"] == "DiscoverOrganizationAccounts")
    allowed = set(org_statement["content"][0]["actions"])
    assert allowed == walk_actions | set(calls)

    # Listing the child OUs denied: one error row that names the action and the OU.
    fleet.fault(operation="organizations:ListOrganizationalUnitsForParent", code="AccessDeniedException",
                status=400)
    run, failed, _, _ = organization_run(tmp_path, standin, "denied", {"ou_ids": [ids["workloads"]]}, code=3)
    assert [(r["account_id"], r["status"]) for r in failed] == [(None, "error")], failed
    assert (f"organizations:ListOrganizationalUnitsForParent for {ids['workloads']} failed from the runner's "
            "account") in failed[0]["error"], failed[0]["error"]
