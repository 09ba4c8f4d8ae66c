"""Codes below 100 mean what they mean in the public eksup tool (CHECKS.md "Numbering").

data/upstream-codes.csv records that tool's codes (crates.io eksup 0.15.1, its
`define_codes!` table) beside the title of the check that carries the same code here. The
binary's own catalogue (`eksup checks --format markdown`) must agree with it: a code below 100
here is one of upstream's and names the check recorded for it, the codes upstream has that
are not here are the retired ones (no title recorded), and ours start at 101.
"""

import csv
from pathlib import Path

from harness import run_eksup

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT / "data" / "upstream-codes.csv"


def catalogue(tmp_path):
    run = run_eksup(["checks", "--format", "markdown"], tmp_path)
    assert run.code == 0, run.stderr
    rows = {}
    for line in run.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 2 and cells[0][:3] in ("AWS", "EKS", "K8S") and cells[0][3:].isdigit():
            rows[cells[0]] = cells[1]
    assert len(rows) > 30, run.stdout
    return rows


def upstream():
    with UPSTREAM.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all("0.15.1" in r["source"] for r in rows), "the upstream version is recorded per row"
    return {r["code"]: r for r in rows}


def test_a_code_below_100_means_what_it_means_upstream(tmp_path):
    ours, theirs = catalogue(tmp_path), upstream()
    for code, title in ours.items():
        if int(code[3:]) >= 100:
            assert code not in theirs, f"{code} is in upstream's range"
            continue
        assert code in theirs, f"{code} is ours but upstream eksup 0.15.1 has no such code"
        assert theirs[code]["eksup_title"] == title, (
            f"{code} here is `{title}`, but upstream's {code} is "
            f"`{theirs[code]['upstream_description']}` (recorded as our `{theirs[code]['eksup_title']}`)")


def test_every_upstream_code_is_here_or_retired(tmp_path):
    ours, theirs = catalogue(tmp_path), upstream()
    for code, row in theirs.items():
        if row["eksup_title"]:
            assert code in ours, f"upstream's {code} ({row['upstream_description']}) is missing here"
        else:
            assert code not in ours, f"{code} is recorded as retired here but the catalogue has it"
    assert {"K8S014", "K8S015", "K8S016"} <= ours.keys()
    assert min(int(c[3:]) for c in ours if int(c[3:]) >= 100) == 101
