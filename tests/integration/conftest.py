import itertools

import pytest

import certs as certgen
import aws_fixture
import real_kube
from harness import http_json, register_endpoint, start_kube, start_moto, start_ready, PY, FAKES

_names = itertools.count(1)


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return certgen.make_chain(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def moto():
    proc, url = start_moto()
    yield url
    proc.kill()
    proc.wait()


@pytest.fixture(scope="session")
def standin(moto):
    proc, url = start_ready([PY, str(FAKES / "aws_standin.py"), "--upstream", moto], "AWS stand-in")
    yield url
    proc.kill()
    proc.wait()


@pytest.fixture
def eks_cluster(moto, standin, certs, tmp_path_factory):
    """Factory: an EKS cluster in moto whose DescribeCluster leads to an API server holding
    `fixture`: the real kube-apiserver of the fixture's minor (real_kube.py) when one is built
    and the test reads with eksup's EKS token, else the fake (a generated cluster, another
    minor, a static token, or `kube="fake"`). `aws` is an aws_fixture spec for the AWS side.
    moto and the stand-in start empty for each test. Returns (name, server)."""
    servers = []
    http_json(f"{moto}/moto-api/reset", "POST", {})
    http_json(f"{standin}/_standin/reset", "POST", {})

    def make(fixture=None, version="1.34", generate=None, aws=None, token_mode="eks", kube=None):
        real = kube == "real" or (kube is None and fixture is not None and generate is None
                                  and token_mode == "eks" and real_kube.fixture_minor(fixture) in real_kube.BUILT)
        if real:
            kube = real_kube.start_real(tmp_path_factory.mktemp("real-kube"), fixture)
        else:
            kube = start_kube(certs, fixture=fixture, generate=generate, token_mode=token_mode)
        servers.append(kube)
        name = f"cluster-{next(_names)}"
        spec = {"version": version, "subnets": {"a": ("us-east-1a", 24), "b": ("us-east-1b", 24)}}
        spec.update(aws or {})
        subnets = aws_fixture.build(moto, standin, name, spec)
        register_endpoint(standin, name, kube)
        kube.subnets = subnets
        return name, kube

    yield make
    for s in servers:
        s.stop()


@pytest.fixture(scope="session")
def fleet_data(tmp_path_factory):
    """The test fleet's tree, written once per session by the real binary (fleet.py)."""
    import fleet
    return fleet.build(tmp_path_factory.mktemp("fleet"))


def pytest_terminal_summary(terminalreporter):
    """How many tests read the real kube-apiserver, and how many still need the fake."""
    real, fake = real_kube.SERVED["real"], real_kube.SERVED["fake"]
    if real or fake:
        terminalreporter.write_line(
            f"Kubernetes API: {len(real)} test(s) on the real kube-apiserver, {len(fake - real)} on the fake only, "
            f"{len(real & fake)} on both")
