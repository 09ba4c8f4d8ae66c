"""A fake Kubernetes API server that behaves like kube-apiserver for what eksup reads.

It serves a cluster described by fixture objects (or generated ones) over HTTPS:
- `/version`;
- cluster-wide and namespaced LISTs per kind with `limit` / `continue` (opaque tokens,
  `410 Gone` with `reason: Expired` for an expired one), `resourceVersion`, label and
  field selectors;
- the metadata-only form (`Accept: ...;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`);
- GET of single objects; 404 for kinds that do not exist (a CRD that is not installed)
  and for API versions the objects are not served at;
- `/metrics` in kube-apiserver's Prometheus text exposition (HELP/TYPE lines, labels in
  the order the API server prints them), with `apiserver_requested_deprecated_apis` fed
  by the fixture (other clients' calls) and by every request this server receives for a
  deprecated group/version, as kube-apiserver records them;
- bearer-token checking (an EKS token, or a fixed token);
- gzip when asked;
- fault injection (status codes with `Retry-After`, slow answers, expired continue
  tokens) and request / byte counters, driven through `/_fake/*` control endpoints.

Run: python kube_apiserver.py --fixture FILE | --generate SPEC --certdir DIR [--token-mode eks]
It prints `READY https://127.0.0.1:PORT` once it listens.
"""

import argparse
import base64
import gzip
import json
import re
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from eks_token import valid_eks_token, verified_eks_token

# Kinds that exist in every cluster, served even when the fixture has no object of them.
BUILTIN_COLLECTIONS = {
    ("v1", "nodes"), ("v1", "namespaces"), ("v1", "pods"), ("v1", "configmaps"),
    ("v1", "secrets"), ("v1", "replicationcontrollers"), ("v1", "services"),
    ("apps/v1", "deployments"), ("apps/v1", "statefulsets"), ("apps/v1", "daemonsets"),
    ("apps/v1", "replicasets"), ("batch/v1", "cronjobs"), ("batch/v1", "jobs"),
    ("policy/v1", "poddisruptionbudgets"), ("autoscaling/v2", "horizontalpodautoscalers"),
    ("autoscaling/v1", "horizontalpodautoscalers"),
    ("apiextensions.k8s.io/v1", "customresourcedefinitions"),
    ("admissionregistration.k8s.io/v1", "validatingwebhookconfigurations"),
    ("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations"),
    ("apiregistration.k8s.io/v1", "apiservices"), ("discovery.k8s.io/v1", "endpointslices"),
}

# Group/versions kube-apiserver (and Karpenter's CRDs) mark deprecated, with the release
# that removes them ("" when none is planned): a request for one is recorded in
# apiserver_requested_deprecated_apis, served or not.
DEPRECATED_GROUP_VERSIONS = {
    "extensions/v1beta1": "1.22", "policy/v1beta1": "1.25", "batch/v1beta1": "1.25",
    "autoscaling/v2beta1": "1.25", "autoscaling/v2beta2": "1.26",
    "flowcontrol.apiserver.k8s.io/v1beta2": "1.29", "flowcontrol.apiserver.k8s.io/v1beta3": "1.32",
    "networking.k8s.io/v1beta1": "1.22", "apiextensions.k8s.io/v1beta1": "1.22",
    "karpenter.sh/v1beta1": "", "karpenter.k8s.aws/v1beta1": "",
}
DEPRECATED_HELP = ("# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been "
                   "requested, broken out by API group, version, resource, subresource, and removed_release.\n"
                   "# TYPE apiserver_requested_deprecated_apis gauge\n")
CLUSTER_SCOPED = {"nodes", "namespaces"}
METADATA_ACCEPT = "as=PartialObjectMetadata"


START_TIME = time.time()


def plural(kind):
    return kind.lower() + ("es" if kind.lower().endswith("s") else "s")


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


# ---------------------------------------------------------------------------- selectors

def parse_label_selector(text):
    """Returns a predicate over a labels dict for a Kubernetes label selector string."""
    reqs = []
    for part in re.findall(r"[^,(]+(?:\([^)]*\))?", text or ""):
        part = part.strip().strip(",").strip()
        if not part:
            continue
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$", part)
        if m:
            values = {v.strip() for v in m.group(3).split(",")}
            reqs.append((m.group(1), m.group(2), values))
        elif "!=" in part:
            k, v = part.split("!=", 1)
            reqs.append((k.strip(), "!=", v.strip()))
        elif "==" in part or "=" in part:
            k, v = re.split("==?", part, maxsplit=1)
            reqs.append((k.strip(), "=", v.strip()))
        elif part.startswith("!"):
            reqs.append((part[1:].strip(), "!exists", None))
        else:
            reqs.append((part, "exists", None))

    def pred(labels):
        for key, op, val in reqs:
            have = labels.get(key)
            if op == "=" and have != val:
                return False
            if op == "!=" and have == val:
                return False
            if op == "in" and have not in val:
                return False
            if op == "notin" and have in val:
                return False
            if op == "exists" and key not in labels:
                return False
            if op == "!exists" and key in labels:
                return False
        return True

    return pred


