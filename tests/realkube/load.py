"""Puts a fixture cluster into a real kube-apiserver through its API, as an admin.

A standalone API server runs no controllers, so what they would write is written here the
way they write it: workload and autoscaler status through the `/status` subresource (create
clears it), nodes with their status at create, namespaces before what they hold, CRDs
before their objects (and the CRDs that a fixture's `FakeClusterInfo.crds` names but does not
define, with an open schema), webhook configurations last (a `failurePolicy: Fail` webhook
with no endpoint would reject the creates after it).

An object the server refuses is an error naming it and the server's message, never skipped:
a fixture the real server cannot hold is a defect of the fixture.
"""

import json
import time
import urllib.error
import urllib.request

# What a controller, not the creator, writes: put back through /status after create.
STATUS_BY_SUBRESOURCE = {
    "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob",
    "HorizontalPodAutoscaler", "PodDisruptionBudget", "CustomResourceDefinition",
}
# APIService status is not among them: its `Available` comes from the aggregator inside the
# API server, which is what the real-server tests are for.
# Kinds of which the API server makes its own objects (an APIService per built-in group/version).
SERVED_BY_THE_SERVER = ("APIService",)
# Created after everything else (see the module doc).
LAST = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
# Kinds of the CRDs fixtures name in FakeClusterInfo.crds, by plural.
KNOWN_KINDS = {"eniconfigs": "ENIConfig", "nodepools": "NodePool", "nodeclasses": "NodeClass",
               "ec2nodeclasses": "EC2NodeClass", "nodeclaims": "NodeClaim"}
SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink")


class LoadError(Exception):
    pass


class Client:
    """Just enough of a Kubernetes REST client: JSON in and out, the admin's certificate."""

    def __init__(self, url, context, user_agent="eksup-tests-loader"):
        self.url, self.context, self.user_agent = url, context, user_agent
        self._resources = {}

    def request(self, method, path, body=None, content_type="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                     headers={"Content-Type": content_type, "Accept": "application/json",
                                              "User-Agent": self.user_agent})
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=60) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, {"message": raw.decode(errors="replace")}

    def must(self, method, path, body=None, what=None, content_type="application/json"):
        code, answer = self.request(method, path, body, content_type)
        if code >= 300:
            raise LoadError(f"{method} {path} ({what or 'request'}): {code} {answer.get('message', answer)}")
        return answer

    def resource(self, api_version, kind):
        """(plural, namespaced) of a kind, from the server's discovery."""
        key = (api_version, kind)
        if key not in self._resources:
            path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            code, doc = self.request("GET", path)
            if code != 200:
                raise LoadError(f"the server does not serve {api_version} (GET {path}: {code}), needed for a {kind}")
            for r in doc.get("resources", []):
                if "/" not in r["name"]:
                    self._resources[(api_version, r["kind"])] = (r["name"], r["namespaced"])
            if key not in self._resources:
                raise LoadError(f"the server serves {api_version} but no kind {kind}")
        return self._resources[key]

    def path(self, api_version, kind, namespace=None, name=None):
        plural, namespaced = self.resource(api_version, kind)
        base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        ns = f"/namespaces/{namespace or 'default'}" if namespaced else ""
        return f"{base}{ns}/{plural}" + (f"/{name}" if name else "")


