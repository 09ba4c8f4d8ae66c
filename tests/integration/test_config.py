"""The configuration through the real binary: layers merged before they are validated,
identifiers kept as text from the file, the environment and the flags (shown by
`eksup run --dry-run`, which prints the plan and the outputs and calls no API), and a
stdout-only configuration that writes nothing to disk.

The dry runs get a closed port as their AWS endpoint: one that called an API would fail."""

import json
import re
import stat
import subprocess
import urllib.parse

import yaml

from harness import REGION, eksup_bin, clean_env, run_eksup
from manifests import BASE, find, render, tool
from real_kube import serviceaccount
from test_in_cluster import pod_launcher

CLOSED = "http://127.0.0.1:9"
FLEET = {
    "fleet": {
        "role_name": "eksup-reader",
        "accounts": ["011111111111"],
        "regions": ["us-east-1", "eu-west-1"],
        "tags": {"team": "007"},
        "concurrency": 8,
    },
    "outputs": {"s3": {"bucket": "fleet-reports", "prefix": "eksup", "expected_bucket_owner": "012345678901"}},
}


def as_yaml(config):
    """JSON, which is YAML with every string quoted. PyYAML (YAML 1.1) writes 012345678901
    unquoted, since 8 and 9 make it no octal number, and eksup's YAML 1.2 reader then
    reads a number: the mistake the configuration refuses."""
    return json.dumps(config, indent=2)


def dry_run(tmp_path, text, env=None, args=()):
    config = tmp_path / "config.yaml"
    config.write_text(text)
    return run_eksup(["run", "--dry-run", "--config", str(config), *args], tmp_path, aws_url=CLOSED, env=env)


def test_a_variable_sets_one_key_of_the_files_fleet_section(tmp_path):
    text = as_yaml(FLEET)
    alone = dry_run(tmp_path, text)
    assert alone.code == 0, alone.stderr
    run = dry_run(tmp_path, text, env={"EKSUP_FLEET__CONCURRENCY": "32"})
    assert run.code == 0, run.stderr
    assert "concurrency: 32 clusters" in run.stdout and "concurrency: 8 clusters" in alone.stdout
    # Everything else is the file's.
    assert run.stdout.replace("concurrency: 32", "concurrency: 8") == alone.stdout
    assert "arn:aws:iam::011111111111:role/eksup-reader" in run.stdout
    assert "fleet regions: us-east-1, eu-west-1" in run.stdout and "tags team=007" in run.stdout


def test_identifiers_keep_their_leading_zeros_from_file_environment_and_flags(tmp_path):
    # The file, quoted.
    run = dry_run(tmp_path, as_yaml(FLEET))
    assert run.code == 0, run.stderr
    assert "s3://fleet-reports/eksup (owner 012345678901)" in run.stdout
    # The environment, over a file without an owner.
    no_owner = {**FLEET, "outputs": {"s3": {"bucket": "fleet-reports", "prefix": "eksup"}}}
    run = dry_run(tmp_path, as_yaml(no_owner), env={
        "EKSUP_OUTPUTS__S3__EXPECTED_BUCKET_OWNER": "012345678901",
        "EKSUP_FLEET__ACCOUNTS": "012345678901",
        "EKSUP_FLEET__TAGS__TEAM": "0042",
    })
    assert run.code == 0, run.stderr
    assert "(owner 012345678901)" in run.stdout
    assert "arn:aws:iam::012345678901:role/eksup-reader" in run.stdout and "tags team=0042" in run.stdout
    # The flags: the cluster, the bucket and prefix of --s3 (which keeps the file's owner).
    one = {"outputs": {"s3": {"bucket": "b", "expected_bucket_owner": "000000000001"}}}
    run = dry_run(tmp_path, as_yaml(one), args=["--cluster", "0123", "--region", REGION,
                                                        "--s3", "s3://0123-reports/007"])
    assert run.code == 0, run.stderr
    assert f"EKS cluster 0123 in {REGION}" in run.stdout
    assert "s3://0123-reports/007 (owner 000000000001)" in run.stdout


def test_an_unquoted_identifier_in_the_file_is_a_configuration_error(tmp_path):
    text = "outputs:\n  s3:\n    bucket: fleet-reports\n    expected_bucket_owner: 012345678901\n"
    run = dry_run(tmp_path, text)
    assert run.code == 2, run.stderr
    assert "config.yaml" in run.stderr and "outputs.s3.expected_bucket_owner" in run.stderr, run.stderr
    assert "quote it" in run.stderr, run.stderr
    assert run.stdout == ""


def test_a_bad_variable_over_the_file_is_named(tmp_path):
    run = dry_run(tmp_path, as_yaml(FLEET), env={"EKSUP_FLEET__CONCURENCY": "32"})
    assert run.code == 2, run.stderr
    assert "environment variable EKSUP_FLEET__CONCURENCY" in run.stderr and "concurency" in run.stderr, run.stderr


def test_the_base_stdout_only_configuration_writes_nothing_to_disk(eks_cluster, standin, tmp_path):
    """The base overlay's ConfigMap (stdout only, in-cluster) as the CronJob runs it, in a
    read-only working directory. The tests run as root, which permissions do not stop, so
    strace records every open for writing, every mkdir and rename: there must be none."""
    strace = tool("strace", "apt-get install -y strace")
    name, kube = eks_cluster(fixture="healthy.yaml", kube="real")
    token = serviceaccount(kube)
    (cm,) = find(render(BASE), "ConfigMap")
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert config["outputs"] == {"stdout": True}, "the base's outputs changed: update this test"
    config.update(cluster=name, region=REGION)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(config))
    token_dir = tmp_path / "serviceaccount"
    token_dir.mkdir()
    (token_dir / "token").write_text(token)
    (token_dir / "ca.crt").write_bytes(kube.ca_pem.read_bytes())
    (token_dir / "namespace").write_text("eksup")
    cwd = tmp_path / "readonly"
    cwd.mkdir()
    cwd.chmod(0o555)
    trace = tmp_path / "trace"
    env = clean_env(tmp_path, standin, {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(urllib.parse.urlparse(kube.url).port),
        "HOME": str(cwd),
    })
    run = subprocess.run(
        [*pod_launcher(token_dir), strace, "-f", "-qq", "-o", str(trace),
         "-e", "trace=open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2",
         str(eksup_bin()), "run", "--config", str(config_file)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr[-3000:]
    assert '"event":"cluster"' in run.stdout or '"event":"finding"' in run.stdout, run.stdout[-2000:]
    assert list(cwd.iterdir()) == [] and stat.S_IMODE(cwd.stat().st_mode) == 0o555
    opens = trace.read_text().splitlines()
    assert any(str(config_file) in line for line in opens), "strace saw the config file being read"
    writes = [line for line in opens
              if re.search(r"O_WRONLY|O_RDWR|O_CREAT|creat\(|mkdir|rename", line)
              and "/dev/null" not in line and " = -1 " not in line]
    assert writes == [], writes