def parse_field_selector(text):
    reqs = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        if "!=" in part:
            k, v = part.split("!=", 1)
            reqs.append((k, False, v))
        else:
            k, v = re.split("==?", part, maxsplit=1)
            reqs.append((k, True, v))

    def field(obj, path):
        cur = obj
        for p in path.split("."):
            cur = cur.get(p) if isinstance(cur, dict) else None
        return cur if cur is not None else ""

    return lambda obj: all((field(obj, k) == v) == eq for k, eq, v in reqs)


# ---------------------------------------------------------------------------- state

class FakeCluster:
    def __init__(self, objects, git_version="v1.30.4-eks-1", crds=(), token_mode="eks", token=None):
        self.git_version = git_version
        self.token_mode = token_mode
        self.token = token
        self.lock = threading.Lock()
        self.resource_version = 1000
        self.collections = {key: [] for key in BUILTIN_COLLECTIONS}
        for crd in crds:  # e.g. "crd.k8s.amazonaws.com/v1alpha1/eniconfigs"
            group_version, plural_name = crd.rsplit("/", 1)
            self.collections.setdefault((group_version, plural_name), [])
        for obj in objects:
            self.add(obj)
        for items in self.collections.values():
            items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        self.faults = []
        self.requests = []
        self.expired_generation = 0
        # (group, version, resource, subresource) -> removed_release
        self.deprecated_requested = {}
        self.metrics_status = 200

    def record_deprecated(self, path):
        segs = [s for s in path.split("/") if s]
        if len(segs) < 4 or segs[0] != "apis":
            return
        group_version = f"{segs[1]}/{segs[2]}"
        if group_version not in DEPRECATED_GROUP_VERSIONS:
            return
        rest = segs[3:]
        if len(rest) >= 3 and rest[0] == "namespaces":
            rest = rest[2:]
        subresource = rest[2] if len(rest) >= 3 else ""
        with self.lock:
            self.deprecated_requested[(segs[1], segs[2], rest[0], subresource)] = DEPRECATED_GROUP_VERSIONS[group_version]

    def metrics_text(self):
        """The exposition as kube-apiserver prints it: families sorted, each with HELP and
        TYPE, labels sorted by name."""
        with self.lock:
            requests = list(self.requests)
            deprecated = dict(self.deprecated_requested)
        out = ["# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, "
               "dry run value, group, version, resource, scope, component, and HTTP response code.",
               "# TYPE apiserver_request_total counter"]
        totals = {}
        for r in requests:
            totals[(r["status"], r["path"])] = totals.get((r["status"], r["path"]), 0) + 1
        for (code, path), n in sorted(totals.items()):
            out.append(f'apiserver_request_total{{code="{code}",component="apiserver",dry_run="",group="",'
                       f'resource="{path.rsplit("/", 1)[-1]}",scope="cluster",subresource="",verb="LIST",version="v1"}} {n}')
        out.append(DEPRECATED_HELP.rstrip("\n"))
        for (group, version, resource, sub), removed in sorted(deprecated.items()):
            out.append(f'apiserver_requested_deprecated_apis{{group="{group}",removed_release="{removed}",'
                       f'resource="{resource}",subresource="{sub}",version="{version}"}} 1')
        out += ["# HELP process_start_time_seconds [ALPHA] Start time of the process since unix epoch in seconds.",
                "# TYPE process_start_time_seconds gauge",
                f"process_start_time_seconds {START_TIME:.2f}"]
        return "\n".join(out) + "\n"

    def add(self, obj):
        self.resource_version += 1
        meta = obj.setdefault("metadata", {})
        meta.setdefault("resourceVersion", str(self.resource_version))
        meta.setdefault("uid", f"uid-{self.resource_version}")
        key = (obj["apiVersion"], plural(obj["kind"]))
        self.collections.setdefault(key, []).append(obj)

    def fault_for(self, path, query, has_continue):
        """The first matching fault rule with uses left, consumed."""
        with self.lock:
            for rule in self.faults:
                if not re.search(rule.get("path", ""), path):
                    continue
                if rule.get("only_continue") and not has_continue:
                    continue
                if rule.get("skip", 0) > 0:
                    rule["skip"] -= 1
                    continue
                if rule.get("times", 1) == 0:
                    continue
                if rule.get("times", 1) > 0:
                    rule["times"] = rule.get("times", 1) - 1
                return dict(rule)
        return None


