"""Regenerates the committed snapshots through the real binary (`--save-snapshot`) against
moto + the stand-in + the fake Kubernetes API server:

- examples/snapshot.json: findings of every kind (the README's bundled example): the
  trips-everything cluster with the upgrade-blockers objects (issue 11's checks) and the
  self-managed Karpenter and CRD objects (issue 12's EKS103, EKS008 by `al2@` alias, K8S104,
  K8S105 — the CRD list switched on) added;
- tests/fixtures/snapshots/{healthy,two-hop,mixed-capacity}.json: the playbook fixtures.

Run: .venv/bin/python tests/make_snapshots.py  (after `cargo build`)
"""

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "fakes"), str(HERE / "integration")]

import aws_fixture  # noqa: E402
import certs as certgen  # noqa: E402
from harness import FAKES, PY, ROOT, http_json, register_endpoint, run_eksup, start_kube, start_moto, start_ready  # noqa: E402
from test_aws_checks import TRIPS_AWS, addon_catalog  # noqa: E402


def catalog(version, pairs):
    return [addon_catalog(name, versions, versions[0], version) for name, versions in pairs]


ADDONS = [("vpc-cni", "v1.19.2-eksbuild.1"), ("coredns", "v1.11.4-eksbuild.2"),
          ("kube-proxy", "v1.34.0-eksbuild.2"), ("eks-pod-identity-agent", "v1.3.8-eksbuild.2")]
TWO_SUBNETS = {"a": ("us-east-1a", 24), "b": ("us-east-1b", 24), "c": ("us-east-1c", 24)}

# The example's insights read like the ones EKS publishes (upgrade readiness, and the hybrid-nodes
# misconfiguration checks), by id of TRIPS_AWS's insights: same categories, statuses and count.
REALISTIC = {
    "insight-1": dict(
        name="Kubelet version skew",
        description="Checks for worker nodes with a kubelet version that will be more than the supported "
                    "number of minor versions behind the control plane after the upgrade.",
        reason="Node(s) with a kubelet more than 3 minor versions older than Kubernetes 1.35 were detected.",
        recommendation="Upgrade the affected nodes to a kubelet within 3 minor versions of 1.35 before "
                       "upgrading the control plane."),
    "insight-2": dict(
        name="Kube-proxy version skew",
        description="Checks the version of kube-proxy against the cluster's Kubernetes version.",
        reason="kube-proxy on some nodes is older than the kubelet on those nodes.",
        recommendation="Update kube-proxy to the version for the cluster's Kubernetes version, then keep it "
                       "in step with each upgrade."),
    "insight-3": dict(
        name="Deprecated APIs removed in Kubernetes v1.35",
        description="Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes v1.35.",
        reason="No deprecated API usage detected within the last 30 days.",
        recommendation="No action required."),
    "insight-4": dict(
        name="Amazon EKS Hybrid Nodes: webhooks on hybrid nodes",
        description="Checks whether admission webhooks that run on hybrid nodes are reachable from the "
                    "EKS control plane.",
        reason="Webhook pods run on hybrid nodes, but the cluster has no remote pod network configured.",
        recommendation="Configure remotePodNetworks for the cluster and make the pod CIDR routable from "
                       "your on-premises network, or run the webhooks on cloud nodes."),
    "insight-5": dict(
        name="Amazon EKS Hybrid Nodes: remote network configuration",
        description="Checks that the cluster's remote node and pod networks match the hybrid nodes' addresses.",
        reason="The check could not complete: no hybrid nodes have registered with the cluster yet.",
        recommendation="Register hybrid nodes, or remove the remote network configuration if the cluster "
                       "does not use them."),
    "insight-6": dict(
        name="EKS add-on version compatibility",
        description="Checks the version of installed EKS add-ons to ensure they are compatible with the next "
                    "version of Kubernetes.",
        reason="Installed add-on versions are not compatible with Kubernetes 1.35: coredns, kube-proxy.",
        recommendation="Update the add-ons to a version that supports 1.35 (aws eks describe-addon-versions "
                       "--kubernetes-version 1.35) before upgrading."),
}


def realistic(insight):
    text = REALISTIC[insight["id"]]
    return dict(insight, kubernetesVersion="1.35", name=text["name"], description=text["description"],
                recommendation=text["recommendation"],
                insightStatus=dict(insight["insightStatus"], reason=text["reason"]))


