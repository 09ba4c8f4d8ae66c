"""The module map of the crate doc (src/lib.rs) is true: every top-level module is in it, in
an order the imports follow (a module uses only modules below it in the table), and no chain
of `crate::` imports leads from a module back to itself (../shared/tools/module-cycles.py)."""

import importlib.util
import re
import subprocess
import sys

import pytest

from harness import ROOT

TOOL = ROOT.parent / "shared" / "tools" / "module-cycles.py"


def crate_doc_order():
    lib = (ROOT / "src" / "lib.rs").read_text()
    return re.findall(r"^//! \| \[`(\w+)`\] \|", lib, re.M)


def declared():
    return set(re.findall(r"^pub mod (\w+);", (ROOT / "src" / "lib.rs").read_text(), re.M))


def test_the_crate_doc_lists_every_top_level_module_once():
    order = crate_doc_order()
    assert sorted(order) == sorted(set(order)), "a module is listed twice"
    assert set(order) == declared()


@pytest.mark.skipif(not TOOL.is_file(), reason="../shared/tools is not beside this checkout")
def test_imports_flow_one_way_down_the_crate_doc():
    proc = subprocess.run([sys.executable, str(TOOL), str(ROOT / "src")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout
    spec = importlib.util.spec_from_file_location("module_cycles", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    graph = tool.graph(str(ROOT / "src"))
    order = crate_doc_order()
    rank = {m: i for i, m in enumerate(order)}
    for module, uses in graph.items():
        for used in uses:
            assert rank[used] > rank[module], f"{module} uses {used}, which stands above it in the crate doc"
