"""The container image, built and run as the in-cluster CronJob's pod runs it.

deploy/image/build.sh assembles the rootfs from the binary these tests already use and builds
deploy/image/Dockerfile with buildah (vfs storage in a temporary directory, chroot isolation:
no daemon, no registry). skopeo exports it as an OCI layout and umoci unpacks it into a
runtime bundle (rootfs + config.json), the shape a container runtime starts from. No runtime
can start containers on this machine (podman and crun fail on setrlimit and cgroups), so
the test does what a runtime does with the bundle: a private mount namespace in which the
rootfs is mounted read-only with the pod's volumes on top (the service-account files, the
ConfigMap at /etc/eksup), then `chroot --userspec` to the image's user and exec of its
entrypoint. The host's network is shared, so moto and the fake API server on 127.0.0.1 are
reachable, as the cluster's services are from a pod.

Missing tools fail the test with how to install them; nothing is skipped.
"""

import io
import json
import os
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
import yaml

from harness import ACCOUNT, REGION, ROOT, clean_env, eksup_bin
from real_kube import serviceaccount
from manifests import KUSTOMIZE, find, render

BUILD = ROOT / "deploy" / "image" / "build.sh"
TAG = "localhost/eksup:test"
SA_DIR = "var/run/secrets/kubernetes.io/serviceaccount"
CONFIG_DIR = "etc/eksup"
UID = GID = 65532


def need(name):
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found: run tests/run.sh, which installs it (apt-get install -y {name})")
    return path


def run(args, **kw):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def ldd_paths(binary):
    """The loader and libraries `ldd` names (the files the image must hold beside the binary)."""
    out = run([need("ldd"), binary]).stdout
    paths = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "=>" and parts[2].startswith("/"):
            paths.add(parts[2])
        elif parts and parts[0].startswith("/"):
            paths.add(parts[0])
    return paths


