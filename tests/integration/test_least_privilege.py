"""Least privilege and partitions (issue 18, item 6) and the one KMS key name (item 5).

- A writer's role may put only keys that carry its writer name; only the central runner's
  may put the fleet page. The patterns come from terraform/modules/object-keys, evaluated by
  `terraform console`; concrete keys are matched with IAM's wildcard rules.
- The writer names the manifests configure are the ones Terraform is given.
- The runner assumes member roles only in listed accounts or inside an Organization.
- No ARN in code, IAM JSON or Terraform is written for one partition.
- The KMS key the docs and overlays name is the one form the bucket policy accepts.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

import iam_keys
import tf_files
from harness import ROOT
from iam_keys import iam_match, keys_of, may_put, page_keys
from manifests import KUSTOMIZE, find, render

TF = tf_files.TERRAFORM
PREFIX = "eksup/v1"
# Writer names chosen to collide under a naive `*<writer>.parquet` pattern: suffixes,
# prefixes and the shard form of one another.
WRITERS = ["prod", "eu-prod", "prod-eu", "prod-0001", "0001-prod", "central-runner", "central-runner-shard-1-of-4",
           "a_b", "b"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tf"))


def keys_for(base, writers, shards=1, fleet_page=False):
    return iam_keys.patterns(base, PREFIX, tuple(writers), shards, fleet_page)


def unwrap(expr: str) -> str:
    """python-hcl2 writes an expression as `${…}`; Terraform wants it bare."""
    assert expr.startswith("${") and expr.endswith("}"), expr
    return expr[2:-1]


# --- IAM wildcard matching ------------------------------------------------------------------

def test_iam_match_follows_iams_wildcard_rules():
    assert iam_match("a/*/c", "a/b/x/c")          # `*` crosses `/`
    assert iam_match("a*", "a")                   # and matches nothing
    assert iam_match("a?c", "abc") and not iam_match("a?c", "ac") and not iam_match("a?c", "abbc")
    assert iam_match("a.c", "a.c") and not iam_match("a.c", "abc")   # `.` is literal
    assert not iam_match("A", "a")                # case-sensitive
    assert not iam_match("abc", "abcd") and not iam_match("bcd", "abcd")  # anchored


# --- a writer's own keys and nobody else's --------------------------------------------------

@pytest.mark.parametrize("writer", WRITERS)
def test_a_writer_may_put_its_own_keys_and_no_other_writers_nor_the_page(base, writer):
    mine = keys_for(base, [writer])
    own = keys_of(PREFIX, writer)
    assert all(may_put(k, mine) for k in own), [k for k in own if not may_put(k, mine)]
    for other in WRITERS:
        if other != writer:
            stolen = [k for k in keys_of(PREFIX, other) if may_put(k, mine)]
            assert stolen == [], f"{writer} may put {other}'s keys: {stolen}"
    assert not any(may_put(k, mine) for k in page_keys(PREFIX)), "only the runner writes the page"
    # Nothing outside the layout: another prefix, another table, a key without the date.
    assert not may_put(f"other/{own[2].split('/', 2)[2]}", mine)
    assert not may_put(own[2].replace("/findings/", "/report/"), mine)
    assert not may_put(own[2].replace("dt=2026-11-23/", ""), mine)


def test_a_run_id_or_batch_of_another_shape_is_refused(base):
    mine = keys_for(base, ["prod"])
    run_id = "0192f0c4-7d2a-7b3e-8a1f-3c4d5e6f7a8b"
    assert may_put(f"{PREFIX}/findings/dt=2026-11-23/{run_id}-0007.prod.parquet", mine)
    # An unpadded batch number would let `prod` reach `prod-x`'s `-<batch>` files: refused.
    assert not may_put(f"{PREFIX}/findings/dt=2026-11-23/{run_id}-7.prod.parquet", mine)
    assert not may_put(f"{PREFIX}/findings/dt=2026-11-23/x{run_id}-0007.prod.parquet", mine)


def test_shards_of_the_runner_are_covered_exactly(base):
    allowed = keys_for(base, ["central-runner"], shards=12, fleet_page=True)
    for i in range(12):
        assert all(may_put(k, allowed) for k in keys_of(PREFIX, f"central-runner-shard-{i}-of-12"))
    assert all(may_put(k, allowed) for k in keys_of(PREFIX, "central-runner"))
    assert all(may_put(k, allowed) for k in page_keys(PREFIX))
    for other in ("central-runner-shard-1-of-4", "central-runner-shard-100-of-12", "prod", "central-runner-x"):
        assert not any(may_put(k, allowed) for k in keys_of(PREFIX, other)), other


def test_any_writer_patterns_cover_every_writer_but_never_the_page(base):
    """What the bucket policy grants writer accounts at most."""
    anyone = keys_for(base, ["*"])
    for writer in WRITERS:
        assert all(may_put(k, anyone) for k in keys_of(PREFIX, writer)), writer
    assert not any(may_put(k, anyone) for k in page_keys(PREFIX))
    assert iam_keys.patterns(base, PREFIX, ("*",), 1, False, "page_keys") == (
        f"{PREFIX}/fleet-page/latest.html", f"{PREFIX}/fleet-page/dt=????-??-??/????????-????-????-????-????????????.html")


@pytest.mark.parametrize("name", ["a/b", "a.b"])
def test_object_keys_refuses_a_writer_name_eksup_would_rewrite(base, name):
    """eksup writes `/` and `.` (the delimiter before the writer) as `_` in its keys."""
    work = iam_keys._workdir(base)
    run = subprocess.run([iam_keys.terraform(), "console", "-var", f"prefix={PREFIX}", "-var", f'writers=["{name}"]'],
                         input="local.keys\n", cwd=work, capture_output=True, text=True, env=iam_keys.tf_env(base))
    assert run.returncode != 0 and "writers are made of" in run.stderr, run.stdout + run.stderr


# --- the modules use those patterns, and nothing wider ---------------------------------------

def test_cluster_writer_puts_only_its_writers_keys():
    m = tf_files.merged(TF / "modules" / "cluster-writer")
    assert m["locals"]["writer"] == "${coalesce(var.writer, var.cluster_name)}"
    keys = m["module"]["keys"]
    assert (keys["source"], keys["prefix"], keys["writers"]) == ("../object-keys", "${var.results.prefix}", ["${local.writer}"])
    assert "fleet_page" not in keys and "shards" not in keys
    (write,) = [s for s in m["data"]["aws_iam_policy_document"]["write"]["statement"] if s["sid"] == "WriteOwnResults"]
    assert write["actions"] == ["s3:PutObject", "s3:AbortMultipartUpload"]
    assert write["resources"] == '${[for key in module.keys.keys : "arn:${local.partition}:s3:::${var.results.bucket}/${key}"]}'
    assert m["output"]["writer"]["value"] == "${local.writer}"


def test_runner_role_and_bucket_policy_put_only_the_runners_keys_and_the_page():
    root = tf_files.merged(TF)
    runner_keys = root["module"]["runner_keys"]
    assert runner_keys == {"source": "./modules/object-keys", "prefix": "${local.results_prefix}",
                           "writers": ["${local.runner.writer}"], "shards": "${local.runner.shards}",
                           "fleet_page": "${local.runner.publish_report}"}
    assert root["locals"]["runner_object_arns"] == '${[for key in module.runner_keys.keys : "${local.bucket_arn}/${key}"]}'
    statements = {s["sid"]: s for s in root["data"]["aws_iam_policy_document"]["runner"]["statement"]}
    assert statements["WriteOwnResults"]["resources"] == "${local.runner_object_arns}"
    assert root["module"]["any_writer_keys"] == {"source": "./modules/object-keys", "prefix": "${local.results_prefix}",
                                                 "writers": ["*"]}
    policy = root["data"]["aws_iam_policy_document"]["bucket"]
    grants = {d["statement"]["content"][0]["sid"]: d["statement"]["content"][0] for d in policy["dynamic"]}
    assert grants["RunnerWritesResults"]["resources"] == "${local.runner_object_arns}"
    for sid in ("WriterAccountsWriteResults", "OrganizationWritesResults"):
        assert grants[sid]["resources"] == "${local.any_writer_object_arns}", sid
    deny = grants["DenyFleetPageToAllButRunner"]
    assert deny["effect"] == "Deny" and deny["actions"] == ["s3:PutObject"]
    assert deny["resources"] == "${local.fleet_page_arns}"
    assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]
    assert deny["condition"] == [{"test": "ArnNotEquals", "variable": "aws:PrincipalArn",
                                  "values": ["${local.runner_role_arn}"]}]
    assert root["locals"]["fleet_page_arns"] == '${[for key in module.any_writer_keys.page_keys : "${local.bucket_arn}/${key}"]}'
    # No grant of the whole prefix remains: every PutObject Allow names patterns.
    for sid, st in [*statements.items(), *grants.items()]:
        if "s3:PutObject" in st.get("actions", []) and st.get("effect", "Allow") == "Allow":
            assert "results_objects_arn" not in json.dumps(st["resources"]), sid


# --- the manifests' writer names are Terraform's ---------------------------------------------

def config_of(overlay):
    docs = render(KUSTOMIZE / "overlays" / overlay)
    (cm,) = find(docs, "ConfigMap")
    return yaml.safe_load(cm["data"]["config.yaml"]), docs


def test_in_cluster_writer_is_the_cluster_writer_modules(base):
    config, _ = config_of("in-cluster")
    example = tf_files.merged(TF / "examples" / "in-cluster")["module"]["cluster_writer"]
    # The module's default writer is the cluster name; the example sets both to the overlay's.
    assert config["writer"] == example["writer"] == example["cluster_name"] == config["cluster"]
    allowed = keys_for(base, [config["writer"]])
    assert all(may_put(k, allowed) for k in keys_of(config["outputs"]["s3"]["prefix"], config["writer"]))


def test_runner_writers_are_the_root_modules(base):
    runner_type = tf_files.merged(TF)["variable"]["runner"]["type"]
    default_writer = re.search(r'writer\s*=\s*optional\(string,\s*"([^"]+)"\)', runner_type).group(1)
    single, _ = config_of("central-runner")
    sharded, docs = config_of("central-runner-sharded")
    assert single["writer"] == sharded["writer"] == default_writer
    (cronjob,) = find(docs, "CronJob")
    n = cronjob["spec"]["jobTemplate"]["spec"]["completions"]
    # The runner role with runner.shards = N may put each pod's keys (src/command/run.rs names
    # a shard `<writer>-shard-<I>-of-<N>`); with shards = 1 it may not.
    allowed = keys_for(base, [default_writer], shards=n, fleet_page=True)
    unsharded = keys_for(base, [default_writer], fleet_page=True)
    for i in range(n):
        shard_keys = keys_of(PREFIX, f"{default_writer}-shard-{i}-of-{n}")
        assert all(may_put(k, allowed) for k in shard_keys)
        assert not any(may_put(k, unsharded) for k in shard_keys)


# --- assuming member roles: listed accounts or the Organization ------------------------------

def variable_block(path: Path, name: str) -> str:
    """The text of `variable "name" { … }` in path, braces matched."""
    text = path.read_text()
    start = text.index(f'variable "{name}" {{')
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0 and text[i] == "}":
            return text[start:i + 1]
    raise AssertionError(f"unbalanced variable {name}")


def console(tmp_path, module_text, expr, **variables):
    (tmp_path / "main.tf").write_text(module_text)
    args = [iam_keys.terraform(), "console"]
    for k, v in variables.items():
        args += ["-var", f"{k}={json.dumps(v) if not isinstance(v, str) else v}"]
    env = iam_keys.tf_env(str(tmp_path))
    subprocess.run([iam_keys.terraform(), "init", "-backend=false"], cwd=tmp_path, env=env, capture_output=True)
    return subprocess.run(args, input=f"jsonencode({expr})\n", cwd=tmp_path, capture_output=True, text=True, env=env)


def member_role_arns(tmp_path, runner, partition="aws"):
    """local.member_role_arns of terraform/iam.tf, evaluated on the real `runner` variable
    (its validations included) by `terraform console`."""
    expr = unwrap(tf_files.merged(TF)["locals"]["member_role_arns"])
    module = (variable_block(TF / "variables.tf", "runner")
              + f'\nlocals {{\n  runner = var.runner\n  partition = "{partition}"\n  member_role_arns = {expr}\n}}\n')
    return console(tmp_path, module, "local.member_role_arns", runner=runner)


def test_runner_never_assumes_member_roles_in_any_account_unbounded(tmp_path):
    listed = member_role_arns(tmp_path, {"member_account_ids": ["111111111111", "022222222222"]}, "aws-cn")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(json.loads(listed.stdout)) == ["arn:aws-cn:iam::111111111111:role/eksup-reader",
                                                     "arn:aws-cn:iam::022222222222:role/eksup-reader"]
    # Neither accounts nor an Organization: refused by the variable's validation.
    unbounded = member_role_arns(tmp_path, {})
    assert unbounded.returncode != 0 and "member_account_ids or member_organization_id" in unbounded.stderr, \
        unbounded.stdout + unbounded.stderr
    # Any account, but inside the Organization: the `*` ARN goes with aws:ResourceOrgID.
    org = member_role_arns(tmp_path, {"member_organization_id": "o-abcdef1234"})
    assert org.returncode == 0, org.stderr
    assert json.loads(json.loads(org.stdout)) == ["arn:aws:iam::*:role/eksup-reader"]
    (assume,) = [s for s in tf_files.merged(TF)["data"]["aws_iam_policy_document"]["runner"]["statement"]
                 if s["sid"] == "AssumeMemberRoles"]
    assert assume["resources"] == "${local.member_role_arns}"
    (condition,) = assume["dynamic"]
    assert condition["condition"]["for_each"] == "${local.runner.member_organization_id != null ? [1] : []}"
    assert condition["condition"]["content"] == [{"test": "StringEquals", "variable": "aws:ResourceOrgID",
                                                  "values": ["${local.runner.member_organization_id}"]}]
    # A runner that is not created needs neither.
    assert member_role_arns(tmp_path, {"create": False}).returncode == 0


# --- partitions -------------------------------------------------------------------------------

def non_test_rust(path: Path) -> str:
    """A source file without its `#[cfg(test)]` module (tests come last in each file)."""
    return path.read_text().split("#[cfg(test)]", 1)[0]


def test_no_arn_is_written_for_one_partition():
    """`arn:aws:` only fits the commercial partition; aws-cn and aws-us-gov need theirs
    (DESIGN.md, "Configuration"). Terraform uses aws_partition, deploy/iam `arn:*:` (the
    account's own partition), the code the partition of the region."""
    found = []
    files = [*TF.rglob("*.tf"), *(ROOT / "deploy").rglob("*.json"), *TF.rglob("*.json")]
    for path in files:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "arn:aws:" in line:
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    for path in (ROOT / "src").rglob("*.rs"):
        if "testing" in path.relative_to(ROOT / "src").parts:
            continue
        for n, line in enumerate(non_test_rust(path).splitlines(), 1):
            if "arn:aws:" in line:
                found.append(f"src/{path.relative_to(ROOT / 'src')}:{n}: {line.strip()}")
    assert found == [], "\n".join(found)
    # What replaced them: the partition in each module, `arn:*:` in the static policy.
    policy = json.loads((ROOT / "deploy" / "iam" / "eksup-policy.json").read_text())
    arns = [r for st in policy["Statement"] for r in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"])
            if r != "*"]
    assert arns and all(r.startswith("arn:*:") for r in arns), arns
    for directory in tf_files.module_dirs():
        text = "".join(p.read_text() for p in directory.glob("*.tf"))
        built = re.findall(r"arn:\$\{([^}]+)\}", text)
        assert all(b.endswith("partition") for b in built), (directory, built)
        assert re.findall(r"arn:[a-z]", text) == [], f"{directory}: an ARN with a literal partition"
        if built:
            assert 'data "aws_partition" "current"' in text, directory


# --- one KMS key name -------------------------------------------------------------------------

def key_arn_regex():
    """The form of key the Terraform accepts for a writer (cluster-writer's validation)."""
    validation = tf_files.merged(TF / "modules" / "cluster-writer")["variable"]["results"]["validation"][0]
    return re.search(r'regex\("([^"]+)"', validation["condition"]).group(1).replace("\\\\", "\\")


def test_the_bucket_policy_accepts_only_the_key_arn_and_terraform_hands_out_that_arn():
    root = tf_files.merged(TF)
    policy = {s["sid"]: s for s in root["data"]["aws_iam_policy_document"]["bucket"]["statement"]}
    deny = policy["DenyResultsUnderAnotherKey"]["condition"][0]
    # The condition compares the header as sent: only the exact ARN string passes.
    assert (deny["test"], deny["variable"], deny["values"]) == (
        "StringNotEqualsIfExists", "s3:x-amz-server-side-encryption-aws-kms-key-id", ["${local.kms_key_arn}"])
    assert root["locals"]["kms_key_arn"] == "${local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn}"
    assert root["output"]["eksup_s3_output"]["value"]["kms_key_id"] == "${local.kms_key_arn}"
    assert root["output"]["kms_key_arn"]["value"] == "${local.kms_key_arn}"
    # A key passed in is a key ARN too (an alias or id would never equal the header).
    (validation,) = root["variable"]["kms_key_arn"]["validation"]
    assert key_arn_regex().replace("\\", "\\\\") in validation["condition"]
    writer = tf_files.merged(TF / "modules" / "cluster-writer")
    assert writer["output"]["eksup_s3_output"]["value"]["kms_key_id"] == "${var.results.kms_key_arn}"


def kms_key_ids():
    """Every `kms_key_id` the docs, the overlays and the Terraform READMEs name."""
    found = []
    sources = [*(ROOT / "docs").rglob("*.md"), *TF.rglob("README.md"), *(KUSTOMIZE / "overlays").rglob("*.yaml"),
               *(ROOT / "examples").rglob("*.yaml")]
    for path in sources:
        for value in re.findall(r"kms_key_id:\s*['\"]?([^\s,'\"}]+)", path.read_text()):
            found.append((str(path.relative_to(ROOT)), value))
    return found


def test_docs_and_overlays_name_the_key_by_the_arn_the_bucket_accepts():
    found = kms_key_ids()
    assert len(found) >= 5, found          # the three overlays, the fleet docs, terraform/README
    regex = re.compile(key_arn_regex())
    # Terraform's README and docs abbreviate the key id as `…`; the rest of the ARN must hold.
    wrong = [(p, v) for p, v in found if not regex.fullmatch(v)]
    assert wrong == [], f"name the key by its ARN (Terraform output kms_key_arn): {wrong}"
    overlays = {v for p, v in found if p.startswith("deploy/")}
    assert len(overlays) == 1, f"one key for every overlay: {overlays}"


def test_the_statement_the_docs_paste_is_what_terraform_builds(base):
    """docs/deploying.md, "Who may write what": the in-cluster writer `prod`'s statement."""
    text = (ROOT / "docs" / "deploying.md").read_text()
    block = next(b for b in re.findall(r"```json\n(.*?)```", text, re.S) if '"WriteOwnResults"' in b)
    statement = json.loads(block)
    writer = tf_files.merged(TF / "modules" / "cluster-writer")["data"]["aws_iam_policy_document"]["write"]
    (own,) = [s for s in writer["statement"] if s["sid"] == "WriteOwnResults"]
    assert statement["Action"] == own["actions"] and statement["Effect"] == "Allow"
    assert statement["Resource"] == [f"arn:aws:s3:::BUCKET/{k}" for k in keys_for(base, ["prod"])]
