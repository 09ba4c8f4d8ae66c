"""Reading the Terraform tree with python-hcl2 for assertions."""

from functools import lru_cache
from pathlib import Path

import pytest

from harness import ROOT

TERRAFORM = ROOT / "terraform"
INSTALL = "pip install -r tests/requirements.txt (tests/run.sh does it; the package is python-hcl2)"


def _hcl2():
    try:
        import hcl2
        from hcl2 import SerializationOptions
    except ImportError:
        pytest.fail(f"python-hcl2 is not installed: {INSTALL}")
    return hcl2, SerializationOptions


@lru_cache(maxsize=None)
def parse(path: Path, explicit_blocks=False) -> dict:
    hcl2, options = _hcl2()
    return hcl2.loads(path.read_text(), serialization_options=options(
        strip_string_quotes=True, explicit_blocks=explicit_blocks, with_comments=False))


def tf_files():
    return sorted(TERRAFORM.rglob("*.tf"))


def module_dirs():
    """The root module, each module under modules/ and each example: directories of .tf files."""
    return sorted({p.parent for p in tf_files()})


def merged(directory: Path) -> dict:
    """All top-level blocks of a module directory: {"resource": {type: {name: body}}, "data": …,
    "variable": {name: body}, "output": {name: body}, "locals": {name: expr}, "module": {name: body}}."""
    out = {"resource": {}, "data": {}, "variable": {}, "output": {}, "locals": {}, "module": {}}
    for path in sorted(directory.glob("*.tf")):
        doc = parse(path)
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        out[kind].setdefault(rtype, {})[name] = body
        for kind in ("variable", "output", "module"):
            for block in doc.get(kind, []):
                out[kind].update(block)
        for block in doc.get("locals", []):
            out["locals"].update(block)
    return out
