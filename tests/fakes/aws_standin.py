"""A stand-in in front of moto for what moto does not do the way a test needs.

It forwards every request to moto unchanged, except:
- operations moto does not implement are answered here from registered fixtures, in the
  published API shapes: EKS `ListAddons`, `DescribeAddon`, `DescribeAddonVersions`,
  `ListInsights`, `DescribeInsight`, `DescribeClusterVersions`, `ListUpdates`,
  `DescribeUpdate` (cluster updates, paged by `maxResults`/`nextToken`),
  `ListCertificateAuthorities`, `DescribeCertificateAuthority` (a cluster registered without
  certificate authorities has its initial one, signing until 2033), and Service Quotas
  `GetServiceQuota`;
- EKS `DescribeCluster` answers are patched with the endpoint and certificate authority of
  the fake Kubernetes API server registered for that cluster (moto invents an endpoint that
  leads nowhere) and with fields moto cannot set (health, outpostConfig, upgradePolicy,
  computeConfig for EKS Auto Mode, remoteNetworkConfig for EKS Hybrid Nodes);
- `DescribeInsight` answers the registered insight whole, `categorySpecificSummary`
  (`deprecationDetails` with `clientStats`) included; `ListInsights` only its summary fields;
  `DescribeNodegroup` answers with the registered health issues;
- Organizations `ListAccounts`/`ListAccountsForParent` answers lose each account's `Status`,
  as AWS's have since its retirement on 2026-09-09 (moto still sends it): only `State` says
  an account is suspended;
- injected faults (`POST /_standin/faults`) answer an operation with an AWS error instead
  (`match` narrows a fault to requests whose path or body holds that text, `path` to those
  whose decoded path matches that regular expression, e.g. one S3 key);
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

import csv
import datetime
from pathlib import Path

LOCK = threading.Lock()
CALENDAR_CSV = Path(__file__).resolve().parents[2] / "data" / "eks-versions.csv"


def _epoch(day):
    return datetime.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc).timestamp()


def default_cluster_versions():
    """DescribeClusterVersions entries built from the repository's calendar."""
    out = []
    with open(CALENDAR_CSV) as f:
        for row in csv.DictReader(f):
            if not row["eks_release"]:
                continue  # announced without dates: the calendar row only says it exists
            out.append({
                "clusterVersion": row["version"], "clusterType": "eks",
                "releaseDate": _epoch(row["eks_release"]),
                "endOfStandardSupportDate": _epoch(row["end_of_standard_support"]),
                "endOfExtendedSupportDate": _epoch(row["end_of_extended_support"]),
                "versionStatus": "STANDARD_SUPPORT", "status": "STANDARD_SUPPORT",
            })
    return out


DEFAULT_QUOTAS = {
    "ec2/L-1216C47A": {"name": "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", "value": 1152.0},
    "ebs/L-D18FCD1D": {"name": "Storage for General Purpose SSD (gp2) volumes, in TiB", "value": 50.0},
    "ebs/L-7A658B76": {"name": "Storage for General Purpose SSD (gp3) volumes, in TiB", "value": 50.0},
}


def fresh_state():
    return {"clusters": {}, "faults": [], "calls": [], "addon_versions": {}, "cluster_versions": None,
            "quotas": dict(DEFAULT_QUOTAS), "s3_puts": [], "scoped": [], "assume_role": [],
            # access key id -> {account, secret}; moto's default test credentials are the runner's.
            "credentials": {"testing": {"account": "123456789012", "secret": "testing"}}}


def signer(headers):
    """(access key id, region) from a SigV4 Authorization header."""
    m = re.search(r"Credential=([^/]+)/\d+/([^/]+)/", headers.get("Authorization", ""))
    return (m.group(1), m.group(2)) if m else (None, None)


S3_HEADERS = ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
              "x-amz-expected-bucket-owner", "content-type")


STATE = fresh_state()

