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
import gzip
import json
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


class Server(ThreadingHTTPServer):
    # listen()'s backlog, set before the socket listens. The default of 5 drops connections
    # when dozens of clusters connect at once, and a dropped SYN is retried by the client's
    # kernel after 1, 2, 4… s: the harness, not eksup, would then set the wall time.
    request_queue_size = 1024
    daemon_threads = True


def serve(handler, certdir=None):
    server = Server(("127.0.0.1", 0), handler)
    scheme = "http"
    if certdir:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(f"{certdir}/server.pem", f"{certdir}/server-key.pem")
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    print(f"READY {scheme}://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


def aws(args):
    """The stand-in with latency. moto's answers to read-only calls are remembered per
    (operation, account, region, request) and replayed when the same call comes again, so
    that after a first (warm-up) run moto's own CPU time no longer bounds the benchmark;
    the stand-in's own work (counting, patching answers) runs on every call as before."""
    delay = args.latency_ms / 1000
    replay = {}
    replay_lock = threading.Lock()

    class Slow(aws_standin.Handler):
        def handle_any(self):
            if not self.path.startswith("/_standin/"):
                time.sleep(delay)
            super().handle_any()

        def forward(self, op, body):
            if not args.replay or op.split(":")[0] not in ("eks", "ec2", "autoscaling"):
                return super().forward(op, body)
            akid, region = aws_standin.signer(self.headers)
            with aws_standin.LOCK:
                account = aws_standin.STATE["credentials"].get(akid, {}).get("account")
            key = (op, account, region, self.command, self.path, body)
            with replay_lock:
                hit = replay.get(key)
            if hit:
                return hit
            answer = super().forward(op, body)
            if answer[0] == 200:
                with replay_lock:
                    replay[key] = answer
            return answer

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
    # Answers for a cluster that is not registered: served, and recorded nowhere that counts.
    nobody = kube_apiserver.FakeCluster([])

    def tenant(minor):
        t = copy.copy(templates[minor])  # shares the (read-only) collections
        t.lock, t.requests, t.faults = threading.Lock(), [], []
        t.minor = minor
        return t

    # Clusters of one minor serve the same objects, so an answer's encoded (and gzipped) body
    # is computed once per (minor, request) and reused: the fake's CPU goes to HTTP and TLS.
    encoded = {}

    class Tenants(kube_apiserver.Handler):
        def do_POST(self):
            body = self.read_body()
            if self.path == "/_bench/tenants":
                with tenants_lock:
                    for name, minor in body.items():
                        tenants[name] = tenant(minor)
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
                self.cluster = nobody
                return self.send_json(404, kube_apiserver.status(404, "NotFound", "no such cluster"))
            self.path = m.group(2) or "/"
            self.cache_key = (self.cluster.minor, self.path, self.headers.get("Accept", ""),
                              "gzip" in self.headers.get("Accept-Encoding", ""))
            time.sleep(delay)
            super().do_GET()

        def send_json(self, code, body, extra_headers=None, record=True):
            key = getattr(self, "cache_key", None) if record and code == 200 and not extra_headers else None
            if key is None:
                return super().send_json(code, body, extra_headers, record)
            hit = encoded.get(key)
            if hit is None:
                raw = json.dumps(body, separators=(",", ":")).encode()
                hit = encoded[key] = (gzip.compress(raw, compresslevel=5) if key[3] else raw, len(raw))
            wire, decoded = hit
            self.send_wire(code, wire, key[3], "application/json", decoded=decoded)

    serve(Tenants, args.certdir)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="fake", required=True)
    a = sub.add_parser("aws")
    a.add_argument("--upstream", required=True)
    a.add_argument("--latency-ms", type=float, default=40)
    a.add_argument("--no-replay", dest="replay", action="store_false",
                   help="forward every call to moto, never replay a remembered answer")
    k = sub.add_parser("kube")
    k.add_argument("--certdir", required=True)
    k.add_argument("--latency-ms", type=float, default=20)
    k.add_argument("--versions", default="1.31,1.32,1.33,1.34")
    args = ap.parse_args()
    {"aws": aws, "kube": kube}[args.fake](args)


if __name__ == "__main__":
    sys.exit(main())