def files_under(root: Path):
    """Every non-directory entry under `root`, as absolute paths inside it."""
    return {"/" + str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir() or p.is_symlink()}


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The image built from the test binary, exported and unpacked: (bundle dir, OCI dir)."""
    if os.geteuid() != 0:
        pytest.fail("the image test builds with buildah's vfs driver and mounts the rootfs: run as root, as tests/run.sh does")
    for name in ("buildah", "skopeo", "umoci", "unshare", "chroot"):
        need(name)
    work = tmp_path_factory.mktemp("image")
    store = work / "store"
    run([BUILD, "--binary", eksup_bin(), "--storage", store, "--tag", TAG])
    oci = work / "oci"
    run([need("skopeo"), "copy", f"containers-storage:[vfs@{store}/root+{store}/run]{TAG}", f"oci:{oci}:test"])
    bundle = work / "bundle"
    run([need("umoci"), "unpack", "--image", f"{oci}:test", bundle])
    yield bundle, oci
    # vfs keeps a full copy of every layer, and the bundle another: leave neither behind
    # (pytest keeps the temporary directories of the last runs).
    subprocess.run([need("buildah"), "--root", store / "root", "--runroot", store / "run", "--storage-driver", "vfs",
                    "rmi", "--all", "--force"], capture_output=True, timeout=120)
    shutil.rmtree(work, ignore_errors=True)


def oci_blob(oci: Path, digest: str):
    algo, hexdigest = digest.split(":")
    return oci / "blobs" / algo / hexdigest


def test_build_script_is_shellcheck_clean():
    done = subprocess.run([need("shellcheck"), BUILD], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_image_holds_the_binary_and_exactly_the_files_it_needs(image):
    bundle, oci = image
    rootfs = bundle / "rootfs"
    binary = eksup_bin()
    expected = {"/usr/local/bin/eksup", "/etc/passwd", "/etc/group", "/etc/ssl/certs/ca-certificates.crt"}
    libraries = ldd_paths(binary)
    assert any("libc.so" in p for p in libraries) and any("ld-linux" in p for p in libraries), libraries
    assert files_under(rootfs) == expected | libraries
    assert (rootfs / "usr/local/bin/eksup").read_bytes() == binary.read_bytes()
    for lib in libraries:
        assert (rootfs / lib.lstrip("/")).read_bytes() == Path(lib).resolve().read_bytes(), lib
    # Owned by root and not writable by the image's user.
    for p in [rootfs, *rootfs.rglob("*")]:
        st = p.lstat()
        assert (st.st_uid, st.st_gid) == (0, 0) and not st.st_mode & 0o022, (p, oct(st.st_mode))
    assert (rootfs / "etc/passwd").read_text() == f"nonroot:x:{UID}:{GID}:nonroot:/nonexistent:/sbin/nologin\n"
    assert (rootfs / "etc/group").read_text() == f"nonroot:x:{GID}:\n"
    assert b"BEGIN CERTIFICATE" in (rootfs / "etc/ssl/certs/ca-certificates.crt").read_bytes()

    # The image's configuration: its user, entrypoint and labels.
    process = json.loads((bundle / "config.json").read_text())["process"]
    assert process["user"] == {"uid": UID, "gid": GID}
    assert process["args"] == ["/usr/local/bin/eksup"]
    index = json.loads((oci / "index.json").read_text())
    (manifest_ref,) = index["manifests"]
    manifest = json.loads(oci_blob(oci, manifest_ref["digest"]).read_text())
    config = json.loads(oci_blob(oci, manifest["config"]["digest"]).read_text())["config"]
    version = run([binary, "--version"]).stdout.split()[-1]
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == version
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"
    assert labels["org.opencontainers.image.revision"] == run(["git", "-C", ROOT, "rev-parse", "HEAD"]).stdout.strip()
    assert config["User"] == f"{UID}:{GID}"

    # One layer; its size is the files' size (nothing else in it), reported for the record.
    (layer,) = manifest["layers"]
    content = sum((rootfs / p.lstrip("/")).stat().st_size for p in expected | libraries)
    mib = 1 << 20
    print(f"image: {manifest_ref['digest']}, user {config['User']}, one layer of {layer['size'] / mib:.1f} MiB "
          f"compressed, {content / mib:.1f} MiB of files (binary {binary.stat().st_size / mib:.1f} MiB)")
    assert layer["size"] <= content


def in_cluster_config(cluster, bucket):
    """The in-cluster overlay's ConfigMap, pointed at this test's cluster and moto's bucket."""
    (cm,) = find(render(KUSTOMIZE / "overlays" / "in-cluster"), "ConfigMap")
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert config["in_cluster"] is True and config["outputs"]["stdout"] is True
    config["cluster"] = cluster
    config["region"] = REGION
    config["outputs"]["s3"].update(bucket=bucket, expected_bucket_owner=ACCOUNT, force_path_style=True)
    return config


def pod(bundle: Path, volumes: dict, user: dict):
    """A command that starts the image's entrypoint (with the arguments given after it) as a
    runtime starts the pod: a private mount namespace, the rootfs bind-mounted read-only
    with the volumes (host dir → path in the image) read-only on top, then chroot to it as
    the image's user. The mount points are created in the unpacked rootfs first, as a
    runtime creates them in the container's root."""
    rootfs = bundle / "rootfs"
    root = bundle / "mnt"
    root.mkdir(exist_ok=True)
    steps = [f"mount --bind {rootfs} {root}"]
    for host, inside in volumes.items():
        (rootfs / inside).mkdir(parents=True, exist_ok=True)
        steps += [f"mount --bind {host} {root}/{inside}", f"mount -o remount,bind,ro {root}/{inside}"]
    steps.append(f"mount -o remount,bind,ro {root}")
    entry = json.loads((bundle / "config.json").read_text())["process"]["args"]
    script = " && ".join(steps) + f' && exec chroot --userspec={user["uid"]}:{user["gid"]} {root} "$@"'
    return [need("unshare"), "-m", "sh", "-c", script, "sh", *entry]


def s3_objects(moto, bucket):
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto, aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return s3, keys