def open_crd(group, version, plural, kind):
    """A CRD with an open schema, for a collection a fixture names but does not define."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "scope": "Cluster" if kind in ("NodePool", "NodeClass", "EC2NodeClass", "NodeClaim")
                 else "Namespaced",
                 "names": {"plural": plural, "kind": kind, "singular": kind.lower(), "listKind": f"{kind}List"},
                 "versions": [{"name": version, "served": True, "storage": True, "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]},
    }


def clean(obj):
    obj = json.loads(json.dumps(obj))
    meta = obj.setdefault("metadata", {})
    for f in SERVER_FIELDS:
        meta.pop(f, None)
    return obj


def wait_established(client, name, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        crd = client.must("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        if any(c["type"] == "Established" and c["status"] == "True" for c in (crd.get("status") or {}).get("conditions") or []):
            return
        time.sleep(0.1)
    raise LoadError(f"CRD {name} was not Established within {timeout} s")


def create(client, obj):
    """Creates `obj` and writes its status through /status where a controller would."""
    obj = clean(obj)
    kind, api_version = obj["kind"], obj["apiVersion"]
    meta = obj["metadata"]
    status = obj.get("status") if kind in STATUS_BY_SUBRESOURCE else None
    what = f"{kind} {meta.get('namespace', '')}/{meta.get('name')}".replace(" /", " ")
    path = client.path(api_version, kind, meta.get("namespace"))
    code, created = client.request("POST", path, obj)
    if code == 409 and kind in SERVED_BY_THE_SERVER:
        # The API server registers its own group/versions (v1.apps): keep the real one.
        return client.must("GET", f"{path}/{meta['name']}")
    if code >= 300:
        raise LoadError(f"POST {path} ({what}): {code} {created.get('message', created)}")
    if status:
        created = write_status(client, created, status, what)
    return created


def write_status(client, current, status, what, attempts=5):
    """Puts `status` over what the server holds (a CRD keeps the conditions the API server's
    own controllers set), retrying when one of them wrote in between (409)."""
    path = client.path(current["apiVersion"], current["kind"], current["metadata"].get("namespace"),
                       current["metadata"]["name"])
    for _ in range(attempts):
        current["status"] = {**current.get("status", {}), **status}
        code, answer = client.request("PUT", f"{path}/status", current)
        if code < 300:
            return answer
        if code != 409:
            raise LoadError(f"PUT {path}/status ({what} status): {code} {answer.get('message', answer)}")
        current = client.must("GET", path)
    raise LoadError(f"PUT {path}/status ({what} status): still conflicting after {attempts} attempts")


def apply(client, info, objects):
    """Loads a fixture (its FakeClusterInfo and objects) in dependency order; returns what was
    created, by (kind, namespace, name)."""
    objects = [o for o in objects if o.get("kind") != "FakeClusterInfo"]
    namespaces = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    wanted = sorted({o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")} - namespaces)
    have = {n["metadata"]["name"] for n in client.must("GET", "/api/v1/namespaces")["items"]}
    for ns in wanted:
        if ns not in have:
            create(client, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    crds = [o for o in objects if o["kind"] == "CustomResourceDefinition"]
    defined = {(c["spec"]["group"], c["spec"]["names"]["plural"]) for c in crds}
    for collection in info.get("crds", []):
        group, version, plural = collection.rsplit("/", 2)
        if (group, plural) not in defined:
            kind = next((o["kind"] for o in objects if o["apiVersion"] == f"{group}/{version}"
                         and o["kind"].lower() + "s" == plural), KNOWN_KINDS.get(plural))
            if not kind:
                raise LoadError(f"no kind known for the collection {collection}")
            crds.append(open_crd(group, version, plural, kind))
    first = [o for o in objects if o["kind"] == "Namespace"]
    rest = [o for o in objects if o["kind"] not in ("Namespace", "CustomResourceDefinition") and o["kind"] not in LAST]
    last = [o for o in objects if o["kind"] in LAST]
    created = {}
    for o in first + crds:
        created[(o["kind"], None, o["metadata"]["name"])] = create(client, o)
    for c in crds:
        wait_established(client, c["metadata"]["name"])
    for o in rest + last:
        created[(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])] = create(client, o)
    for o in objects:
        if o["kind"] == "APIService" and o.get("spec", {}).get("service"):
            wait_judged(client, o["metadata"]["name"], (o.get("status") or {}).get("conditions") or [])
    return created


def wait_judged(client, name, expected, timeout=45):
    """Waits until the aggregator has judged an APIService: its `Available` condition has the
    fixture's reason when the fixture gives one (the aggregator's first verdict may be an
    earlier one, e.g. before its discovery probe times out), else any reason."""
    want = next((c.get("reason") for c in expected if c.get("type") == "Available"), None)
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        svc = client.must("GET", f"/apis/apiregistration.k8s.io/v1/apiservices/{name}")
        seen = next((c for c in (svc.get("status") or {}).get("conditions") or [] if c["type"] == "Available"), None)
        if seen and (want is None or seen.get("reason") == want):
            return seen
        time.sleep(0.2)
    raise LoadError(f"APIService {name}: the aggregator said {seen and seen.get('reason')!r}, "
                    f"not {want!r}, within {timeout} s")
