"""Runs Athena SQL (Trino dialect) on DuckDB over a Hive-partitioned tree that eksup wrote.

Used as a script so that it can run under libfaketime: the queries use `current_date`, and
the test fleet was written on fixed days, so the query process sees the same "today".

stdin:  {"root": DIR, "views": {name: sql}, "queries": {name: sql}}
stdout: {"transpiled": {name: duckdb sql}, "results": {name: {"columns": [...], "types": [...], "rows": [...]}}}

`clusters` and `findings` are DuckDB views over `DIR/<table>/dt=*/*.parquet`, with `dt` kept
as a string (as the Glue partition column is) and account ids as strings.
"""

import datetime
import decimal
import json
import sys

import duckdb
import sqlglot

TABLES = ("clusters", "findings")


def transpile(sql: str) -> str:
    statements = sqlglot.transpile(sql, read="athena", write="duckdb")
    if len(statements) != 1:
        raise ValueError(f"expected one statement, got {len(statements)}")
    return statements[0]


def plain(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def run(request):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    root = request["root"]
    for table in TABLES:
        con.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{root}/{table}/dt=*/*.parquet', "
            "hive_partitioning = true, hive_types_autocast = false, union_by_name = true)")
    transpiled, results = {}, {}
    for name, sql in request.get("views", {}).items():
        transpiled[name] = transpile(sql)
        con.execute(f"CREATE VIEW {name} AS {transpiled[name]}")
        cur = con.execute(f"SELECT * FROM {name} LIMIT 0")
        results[name] = {"columns": [d[0] for d in cur.description], "types": [str(d[1]) for d in cur.description]}
    for name, sql in request.get("queries", {}).items():
        transpiled[name] = transpile(sql)
        cur = con.execute(transpiled[name])
        rows = cur.fetchall()
        results[name] = {
            "columns": [d[0] for d in cur.description],
            "types": [str(d[1]) for d in cur.description],
            "rows": [[plain(v) for v in row] for row in rows],
        }
    results["_today"] = con.execute("SELECT CAST(current_date AS VARCHAR)").fetchone()[0]
    return {"transpiled": transpiled, "results": results}


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
