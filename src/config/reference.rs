//! `docs/reference/configuration.md`, generated from the settings type: every key with its
//! type, default, `EKSUP_*` variable, the commands that read it and its description (the
//! doc comment on the field). `tests/reference_docs.rs` fails when the page is stale.
//!
//! The JSON Schema of [`Settings`] (schemars, which follows the serde attributes) is walked
//! section by section, so a key added to any section's type appears here without a second
//! list to keep.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::{ENV_PREFIX, LIST_KEYS, Settings};

/// The commands that read a top-level key (and everything under it).
pub fn read_by(top_level_key: &str) -> Option<&'static str> {
    Some(match top_level_key {
        "cluster" | "region" | "profile" | "target_version" | "kubeconfig" | "context"
        | "no_aws" | "in_cluster" | "checks" | "collect" => "analyze, playbook, run",
        "format" | "fail_on" | "ignore_recommended" => "analyze",
        "clusters" | "fleet" | "outputs" | "writer" | "shutdown_grace_seconds" => "run",
        _ => return None,
    })
}

/// One key of the page.
struct Row {
    key: String,
    kind: String,
    default: String,
    env: String,
    read_by: &'static str,
    description: String,
}

fn resolve<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .rsplit('/')
            .next()
            .and_then(|name| defs.get(name))
            .map_or(schema, |s| resolve(s, defs)),
        None => schema,
    }
}

/// The schema without its `null` alternative (an `Option`), resolved.
pub(super) fn non_null<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    let s = resolve(schema, defs);
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            let rest: Vec<&Value> = alts
                .iter()
                .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if let [one] = rest.as_slice() {
                return non_null(one, defs);
            }
        }
    }
    s
}

/// Whether a (resolved, non-null) schema takes text alone: a string, or an enum of strings.
pub(super) fn is_text(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => {
            let rest: Vec<&Value> = ts.iter().filter(|t| t.as_str() != Some("null")).collect();
            rest == [&Value::String("string".into())]
        }
        _ => false,
    }
}