# EKS is a REST-JSON API: the operation is in the method and path.
EKS_ROUTES = [
    ("GET", r"^/clusters/[^/]+/addons$", "eks:ListAddons"),
    ("GET", r"^/clusters/[^/]+/addons/[^/]+$", "eks:DescribeAddon"),
    ("GET", r"^/addons/supported-versions$", "eks:DescribeAddonVersions"),
    ("POST", r"^/clusters/[^/]+/insights$", "eks:ListInsights"),
    ("GET", r"^/clusters/[^/]+/insights/[^/]+$", "eks:DescribeInsight"),
    ("GET", r"^/cluster-versions$", "eks:DescribeClusterVersions"),
    ("GET", r"^/clusters/[^/]+/certificate-authorities$", "eks:ListCertificateAuthorities"),
    ("GET", r"^/clusters/[^/]+/certificate-authorities/[^/]+$", "eks:DescribeCertificateAuthority"),
    ("GET", r"^/clusters/[^/]+/updates$", "eks:ListUpdates"),
    ("GET", r"^/clusters/[^/]+/updates/[^/]+$", "eks:DescribeUpdate"),
    ("GET", r"^/clusters/[^/]+/fargate-profiles$", "eks:ListFargateProfiles"),
    ("GET", r"^/clusters/[^/]+/fargate-profiles/[^/]+$", "eks:DescribeFargateProfile"),
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
        service = ("servicequotas" if target.startswith("ServiceQuotas")
                   else "organizations" if target.startswith("AWSOrganizations")
                   else target.split("_")[0].lower())
        return f"{service}:{target.split('.')[-1]}"
    parsed = urllib.parse.urlparse(path)
    for m, pattern, name in EKS_ROUTES:
        if m == method and re.match(pattern, parsed.path):
            return name
    query = parsed.query
    if headers.get("x-amz-content-sha256") or headers.get("X-Amz-Content-SHA256"):
        # S3 (path-style): the SDK always sends x-amz-content-sha256.
        if method == "PUT" and "partNumber=" in query:
            return "s3:UploadPart"
        if method == "PUT":
            return "s3:PutObject"
        if method == "POST" and "uploads" in query:
            return "s3:CreateMultipartUpload"
        if method == "POST" and "uploadId=" in query:
            return "s3:CompleteMultipartUpload"
    service = {"ec2": "ec2", "autoscaling": "autoscaling", "sts": "sts"}
    for source in (body.decode(errors="replace") if body else "", urllib.parse.urlparse(path).query):
        q = urllib.parse.parse_qs(source)
        if "Action" in q:
            version = q.get("Version", [""])[0]
            prefix = "autoscaling" if version == "2011-01-01" else "sts" if version == "2011-06-15" else "ec2"
            return f"{service[prefix]}:{q['Action'][0]}"
    return f"{method} {path}"


# ListCertificateAuthorities answers these fields of each CA (CertificateAuthoritySummary).
CA_SUMMARY_KEYS = ("id", "createdAt", "createdBy", "activatedAt", "activatedBy", "signingStatus",
                   "distributionStatus")


def initial_certificate_authority(name, cluster):
    """What EKS answers for a cluster outside a rotation: its initial CA, signing, created
    2024-01-01 and valid until 2033-12-31."""
    return {"id": f"{name}-ca-initial", "createdAt": 1704067200, "createdBy": "EKS",
            "activatedAt": 1704067200, "activatedBy": "EKS", "signingStatus": "IN_USE",
            "distributionStatus": "COMPLETE", "validity": {"notBefore": 1704067200, "notAfter": 2019600000},
            "rollbackAvailable": False, "data": cluster.get("ca", "")}


def not_found(kind, name):
    return 404, {"__type": "ResourceNotFoundException", "message": f"No {kind} found for name: {name}."}


def answer_locally(op, method, path, query, body):
    """The operations moto lacks, from the registered fixtures; None to forward to moto."""
    parts = [p for p in path.split("/") if p]
    with LOCK:
        if op == "eks:ListAddons":
            c = STATE["clusters"].get(parts[1], {})
            return 200, {"addons": [a["addonName"] for a in c.get("addons", [])]}
        if op == "eks:DescribeAddon":
            c = STATE["clusters"].get(parts[1], {})
            addon = next((a for a in c.get("addons", []) if a["addonName"] == parts[3]), None)
            if addon is None:
                return not_found("addon", parts[3])
            full = {"clusterName": parts[1], "status": "ACTIVE", "health": {"issues": []}}
            full.update(addon)
            return 200, {"addon": full}
        if op == "eks:DescribeAddonVersions":
            version = query.get("kubernetesVersion", [""])[0]
            return 200, {"addons": STATE["addon_versions"].get(version, [])}
        if op == "eks:ListInsights":
            c = STATE["clusters"].get(parts[1], {})
            keep = ("id", "name", "category", "kubernetesVersion", "lastRefreshTime", "lastTransitionTime",
                    "description", "insightStatus")
            return 200, {"insights": [{k: i[k] for k in keep if k in i} for i in c.get("insights", [])]}
        if op == "eks:DescribeInsight":
            c = STATE["clusters"].get(parts[1], {})
            insight = next((i for i in c.get("insights", []) if i["id"] == parts[3]), None)
            return (200, {"insight": insight}) if insight else not_found("insight", parts[3])
        if op in ("eks:ListCertificateAuthorities", "eks:DescribeCertificateAuthority"):
            c = STATE["clusters"].get(parts[1], {})
            cas = c.get("certificate_authorities") or [initial_certificate_authority(parts[1], c)]
            if op == "eks:ListCertificateAuthorities":
                return 200, {"certificateAuthorities": [{k: ca[k] for k in CA_SUMMARY_KEYS if k in ca} for ca in cas]}
            ca = next((a for a in cas if a["id"] == parts[3]), None)
            return (200, {"certificateAuthority": ca}) if ca else not_found("certificate authority", parts[3])
        if op == "eks:ListUpdates":
            ids = [u["id"] for u in STATE["clusters"].get(parts[1], {}).get("updates", [])]
            start = int(query.get("nextToken", ["0"])[0])
            size = int(query.get("maxResults", ["100"])[0])
            page = {"updateIds": ids[start:start + size]}
            if start + size < len(ids):
                page["nextToken"] = str(start + size)
            return 200, page
        if op == "eks:DescribeUpdate":
            c = STATE["clusters"].get(parts[1], {})
            found = next((u for u in c.get("updates", []) if u["id"] == parts[3]), None)
            return (200, {"update": found}) if found else not_found("update", parts[3])
        if op == "eks:DescribeClusterVersions":
            versions = STATE["cluster_versions"]
            return 200, {"clusterVersions": versions if versions is not None else default_cluster_versions()}
        if op == "servicequotas:GetServiceQuota":
            req = json.loads(body or b"{}")
            key = f"{req.get('ServiceCode')}/{req.get('QuotaCode')}"
            q = STATE["quotas"].get(key)
            if q is None:
                return 400, {"__type": "NoSuchResourceException", "message": f"quota {key} not found"}
            return 200, {"Quota": {"ServiceCode": req["ServiceCode"], "QuotaCode": req["QuotaCode"],
                                   "QuotaName": q["name"], "Value": q["value"], "Unit": q.get("unit", "None"),
                                   "Adjustable": True, "GlobalQuota": False}}
    return None


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
                scoped = [{"op": op, "region": region,
                           "account": STATE["credentials"].get(akid, {}).get("account")}
                          for op, akid, region in STATE["scoped"]]
                return self.reply(200, {"calls": list(STATE["calls"]), "s3_puts": list(STATE["s3_puts"]),
                                        "scoped": scoped, "assume_role": list(STATE["assume_role"])})
            if m := re.match(r"^/_standin/credentials/([^/]+)$", path):
                found = STATE["credentials"].get(m.group(1))
                return self.reply(200 if found else 404, found or {"message": "unknown access key"})
            data = json.loads(body or b"{}")
            if path == "/_standin/reset":
                STATE.clear()
                STATE.update(fresh_state())
            elif path == "/_standin/reset-calls":
                STATE["calls"].clear()
            elif path == "/_standin/addon-versions":
                STATE["addon_versions"].update(data)
            elif path == "/_standin/cluster-versions":
                STATE["cluster_versions"] = data["clusterVersions"]
            elif path == "/_standin/quotas":
                for key, value in data.items():
                    STATE["quotas"][key] = {**STATE["quotas"].get(key, {"name": key}), "value": value}
            elif path == "/_standin/faults":
                STATE["faults"].extend(data.get("faults", []))
            elif m := re.match(r"^/_standin/clusters/([^/]+)$", path):
                STATE["clusters"].setdefault(m.group(1), {}).update(data)
            else:
                return self.reply(404, {"message": "no such control endpoint"})
        return self.reply(200, {"ok": True})

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path.startswith("/_standin/"):
            return self.control(body)
        path = urllib.parse.urlparse(self.path).path
        op = operation(self.command, self.path, self.headers, body)
        akid, region = signer(self.headers)
        raw_request = f"{self.path}\n{body.decode(errors='replace')}"
        with LOCK:
            STATE["calls"].append(op)
            STATE["scoped"].append((op, akid, region))
            account = STATE["credentials"].get(akid, {}).get("account")
            if op == "sts:AssumeRole":
                # What the runner asks for (role, session name, external ID, source identity).
                STATE["assume_role"].append({k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()
                                             if k in ("RoleArn", "RoleSessionName", "ExternalId", "SourceIdentity")})
            if op in ("s3:PutObject", "s3:CreateMultipartUpload"):
                STATE["s3_puts"].append({"op": op, "path": path, **{h: self.headers.get(h) for h in S3_HEADERS}})
            fault = next((f for f in STATE["faults"] if f["operation"] == op and f.get("times", 1) != 0
                          and f.get("match", "") in raw_request
                          and re.search(f.get("path", ""), urllib.parse.unquote(path))
                          and f.get("account", account) == account
                          and f.get("region", region) == region), None)
            if fault and fault.get("times", 1) > 0:
                fault["times"] = fault.get("times", 1) - 1
        if fault:
            code = fault.get("code", "AccessDeniedException")
            if op.startswith("s3:"):
                # S3 answers errors as a bare XML <Error>, with no protocol header.
                xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
                       f"<Message>injected {code}</Message><RequestId>1</RequestId></Error>")
                return self.reply(fault.get("status", 403), xml.encode(), "application/xml")
            if op.startswith(("ec2:", "autoscaling:", "sts:")):
                # Query protocols answer errors in XML.
                xml = (f"<Response><Errors><Error><Code>{code}</Code><Message>injected {code}</Message>"
                       f"</Error></Errors><RequestID>1</RequestID></Response>")
                if op.startswith(("autoscaling:", "sts:")):
                    xml = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected {code}"
                           f"</Message></Error><RequestId>1</RequestId></ErrorResponse>")
                return self.reply(fault.get("status", 403), xml.encode(), "text/xml")
            return self.reply(
                fault.get("status", 403),
                {"__type": code, "message": fault.get("message", f"injected {code}")},
                headers={"x-amzn-ErrorType": code},
            )
        local = answer_locally(op, self.command, path, urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query), body)
        if local is not None:
            code, doc = local
            headers = {"x-amzn-ErrorType": doc["__type"]} if code >= 400 else None
            ctype = "application/x-amz-json-1.1" if op.startswith("servicequotas:") else "application/json"
            return self.reply(code, doc, ctype, headers)
        status, data, content_type, out_headers = self.forward(op, body)
        if op == "eks:DescribeCluster" and status == 200:
            doc = json.loads(data)
            name = doc.get("cluster", {}).get("name")
            with LOCK:
                patch = STATE["clusters"].get(name)
            if patch:
                doc["cluster"]["endpoint"] = patch["endpoint"]
                doc["cluster"]["certificateAuthority"] = {"data": patch["ca"]}
                doc["cluster"].update(patch.get("cluster", {}))
            data = json.dumps(doc).encode()
        if op == "sts:AssumeRole" and status == 200:
            # Learn which account each assumed key belongs to, for per-account counters and
            # for the fake API servers' token check.
            text = data.decode()
            key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", text)
            secret = re.search(r"<SecretAccessKey>([^<]+)</SecretAccessKey>", text)
            role = re.search(r"arn:aws:iam::(\d{12}):role", urllib.parse.unquote_plus(body.decode()))
            if key and secret and role:
                with LOCK:
                    STATE["credentials"][key.group(1)] = {"account": role.group(1), "secret": secret.group(1)}
        if op in ("organizations:ListAccounts", "organizations:ListAccountsForParent") and status == 200:
            doc = json.loads(data)
            for account in doc.get("Accounts") or []:
                account.pop("Status", None)
            data = json.dumps(doc).encode()
        if op == "eks:DescribeNodegroup" and status == 200:
            doc = json.loads(data)
            ng = doc.get("nodegroup", {})
            with LOCK:
                patch = STATE["clusters"].get(ng.get("clusterName"), {}).get("nodegroups", {}).get(ng.get("nodegroupName"))
            if patch:
                ng.update(patch)
            data = json.dumps(doc).encode()
        self.reply(status, data, content_type, out_headers)

    def forward(self, op, body):
        """moto's answer to this request: (status, body, content type, headers to pass on)."""
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        headers["Host"] = self.headers.get("Host", self.upstream.netloc)
        conn.request(self.command, self.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out_headers = {k: v for k, v in resp.getheaders()
                       if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-type", "server", "date")}
        return resp.status, data, resp.getheader("Content-Type", "application/json"), out_headers

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
