"""bench/run.py's large cluster on a real kube-apiserver, and what each client's run costs it.

The generated cluster (tests/fakes/generate.py) is put into a real control plane through the
API once — workload status through /status, so every object carries the managedFields and
status the real server writes — and etcd's data directory is kept under
~/.cache/eksup-kube/bench/<version>-<key>/ (the key hashes the spec and the code that loads
it), so later runs start from it in seconds. A ServiceAccount `bench/reader` may get and list
everything; each client reads with a fresh token of it (TokenRequest).

For one client run, measured on the server: its CPU-seconds (/proc/PID/stat) during the run
minus those of an idle window of the same length right after, its RSS growth, the client's
requests (audit log), the bytes of the answers (`apiserver_response_sizes`), the objects the
server read from etcd and from its watch cache and returned (`apiserver_storage_list_*`), and
the seats APF charged them (`apiserver_flowcontrol_work_estimated_seats`, FlowSchema
service-accounts).
"""

import hashlib
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "fakes"), str(ROOT / "tests" / "realkube"), str(ROOT / "tests" / "integration")]

import control_plane  # noqa: E402
import load  # noqa: E402
from generate import generate  # noqa: E402
from real_kube import RealKube  # noqa: E402

CACHE = Path(os.environ.get("EKSUP_KUBE_CACHE", Path.home() / ".cache" / "eksup-kube")) / "bench"
READER = "system:serviceaccount:bench:reader"
THREADS = 8
TICKS = os.sysconf("SC_CLK_TCK")
# What every client may read: all of it, so that no client is measured on its 403s.
READER_RBAC = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}},
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "reader", "namespace": "bench"}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "bench-reader"},
     "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list"]},
               {"nonResourceURLs": ["*"], "verbs": ["get"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "bench-reader"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "bench-reader"},
     "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "bench"}]},
]


# Bump when Loader changes what it writes; the generator and fixture loader are hashed as they are.
LOADER_FORMAT = 1


def cache_key(spec, version):
    h = hashlib.sha256(f"{spec}|{version}|{LOADER_FORMAT}".encode())
    for f in (ROOT / "tests" / "fakes" / "generate.py", ROOT / "tests" / "realkube" / "load.py"):
        h.update(f.read_bytes())
    return f"{version}-{h.hexdigest()[:16]}"


