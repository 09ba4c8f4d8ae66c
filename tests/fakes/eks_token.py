"""What EKS checks of a bearer token, for the fake API server and for the real kube-apiserver's
token webhook (tests/realkube/token_verifier.py): an EKS token is `k8s-aws-v1.` and a
base64url presigned STS GetCallerIdentity URL that signs the `x-k8s-aws-id` header."""

import base64
import json
import urllib.parse
import urllib.request


def valid_eks_token(header):
    """Checks the shape of an EKS bearer token: a presigned STS GetCallerIdentity URL that
    signs the x-k8s-aws-id header."""
    if not header.startswith("Bearer k8s-aws-v1."):
        return False
    b64 = header[len("Bearer k8s-aws-v1."):]
    try:
        url = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).decode()
    except Exception:
        return False
    parsed = urllib.parse.urlparse(url)
    q = urllib.parse.parse_qs(parsed.query)
    return (
        parsed.scheme == "https"
        and parsed.hostname.startswith("sts.")
        and q.get("Action") == ["GetCallerIdentity"]
        and "x-k8s-aws-id" in q.get("X-Amz-SignedHeaders", [""])[0].split(";")
        and q.get("X-Amz-Expires") == ["60"]
        and "X-Amz-Signature" in q
    )


def verified_eks_token(header, cluster, region, account, standin):
    """Checks that an EKS token was minted for this cluster, in this region, by credentials
    of this account, the way EKS does: recompute the presigned URL's SigV4 signature with
    `x-k8s-aws-id: <cluster>` and the secret of the access key it names (which the AWS
    stand-in learned from the AssumeRole answer). A token for another cluster or region, or
    signed by another account's credentials, is rejected."""
    import hashlib
    import hmac
    if not valid_eks_token(header):
        return False
    b64 = header[len("Bearer k8s-aws-v1."):]
    url = urllib.parse.urlparse(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).decode())
    pairs = [p.split("=", 1) for p in url.query.split("&")]
    params = dict((k, v) for k, v in pairs)
    akid, day, scope_region, service, _ = urllib.parse.unquote(params["X-Amz-Credential"]).split("/")
    if scope_region != region or service != "sts" or url.hostname != f"sts.{region}.amazonaws.com":
        return False
    try:
        with urllib.request.urlopen(f"{standin}/_standin/credentials/{akid}", timeout=5) as r:
            creds = json.loads(r.read())
    except Exception:
        return False
    if creds.get("account") != account:
        return False
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs) if k != "X-Amz-Signature")
    canonical = "\n".join(["GET", "/", canonical_query, f"host:{url.hostname}", f"x-k8s-aws-id:{cluster}", "",
                           "host;x-k8s-aws-id", hashlib.sha256(b"").hexdigest()])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], f"{day}/{region}/sts/aws4_request",
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + creds["secret"]).encode()
    for part in (day, region, "sts", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, params["X-Amz-Signature"])