def encode_token(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def decode_token(token):
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except Exception:
        return None


# ---------------------------------------------------------------------------- handler

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cluster: FakeCluster = None

    def log_message(self, fmt, *args):  # quiet
        pass

    # -- plumbing
    def send_json(self, code, body, extra_headers=None, record=True):
        self.send_body(code, json.dumps(body, separators=(",", ":")).encode(), "application/json",
                       extra_headers, record)

    def send_text(self, code, text):
        self.send_body(code, text.encode(), "text/plain; version=0.0.4; charset=utf-8")

    def send_body(self, code, raw, content_type, extra_headers=None, record=True):
        """An answer, gzipped when the client asks for it."""
        gz = "gzip" in self.headers.get("Accept-Encoding", "")
        wire = gzip.compress(raw, compresslevel=5) if gz else raw
        self.send_wire(code, wire, gz, content_type, extra_headers, record, decoded=len(raw))

    def send_wire(self, code, wire, gz, content_type, extra_headers=None, record=True, decoded=None):
        """Writes an answer already encoded for the wire, and records it unless told not to:
        `bytes` on the wire, `decoded` once the client has gunzipped it."""
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(wire)))
        if gz:
            self.send_header("Content-Encoding", "gzip")
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(wire)
        if record:
            url = urllib.parse.urlparse(self.path)
            with self.cluster.lock:
                self.cluster.requests.append({
                    "method": self.command,
                    "path": url.path,
                    "query": dict(urllib.parse.parse_qsl(url.query)),
                    "status": code,
                    "bytes": len(wire),
                    "decoded": len(wire) if decoded is None else decoded,
                    # A LIST's count of stored objects, as APF's work estimator sees it.
                    "stored": self.__dict__.pop("stored", None),
                    "gzip": gz,
                    "accept": self.headers.get("Accept", ""),
                    "user_agent": self.headers.get("User-Agent", ""),
                })

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    # -- control endpoints (never called by eksup)
    def do_POST(self):
        c = self.cluster
        if self.path == "/_fake/faults":
            with c.lock:
                c.faults.extend(self.read_body().get("faults", []))
            return self.send_json(200, {"ok": True}, record=False)
        if self.path == "/_fake/objects":
            with c.lock:
                for obj in self.read_body().get("objects", []):
                    c.add(obj)
            return self.send_json(200, {"ok": True}, record=False)
        if self.path == "/_fake/reset":
            self.read_body()
            with c.lock:
                c.faults.clear()
                c.requests.clear()
            return self.send_json(200, {"ok": True}, record=False)
        self.send_json(404, status(404, "NotFound", "no such control endpoint"), record=False)

    def do_GET(self):
        c = self.cluster
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/_fake/stats":
            with c.lock:
                return self.send_json(200, {"requests": list(c.requests)}, record=False)
        if url.path == "/_fake/deprecated":
            with c.lock:
                rows = [{"group": g, "version": v, "resource": r, "subresource": sub, "removed_release": rel}
                        for (g, v, r, sub), rel in sorted(c.deprecated_requested.items())]
            return self.send_json(200, {"requested": rows}, record=False)

        auth = self.headers.get("Authorization", "")
        if c.token_mode == "eks-verified":
            ok = verified_eks_token(auth, *c.expect)
        else:
            ok = valid_eks_token(auth) if c.token_mode == "eks" else auth == f"Bearer {c.token}"
        if not ok:
            return self.send_json(401, status(401, "Unauthorized", "Unauthorized"))

        rule = c.fault_for(url.path, query, bool(query.get("continue")))
        if rule:
            if rule.get("delay"):
                time.sleep(rule["delay"])
            if rule.get("status"):
                headers = {}
                if rule.get("retry_after") is not None:
                    headers["Retry-After"] = str(rule["retry_after"])
                reason = {410: "Expired", 429: "TooManyRequests", 403: "Forbidden"}.get(rule["status"], "InternalError")
                message = rule.get("message", f"injected {rule['status']}")
                return self.send_json(rule["status"], status(rule["status"], reason, message), headers)

        c.record_deprecated(url.path)
        if url.path == "/metrics":
            if c.metrics_status != 200:
                return self.send_json(c.metrics_status, status(c.metrics_status, "Forbidden", "forbidden: /metrics"))
            return self.send_text(200, c.metrics_text())
        if url.path == "/version":
            m = re.match(r"v(\d+)\.(\d+)", c.git_version)
            return self.send_json(200, {"major": m.group(1), "minor": m.group(2), "gitVersion": c.git_version})
        self.serve_resource(url.path, query)

    def serve_resource(self, path, query):
        c = self.cluster
        segs = [s for s in path.split("/") if s]
        if len(segs) >= 2 and segs[0] == "api":
            gv, rest = segs[1], segs[2:]
        elif len(segs) >= 3 and segs[0] == "apis":
            gv, rest = f"{segs[1]}/{segs[2]}", segs[3:]
        else:
            return self.send_json(404, status(404, "NotFound", "the server could not find the requested resource"))
        namespace = name = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if len(rest) == 1:
            kind_plural = rest[0]
        elif len(rest) == 2:
            kind_plural, name = rest
        else:
            return self.send_json(404, status(404, "NotFound", "bad path"))
        items = c.collections.get((gv, kind_plural))
        if items is None:
            return self.send_json(404, status(404, "NotFound", "the server could not find the requested resource"))
        metadata_only = METADATA_ACCEPT in self.headers.get("Accept", "")
        if name is not None:
            for obj in items:
                m = obj["metadata"]
                if m["name"] == name and (namespace is None or m.get("namespace") == namespace):
                    return self.send_json(200, self.shape(obj, metadata_only))
            return self.send_json(404, status(404, "NotFound", f'{kind_plural} "{name}" not found'))
        self.serve_list(gv, kind_plural, items, namespace, query, metadata_only)

    def shape(self, obj, metadata_only):
        if not metadata_only:
            if obj.get("kind") == "EndpointSlice" and not obj.get("endpoints"):
                # Go's encoder: a slice with no endpoint is `"endpoints": null` (no omitempty).
                return {**obj, "endpoints": None}
            return obj
        return {"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": obj["metadata"]}

    def serve_list(self, gv, kind_plural, items, namespace, query, metadata_only):
        c = self.cluster
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"))
        offset = 0
        rv = str(c.resource_version)
        token = query.get("continue")
        if token:
            data = decode_token(token)
            if not data or data.get("path") != f"{gv}/{kind_plural}" or data.get("gen") != c.expired_generation:
                return self.send_json(410, status(410, "Expired", "The provided continue parameter is too old to display a consistent list result."))
            offset, rv = data["offset"], data["rv"]
        selected = [
            o for o in items
            if (namespace is None or o["metadata"].get("namespace") == namespace)
            and labels(o["metadata"].get("labels") or {})
            and fields(o)
        ]
        limit = int(query.get("limit") or 0)
        page = selected[offset: offset + limit] if limit > 0 else selected[offset:]
        meta = {"resourceVersion": rv}
        if limit > 0 and offset + limit < len(selected):
            meta["continue"] = encode_token(
                {"path": f"{gv}/{kind_plural}", "offset": offset + limit, "rv": rv, "gen": c.expired_generation})
            meta["remainingItemCount"] = len(selected) - offset - limit
        kind = kind_plural[:-1].capitalize()
        body = {
            "apiVersion": "meta.k8s.io/v1" if metadata_only else gv,
            "kind": "PartialObjectMetadataList" if metadata_only else f"{kind}List",
            "metadata": meta,
            "items": [self.shape(o, metadata_only) for o in page],
        }
        self.stored = len(items)
        self.send_json(200, body)


