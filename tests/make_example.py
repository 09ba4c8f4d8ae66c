"""Regenerates examples/snapshot.json: the trips-everything Kubernetes fixture plus an AWS side
with findings of every kind, read through the real binary (--save-snapshot).

Run: .venv/bin/python tests/make_example.py  (after building the binary)
"""

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "fakes"), str(HERE / "integration")]

import aws_fixture  # noqa: E402
import certs as certgen  # noqa: E402
from harness import FAKES, PY, ROOT, register_endpoint, run_eksup, start_kube, start_moto, start_ready  # noqa: E402
from test_aws_checks import TRIPS_AWS, addon_catalog  # noqa: E402

ADDONS_135 = [
    addon_catalog("vpc-cni", ["v1.20.1-eksbuild.1", "v1.19.6-eksbuild.1"], "v1.20.1-eksbuild.1", "1.35"),
    addon_catalog("coredns", ["v1.12.2-eksbuild.1", "v1.11.4-eksbuild.2"], "v1.12.2-eksbuild.1", "1.35"),
    addon_catalog("kube-proxy", ["v1.35.0-eksbuild.1"], "v1.35.0-eksbuild.1", "1.35"),
    addon_catalog("aws-ebs-csi-driver", ["v1.44.0-eksbuild.1"], "v1.44.0-eksbuild.1", "1.35"),
]


def main():
    work = Path(tempfile.mkdtemp())
    chain = certgen.make_chain(work / "certs")
    moto_proc, moto = start_moto()
    standin_proc, standin = start_ready([PY, str(FAKES / "aws_standin.py"), "--upstream", moto], "stand-in")
    kube = start_kube(chain, fixture="trips-everything.yaml")
    try:
        spec = dict(TRIPS_AWS, version="1.34", addon_versions={"1.35": ADDONS_135})
        spec["insights"] = [dict(i, kubernetesVersion="1.35") for i in spec["insights"]]
        spec["addons"] = [dict(a) for a in spec["addons"]]
        spec["addons"][2]["addonVersion"] = "v1.34.0-eksbuild.1"
        subnets = aws_fixture.build(moto, standin, "demo", spec)
        register_endpoint(standin, "demo", kube)
        kube.add({"apiVersion": "crd.k8s.amazonaws.com/v1alpha1", "kind": "ENIConfig", "metadata": {"name": "us-east-1a"},
                  "spec": {"subnet": subnets["pod-a"]}})
        out = ROOT / "examples" / "snapshot.json"
        run = run_eksup(["analyze", "--cluster", "demo", "--save-snapshot", str(out), "--format", "json"], work, aws_url=standin)
        if run.code != 0:
            sys.exit(run.stderr)
        print(f"wrote {out}")
    finally:
        kube.stop()
        standin_proc.kill()
        moto_proc.kill()


if __name__ == "__main__":
    main()