def test_image_runs_as_its_user_on_a_read_only_root_in_the_in_cluster_shape(image, eks_cluster, moto, standin,
                                                                            certs, tmp_path):
    bundle, _ = image
    name, kube = eks_cluster(fixture="trips-everything.yaml", kube="real")
    token = serviceaccount(kube)
    bucket = "eksup-image"
    boto3.client("s3", region_name=REGION, endpoint_url=moto, aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)
    # The pod's volumes: the projected service-account token and the ConfigMap.
    token_dir = tmp_path / "serviceaccount"
    token_dir.mkdir()
    (token_dir / "token").write_text(token)  # the overlay's ServiceAccount, from TokenRequest
    (token_dir / "ca.crt").write_bytes(kube.ca_pem.read_bytes())
    (token_dir / "namespace").write_text("eksup")
    config_dir = tmp_path / "configmap"
    config_dir.mkdir()
    (config_dir / "config.yaml").write_text(yaml.safe_dump(in_cluster_config(name, bucket)))
    process = json.loads((bundle / "config.json").read_text())["process"]
    # The image's environment, the kubelet's service variables and the pod's AWS settings
    # (IRSA's role credentials in a real pod; moto's test keys here). Nothing from the host.
    env = dict(e.split("=", 1) for e in process.get("env", []))
    env |= {k: v for k, v in clean_env(tmp_path, standin).items()
            if k.startswith("AWS_") and k not in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}
    env |= {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(urllib.parse.urlparse(kube.url).port),
            "HOSTNAME": "eksup-28930012-abcde", "NO_COLOR": "1"}
    launch = pod(bundle, {token_dir: SA_DIR, config_dir: CONFIG_DIR}, process["user"])
    args = ["run", "--config", "/etc/eksup/config.yaml"]  # the CronJob's args
    kube.reset()
    done = subprocess.run([*launch, *args], env=env, cwd="/", capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]

    # The Kubernetes side was read with the mounted token at KUBERNETES_SERVICE_HOST:PORT.
    reqs = kube.stats()
    assert reqs and not [r for r in reqs if r["status"] in (401, 403)]
    assert {"/version", "/api/v1/nodes"} <= {r["path"] for r in reqs}

    # The rows are in moto's S3, in every format, and agree with the stdout events.
    s3, keys = s3_objects(moto, bucket)
    prefix = in_cluster_config(name, bucket)["outputs"]["s3"]["prefix"]

    def table(kind):
        rows = []
        for key in keys:
            if key.startswith(f"{prefix}/{kind}/dt=") and key.endswith(".parquet"):
                rows += pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())).to_pylist()
        return rows

    def jsonl(kind):
        return [json.loads(line) for key in keys if key.startswith(f"{prefix}/json/{kind}/dt=")
                for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()]

    (cluster,) = table("clusters")
    assert (cluster["cluster_name"], cluster["account_id"], cluster["region"], cluster["status"]) == \
        (name, ACCOUNT, REGION, "ok"), cluster
    assert cluster["nodes"] > 0, "the Kubernetes side was read"
    findings = table("findings")
    events = [json.loads(line) for line in done.stdout.splitlines() if '"event":"finding"' in line]
    assert findings and len(findings) == len(jsonl("findings")) == len(events)
    assert {f["code"] for f in findings} == {e["code"] for e in events}
    assert any(k.startswith(f"{prefix}/cluster-reports/dt=") for k in keys)
    # The overlay names its writer (IAM confines it to keys that carry it); HOSTNAME does not.
    writer = in_cluster_config(name, bucket)["writer"]
    assert all(f".{writer}." in k for k in keys if not k.startswith(f"{prefix}/fleet-page/")), keys
    assert not any("eksup-28930012-abcde" in k for k in keys)

    # The same pod with a directory output on the image's root: the write is refused
    # (read-only, and not the user's), the run says so and exits 3.
    config = in_cluster_config(name, bucket)
    config["outputs"]["directory"] = "/eksup-out"
    (config_dir / "config.yaml").write_text(yaml.safe_dump(config))
    done = subprocess.run([*launch, *args], env=env, cwd="/", capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 3, done.stderr[-3000:]
    assert "Read-only file system" in done.stderr, done.stderr[-3000:]
