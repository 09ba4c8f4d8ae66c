"""The README is the front door and docs/ is the guide: both stay true to the repository.

No binary is needed. These tests read the Markdown and the files it points at:
- README.md stays small (at most 25,000 bytes), lists every subcommand, and has no check table;
- every relative link in README.md and docs/**/*.md resolves to a file or directory of the
  repository, and every `#anchor` names a heading of its target (GitHub's slugs). The
  three generated reference pages (docs/reference/{checks,configuration,cli}.md) may not
  exist yet: links to them are checked only once they do;
- the README's test command is exactly what .ci/run executes, and the bundled-example command
  is there as it is;
- every page of the guide exists and is linked from both indexes;
- the code blocks parse (YAML, TOML, JSON), configuration examples use only keys the settings
  type has, `eksup` command lines use only flags src/cli.rs defines, and the names this release
  replaced appear only where the docs say what moved.
"""

import json
import re
import sys
import tomllib
import urllib.parse
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_LIMIT = 25_000

# The pages of the guide (issue 17, item 4).
GUIDE_PAGES = [
    "docs/README.md",
    "docs/analyze-and-playbook.md",
    "docs/scheduled-job-and-fleet.md",
    "docs/deploying.md",
    "docs/fleet-data.md",
    "docs/performance.md",
    "docs/architecture.md",
    "docs/configuration.md",
]
# Written by `EKSUP_BLESS=1 cargo test --test reference_docs`, possibly after these tests run.
GENERATED = {"docs/reference/checks.md", "docs/reference/configuration.md", "docs/reference/cli.md"}
BUNDLED_EXAMPLE = "cargo run -q -- run --snapshot examples/snapshot.json --output-dir eksup-out"


# --------------------------------------------------------------------------------------
# A small Markdown reader: fenced code blocks, headings, links
# --------------------------------------------------------------------------------------

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
INLINE_LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")


def markdown_files():
    return [README, *sorted(DOCS.rglob("*.md"))]


def rel(path: Path) -> str:
    return path.resolve().relative_to(ROOT.resolve()).as_posix()


def split(text):
    """(prose lines with their numbers, code blocks as (language, text, first line))."""
    prose, blocks = [], []
    fence, lang, body, start = None, "", [], 0
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if fence is None:
            if m:
                fence, lang, body, start = m.group(1), m.group(2).lower(), [], n
            else:
                prose.append((n, line))
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2):
            blocks.append((lang, "\n".join(body), start))
            fence = None
        else:
            body.append(line)
    assert fence is None, f"a code block opened at line {start} is never closed"
    return prose, blocks


def heading_text(raw):
    """What GitHub renders of a heading: link texts, code spans' contents, no emphasis or HTML."""
    text = CODE_SPAN.sub(lambda m: m.group(2).strip(), raw)
    text = INLINE_LINK.sub(lambda m: m.group(1), text)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("*", "")


