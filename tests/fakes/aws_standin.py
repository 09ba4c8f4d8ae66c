"""A stand-in in front of moto for what moto does not do the way a test needs.

It forwards every request to moto unchanged, except:
- EKS `DescribeCluster` answers are patched with the endpoint and certificate authority of
  the fake Kubernetes API server registered for that cluster (moto invents an endpoint that
  leads nowhere);
- injected faults (`POST /_standin/faults`) answer an operation with an AWS error instead;
- every operation is counted (`GET /_standin/stats`).

Run: python aws_standin.py --upstream http://127.0.0.1:MOTO_PORT
It prints `READY http://127.0.0.1:PORT` once it listens.
"""

import argparse
import http.client
import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"clusters": {}, "faults": [], "calls": []}

# EKS is a REST-JSON API: the operation is in the method and path.
EKS_ROUTES = [
    ("GET", r"^/clusters/[^/]+$", "eks:DescribeCluster"),
    ("GET", r"^/clusters$", "eks:ListClusters"),
    ("POST", r"^/clusters$", "eks:CreateCluster"),
    ("GET", r"^/clusters/[^/]+/node-groups$", "eks:ListNodegroups"),
    ("GET", r"^/clusters/[^/]+/node-groups/[^/]+$", "eks:DescribeNodegroup"),
    ("POST", r"^/clusters/[^/]+/node-groups$", "eks:CreateNodegroup"),
]


def operation(method, path, headers, body):
    target = headers.get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    for m, pattern, name in EKS_ROUTES:
        if m == method and re.match(pattern, path):
            return name
    if body:
        q = urllib.parse.parse_qs(body.decode(errors="replace"))
        if "Action" in q:
            return q["Action"][0]
    q = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
    if "Action" in q:
        return q["Action"][0]
    return f"{method} {path}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, content_type="application/json", headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def control(self, body):
        path = urllib.parse.urlparse(self.path).path
        with LOCK:
            if path == "/_standin/stats":
                return self.reply(200, {"calls": list(STATE["calls"])})
            data = json.loads(body or b"{}")
            if path == "/_standin/reset":
                STATE["faults"].clear()
                STATE["calls"].clear()
            elif path == "/_standin/faults":
                STATE["faults"].extend(data.get("faults", []))
            elif m := re.match(r"^/_standin/clusters/([^/]+)$", path):
                STATE["clusters"][m.group(1)] = data
            else:
                return self.reply(404, {"message": "no such control endpoint"})
        return self.reply(200, {"ok": True})

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path.startswith("/_standin/"):
            return self.control(body)
        path = urllib.parse.urlparse(self.path).path
        op = operation(self.command, path, self.headers, body)
        with LOCK:
            STATE["calls"].append(op)
            fault = next((f for f in STATE["faults"] if f["operation"] == op and f.get("times", 1) != 0), None)
            if fault and fault.get("times", 1) > 0:
                fault["times"] = fault.get("times", 1) - 1
        if fault:
            code = fault.get("code", "AccessDeniedException")
            return self.reply(
                fault.get("status", 403),
                {"__type": code, "message": fault.get("message", f"injected {code}")},
                headers={"x-amzn-ErrorType": code},
            )
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        headers["Host"] = self.headers.get("Host", self.upstream.netloc)
        conn.request(self.command, self.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out_headers = {k: v for k, v in resp.getheaders()
                       if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-type", "server", "date")}
        if op == "eks:DescribeCluster" and resp.status == 200:
            doc = json.loads(data)
            name = doc.get("cluster", {}).get("name")
            with LOCK:
                patch = STATE["clusters"].get(name)
            if patch:
                doc["cluster"]["endpoint"] = patch["endpoint"]
                doc["cluster"]["certificateAuthority"] = {"data": patch["ca"]}
            data = json.dumps(doc).encode()
        self.reply(resp.status, data, resp.getheader("Content-Type", "application/json"), out_headers)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    Handler.upstream = urllib.parse.urlparse(args.upstream)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"READY http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
