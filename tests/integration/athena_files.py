"""The Athena SQL files and the dashboard, and running them on DuckDB as of the test fleet's
day (see athena_duckdb.py and fleet.py)."""

import json
import re
import subprocess
import sys
from pathlib import Path

from fleet import TODAY, faketime
from harness import ROOT

ATHENA = ROOT / "athena"
VIEWS = ATHENA / "views"
QUERIES = ATHENA / "queries"
DASHBOARDS = ATHENA / "dashboards"
RUNNER = Path(__file__).with_name("athena_duckdb.py")
HEADER_KEYS = ("Answers", "Reads", "Parameters")


def view_files():
    return sorted(VIEWS.glob("*.sql"))


def query_files():
    return sorted(QUERIES.glob("*.sql"))


def header(path: Path) -> dict:
    """The leading `-- Key: text` comment block as {key: text}, continuation lines joined."""
    out, key = {}, None
    for line in path.read_text().splitlines():
        if not line.startswith("--"):
            break
        text = line[2:].strip()
        m = re.match(r"^(View|Query|Answers|Reads|Parameters):\s*(.*)$", text)
        if m:
            key = m.group(1)
            out[key] = m.group(2)
        elif key:
            out[key] += " " + text
    return out


def body(sql: str) -> str:
    """The SQL without comment lines, as the dashboard and the Glue view carry it."""
    return "\n".join(l for l in sql.splitlines() if not l.strip().startswith("--")).strip()


def run(root: Path, queries: dict, at="20:00:00") -> dict:
    """Runs the views and `queries` ({name: Athena SQL}) on DuckDB over `root`, in a process
    whose clock reads TODAY `at` (UTC). Returns athena_duckdb.py's answer."""
    request = {
        "root": str(root),
        "views": {p.stem: p.read_text() for p in view_files()},
        "queries": queries,
    }
    proc = subprocess.run(
        [faketime(), "-f", f"@{TODAY} {at}", sys.executable, str(RUNNER)],
        input=json.dumps(request), capture_output=True, text=True, timeout=300,
        env={"TZ": "UTC", "FAKETIME_DONT_FAKE_MONOTONIC": "1", "PATH": "/usr/bin:/bin"},
    )
    if proc.returncode != 0:
        raise AssertionError(f"the queries failed on DuckDB:\n{proc.stderr[-4000:]}")
    answer = json.loads(proc.stdout)
    assert answer["results"]["_today"] == str(TODAY), "the query process does not see the fleet's day"
    return answer