class Loader:
    """Creates objects over one kept-alive HTTPS connection per thread (the API server's
    per-connection cost is not what is loaded here), then writes their status."""

    def __init__(self, plane):
        self.plane, self.ctx = plane, plane.admin_context()
        self.host, self.port = plane.url.removeprefix("https://").split(":")
        self.local = threading.local()
        self.errors = []

    def call(self, method, path, body):
        for attempt in range(3):
            conn = getattr(self.local, "conn", None) or http.client.HTTPSConnection(
                self.host, int(self.port), context=self.ctx, timeout=120)
            self.local.conn = conn
            try:
                conn.request(method, path, json.dumps(body), {"Content-Type": "application/json"})
                r = conn.getresponse()
                return r.status, json.loads(r.read() or b"{}")
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise

    def put(self, client, obj):
        obj = load.clean(obj)
        meta = obj["metadata"]
        # Nodes keep their status at create; workloads get theirs through /status.
        status = obj.pop("status", None) if obj["kind"] in load.STATUS_BY_SUBRESOURCE else None
        path = client.path(obj["apiVersion"], obj["kind"], meta.get("namespace"))
        code, created = self.call("POST", path, obj)
        if code >= 300:
            self.errors.append(f"POST {path} {meta['name']}: {code} {created.get('message')}")
            return
        if status:
            created["status"] = status
            code, answer = self.call("PUT", f"{path}/{meta['name']}/status", created)
            if code >= 300:
                self.errors.append(f"PUT {path}/{meta['name']}/status: {code} {answer.get('message')}")

    def load(self, objects):
        client = load.Client(self.plane.url, self.ctx)
        namespaces = sorted({o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")})
        for ns in namespaces:
            load.create(client, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for o in READER_RBAC:
            load.create(client, o)
        for o in objects:
            client.path(o["apiVersion"], o["kind"])  # discovery before the threads share the client
        queue, lock = list(reversed(objects)), threading.Lock()

        def work():
            while True:
                with lock:
                    if not queue:
                        return
                    o = queue.pop()
                self.put(client, o)

        threads = [threading.Thread(target=work) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self.errors:
            raise SystemExit(f"{len(self.errors)} object(s) refused by the real server, first: {self.errors[:3]}")


def prepared(spec, version, log=print):
    """etcd's data directory holding the generated cluster, loaded once and cached."""
    home = CACHE / cache_key(spec, version)
    if (home / "loaded").exists():
        return home / "etcd"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="eksup-bench-load-"))
    _, objects = generate(spec)
    log(f"loading {len(objects):,} objects into a real kube-apiserver {version} (cached in {home}) …")
    started = time.monotonic()
    plane = control_plane.up(work, version, etcd_data=home / "etcd")
    try:
        Loader(plane).load(objects)
    finally:
        control_plane.down(work)
        shutil.rmtree(work, ignore_errors=True)
    (home / "loaded").write_text(json.dumps({"spec": spec, "objects": len(objects),
                                             "seconds": round(time.monotonic() - started, 1)}))
    log(f"loaded in {time.monotonic() - started:.0f} s")
    return home / "etcd"


def start(spec, version, work, log=print):
    """A control plane over a copy of the cached cluster (the cache stays as loaded)."""
    data = prepared(spec, version, log)
    copy = Path(work) / "etcd-data"
    shutil.copytree(data, copy)
    return RealKube(control_plane.up(Path(work) / "control-plane", version, etcd_data=copy))


def token(kube):
    return kube.token("bench", "reader")


# ---------------------------------------------------------------------------- measuring

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(kube):
    """The counters and histogram sums this benchmark reads, as {(name, labels): value}."""
    wanted = ("apiserver_response_sizes_sum", "apiserver_storage_list_fetched_objects_total",
              "apiserver_storage_list_returned_objects_total", "apiserver_storage_list_evaluated_objects_total",
              "apiserver_cache_list_fetched_objects_total", "apiserver_cache_list_returned_objects_total",
              "apiserver_flowcontrol_work_estimated_seats_sum", "apiserver_flowcontrol_work_estimated_seats_count")
    out = {}
    for line in kube.metrics().splitlines():
        m = SAMPLE.match(line)
        if m and m.group(1) in wanted:
            out[(m.group(1), tuple(sorted(LABEL.findall(m.group(2) or ""))))] = float(m.group(3))
    return out


def delta(before, after):
    sums = defaultdict(float)
    for key, value in after.items():
        name, labels = key
        d = value - before.get(key, 0.0)
        if not d:
            continue
        labels = dict(labels)
        if name.startswith("apiserver_flowcontrol_") and labels.get("flow_schema") != "service-accounts":
            continue
        # 1.37 counts lists from etcd and from the watch cache in one family, by `storage`;
        # 1.34 in two: apiserver_storage_list_* (etcd) and apiserver_cache_list_* (the cache).
        if name.startswith("apiserver_cache_list_"):
            name = name.replace("apiserver_cache_list_", "apiserver_storage_list_") + ":watchcache"
        elif name.startswith("apiserver_storage_list_"):
            name = f"{name}:{labels.get('storage', 'etcd')}"
        sums[name] += d
    return sums


def server_cpu(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def server_rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def around(kube, run):
    """Runs `run()` (returns its wall seconds) and what it cost the API server."""
    pid = kube.plane.pids["kube-apiserver"]
    before, rss0 = scrape(kube), server_rss_kib(pid)
    kube.mark()
    cpu0 = server_cpu(pid)
    wall = run()
    cpu1 = server_cpu(pid)
    rss1 = server_rss_kib(pid)
    after = scrape(kube)
    reqs = [r for r in kube.stats() if r["user"] == READER]
    # The same length of idle right after: what the server spends on its own meanwhile.
    idle0 = server_cpu(pid)
    time.sleep(wall)
    idle = server_cpu(pid) - idle0
    d = delta(before, after)
    return {
        "requests": len(reqs),
        "wire_bytes": int(d["apiserver_response_sizes_sum"]),
        "server_cpu_seconds": round(max(0.0, (cpu1 - cpu0) - idle), 2),
        "server_idle_cpu_seconds": round(idle, 2),
        "server_rss_growth_mib": round((rss1 - rss0) / 1024, 1),
        "etcd_objects": int(d["apiserver_storage_list_fetched_objects_total:etcd"]),
        "cache_objects": int(d["apiserver_storage_list_fetched_objects_total:watchcache"]),
        "returned_objects": int(d["apiserver_storage_list_returned_objects_total:etcd"]
                                + d["apiserver_storage_list_returned_objects_total:watchcache"]),
        "apf_seats": int(d["apiserver_flowcontrol_work_estimated_seats_sum"]),
        "apf_requests": int(d["apiserver_flowcontrol_work_estimated_seats_count"]),
        "pod_requests": sum(1 for r in reqs if r["path"].endswith("/pods")),
        "statuses": dict(sorted(_count(r["status"] for r in reqs).items())),
    }


def _count(values):
    out = defaultdict(int)
    for v in values:
        out[str(v)] += 1
    return out