def slug(text):
    """GitHub's anchor for a heading: lower case, letters, digits, `-` and `_` kept, each space
    a `-`, everything else dropped."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in "-_ ")
    return kept.replace(" ", "-")


def anchors(path: Path):
    prose, _ = split(path.read_text(encoding="utf-8"))
    seen, out = {}, set()
    for _, line in prose:
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(heading_text(m.group(2)))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(path: Path):
    """(line number, target) of every link outside code: inline links, images, definitions."""
    prose, _ = split(path.read_text(encoding="utf-8"))
    out = []
    for n, line in prose:
        unspanned = CODE_SPAN.sub("code", line)
        out += [(n, m.group(2)) for m in INLINE_LINK.finditer(unspanned)]
        m = REFERENCE_DEF.match(unspanned)
        if m:
            out.append((n, m.group(1)))
    return out


def sections(path: Path):
    """{heading text: the prose and code under it, up to the next heading of any level}."""
    out, current = {}, ""
    fence = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = FENCE.match(line)
        if m and fence is None:
            fence = m.group(1)
        elif m and fence and m.group(1)[0] == fence[0] and not m.group(2):
            fence = None
        h = HEADING.match(line) if fence is None else None
        if h:
            current = heading_text(h.group(2))
            out.setdefault(current, "")
            continue
        out[current] = out.get(current, "") + line + "\n"
    return out


def code_blocks(path: Path):
    return split(path.read_text(encoding="utf-8"))[1]


# --------------------------------------------------------------------------------------
# What the code says (read-only): subcommands, flags, configuration keys
# --------------------------------------------------------------------------------------

def cli_source():
    files = [ROOT / "src" / "cli.rs", *sorted((ROOT / "src" / "cli").rglob("*.rs"))]
    text = "\n".join(f.read_text(encoding="utf-8") for f in files if f.is_file())
    assert text, "the clap definitions are not in src/cli.rs or src/cli/"
    return text


def subcommands():
    m = re.search(r"pub enum Command \{(.*?)\n\}", cli_source(), re.S)
    assert m, "no `pub enum Command` in the clap definitions"
    names = re.findall(r"^\s{4}([A-Z]\w*)\s*[({,]?", m.group(1), re.M)
    kebab = [re.sub(r"(?<!^)([A-Z])", r"-\1", n).lower() for n in names]
    assert kebab, "no variant in `pub enum Command`"
    return kebab


def long_flags():
    src = cli_source()
    fields = {f.replace("_", "-") for f in re.findall(r"^\s*pub (\w+):", src, re.M)}
    explicit = set(re.findall(r'long\s*=\s*"([\w-]+)"', src))
    return fields | explicit | {"help", "version"}


def struct_fields(name):
    """The fields of `pub struct <name>` anywhere under src/, with their serde renames."""
    for f in sorted((ROOT / "src").rglob("*.rs")):
        m = re.search(rf"pub struct {name} \{{(.*?)\n\}}", f.read_text(encoding="utf-8"), re.S)
        if m:
            body = m.group(1)
            renamed = re.findall(r'rename\s*=\s*"(\w+)"\)\]\s*pub \w+:', body)
            return set(re.findall(r"^\s*pub (\w+):", body, re.M)) | set(renamed)
    pytest.fail(f"no `pub struct {name}` under src/")


# --------------------------------------------------------------------------------------
# The front door
# --------------------------------------------------------------------------------------

def test_the_readme_is_at_most_25_kb():
    size = README.stat().st_size
    assert size <= README_LIMIT, (
        f"README.md is {size:,} bytes, over {README_LIMIT:,}: move detail into docs/ and link it")


def test_the_readme_lists_every_subcommand():
    text = README.read_text(encoding="utf-8")
    missing = [c for c in subcommands() if f"`eksup {c}`" not in text]
    assert not missing, f"README.md does not list {', '.join(f'eksup {c}' for c in missing)}"


def test_the_check_table_left_the_readme():
    text = README.read_text(encoding="utf-8")
    assert "checks:start" not in text and "checks:end" not in text, (
        "the check table is generated into docs/reference/checks.md now: drop the markers")
    assert not re.search(r"^\|\s*Code\s*\|\s*Title\s*\|", text, re.M), "README.md still has a check table"
    assert "docs/reference/checks.md" in {t.split("#")[0] for _, t in links(README)}, (
        "README.md does not link the check reference")


def test_the_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    execs = [line.strip()[len("exec "):].strip() for line in ci.splitlines() if line.strip().startswith("exec ")]
    assert len(execs) == 1, f".ci/run should exec one command, found {execs}"
    command = execs[0]
    script = command.split()[-1]
    assert (ROOT / script).is_file(), f"{script} (the test command's script) does not exist"
    in_blocks = [b for _, b, _ in code_blocks(README) if command in (l.strip() for l in b.splitlines())]
    assert in_blocks, f"README.md has no code block with the line `{command}`, the command .ci/run executes"


def test_the_readme_runs_the_bundled_example():
    lines = [l.strip() for _, b, _ in code_blocks(README) for l in b.splitlines()]
    assert BUNDLED_EXAMPLE in lines, f"README.md has no code block with `{BUNDLED_EXAMPLE}`"
    assert (ROOT / "examples" / "snapshot.json").is_file()


def test_the_readme_says_what_the_test_command_needs():
    """What tests/run.sh installs or assumes, and what the tests call, is named in the README."""
    text = README.read_text(encoding="utf-8")
    run_sh = (ROOT / "tests" / "run.sh").read_text(encoding="utf-8")
    here = Path(__file__).resolve()
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py") if p.resolve() != here)
    needs = {
        "venv": "python3 -m venv" in run_sh,
        "apt-get": "apt-get install" in run_sh,
        "faketime": "faketime" in run_sh,
        "chromium": "chromium" in run_sh,
        "clippy": "cargo clippy" in run_sh,
        "rustfmt": "cargo fmt" in run_sh,
        "unshare": "unshare" in tests,
        "terraform": 'which("terraform")' in tests,
        "kubectl": 'tool("kubectl"' in tests,
        "strace": 'tool("strace"' in tests,
        "Go": "real-kube.sh build" in run_sh,
        "real-kube.sh": "real-kube.sh" in run_sh,
    }
    missing = [word for word, used in needs.items() if used and word not in text]
    assert not missing, f"the test set-up needs {missing}, which README.md does not mention"
    assert "root" in text, "apt-get and unshare need root: README.md should say so"


def test_the_readme_says_what_moved():
    changes = sections(README).get("Changes")
    assert changes, "README.md has no `## Changes` section"
    for name in ("cluster-reports/", "fleet-page/latest.html", "outputs.fleet_page", "outputs.report",
                 "clusters:", "targets:"):
        assert name in changes, f"the Changes section does not mention `{name}`"


# --------------------------------------------------------------------------------------
# The guide
# --------------------------------------------------------------------------------------

def test_every_guide_page_exists():
    missing = [p for p in GUIDE_PAGES if not (ROOT / p).is_file()]
    assert not missing, f"missing guide pages: {missing}"


@pytest.mark.parametrize("index", ["README.md", "docs/README.md"])
def test_the_indexes_link_every_page(index):
    path = ROOT / index
    targets = set()
    for _, target in links(path):
        file = target.split("#", 1)[0]
        if file and not re.match(r"^[a-z][a-z0-9+.-]*:", file):
            targets.add(rel(path.parent / urllib.parse.unquote(file)))
    wanted = (set(GUIDE_PAGES) - {index}) | GENERATED
    missing = sorted(wanted - targets)
    assert not missing, f"{index} does not link {missing}"


def link_problems(path: Path):
    problems = []
    for n, target in links(path):
        where = f"{rel(path)}:{n}: {target}"
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
            continue  # http(s), mailto: … are not files of the repository
        file, _, anchor = target.partition("#")
        dest = (path.parent / urllib.parse.unquote(file)).resolve() if file else path.resolve()
        try:
            name = rel(dest)
        except ValueError:
            problems.append(f"{where}: points outside the repository")
            continue
        if not dest.exists():
            if name in GENERATED:
                continue  # written by the reference generator, possibly later
            problems.append(f"{where}: {name} does not exist")
            continue
        if anchor:
            if dest.is_dir() or dest.suffix != ".md":
                problems.append(f"{where}: an anchor into a file that is not Markdown")
            elif urllib.parse.unquote(anchor) not in anchors(dest):
                problems.append(f"{where}: {name} has no heading with the anchor #{anchor}")
    return problems


@pytest.mark.parametrize("page", [rel(p) for p in markdown_files()])
def test_every_relative_link_resolves(page):
    problems = link_problems(ROOT / page)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_code_blocks_parse():
    problems = []
    for path in markdown_files():
        for lang, body, line in code_blocks(path):
            where = f"{rel(path)}:{line}"
            try:
                if lang in ("yaml", "yml"):
                    list(yaml.safe_load_all(body))
                elif lang == "toml":
                    tomllib.loads(body)
                elif lang == "json":
                    json.loads(body)
            except Exception as e:  # noqa: BLE001 - any parse error is the finding
                problems.append(f"{where} ({lang}): {e}")
    assert not problems, "code blocks that do not parse:\n" + "\n".join(problems)


def eksup_configs():
    """(where, document) of every YAML or TOML block that is an eksup configuration."""
    marker = {"cluster", "clusters", "targets", "fleet", "outputs", "checks", "writer", "in_cluster"}
    out = []
    for path in markdown_files():
        for lang, body, line in code_blocks(path):
            if lang in ("yaml", "yml"):
                doc = yaml.safe_load(body)
            elif lang == "toml":
                doc = tomllib.loads(body)
            else:
                continue
            if isinstance(doc, dict) and marker & set(doc) and not {"apiVersion", "kind", "resources"} & set(doc):
                out.append((f"{rel(path)}:{line}", doc))
    return out


def test_configuration_examples_use_only_keys_eksup_reads():
    top, outputs, fleet = struct_fields("Settings"), struct_fields("OutputSettings"), struct_fields("FleetSettings")
    configs = eksup_configs()
    assert len(configs) >= 5, f"found only {len(configs)} configuration examples: is the detection broken?"
    problems = []
    for where, doc in configs:
        problems += [f"{where}: `{k}` is not a configuration key" for k in doc if k not in top]
        problems += [f"{where}: `outputs.{k}` is not a key" for k in (doc.get("outputs") or {}) if k not in outputs]
        problems += [f"{where}: `fleet.{k}` is not a key" for k in (doc.get("fleet") or {}) if k not in fleet]
    assert not problems, "\n".join(problems)


def test_eksup_command_lines_use_only_flags_the_cli_defines():
    commands = "|".join(map(re.escape, subcommands()))
    invocation = re.compile(rf"(?<![\w/.-])(?:eksup|cargo run -q --) ({commands})\b([^#;&|>)]*)")
    flags = long_flags()
    problems, seen = [], 0
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        prose, blocks = split(text)
        lines = [(line, l) for _, b, line in blocks for l in b.splitlines()]
        lines += [(n, m.group(2)) for n, l in prose for m in CODE_SPAN.finditer(l)]
        for n, line in lines:
            for m in invocation.finditer(line):
                seen += 1
                for flag in re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)", m.group(2)):
                    if flag not in flags:
                        problems.append(f"{rel(path)}:{n}: eksup {m.group(1)} --{flag} is not a flag of src/cli.rs")
    assert seen >= 20, f"found only {seen} eksup command lines: is the detection broken?"
    assert not problems, "\n".join(problems)


# Names this release replaced, and the only sections that may still say them.
STALE = {
    r"(?<![\w-])reports/dt=": "reports/ is cluster-reports/ now",
    r"(?<![\w-])report/(?:latest\.html|dt=)": "the fleet page is under fleet-page/ now",
    r"outputs\.report\b": "outputs.report is outputs.fleet_page now",
    r"(?m)^\s*targets:": "the cluster list is `clusters:` now",
}
ALLOWED = {"README.md": {"Changes"}, "docs/configuration.md": {"Old names"}}


def test_replaced_names_appear_only_where_the_docs_say_what_moved():
    problems = []
    for path in markdown_files():
        for heading, body in sections(path).items():
            if heading in ALLOWED.get(rel(path), set()):
                continue
            for pattern, why in STALE.items():
                if re.search(pattern, body):
                    problems.append(f"{rel(path)}, section {heading!r}: {why}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------
# The reader itself: each rule fails on what it should catch
# --------------------------------------------------------------------------------------

def test_the_slugs_are_githubs():
    assert slug(heading_text("The fleet page: `eksup report`")) == "the-fleet-page-eksup-report"
    assert slug(heading_text("Job settings, security and resources")) == "job-settings-security-and-resources"
    assert slug(heading_text("Outside src/")) == "outside-src"
    assert slug(heading_text("What is [this](x.md)?")) == "what-is-this"
    assert slug(heading_text("outputs.fleet_page")) == "outputsfleet_page"


def test_the_link_checker_catches_what_it_should(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    (tmp_path / "exists.md").write_text("# Title\n\n## A section\n")
    page = docs / "page.md"
    page.write_text(
        "# Page\n\n"
        "[ok](../exists.md#a-section) [ok](#page) [ok](https://example.com/x) [gen](reference/cli.md)\n"
        "[bad file](../missing.md) [bad anchor](../exists.md#nope) [bad local](#nowhere)\n"
        "[outside](../../elsewhere.md)\n"
        "```sh\n[not a link](../missing-too.md)\n```\n"
        "`[not a link either](../missing-three.md)`\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    problems = "\n".join(link_problems(page))
    assert "missing.md does not exist" in problems
    assert "#nope" in problems and "#nowhere" in problems
    assert "outside the repository" in problems
    assert "missing-too" not in problems and "missing-three" not in problems
    assert "example.com" not in problems and "reference/cli.md" not in problems
    assert len(problems.splitlines()) == 4, problems
