"""The benchmark's fakes: the tests' AWS stand-in and fake Kubernetes API server, with a
fixed latency added to every request, and the API server made multi-tenant.

    fakes.py aws  --upstream MOTO_URL --latency-ms 40
    fakes.py kube --certdir DIR --latency-ms 20 --versions 1.31,1.32

`kube` serves every cluster from one process: `/c/<cluster>/…` is the API root of cluster
<cluster>, registered with `POST /_bench/tenants {"<cluster>": "<minor>"}`. Clusters of one
minor share one set of generated objects (read-only), each with its own request log.
`GET /_bench/stats` sums the requests and bytes of all clusters; `POST /_bench/reset`
clears them. Each prints `READY <url>` once it listens, like the tests' fakes.
"""

import argparse
import copy
import re
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fakes"))

import aws_standin  # noqa: E402
import kube_apiserver  # noqa: E402
from generate import generate  # noqa: E402

# A small cluster: 3 nodes, 12 Deployments (2 ReplicaSets and a PDB each), 2 CronJobs.
SMALL = ("deployments=12,replicasets_per_deployment=2,unowned_replicasets=1,cronjobs=2,"
         "jobs_per_cronjob=1,unowned_jobs=0,nodes=3,namespaces=4")


def serve(handler, certdir=None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    scheme = "http"
    if certdir:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(f"{certdir}/server.pem", f"{certdir}/server-key.pem")
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    print(f"READY {scheme}://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


def aws(args):
    delay = args.latency_ms / 1000

    class Slow(aws_standin.Handler):
        def handle_any(self):
            if not self.path.startswith("/_standin/"):
                time.sleep(delay)
            super().handle_any()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    Slow.upstream = urllib.parse.urlparse(args.upstream)
    serve(Slow)


def kube(args):
    delay = args.latency_ms / 1000
    templates = {}
    for minor in args.versions.split(","):
        info, objects = generate(f"{SMALL},version=v{minor}.9-eks-1")
        templates[minor] = kube_apiserver.FakeCluster(objects, git_version=info["gitVersion"], token_mode="eks")
    tenants = {}
    tenants_lock = threading.Lock()

    def tenant(name, minor):
        t = copy.copy(templates[minor])  # shares the (read-only) collections
        t.lock, t.requests, t.faults = threading.Lock(), [], []
        return t

    class Tenants(kube_apiserver.Handler):
        def do_POST(self):
            body = self.read_body()
            if self.path == "/_bench/tenants":
                with tenants_lock:
                    for name, minor in body.items():
                        tenants[name] = tenant(name, minor)
            elif self.path == "/_bench/reset":
                with tenants_lock:
                    for t in tenants.values():
                        with t.lock:
                            t.requests.clear()
            else:
                return self.send_json(404, kube_apiserver.status(404, "NotFound", "no such control endpoint"),
                                      record=False)
            self.send_json(200, {"ok": True}, record=False)

        def do_GET(self):
            if self.path == "/_bench/stats":
                with tenants_lock:
                    logs = [list(t.requests) for t in tenants.values()]
                return self.send_json(200, {"requests": sum(map(len, logs)),
                                            "bytes": sum(r["bytes"] for log in logs for r in log),
                                            "clusters_read": sum(1 for log in logs if log)}, record=False)
            m = re.match(r"^/c/([^/?]+)(.*)$", self.path)
            self.cluster = tenants.get(m.group(1)) if m else None
            if self.cluster is None:
                self.cluster = kube_apiserver.FakeCluster([])  # answers, and records nowhere that counts
                return self.send_json(404, kube_apiserver.status(404, "NotFound", "no such cluster"))
            self.path = m.group(2) or "/"
            time.sleep(delay)
            super().do_GET()

    serve(Tenants, args.certdir)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="fake", required=True)
    a = sub.add_parser("aws")
    a.add_argument("--upstream", required=True)
    a.add_argument("--latency-ms", type=float, default=40)
    k = sub.add_parser("kube")
    k.add_argument("--certdir", required=True)
    k.add_argument("--latency-ms", type=float, default=20)
    k.add_argument("--versions", default="1.31,1.32,1.33,1.34")
    args = ap.parse_args()
    {"aws": aws, "kube": kube}[args.fake](args)


if __name__ == "__main__":
    sys.exit(main())
