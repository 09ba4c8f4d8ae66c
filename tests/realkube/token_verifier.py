"""The EKS-token verifier behind the real kube-apiserver's token webhook
(`--authentication-token-webhook-config-file`, TokenReview v1).

EKS's authenticator accepts a bearer token that is a presigned STS GetCallerIdentity URL and
maps the IAM identity to a Kubernetes user. This one accepts the tokens tests/fakes/eks_token.py
accepts (by shape, or with --expect signed for one cluster by one account's credentials) and
maps each to --user in the --group groups, so RBAC decides what eksup's own token may read.
Any other token is not authenticated here, and the API server tries its other authenticators
(client certificates, service-account tokens).

Run: python token_verifier.py --port PORT --user NAME [--group G]... [--expect CLUSTER REGION ACCOUNT STANDIN]
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fakes"))

from eks_token import valid_eks_token, verified_eks_token  # noqa: E402


def review(body, user, groups, expect):
    spec = body.get("spec", {})
    header = f"Bearer {spec.get('token', '')}"
    ok = verified_eks_token(header, *expect) if expect else valid_eks_token(header)
    status = {"authenticated": ok}
    if ok:
        status["user"] = {"username": user, "groups": list(groups)}
        status["audiences"] = spec.get("audiences", [])
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--group", action="append", default=[])
    ap.add_argument("--expect", nargs=4, metavar=("CLUSTER", "REGION", "ACCOUNT", "STANDIN_URL"))
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            pass

        def answer(self, code, body):
            raw = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self):
            self.answer(200 if self.path == "/healthz" else 404, {})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            answer = review(body, args.user, args.group, args.expect)
            print(f"tokenreview authenticated={answer['status']['authenticated']}", flush=True)
            self.answer(200, answer)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