EXAMPLE = dict(
    TRIPS_AWS, version="1.34",
    addon_versions={"1.35": [
        addon_catalog("vpc-cni", ["v1.20.1-eksbuild.1", "v1.19.6-eksbuild.1"], "v1.20.1-eksbuild.1", "1.35"),
        addon_catalog("coredns", ["v1.12.2-eksbuild.1", "v1.11.4-eksbuild.2"], "v1.12.2-eksbuild.1", "1.35"),
        addon_catalog("kube-proxy", ["v1.35.0-eksbuild.1"], "v1.35.0-eksbuild.1", "1.35"),
        addon_catalog("aws-ebs-csi-driver", ["v1.44.0-eksbuild.1"], "v1.44.0-eksbuild.1", "1.35"),
    ]},
    insights=[realistic(i) for i in TRIPS_AWS["insights"]],
    addons=[dict(a, addonVersion="v1.34.0-eksbuild.1") if a["addonName"] == "kube-proxy" else a for a in TRIPS_AWS["addons"]],
)

HEALTHY = {
    "version": "1.34", "subnets": TWO_SUBNETS, "cluster_subnets": ["a", "b"],
    "node_groups": [{"name": "general", "subnets": ["a", "b"], "ami_type": "AL2023_x86_64_STANDARD"}],
    "addons": [{"addonName": n, "addonVersion": v} for n, v in ADDONS],
    "addon_versions": {"1.35": catalog("1.35", [("vpc-cni", ["v1.20.1-eksbuild.1", "v1.19.2-eksbuild.1"]),
                                                ("coredns", ["v1.12.2-eksbuild.1", "v1.11.4-eksbuild.2"]),
                                                ("kube-proxy", ["v1.35.0-eksbuild.1", "v1.34.0-eksbuild.2"]),
                                                ("eks-pod-identity-agent", ["v1.3.8-eksbuild.2"])])},
}

TWO_HOP = dict(HEALTHY, version="1.33", addons=[{"addonName": n, "addonVersion": v.replace("v1.34.0", "v1.33.3")} for n, v in ADDONS],
               addon_versions={
                   "1.34": catalog("1.34", [("vpc-cni", ["v1.19.6-eksbuild.1", "v1.19.2-eksbuild.1"]),
                                            ("coredns", ["v1.11.4-eksbuild.2"]),
                                            ("kube-proxy", ["v1.34.0-eksbuild.2", "v1.33.3-eksbuild.2"]),
                                            ("eks-pod-identity-agent", ["v1.3.8-eksbuild.2"])]),
                   "1.35": HEALTHY["addon_versions"]["1.35"],
               })

MIXED = dict(
    HEALTHY,
    node_groups=[
        {"name": "general", "subnets": ["a", "b"], "ami_type": "AL2023_x86_64_STANDARD"},
        {"name": "gpu-custom-ami", "subnets": ["b", "c"], "ami_type": "CUSTOM", "template": {"versions": 4, "use": "4"}},
        {"name": "arm-lt", "subnets": ["a", "c"], "ami_type": "AL2023_ARM_64_STANDARD", "template": {"versions": 2, "use": "$Latest"}},
    ],
    self_managed=[
        {"name": "legacy-workers", "subnets": ["a", "b"], "template": {"versions": 3, "use": "$Latest"}},
        {"name": "old-lc-workers", "subnets": ["c"], "launch_configuration": True},
    ],
    fargate=[{"name": "serverless", "subnets": ["a", "b"], "namespaces": ["batch", "jobs"]}],
)


def at_version(fixture, old, new, work):
    """A copy of a Kubernetes fixture with every `vOLD.` version (server, kubelets, images) at NEW."""
    text = (ROOT / "tests" / "fixtures" / "clusters" / fixture).read_text().replace(f"v{old}.", f"v{new}.")
    path = work / f"{fixture}-{new}.yaml"
    path.write_text(text)
    return path