# ---------------------------------------------------------------------------- fixtures

def load_fixture(path):
    """A YAML stream of Kubernetes objects; an optional `kind: FakeClusterInfo` document sets
    the server version and the installed CRD collections."""
    info, objects = {}, []
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            if not doc:
                continue
            if doc.get("kind") == "FakeClusterInfo":
                info = doc
            else:
                objects.append(doc)
    return info, objects


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture")
    ap.add_argument("--generate", help="generator spec, see generate.py")
    ap.add_argument("--certdir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token-mode", default="eks", choices=["eks", "static", "eks-verified"])
    ap.add_argument("--expect", nargs=4, metavar=("CLUSTER", "REGION", "ACCOUNT", "STANDIN_URL"),
                    help="with --token-mode eks-verified: whose tokens to accept")
    ap.add_argument("--token", default="test-token")
    args = ap.parse_args()
    if args.generate:
        from generate import generate
        info, objects = generate(args.generate)
    else:
        info, objects = load_fixture(args.fixture)
    cluster = FakeCluster(
        objects,
        git_version=info.get("gitVersion", "v1.30.4-eks-1"),
        crds=info.get("crds", []),
        token_mode=args.token_mode,
        token=args.token,
    )
    cluster.expect = args.expect
    cluster.metrics_status = info.get("metricsStatus", 200)
    for d in info.get("deprecatedApiRequests", []):
        cluster.deprecated_requested[(d["group"], d["version"], d["resource"], d.get("subresource", ""))] = \
            d.get("removed_release", "")
    Handler.cluster = cluster
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{args.certdir}/server.pem", f"{args.certdir}/server-key.pem")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"READY https://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