fn description(schema: &Value, defs: &Map<String, Value>) -> String {
    schema
        .get("description")
        .or_else(|| non_null(schema, defs).get("description"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn kind(schema: &Value, defs: &Map<String, Value>) -> String {
    let s = non_null(schema, defs);
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .map(|v| format!("`{v}`"))
            .collect();
        return format!("one of {}", names.join(", "));
    }
    if let Some(alts) = s
        .get("oneOf")
        .or_else(|| s.get("anyOf"))
        .and_then(Value::as_array)
    {
        let kinds: Vec<String> = alts
            .iter()
            .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            .map(|a| {
                a.get("const")
                    .and_then(Value::as_str)
                    .map_or_else(|| kind(a, defs), |c| format!("`{c}`"))
            })
            .collect();
        return kinds.join(" or ");
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    match types.iter().find(|t| **t != "null").copied() {
        Some("array") => {
            let items = s.get("items").map_or_else(String::new, |i| kind(i, defs));
            format!("list of {items}")
        }
        Some("object") if s.get("properties").is_some() => "section".into(),
        Some("object") => {
            let values = s
                .get("additionalProperties")
                .map_or_else(|| "values".into(), |v| kind(v, defs));
            format!("map of {values}")
        }
        Some(t) => t.to_string(),
        None => "value".into(),
    }
}

fn shown(default: Option<&Value>) -> String {
    match default {
        None | Some(Value::Null) => "—".into(),
        Some(Value::Array(a)) if a.is_empty() => "`[]`".into(),
        Some(Value::Object(o)) if o.is_empty() => "`{}`".into(),
        Some(Value::String(s)) => format!("`{s}`"),
        Some(v) => format!("`{v}`"),
    }
}

/// The `EKSUP_*` variable of a key; lists of sections cannot be set from the environment.
fn env_name(path: &[String]) -> String {
    if path.iter().any(|p| p.ends_with("[]")) {
        return "—".into();
    }
    let name = path
        .iter()
        .map(|p| p.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join("__");
    let list = LIST_KEYS.contains(&path.join(".").as_str());
    format!(
        "`{ENV_PREFIX}_{name}`{}",
        if list { " (comma-separated)" } else { "" }
    )
}

fn walk(
    section: &Value,
    defaults: Option<&Value>,
    path: &[String],
    defs: &Map<String, Value>,
    rows: &mut Vec<Row>,
) {
    let Some(props) = non_null(section, defs)
        .get("properties")
        .and_then(Value::as_object)
    else {
        return;
    };
    for (name, schema) in props {
        let mut key = path.to_vec();
        key.push(name.clone());
        let resolved = non_null(schema, defs);
        let default = schema
            .get("default")
            .or_else(|| defaults.and_then(|d| d.get(name)));
        let top = key[0].trim_end_matches("[]");
        let kind = kind(schema, defs);
        // A section is set key by key; a list of sections only in a file.
        let whole = kind == "section" || kind == "list of section";
        rows.push(Row {
            key: key.join("."),
            kind: kind.replace("list of section", "list of sections"),
            default: if whole { "—".into() } else { shown(default) },
            env: if whole { "—".into() } else { env_name(&key) },
            read_by: read_by(top).unwrap_or("?"),
            description: description(schema, defs),
        });
        if resolved.get("properties").is_some() {
            walk(resolved, default, &key, defs, rows);
        } else if let Some(items) = resolved.get("items") {
            let items = non_null(items, defs);
            if items.get("properties").is_some() {
                let last = key.len() - 1;
                key[last].push_str("[]");
                walk(items, None, &key, defs, rows);
            }
        }
    }
}

fn rows() -> Vec<Row> {
    let schema = schemars::schema_for!(Settings);
    let root = schema.as_value();
    let empty = Map::new();
    let defs = root
        .get("$defs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let defaults = serde_json::to_value(Settings::default()).expect("settings serialize");
    let mut out = Vec::new();
    walk(root, Some(&defaults), &[], defs, &mut out);
    out
}

/// The page.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Configuration reference\n\n\
         <!-- Generated from the settings type (src/config/mod.rs and the sections it \
         assembles); do not edit. Regenerate with `EKSUP_BLESS=1 cargo test --test \
         reference_docs`. -->\n\n\
         Layers: defaults < file (`--config`, else `.eksup.yaml`, `.eksup.yml`, \
         `.eksup.toml` or `eksup.toml` in the working directory) < `EKSUP_*` environment < \
         flags. In a variable, `__` separates levels (`EKSUP_CHECKS__K8S002__MIN_REPLICAS`); \
         check codes keep their upper case. A `[]` in a key is an entry of a list, which only \
         a file can set. See [the configuration guide](../configuration.md) for examples.\n\n\
         | Key | Type | Default | Environment | Read by | Description |\n\
         |---|---|---|---|---|---|\n",
    );
    for r in rows() {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            r.key,
            r.kind,
            r.default,
            r.env,
            r.read_by,
            r.description.replace('|', "\\|")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_top_level_key_names_the_commands_that_read_it() {
        for r in rows().iter().filter(|r| !r.key.contains('.')) {
            assert!(read_by(&r.key).is_some(), "`{}` has no reader", r.key);
        }
    }

    #[test]
    fn nested_keys_defaults_and_variables_come_from_the_types() {
        let page = markdown();
        for needle in [
            "| `checks.K8S002.min_replicas` | integer | `2` | `EKSUP_CHECKS__K8S002__MIN_REPLICAS` | analyze, playbook, run |",
            "| `fleet.concurrency` | integer | `16` | `EKSUP_FLEET__CONCURRENCY` | run |",
            "`fleet.accounts` |",
            "| `clusters[].cluster` |",
            "`outputs.s3.bucket` |",
            "| `outputs.emf.notice_days` | integer | `90` |",
            "`EKSUP_CHECKS__DISABLED` (comma-separated)",
            "| `collect.replicasets` | `by_label` or `all` | `by_label` | `EKSUP_COLLECT__REPLICASETS` | analyze, playbook, run |",
        ] {
            assert!(page.contains(needle), "missing {needle}\n{page}");
        }
        assert!(!page.contains("| ? |"), "a key without a reader");
    }
}
