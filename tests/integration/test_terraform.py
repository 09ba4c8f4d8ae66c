"""terraform/: formatting, checkov, every resource type / argument / block against the AWS
provider's schema (tf_schema.py), and python-hcl2 assertions tying the modules to what the
binary and the repository define: the Glue columns to `eksup schema`, the named queries and
views to athena/, the member policy to deploy/iam/eksup-policy.json."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tf_files
import tf_schema
from harness import ROOT, run_eksup

TF = tf_files.TERRAFORM
CHECKOV_INSTALL = ("python3 -m venv .venv-checkov && .venv-checkov/bin/pip install -r tests/requirements-checkov.txt "
                   "(tests/run.sh does it)")
MODULES = [TF, *sorted((TF / "modules").iterdir())]
EXAMPLES = sorted((TF / "examples").iterdir())


def resolve(expr: str, module_dir: Path) -> Path:
    """A `file("${path.module}/…")` path as a real path."""
    m = re.fullmatch(r'\$\{(?:file|jsondecode\(file)\("\$\{path\.module\}/([^"]+)"\)\)?\}', expr)
    assert m, f"not a file() of a path under path.module: {expr}"
    return (module_dir / m.group(1)).resolve()


def terraform_fmt(**env):
    """`terraform fmt -check` of terraform/, with HashiCorp's checkpoint (the version check that
    writes ~/.terraform.d/checkpoint_*) turned off."""
    exe = shutil.which("terraform")
    if not exe:
        pytest.fail("terraform not found on PATH: install Terraform >= 1.5 (the machine image has 1.11)")
    return subprocess.run([exe, "fmt", "-check", "-recursive", "-diff", str(TF)], capture_output=True, text=True,
                          env={**os.environ, "CHECKPOINT_DISABLE": "1", **env})


def test_terraform_fmt():
    proc = terraform_fmt()
    assert proc.returncode == 0, f"terraform fmt -recursive terraform/ would change:\n{proc.stdout}{proc.stderr}"


def test_terraform_writes_nothing_in_the_home_directory(tmp_path):
    terraform_fmt(HOME=str(tmp_path))
    assert list(tmp_path.iterdir()) == [], "terraform wrote in HOME (is CHECKPOINT_DISABLE set?)"


def test_checkov_finds_no_failed_check_and_every_skip_has_a_reason():
    exe = Path(os.environ.get("TEST_CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))
    if not exe.is_file():
        pytest.fail(f"checkov not found at {exe}: {CHECKOV_INSTALL}")
    proc = subprocess.run([str(exe), "-d", str(TF), "--framework", "terraform", "-o", "json", "--skip-download"],
                          capture_output=True, text=True, timeout=900, cwd=ROOT,
                          env={**os.environ, "BC_SKIP_MAPPING": "TRUE"})
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    s = report["summary"]
    print(f"checkov {s['checkov_version']}: Passed checks: {s['passed']}, Failed checks: {s['failed']}, "
          f"Skipped checks: {s['skipped']} ({s['resource_count']} resources)")
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
              for c in report["results"].get("failed_checks", [])]
    assert failed == [] and s["failed"] == 0, "\n".join(failed)
    assert s["parsing_errors"] == 0
    assert s["resource_count"] >= 30, "checkov did not see the modules through the examples"
    for c in report["results"].get("skipped_checks", []):
        reason = (c.get("check_result") or {}).get("suppress_comment") or ""
        assert len(reason) > 20, f"{c['check_id']} on {c['resource']} is skipped without a reason"
    assert proc.returncode == 0


@pytest.fixture(scope="module")
def provider_schema():
    return tf_schema.load_index(Path(sys.prefix) / "eksup-cache")


def test_every_resource_argument_and_block_exists_in_the_aws_provider_schema(provider_schema):
    parsed = {str(p.relative_to(ROOT)): tf_files.parse(p, explicit_blocks=True) for p in tf_files.tf_files()}
    problems, counts = tf_schema.check(parsed, provider_schema)
    assert problems == [], "\n".join(problems)
    assert counts["resource"] >= 25 and counts["data"] >= 10, counts


def test_the_schema_checker_reports_what_the_provider_lacks(provider_schema):
    import hcl2
    from hcl2 import SerializationOptions
    wrong = hcl2.loads('''
resource "aws_s3_bucket" "a" {
  bucket           = "b"
  no_such_argument = 1
}
resource "aws_s3_buckett" "b" {}
resource "aws_s3_bucket_lifecycle_configuration" "c" {
  bucket = "b"
  rule = { id = "x" }
}
resource "aws_athena_workgroup" "d" {
  name = "w"
  configuration {
    engine_version { selected_engine = "3" }
  }
}
data "aws_iam_policy_document" "e" {
  dynamic "statment" {
    for_each = [1]
    content {}
  }
}
''', serialization_options=SerializationOptions(strip_string_quotes=True, explicit_blocks=True))
    problems, _ = tf_schema.check({"wrong.tf": wrong}, provider_schema)
    for expected in ("`no_such_argument` is not an argument", "aws_s3_buckett.b: no such resource",
                     "`rule` is a nested block, written as an argument", "`selected_engine` is not an argument",
                     "dynamic block `statment`"):
        assert any(expected in p for p in problems), (expected, problems)


def test_glue_columns_are_eksup_schema_exactly(tmp_path):
    run = run_eksup(["schema", "--format", "glue-json"], tmp_path)
    assert run.code == 0, run.stderr
    committed = TF / "schema" / "tables.json"
    assert json.loads(run.stdout) == json.loads(committed.read_text()), (
        "terraform/schema/tables.json differs from the binary: "
        "run `eksup schema --format glue-json > terraform/schema/tables.json`")
    assert run.stdout == committed.read_text()

    root = tf_files.merged(TF)
    assert resolve(root["locals"]["schema"], TF) == committed.resolve()
    assert root["locals"]["tables"] == '${{for name, columns in local.schema : name => columns if name != "schema_version"}}'
    table = root["resource"]["aws_glue_catalog_table"]["this"]
    assert table["for_each"] == "${local.tables}" and table["name"] == "${each.key}"
    columns = table["storage_descriptor"][0]["dynamic"][0]["columns"]
    assert columns["for_each"] == "${each.value}"
    content = columns["content"][0]
    # What Terraform gives Glue, column by column, for each table of the committed file.
    schema = json.loads(committed.read_text())
    for name, cols in ((k, v) for k, v in schema.items() if k != "schema_version"):
        glue = [{arg: c[ref.removeprefix("${columns.value.").removesuffix("}")] for arg, ref in content.items()}
                for c in cols]
        assert [(g["name"], g["type"]) for g in glue] == [(c["Name"], c["Type"]) for c in json.loads(run.stdout)[name]]
    assert set(schema) - {"schema_version"} == {"findings", "clusters"}


def test_partition_projection_on_dt_matches_the_layout_and_the_binarys_ddl(tmp_path):
    table = tf_files.merged(TF)["resource"]["aws_glue_catalog_table"]["this"]
    p = table["parameters"]
    assert (p["projection.enabled"], p["projection.dt.type"], p["projection.dt.format"]) == ("true", "date", "yyyy-MM-dd")
    assert p["projection.dt.range"] == "${var.partition_projection_start},NOW"
    assert (p["projection.dt.interval"], p["projection.dt.interval.unit"]) == ("1", "DAYS")
    location = table["storage_descriptor"][0]["location"]
    assert location == "s3://${local.bucket_name}/${local.results_prefix}/${each.key}/"
    assert p["storage.location.template"] == location + "dt=$${dt}/", "the writer's layout: PREFIX/<table>/dt=YYYY-MM-DD/"
    assert table["partition_keys"] == [{"name": "dt", "type": "string", "comment": table["partition_keys"][0]["comment"]}]
    ddl = run_eksup(["schema", "--format", "ddl"], tmp_path).stdout
    for key in ("projection.dt.type", "projection.dt.format", "projection.dt.interval", "projection.dt.interval.unit"):
        assert f"'{key}' = '{p[key]}'" in ddl, key
    assert "PARTITIONED BY (`dt` string)" in ddl


def test_every_athena_sql_file_is_registered():
    root = tf_files.merged(TF)
    loc = root["locals"]
    assert (TF / loc["athena_dir"].removeprefix("${path.module}/")).resolve() == (ROOT / "athena").resolve()
    assert loc["queries"] == '${{for f in fileset("${local.athena_dir}/queries", "*.sql") : trimsuffix(f, ".sql") => f}}'
    named = root["resource"]["aws_athena_named_query"]["this"]
    assert named["for_each"] == "${local.queries}" and named["name"] == "${each.key}"
    assert named["query"] == '${file("${local.athena_dir}/queries/${each.value}")}'
    assert named["workgroup"] == "${aws_athena_workgroup.this.id}"
    assert named["database"] == "${aws_glue_catalog_database.this.name}"
    views = {p.stem for p in (ROOT / "athena" / "views").glob("*.sql")}
    assert set(loc["views"]) == views, "local.views lists every athena/views/*.sql"
    for view, spec in loc["views"].items():
        assert spec["table"] in json.loads((TF / "schema" / "tables.json").read_text())
    assert 'file("${local.athena_dir}/views/${view}.sql")' in loc["view_sql"]
    assert root["resource"]["aws_glue_catalog_table"]["view"]["for_each"] == "${local.views}"
    stray = [p for p in (ROOT / "athena").rglob("*.sql") if p.parent.name not in ("views", "queries")]
    assert stray == [], f"SQL outside athena/views and athena/queries is registered nowhere: {stray}"


@pytest.mark.parametrize("module", ["member-role", "cluster-writer"])
def test_the_read_policy_is_deploy_iam_eksup_policy_json(module):
    d = TF / "modules" / module
    m = tf_files.merged(d)
    assert resolve(m["locals"]["read_policy"], d) == (ROOT / "deploy" / "iam" / "eksup-policy.json").resolve()
    policies = m["resource"]["aws_iam_role_policy"]
    assert policies["read"]["policy"] == "${local.read_policy}"
    assert policies["read"]["role"] == "${aws_iam_role.this.id}"
    assert "aws_iam_role_policy_attachment" not in m["resource"], "no other permissions than the tested ones"
    if module == "member-role":
        assert list(policies) == ["read"]


def test_member_role_trusts_the_runner_with_the_external_id_and_maps_to_eksup_readers():
    m = tf_files.merged(TF / "modules" / "member-role")
    trust = m["data"]["aws_iam_policy_document"]["trust"]["statement"][0]
    # The runner sends SourceIdentity=eksup (test_fleet asserts it on the wire).
    assert trust["actions"] == ["sts:AssumeRole", "sts:SetSourceIdentity"]
    assert trust["principals"][0] == {"type": "AWS", "identifiers": ["${var.runner_role_arn}"]}
    condition = trust["dynamic"][0]["condition"]["content"][0]
    assert condition == {"test": "StringEquals", "variable": "sts:ExternalId", "values": ["${var.external_id}"]}
    assert m["variable"]["name"]["default"] == "eksup-reader"
    assert m["variable"]["kubernetes_groups"]["default"] == ["eksup-readers"]
    entry = m["resource"]["aws_eks_access_entry"]["this"]
    assert entry["kubernetes_groups"] == "${var.kubernetes_groups}" and entry["principal_arn"] == "${aws_iam_role.this.arn}"
    rbac = (ROOT / "deploy/kubernetes/base/rbac/bindings.yaml").read_text()
    assert "name: eksup-readers" in rbac, "the group the access entries map to is the one RBAC binds"


def test_runner_role_trust_is_chosen_by_a_variable_and_its_permissions_are_scoped():
    root = tf_files.merged(TF)
    runner = root["variable"]["runner"]
    assert "pod_identity" in runner["type"] and runner["default"] == {}
    trust = root["data"]["aws_iam_policy_document"]["runner_trust"]["dynamic"]
    by_choice = {}
    for d in trust:
        st = d["statement"]
        choice = re.search(r'trust == "(\w+)"', st["for_each"]).group(1)
        by_choice[choice] = st["content"][0]
    assert set(by_choice) == {"pod_identity", "irsa", "ecs"}
    assert by_choice["pod_identity"]["actions"] == ["sts:AssumeRole", "sts:TagSession"]
    assert by_choice["pod_identity"]["principals"][0]["identifiers"] == ["pods.eks.amazonaws.com"]
    assert by_choice["irsa"]["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert by_choice["irsa"]["principals"][0]["type"] == "Federated"
    assert by_choice["ecs"]["principals"][0]["identifiers"] == ["ecs-tasks.amazonaws.com"]
    policy = root["data"]["aws_iam_policy_document"]["runner"]
    statements = {s["sid"]: s for s in policy["statement"]}
    # Bounded to the listed accounts or the Organization: test_least_privilege.py.
    assume = statements["AssumeMemberRoles"]
    assert (assume["actions"], assume["resources"]) == (["sts:AssumeRole", "sts:SetSourceIdentity"],
                                                        "${local.member_role_arns}")
    assert "role/${local.runner.member_role_name}" in root["locals"]["member_role_arns"]
    # Only its own keys and the page (test_least_privilege.py matches them).
    assert statements["WriteOwnResults"]["actions"] == ["s3:PutObject", "s3:AbortMultipartUpload"]
    assert statements["WriteOwnResults"]["resources"] == "${local.runner_object_arns}"
    assert root["locals"]["results_objects_arn"] == "${local.bucket_arn}/${local.results_prefix}/*"
    assert statements["EncryptResults"]["resources"] == ["${local.kms_key_arn}"]
    dynamic = {d["statement"]["content"][0]["sid"]: d["statement"] for d in policy["dynamic"]}
    assert set(dynamic) == {"DiscoverOrganizationAccounts", "ListTablePartitionsForReport", "ReadTablesForReport"}
    # `outputs.fleet_page: true` reads the two tables back (src/output/page/store.rs lists
    # PREFIX/<table>/dt=DAY/ and gets those objects), only when the variable says so.
    listing, reading = dynamic["ListTablePartitionsForReport"], dynamic["ReadTablesForReport"]
    for d in (listing, reading):
        assert d["for_each"] == "${local.runner.publish_report ? [1] : []}"
    assert listing["content"][0]["actions"] == ["s3:ListBucket"]
    assert listing["content"][0]["resources"] == ["${local.bucket_arn}"]
    assert listing["content"][0]["condition"][0]["values"] == [
        "${local.results_prefix}/clusters/*", "${local.results_prefix}/findings/*"]
    assert reading["content"][0]["actions"] == ["s3:GetObject"]
    assert reading["content"][0]["resources"] == [
        "${local.bucket_arn}/${local.results_prefix}/clusters/*", "${local.bucket_arn}/${local.results_prefix}/findings/*"]
    org = dynamic["DiscoverOrganizationAccounts"]
    assert org["for_each"] == "${local.runner.organization_discovery ? [1] : []}"
    # ListAccounts without ou_ids; with them, the OU walk (src/run/fleet/discovery.rs).
    assert org["content"][0]["actions"] == ["organizations:ListAccounts", "organizations:ListAccountsForParent",
                                            "organizations:ListOrganizationalUnitsForParent"]
    assert runner["type"].count("optional(") >= 10 and '"eksup-runner"' in runner["type"]


def test_results_bucket_controls():
    r = tf_files.merged(TF)["resource"]
    block = r["aws_s3_bucket_public_access_block"]["this"]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                          "restrict_public_buckets"))
    assert r["aws_s3_bucket_ownership_controls"]["this"]["rule"][0]["object_ownership"] == "BucketOwnerEnforced"
    assert r["aws_s3_bucket_versioning"]["this"]["versioning_configuration"][0]["status"] == "Enabled"
    sse = r["aws_s3_bucket_server_side_encryption_configuration"]["this"]["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0] == {"sse_algorithm": "aws:kms",
                                                                 "kms_master_key_id": "${local.kms_key_arn}"}
    rules = {rule["id"]: rule for rule in r["aws_s3_bucket_lifecycle_configuration"]["this"]["rule"]}
    assert rules["abort-incomplete-multipart-uploads"]["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == 1
    assert rules["expire-results"]["expiration"][0]["days"] == "${var.lifecycle_rules.results_expiration_days}"
    assert r["aws_s3_bucket_logging"]["this"]["count"] == "${var.access_logging != null ? 1 : 0}"
    kms = tf_files.merged(TF)["locals"]["kms_key_arn"]
    assert kms == "${local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn}"
    policy = tf_files.merged(TF)["data"]["aws_iam_policy_document"]["bucket"]
    sids = {s["sid"]: s for s in policy["statement"]}
    tls = sids["DenyInsecureTransport"]
    assert tls["effect"] == "Deny" and tls["condition"][0] == {"test": "Bool", "variable": "aws:SecureTransport",
                                                               "values": ["false"]}
    assert sids["DenyResultsUnderAnotherKey"]["condition"][0]["values"] == ["${local.kms_key_arn}"]
    writers = {d["statement"]["content"][0]["sid"]: d["statement"]["content"][0] for d in policy["dynamic"]}
    assert set(writers) == {"RunnerWritesResults", "WriterAccountsWriteResults", "OrganizationWritesResults",
                            "DenyFleetPageToAllButRunner"}
    writers.pop("DenyFleetPageToAllButRunner")   # test_least_privilege.py
    for sid, st in writers.items():
        assert st["actions"] == ["s3:PutObject", "s3:AbortMultipartUpload"], sid
        # Writer-name patterns, never the whole prefix (test_least_privilege.py).
        assert st["resources"] in ("${local.runner_object_arns}", "${local.any_writer_object_arns}"), sid
        assert {"variable": "s3:x-amz-server-side-encryption", "values": ["aws:kms"],
                "test": "StringEqualsIfExists"} in st["condition"], sid
    org = writers["OrganizationWritesResults"]["condition"]
    assert {"test": "StringEquals", "variable": "aws:PrincipalOrgID", "values": ["${var.writer_organization_id}"]} in org


def test_athena_workgroup_is_enforced_engine_v3_encrypted_and_capped():
    wg = tf_files.merged(TF)["resource"]["aws_athena_workgroup"]["this"]["configuration"][0]
    assert wg["enforce_workgroup_configuration"] is True
    assert wg["engine_version"][0]["selected_engine_version"] == "Athena engine version 3"
    assert wg["bytes_scanned_cutoff_per_query"] == "${var.athena.bytes_scanned_cutoff_per_query}"
    result = wg["result_configuration"][0]
    assert result["encryption_configuration"][0] == {"encryption_option": "SSE_KMS", "kms_key_arn": "${local.kms_key_arn}"}
    assert result["output_location"] == "s3://${local.bucket_name}/${var.athena.results_prefix}/"


@pytest.mark.parametrize("module", MODULES + EXAMPLES, ids=lambda p: str(p.relative_to(TF)) or "root")
def test_versions_pin_terraform_1_5_and_aws_provider_6(module):
    versions = tf_files.parse(module / "versions.tf")["terraform"][0]
    assert versions["required_version"] == ">= 1.5"
    m = tf_files.merged(module)
    if not (m["resource"] or m["data"] or m["module"]):
        # modules/object-keys: strings only, so tests run it offline (no provider to install).
        assert "required_providers" not in versions
        return
    aws = versions["required_providers"][0]["aws"]
    assert (aws["source"], aws["version"]) == ("hashicorp/aws", ">= 6.0")


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(TF)) or "root")
def test_module_layout_and_readme_lists_every_input_and_output(module):
    for f in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (module / f).is_file(), f"{module.relative_to(ROOT)}/{f} is missing"
    m = tf_files.merged(module)
    readme = (module / "README.md").read_text()
    inputs = readme.split("## Inputs", 1)[1].split("## Outputs", 1)[0]
    outputs = readme.split("## Outputs", 1)[1]
    for name, var in m["variable"].items():
        assert var.get("description"), f"variable {name} has no description"
        assert f"| `{name}` |" in inputs, f"{module.name}/README.md: input `{name}` is not documented"
    for name, out in m["output"].items():
        assert out.get("description"), f"output {name} has no description"
        assert f"| `{name}` |" in outputs, f"{module.name}/README.md: output `{name}` is not documented"
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", inputs, re.M))
    assert documented == set(m["variable"]), "the README documents inputs the module does not have"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_complete_roots_using_the_modules(example):
    m = tf_files.merged(example)
    assert (example / "README.md").is_file()
    assert m["module"], "an example uses the modules"
    for name, call in m["module"].items():
        source = (example / call["source"]).resolve()
        assert source.is_dir() and (source / "main.tf").is_file(), f"{name}: {call['source']}"
    providers = tf_files.parse(example / "main.tf").get("provider", [])
    assert any("aws" in p for p in providers), "an example root configures its provider"