def combined(work, base, *extras):
    """`base` plus the objects of each of `extras` that `base` does not already name (kind,
    namespace, name), their versions moved to the base's minor: one cluster on which every
    check fires. The served CRDs and the deprecated APIs requested of the extras' fake API
    servers join the base's; an API removed before the base's version cannot have been called
    and is left out."""
    import yaml
    clusters = ROOT / "tests" / "fixtures" / "clusters"
    docs = [d for d in yaml.safe_load_all((clusters / base).read_text()) if d]
    info = next(d for d in docs if d["kind"] == "FakeClusterInfo")
    minor = info["gitVersion"].lstrip("v").split(".")[:2]
    seen = {(d["kind"], d.get("metadata", {}).get("namespace"), d.get("metadata", {}).get("name")) for d in docs}
    for extra in extras:
        text = (clusters / extra).read_text()
        extra_docs = [d for d in yaml.safe_load_all(text) if d]
        other = next((d for d in extra_docs if d["kind"] == "FakeClusterInfo"), {})
        if "gitVersion" in other:
            old = ".".join(other["gitVersion"].lstrip("v").split(".")[:2])
            extra_docs = [d for d in yaml.safe_load_all(text.replace(f"v{old}.", f"v{'.'.join(minor)}.")) if d]
        for d in extra_docs:
            if d["kind"] == "FakeClusterInfo":
                for crd in d.get("crds", []):
                    if crd not in info.setdefault("crds", []):
                        info["crds"].append(crd)
                for api in d.get("deprecatedApiRequests", []):
                    removed = api.get("removed_release", "")
                    if not removed or [int(x) for x in removed.split(".")] > [int(x) for x in minor]:
                        info.setdefault("deprecatedApiRequests", []).append(api)
            elif (d["kind"], d["metadata"].get("namespace"), d["metadata"].get("name")) not in seen:
                docs.append(d)
    path = work / "+".join([base, *extras])
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def capture(moto, standin, chain, work, name, kube_fixture, spec, out, target=None, eni_subnet=None, config=None):
    http_json(f"{moto}/moto-api/reset", "POST", {})
    http_json(f"{standin}/_standin/reset", "POST", {})
    kube = start_kube(chain, fixture=kube_fixture)
    try:
        subnets = aws_fixture.build(moto, standin, name, spec)
        register_endpoint(standin, name, kube)
        if eni_subnet:
            kube.add({"apiVersion": "crd.k8s.amazonaws.com/v1alpha1", "kind": "ENIConfig",
                      "metadata": {"name": "us-east-1a"}, "spec": {"subnet": subnets[eni_subnet]}})
        args = ["analyze", "--cluster", name, "--save-snapshot", str(out), "--format", "json"]
        if target:
            args += ["--target-version", target]
        settings = work / ".eksup.yaml"
        settings.unlink(missing_ok=True)
        if config:
            settings.write_text(config)
        run = run_eksup(args, work, aws_url=standin)
        settings.unlink(missing_ok=True)
        if run.code != 0:
            sys.exit(run.stderr)
        print(f"wrote {out}")
    finally:
        kube.stop()


def main():
    work = Path(tempfile.mkdtemp())
    chain = certgen.make_chain(work / "certs")
    moto_proc, moto = start_moto()
    standin_proc, standin = start_ready([PY, str(FAKES / "aws_standin.py"), "--upstream", moto], "stand-in")
    fixtures = ROOT / "tests" / "fixtures" / "snapshots"
    fixtures.mkdir(parents=True, exist_ok=True)
    try:
        capture(moto, standin, chain, work, "demo",
                combined(work, "trips-everything.yaml", "upgrade-blockers.yaml", "karpenter.yaml", "deprecated-apis.yaml"),
                EXAMPLE, ROOT / "examples" / "snapshot.json",
                eni_subnet="pod-a", config="checks:\n  K8S105:\n    enabled: true\n")
        capture(moto, standin, chain, work, "healthy", "healthy.yaml", HEALTHY, fixtures / "healthy.json")
        capture(moto, standin, chain, work, "stepping", at_version("healthy.yaml", "1.34", "1.33", work), TWO_HOP,
                fixtures / "two-hop.json", target="1.35")
        capture(moto, standin, chain, work, "mixed", "healthy.yaml", MIXED, fixtures / "mixed-capacity.json")
    finally:
        standin_proc.kill()
        moto_proc.kill()


if __name__ == "__main__":
    main()
