import itertools

import pytest

import certs as certgen
from harness import create_cluster, register_endpoint, start_kube, start_moto, start_ready, PY, FAKES

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
def eks_cluster(moto, standin, certs):
    """Factory: an EKS cluster in moto whose DescribeCluster leads to a fake API server
    serving `fixture` (or a generated cluster). Returns (cluster name, KubeServer)."""
    servers = []

    def make(fixture=None, version="1.34", generate=None):
        kube = start_kube(certs, fixture=fixture, generate=generate)
        servers.append(kube)
        name = f"cluster-{next(_names)}"
        create_cluster(moto, name, version)
        register_endpoint(standin, name, kube)
        return name, kube

    yield make
    for s in servers:
        s.stop()
