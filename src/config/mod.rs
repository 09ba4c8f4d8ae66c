//! Configuration: defaults < config file < `EKSUP_*` environment < command-line flags.
//!
//! The file and the environment are merged first, key by key, then deserialized and
//! validated once; an unknown key or a bad value is reported with the key's full path and
//! the file or variable it came from.

pub mod reference;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checks::{CheckSettings, lookup, renumbered};
use crate::collect::kube::settings::CollectSettings;
use crate::output::OutputSettings;
use crate::output::render::Format;
use crate::report::FailOn;
use crate::run::fleet::settings::{self as fleet, FleetSettings};
use crate::version::KubeVersion;

/// Files looked for in the working directory when `--config` is not given, in order.
pub const DEFAULT_FILES: [&str; 4] = [".eksup.yaml", ".eksup.yml", ".eksup.toml", "eksup.toml"];
const ENV_PREFIX: &str = "EKSUP";
/// Old key names serde still reads (`#[serde(alias)]`), with their new names.
const ALIASES: [(&str, &str); 2] = [("targets", "clusters"), ("report", "fleet_page")];
/// Keys whose `EKSUP_*` value is a comma-separated list.
const LIST_KEYS: [&str; 7] = [
    "checks.disabled",
    "fleet.accounts",
    "fleet.regions",
    "fleet.include",
    "fleet.exclude",
    "fleet.organization.ou_ids",
    "fleet.organization.exclude",
];

/// Everything that can be set in a config file or the environment, and (through
/// [`Overrides`]) on the command line: the one settings value every command starts from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The EKS cluster to read (`--cluster`).
    pub cluster: Option<String>,
    /// Its AWS region (default: the AWS configuration's); for `run`, the runner's region.
    pub region: Option<String>,
    /// AWS shared-config profile; for `run`, the runner's own credentials.
    pub profile: Option<String>,
    /// The Kubernetes version to upgrade to; validated here, so a number (`1.30` unquoted
    /// reads as 1.3) is an error that names the key and the file.
    pub target_version: Option<KubeVersion>,
    /// Output format of `analyze` (default text).
    pub format: Option<Format>,
    /// Leave recommended findings out of the report.
    pub ignore_recommended: bool,
    /// Exit with code 1 when a finding at this level exists (`unknown`: unless the verdict is `ready`).
    pub fail_on: Option<FailOn>,
    /// Reach Kubernetes through this kubeconfig instead of the EKS endpoint.
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use.
    pub context: Option<String>,
    /// Do not call AWS: the Kubernetes checks alone (needs a kubeconfig or `in_cluster`).
    pub no_aws: bool,
    /// Reach Kubernetes with the pod's service account (eksup runs in the cluster).
    pub in_cluster: bool,
    /// Per-check settings, keyed by check code.
    pub checks: CheckSettings,
    /// How much of the Kubernetes API is read.
    pub collect: CollectSettings,
    /// Clusters `eksup run` analyzes; empty: the one named by `cluster` (or the flags).
    /// `targets` is its old name, still read.
    #[serde(alias = "targets")]
    pub clusters: Vec<ClusterSettings>,
    /// Every cluster of many accounts and regions (`eksup run`); excludes `clusters`.
    pub fleet: Option<FleetSettings>,
    /// Where `eksup run` writes.
    pub outputs: OutputSettings,
    /// Names this writer in object names (`<run_id>-<batch>.<writer>.parquet`); default: the
    /// host name. Set it where IAM confines the writer to its own keys.
    pub writer: Option<String>,
    /// After SIGTERM or SIGINT, how long `eksup run` lets the clusters in flight finish before
    /// it gives them up, flushes and exits 3 (default 25; keep it under the pod's
    /// `terminationGracePeriodSeconds`).
    pub shutdown_grace_seconds: Option<u64>,
}

/// One cluster of `eksup run`'s `clusters` list; unset fields fall back to the top level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSettings {
    /// The EKS cluster to read.
    pub cluster: Option<String>,
    /// Its region (default: the top-level `region`).
    pub region: Option<String>,
    /// AWS profile for this cluster (default: the top-level `profile`).
    pub profile: Option<String>,
    /// The Kubernetes version to upgrade to (default: the top-level `target_version`).
    pub target_version: Option<KubeVersion>,
    /// Reach Kubernetes through this kubeconfig.
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use.
    pub context: Option<String>,
    /// Use the pod's service account.
    pub in_cluster: bool,
    /// Kubernetes checks alone, without AWS.
    pub no_aws: bool,
    /// Analyze this saved snapshot instead of reading a cluster.
    pub snapshot: Option<PathBuf>,
}

/// What the command line sets, laid over the file and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub cluster: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub target_version: Option<KubeVersion>,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub in_cluster: bool,
    pub no_aws: bool,
}

impl Settings {
    /// Lays the command line over the loaded settings: a flag wins over both.
    pub fn apply(&mut self, o: Overrides) {
        fn set<T>(slot: &mut Option<T>, value: Option<T>) {
            if value.is_some() {
                *slot = value;
            }
        }
        set(&mut self.cluster, o.cluster);
        set(&mut self.region, o.region);
        set(&mut self.profile, o.profile);
        set(&mut self.target_version, o.target_version);
        set(&mut self.kubeconfig, o.kubeconfig);
        set(&mut self.context, o.context);
        self.in_cluster |= o.in_cluster;
        self.no_aws |= o.no_aws;
    }
}

/// A configuration problem, naming where it is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {message}")]
    File { path: String, message: String },
    #[error("environment variable {name}: {message}")]
    Variable { name: String, message: String },
    #[error("environment ({ENV_PREFIX}_* variables): {message}")]
    Env { message: String },
}

/// The `EKSUP_*` variables as a config source. Every value is text (a list for the keys of
/// [`LIST_KEYS`]) whose origin is its variable's name: the settings' types decide what it
/// becomes (the config deserializer reads `"32"` as a number only for a numeric key), so an
/// identifier such as `012345678901` keeps its leading zero, and an error can name the
/// variable it came from.
#[derive(Debug, Clone, Default)]
struct EnvLayer {
    /// (dotted key, variable name, value)
    entries: Vec<(String, String, config::Value)>,
}

impl config::Source for EnvLayer {
    fn clone_into_box(&self) -> Box<dyn config::Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<config::Map<String, config::Value>, config::ConfigError> {
        // Dotted keys: the builder sets each by path, merging into the file's sections.
        Ok(self
            .entries
            .iter()
            .map(|(key, _, value)| (key.clone(), value.clone()))
            .collect())
    }
}

/// Whether a key segment is a check code (`K8S002`, `eks101`): written upper case.
fn is_check_code(segment: &str) -> bool {
    segment.len() == 6
        && segment[..3].chars().all(|c| c.is_ascii_alphanumeric())
        && segment[3..].chars().all(|c| c.is_ascii_digit())
}

/// Reads the `EKSUP_*` variables. `__` separates key levels
/// (`EKSUP_CHECKS__K8S002__MIN_REPLICAS`); keys are lower case except check codes, which are
/// upper case as in files, so both layers name the same key. The keys of [`LIST_KEYS`] are
/// comma-separated lists.
fn env_layer(vars: impl IntoIterator<Item = (String, String)>) -> Result<EnvLayer, ConfigError> {
    let mut layer = EnvLayer::default();
    for (name, raw) in vars {
        let Some(rest) = name
            .strip_prefix(ENV_PREFIX)
            .and_then(|r| r.strip_prefix('_'))
        else {
            continue;
        };
        let segments: Vec<String> = rest
            .split("__")
            .map(|seg| {
                if is_check_code(seg) {
                    seg.to_ascii_uppercase()
                } else {
                    seg.to_ascii_lowercase()
                }
            })
            .collect();
        if segments.iter().any(String::is_empty) {
            return Err(ConfigError::Variable {
                name,
                message: "not a valid key (use `__` between levels)".into(),
            });
        }
        let key = segments.join(".");
        let origin = Some(&name);
        let kind: config::ValueKind = if LIST_KEYS.contains(&key.as_str())
            && !(key == "fleet.regions" && raw.trim() == "enabled")
        {
            config::ValueKind::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| config::Value::new(origin, s))
                    .collect(),
            )
        } else {
            raw.into()
        };
        let value = config::Value::new(origin, kind);
        layer.entries.push((key, name, value));
    }
    Ok(layer)
}

/// Where a key's value came from, for messages: a variable, the environment (a section
/// only variables made), or the file.
enum Origin<'a> {
    File(&'a Path),
    Variable(String),
    Env,
}

impl Origin<'_> {
    fn error(self, message: String) -> ConfigError {
        match self {
            Origin::File(p) => ConfigError::File {
                path: p.display().to_string(),
                message,
            },
            Origin::Variable(name) => ConfigError::Variable { name, message },
            Origin::Env => ConfigError::Env { message },
        }
    }
}

/// The merged layers, kept to say where a key came from.
struct Merged<'a> {
    tree: config::Map<String, config::Value>,
    file: Option<&'a Path>,
    env: &'a EnvLayer,
}

/// `fleet.accounts[0].id` → `["fleet", "accounts", "0", "id"]`.
fn segments(path: &str) -> Vec<&str> {
    path.split(['.', '[', ']'])
        .filter(|s| !s.is_empty())
        .collect()
}

impl Merged<'_> {
    /// The origin of the deepest value on `path` that exists: a missing key is blamed on
    /// the section that lacks it.
    fn origin(&self, path: &str) -> Origin<'_> {
        let mut found: Option<&config::Value> = None;
        let mut level = Some(&self.tree);
        let mut items: Option<&[config::Value]> = None;
        for seg in segments(path) {
            let next = match (level, items) {
                (Some(table), _) => table.get(seg),
                (None, Some(list)) => seg.parse::<usize>().ok().and_then(|i| list.get(i)),
                (None, None) => None,
            };
            let Some(value) = next else { break };
            found = Some(value);
            (level, items) = match &value.kind {
                config::ValueKind::Table(t) => (Some(t), None),
                config::ValueKind::Array(a) => (None, Some(a.as_slice())),
                _ => (None, None),
            };
        }
        let Some(found) = found else {
            return self.file.map_or(Origin::Env, Origin::File);
        };
        // The builder makes every section afresh (without an origin) when it merges, so a
        // section's origin is that of the values in it: the file's if any is, else the
        // variable's (or the environment's, for several).
        let mut origins = Vec::new();
        leaf_origins(found, &mut origins);
        let mut vars: Vec<&str> = Vec::new();
        for origin in origins {
            match origin {
                Some(o) if self.env.entries.iter().any(|(_, name, _)| name == o) => {
                    if !vars.contains(&o) {
                        vars.push(o);
                    }
                }
                _ => return self.file.map_or(Origin::Env, Origin::File),
            }
        }
        match vars.as_slice() {
            [one] => Origin::Variable(one.to_string()),
            [] => self.file.map_or(Origin::Env, Origin::File),
            _ => Origin::Env,
        }
    }

    /// An error about `key` (a dotted path; empty for the whole configuration).
    fn error(&self, key: &str, message: String) -> ConfigError {
        self.origin(key).error(message)
    }
}

/// The origins of the values in `value` (itself, unless it is a section or a list).
fn leaf_origins<'v>(value: &'v config::Value, out: &mut Vec<Option<&'v str>>) {
    match &value.kind {
        config::ValueKind::Table(t) => t.values().for_each(|v| leaf_origins(v, out)),
        config::ValueKind::Array(a) if !a.is_empty() => a.iter().for_each(|v| leaf_origins(v, out)),
        _ => out.push(value.origin()),
    }
}

/// The key a validation message names (`key \`fleet.role_name\`: …`), if any.
fn named_key(message: &str) -> &str {
    message
        .strip_prefix("key `")
        .and_then(|rest| rest.split_once('`'))
        .map_or("", |(key, _)| key)
}

/// Text keys must be text in the file too. YAML and TOML read an unquoted `012345678901`
/// as the number 12345678901 and `1.30` as 1.3, and the config deserializer would turn the
/// number back into text without a word, so an account ID or bucket owner would silently
/// lose its leading zero. The Settings schema says which keys are text; a number or a
/// boolean there is an error that says to quote it.
fn text_stays_text(merged: &Merged) -> Result<(), ConfigError> {
    use serde_json::Value as Json;
    fn walk(
        value: &config::Value,
        schema: &Json,
        defs: &serde_json::Map<String, Json>,
        path: String,
    ) -> Result<(), (String, String)> {
        let schema = reference::non_null(schema, defs);
        match &value.kind {
            config::ValueKind::Table(table) => {
                let props = schema.get("properties").and_then(Json::as_object);
                let rest = schema.get("additionalProperties").filter(|s| s.is_object());
                for (key, v) in table {
                    // The schema has no aliases: an old name is checked as its new one.
                    let named = |k: &str| props.and_then(|p| p.get(k));
                    let sub = named(key)
                        .or_else(|| {
                            ALIASES
                                .iter()
                                .find(|(old, _)| old == key)
                                .and_then(|(_, new)| named(new))
                        })
                        .or(rest);
                    if let Some(sub) = sub {
                        let path = if path.is_empty() {
                            key.clone()
                        } else {
                            format!("{path}.{key}")
                        };
                        walk(v, sub, defs, path)?;
                    }
                }
                Ok(())
            }
            config::ValueKind::Array(items) => match schema.get("items") {
                Some(sub) => items
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, v)| walk(v, sub, defs, format!("{path}[{i}]"))),
                None => Ok(()),
            },
            config::ValueKind::String(_) | config::ValueKind::Nil => Ok(()),
            scalar if reference::is_text(schema) => {
                let hint = match scalar {
                    config::ValueKind::Boolean(_) => {
                        "YAML and TOML read an unquoted true or false as a boolean"
                    }
                    config::ValueKind::Float(_) => {
                        "YAML and TOML read an unquoted 1.30 as the number 1.3"
                    }
                    _ => {
                        "YAML reads an unquoted 012345678901 as the number 12345678901, without its leading zero"
                    }
                };
                Err((
                    path,
                    format!("`{value}` is not text: quote it (\"...\"); {hint}"),
                ))
            }
            _ => Ok(()),
        }
    }
    let schema = schemars::schema_for!(Settings);
    let root = schema.as_value();
    let empty = serde_json::Map::new();
    let defs = root
        .get("$defs")
        .and_then(Json::as_object)
        .unwrap_or(&empty);
    let tree = config::Value::new(None, config::ValueKind::Table(merged.tree.clone()));
    walk(&tree, root, defs, String::new())
        .map_err(|(path, m)| merged.error(&path, format!("key `{path}`: {m}")))
}

/// What to say about a code that was renumbered to `new`.
fn moved(new: &str) -> String {
    format!(
        "is now {new}: the checks are numbered as the public eksup tool numbers them (README, Changes)"
    )
}

/// Checks what serde cannot: that `checks.disabled` names real checks, and that the fleet
/// section is complete and consistent.
fn validate(settings: &Settings) -> Result<(), String> {
    for code in &settings.checks.disabled {
        if lookup(code).is_none() {
            return Err(match renumbered(code) {
                Some(new) => format!("key `checks.disabled`: `{code}` {}", moved(new)),
                None => format!(
                    "key `checks.disabled`: `{code}` is not a check code (see `eksup checks`)"
                ),
            });
        }
    }
    if let Some(section) = &settings.fleet {
        fleet::validate(section)?;
        if !settings.clusters.is_empty() {
            return Err("`fleet` and `clusters` are both set: use one of them".into());
        }
    }
    Ok(())
}

fn file_source(
    path: &Path,
) -> Result<config::File<config::FileSourceFile, config::FileFormat>, ConfigError> {
    let format = match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => config::FileFormat::Yaml,
        Some("toml") => config::FileFormat::Toml,
        _ => {
            return Err(ConfigError::File {
                path: path.display().to_string(),
                message: "unknown format: use a .yaml, .yml or .toml file".into(),
            });
        }
    };
    Ok(config::File::from(path).format(format).required(true))
}

/// The config file to read: the one given, else the first default file that exists.
pub fn find_file(explicit: Option<&Path>, dir: &Path) -> Option<PathBuf> {
    match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => DEFAULT_FILES
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file()),
    }
}

/// Loads the defaults, the file (if any) and the environment (`vars`, or the process
/// environment when `None`): merged first, key by key, then deserialized and validated once,
/// so a variable may set one key of a section the file defines. An error names the key and
/// the file or variable it came from.
pub fn load(
    file: Option<&Path>,
    vars: Option<Vec<(String, String)>>,
) -> Result<Settings, ConfigError> {
    let vars = vars.unwrap_or_else(|| std::env::vars().collect());
    let env = env_layer(vars)?;
    let mut builder = config::Config::builder();
    if let Some(path) = file {
        builder = builder.add_source(file_source(path)?);
    }
    // Only the file can fail to build (unreadable, bad syntax): variables are plain text.
    let config = builder.add_source(env.clone()).build().map_err(|e| {
        let origin = file.map_or(Origin::Env, Origin::File);
        origin.error(e.to_string())
    })?;
    let merged = Merged {
        tree: config::Source::collect(&config).map_err(|e| ConfigError::Env {
            message: e.to_string(),
        })?,
        file,
        env: &env,
    };
    text_stays_text(&merged)?;
    let settings: Settings = serde_path_to_error::deserialize(config).map_err(|e| {
        let mut path = e.path().to_string();
        if path == "." {
            path.clear();
        }
        let inner = e.into_inner().to_string();
        // serde names an unknown key in its message; its origin is that key's, not its section's.
        let key = match inner
            .strip_prefix("unknown field `")
            .and_then(|r| r.split_once('`'))
        {
            Some((field, _)) if path.is_empty() => field.to_string(),
            Some((field, _)) if !path.ends_with(field) => format!("{path}.{field}"),
            _ => path.clone(),
        };
        let mut message = if path.is_empty() {
            inner
        } else {
            format!("key `{path}`: {inner}")
        };
        // `checks.EKS011` and the like: an old code gets its new number.
        if let Some(new) = key.strip_prefix("checks.").and_then(renumbered) {
            message = format!("key `{key}`: {}", moved(new));
        }
        merged.error(&key, message)
    })?;
    validate(&settings).map_err(|m| {
        let key = named_key(&m).to_string();
        merged.error(&key, m)
    })?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn vars(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn tmp() -> crate::testing::TempDir {
        crate::testing::TempDir::new("eksup-config")
    }

    #[test]
    fn reads_the_documented_yaml() {
        let dir = tmp();
        let p = write(
            &dir,
            ".eksup.yaml",
            r#"
checks:
  K8S002:
    min_replicas: 3
    ignore:    [{ name: metrics-server, namespace: kube-system }]
    overrides: [{ name: critical-app, namespace: production, min_replicas: 5 }]
  K8S004:
    ignore:    [{ name: singleton, namespace: batch }]
  EKS101:
    notice_days: 90
  disabled: [K8S013]
"#,
        );
        assert_eq!(find_file(None, &dir), Some(p.clone()));
        let s = load(Some(&p), vars(&[])).unwrap();
        assert_eq!(s.checks.k8s002.min_replicas, 3);
        assert_eq!(s.checks.k8s002.ignore[0].name, "metrics-server");
        assert_eq!(s.checks.k8s002.overrides[0].min_replicas, 5);
        assert_eq!(
            s.checks.k8s004.ignore[0].namespace.as_deref(),
            Some("batch")
        );
        assert!(s.checks.is_disabled("K8S013"));
    }

    /// `targets:` and `outputs.report` are the old names of `clusters:` and
    /// `outputs.fleet_page`; files written for them still load.
    #[test]
    fn old_names_still_read() {
        let dir = tmp();
        let p = write(
            &dir,
            ".eksup.yaml",
            "targets:\n  - {cluster: a}\noutputs:\n  report: true\n",
        );
        let s = load(Some(&p), vars(&[])).unwrap();
        assert_eq!(s.clusters.len(), 1);
        assert_eq!(s.clusters[0].cluster.as_deref(), Some("a"));
        assert!(s.outputs.fleet_page);
        let s = load(None, vars(&[("EKSUP_OUTPUTS__REPORT", "true")])).unwrap();
        assert!(s.outputs.fleet_page);
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tmp();
        let p = write(
            &dir,
            "eksup.toml",
            "region = \"eu-west-1\"\n[checks.K8S002]\nmin_replicas = 3\n",
        );
        let s = load(
            Some(&p),
            vars(&[
                ("EKSUP_REGION", "us-east-2"),
                ("EKSUP_CHECKS__K8S002__MIN_REPLICAS", "4"),
                ("EKSUP_CHECKS__DISABLED", "K8S005,K8S006"),
            ]),
        )
        .unwrap();
        assert_eq!(s.region.as_deref(), Some("us-east-2"));
        assert_eq!(s.checks.k8s002.min_replicas, 4);
        assert_eq!(s.checks.disabled, vec!["K8S005", "K8S006"]);
    }

    #[test]
    fn unknown_keys_name_the_key_and_the_file() {
        let dir = tmp();
        let p = write(
            &dir,
            ".eksup.yaml",
            "checks:\n  K8S002:\n    min_replica: 3\n",
        );
        let e = load(Some(&p), vars(&[])).unwrap_err().to_string();
        assert!(e.contains(".eksup.yaml"), "{e}");
        assert!(e.contains("checks.K8S002"), "{e}");
        assert!(e.contains("min_replica"), "{e}");

        let e = load(None, vars(&[("EKSUP_TARGT_VERSION", "1.31")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("environment") && e.contains("targt_version"),
            "{e}"
        );
    }

    /// A code from before the renumbering is an error that gives its new number, as a key
    /// and in `disabled`.
    #[test]
    fn old_codes_are_refused_with_their_new_number() {
        let dir = tmp();
        let p = write(
            &dir,
            ".eksup.yaml",
            "checks:\n  EKS011:\n    notice_days: 30\n",
        );
        let e = load(Some(&p), vars(&[])).unwrap_err().to_string();
        assert!(
            e.contains("checks.EKS011") && e.contains("is now EKS101"),
            "{e}"
        );
        let p = write(&dir, ".eksup.yaml", "checks:\n  disabled: [K8S020]\n");
        let e = load(Some(&p), vars(&[])).unwrap_err().to_string();
        assert!(e.contains("`K8S020` is now K8S105"), "{e}");
        let p = write(&dir, ".eksup.yaml", "checks:\n  disabled: [K8S099]\n");
        let e = load(Some(&p), vars(&[])).unwrap_err().to_string();
        assert!(e.contains("not a check code"), "{e}");
    }

    /// The CRD list (K8S105) is off unless asked for; a mistyped key is an error.
    #[test]
    fn the_crd_list_is_opt_in() {
        use crate::collect::kube::Reads;
        let dir = tmp();
        let s = load(None, vars(&[])).unwrap();
        assert!(!s.checks.k8s105.enabled);
        assert!(!Reads::from(&s.checks).crds);
        let p = write(
            &dir,
            ".eksup.yaml",
            "checks:\n  K8S105:\n    enabled: true\n",
        );
        let s = load(Some(&p), vars(&[])).unwrap();
        assert!(Reads::from(&s.checks).crds);
        let p = write(
            &dir,
            "both.yaml",
            "checks:\n  K8S105:\n    enabled: true\n  disabled: [K8S105]\n",
        );
        assert!(!Reads::from(&load(Some(&p), vars(&[])).unwrap().checks).crds);
        let p = write(&dir, "typo.yaml", "checks:\n  K8S105:\n    enable: true\n");
        let e = load(Some(&p), vars(&[])).unwrap_err().to_string();
        assert!(e.contains("checks.K8S105") && e.contains("enable"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let dir = tmp();
        let p = write(
            &dir,
            ".eksup.yaml",
            "checks:\n  K8S002:\n    min_replicas: lots\n",
        );
        let e = load(Some(&p), vars(&[])).unwrap_err().to_string();
        assert!(e.contains("checks.K8S002.min_replicas"), "{e}");
        let p = write(&dir, "bad.yaml", "checks:\n  disabled: [K8S999]\n");
        let e = load(Some(&p), vars(&[])).unwrap_err().to_string();
        assert!(e.contains("K8S999") && e.contains("bad.yaml"), "{e}");
    }
}

#[cfg(test)]
mod plan_tests {
    //! The one settings value: precedence of flags over environment over file, versions and
    //! account IDs validated at load, every bad key named.
    use super::*;
    use crate::run::fleet::settings::Regions;

    /// The file `name` holding `text`, in a directory removed when the guard drops.
    fn tmp_file(name: &str, text: &str) -> (crate::testing::TempDir, PathBuf) {
        let d = crate::testing::TempDir::new("eksup-plan");
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        (d, p)
    }

    fn env(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn flags_win_over_environment_over_file() {
        let (_dir, file) = tmp_file(
            ".eksup.yaml",
            "cluster: from-file\nregion: eu-west-1\nprofile: file\ntarget_version: \"1.31\"\n",
        );
        let v = |s: &str| s.parse::<KubeVersion>().unwrap();
        // File alone.
        let s = load(Some(&file), env(&[])).unwrap();
        assert_eq!(
            (s.cluster.as_deref(), s.region.as_deref(), s.target_version),
            (Some("from-file"), Some("eu-west-1"), Some(v("1.31")))
        );
        // Environment over file, key by key.
        let mut s = load(
            Some(&file),
            env(&[
                ("EKSUP_REGION", "us-east-2"),
                ("EKSUP_TARGET_VERSION", "1.32"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (
                s.cluster.as_deref(),
                s.region.as_deref(),
                s.profile.as_deref(),
                s.target_version
            ),
            (
                Some("from-file"),
                Some("us-east-2"),
                Some("file"),
                Some(v("1.32"))
            )
        );
        // Flags over both; unset flags leave the layers below alone.
        s.apply(Overrides {
            target_version: Some(v("1.33")),
            profile: Some("flag".into()),
            ..Default::default()
        });
        assert_eq!(
            (
                s.cluster.as_deref(),
                s.region.as_deref(),
                s.profile.as_deref(),
                s.target_version
            ),
            (
                Some("from-file"),
                Some("us-east-2"),
                Some("flag"),
                Some(v("1.33"))
            )
        );
    }

    #[test]
    fn an_unquoted_version_is_an_error_that_says_to_quote_it() {
        for (name, text) in [
            (".eksup.yaml", "target_version: 1.30\n"),
            ("eksup.toml", "target_version = 1.30\n"),
            (
                ".eksup.yaml",
                "targets:\n  - {cluster: a, target_version: 1.31}\n",
            ),
        ] {
            let (_dir, file) = tmp_file(name, text);
            let e = load(Some(&file), env(&[])).unwrap_err().to_string();
            assert!(e.contains(name), "{e}");
            assert!(e.contains("target_version"), "{e}");
            assert!(e.contains("quote it"), "{e}");
        }
        // The environment carries text, so 1.30 stays 1.30.
        let s = load(None, env(&[("EKSUP_TARGET_VERSION", "1.30")])).unwrap();
        assert_eq!(s.target_version, Some(KubeVersion::new(1, 30)));
        let e = load(None, env(&[("EKSUP_TARGET_VERSION", "one")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("environment") && e.contains("target_version"),
            "{e}"
        );
    }

    #[test]
    fn the_fleet_section_reads_from_file_and_environment() {
        let (_dir, file) = tmp_file(
            "fleet.yaml",
            r#"
fleet:
  role_name: eksup-reader
  external_id: "x-123"
  accounts: ["111111111111", {id: "222222222222", role_arn: "arn:aws:iam::222222222222:role/other"}]
  regions: [us-east-1, eu-west-1]
  include: ["prod-*"]
  exclude: ["sandbox-*"]
  tags: {env: prod}
  concurrency: 8
  cluster_timeout_seconds: 60
"#,
        );
        let s = load(Some(&file), env(&[])).unwrap();
        let f = s.fleet.unwrap();
        assert_eq!(f.accounts[0].id, "111111111111");
        assert_eq!(
            f.accounts[1].role_arn.as_deref(),
            Some("arn:aws:iam::222222222222:role/other")
        );
        assert_eq!(
            f.regions,
            Regions::List(vec!["us-east-1".into(), "eu-west-1".into()])
        );
        assert_eq!(f.tags["env"], "prod");
        assert_eq!((f.concurrency, f.cluster_timeout_seconds), (8, 60));

        let s = load(
            None,
            env(&[
                ("EKSUP_FLEET__ROLE_NAME", "r"),
                ("EKSUP_FLEET__ACCOUNTS", "012345678901, 222222222222"),
                ("EKSUP_FLEET__REGIONS", "enabled"),
                ("EKSUP_FLEET__CONCURRENCY", "4"),
            ]),
        )
        .unwrap();
        let f = s.fleet.unwrap();
        assert_eq!(f.accounts[0].id, "012345678901", "leading zero kept");
        assert_eq!(f.regions, Regions::Enabled);
        assert_eq!(f.concurrency, 4);
    }

    #[test]
    fn every_bad_fleet_key_is_named() {
        let cases = [
            (
                "fleet: {role_name: r, accounts: [111111111111], regions: [us-east-1]}",
                "quote it",
            ),
            (
                "fleet: {role_name: r, accounts: [\"1234\"], regions: [us-east-1]}",
                "fleet.accounts[0]",
            ),
            (
                "fleet: {accounts: [\"111111111111\"], regions: [us-east-1]}",
                "fleet.role_name",
            ),
            (
                "fleet: {role_name: r, regions: [us-east-1]}",
                "organization",
            ),
            (
                "fleet: {role_name: r, accounts: [\"111111111111\"], organization: {}, regions: [a]}",
                "both set",
            ),
            (
                "fleet: {role_name: r, accounts: [\"111111111111\"], regions: []}",
                "fleet.regions",
            ),
            (
                "fleet: {role_name: r, organization: {ou_ids: [ou-ab12-cdefgh34, OU-Prod]}, regions: [a]}",
                "fleet.organization.ou_ids[1]",
            ),
            (
                "fleet: {role_name: r, accounts: [\"111111111111\"], regions: all}",
                "enabled",
            ),
            (
                "fleet: {role_name: r, accounts: [\"111111111111\"], regions: [a], concurrency: 0}",
                "fleet.concurrency",
            ),
            (
                "fleet: {role_name: r, accounts: [\"111111111111\"], regions: [a], include: [\"[\"]}",
                "fleet.include",
            ),
            (
                "fleet: {role_name: r, accounts: [\"111111111111\"], regions: [a], colour: blue}",
                "colour",
            ),
            (
                "fleet: {role_name: r, accounts: [\"111111111111\"], regions: [a]}\ntargets: [{cluster: x}]",
                "both set",
            ),
        ];
        for (text, needle) in cases {
            let (_dir, file) = tmp_file("fleet.yaml", text);
            let e = load(Some(&file), env(&[])).unwrap_err().to_string();
            assert!(
                e.contains("fleet.yaml") && e.contains(needle),
                "{text}: {e}"
            );
        }
    }
}

#[cfg(test)]
mod layer_tests {
    //! The layers merged before anything is validated, identifiers kept as text from every
    //! layer, and every error naming the file or the variable a key came from.
    use super::*;

    fn file(name: &str, text: &str) -> (crate::testing::TempDir, PathBuf) {
        let d = crate::testing::TempDir::new("eksup-layers");
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        (d, p)
    }

    fn env(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    const FLEET: &str = r#"
fleet:
  role_name: eksup-reader
  external_id: "0042"
  accounts: ["011111111111"]
  regions: [us-east-1]
  tags: {team: "007"}
  concurrency: 8
"#;

    /// A variable that sets one key of the file's `fleet:` changes that key alone; alone,
    /// the section would not validate (no role, no accounts).
    #[test]
    fn a_variable_sets_one_key_of_a_section_the_file_defines() {
        let (_d, p) = file("fleet.yaml", FLEET);
        let from_file = load(Some(&p), env(&[])).unwrap().fleet.unwrap();
        let s = load(Some(&p), env(&[("EKSUP_FLEET__CONCURRENCY", "32")])).unwrap();
        let f = s.fleet.unwrap();
        assert_eq!(f.concurrency, 32);
        assert_eq!(
            FleetSettings {
                concurrency: 8,
                ..f.clone()
            },
            from_file,
            "everything else from the file"
        );
        assert_eq!(f.accounts[0].id, "011111111111");
        // The same variable without the file: the fleet it makes lacks the rest, and the
        // error says it came from the environment.
        let e = load(None, env(&[("EKSUP_FLEET__CONCURRENCY", "32")]))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("environment"), "{e}");
        // A key the file's section lacks is the file's to fix.
        let (_d, p) = file(
            "norole.yaml",
            "fleet: {accounts: [\"011111111111\"], regions: [a]}\n",
        );
        let e = load(Some(&p), env(&[("EKSUP_FLEET__CONCURRENCY", "32")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("norole.yaml") && e.contains("fleet.role_name"),
            "{e}"
        );
    }

    #[test]
    fn identifiers_from_the_environment_keep_their_leading_zeros() {
        let s = load(
            None,
            env(&[
                ("EKSUP_OUTPUTS__S3__BUCKET", "0123-reports"),
                ("EKSUP_OUTPUTS__S3__EXPECTED_BUCKET_OWNER", "012345678901"),
                ("EKSUP_OUTPUTS__S3__KMS_KEY_ID", "0123"),
                ("EKSUP_OUTPUTS__S3__PREFIX", "007"),
                ("EKSUP_FLEET__ROLE_NAME", "0123"),
                ("EKSUP_FLEET__EXTERNAL_ID", "000042"),
                ("EKSUP_FLEET__ACCOUNTS", "012345678901"),
                ("EKSUP_FLEET__REGIONS", "us-east-1"),
                ("EKSUP_FLEET__TAGS__TEAM", "007"),
                ("EKSUP_FLEET__ORGANIZATION__EXCLUDE", "000000000001"),
                ("EKSUP_WRITER", "0042"),
                ("EKSUP_CLUSTER", "0001"),
                ("EKSUP_PROFILE", "00"),
                ("EKSUP_CONTEXT", "01"),
                ("EKSUP_REGION", "0"),
            ]),
        )
        .unwrap_err()
        .to_string();
        // `accounts` and `organization` together are refused; the identifiers are checked
        // without the organization below.
        assert!(s.contains("both set"), "{s}");
        let s = load(
            None,
            env(&[
                ("EKSUP_OUTPUTS__S3__BUCKET", "0123-reports"),
                ("EKSUP_OUTPUTS__S3__EXPECTED_BUCKET_OWNER", "012345678901"),
                ("EKSUP_OUTPUTS__S3__KMS_KEY_ID", "0123"),
                ("EKSUP_OUTPUTS__S3__PREFIX", "007"),
                ("EKSUP_FLEET__ROLE_NAME", "0123"),
                ("EKSUP_FLEET__EXTERNAL_ID", "000042"),
                ("EKSUP_FLEET__ACCOUNTS", "012345678901"),
                ("EKSUP_FLEET__REGIONS", "us-east-1"),
                ("EKSUP_FLEET__TAGS__TEAM", "007"),
                ("EKSUP_WRITER", "0042"),
                ("EKSUP_CLUSTER", "0001"),
                ("EKSUP_PROFILE", "00"),
                ("EKSUP_CONTEXT", "01"),
            ]),
        )
        .unwrap();
        let s3 = s.outputs.s3.as_ref().unwrap();
        assert_eq!(s3.expected_bucket_owner.as_deref(), Some("012345678901"));
        assert_eq!(
            (
                s3.bucket.as_str(),
                s3.kms_key_id.as_deref(),
                s3.prefix.as_str()
            ),
            ("0123-reports", Some("0123"), "007")
        );
        let f = s.fleet.as_ref().unwrap();
        assert_eq!(f.role_name.as_deref(), Some("0123"));
        assert_eq!(f.external_id.as_deref(), Some("000042"));
        assert_eq!(f.accounts[0].id, "012345678901");
        assert_eq!(f.tags["team"], "007");
        assert_eq!(
            (
                s.writer.as_deref(),
                s.cluster.as_deref(),
                s.profile.as_deref(),
                s.context.as_deref()
            ),
            (Some("0042"), Some("0001"), Some("00"), Some("01"))
        );
        let s = load(
            None,
            env(&[
                ("EKSUP_FLEET__ROLE_NAME", "r"),
                ("EKSUP_FLEET__REGIONS", "us-east-1"),
                (
                    "EKSUP_FLEET__ORGANIZATION__EXCLUDE",
                    "000000000001,012345678901",
                ),
            ]),
        )
        .unwrap();
        let org = s.fleet.unwrap().organization.unwrap();
        assert_eq!(org.exclude, ["000000000001", "012345678901"]);
    }

    /// Text from the environment becomes a number or a boolean where the key is one.
    #[test]
    fn numbers_and_booleans_from_the_environment_follow_the_key_type() {
        let s = load(
            None,
            env(&[
                ("EKSUP_CHECKS__K8S002__MIN_REPLICAS", "03"),
                ("EKSUP_IN_CLUSTER", "true"),
                ("EKSUP_OUTPUTS__STDOUT", "false"),
                ("EKSUP_OUTPUTS__S3__BUCKET", "b"),
                ("EKSUP_OUTPUTS__S3__FORCE_PATH_STYLE", "TRUE"),
                ("EKSUP_OUTPUTS__S3__MULTIPART_THRESHOLD_BYTES", "10485760"),
                ("EKSUP_OUTPUTS__EMF__NOTICE_DAYS", "30"),
            ]),
        )
        .unwrap();
        assert_eq!(s.checks.k8s002.min_replicas, 3);
        assert!(s.in_cluster);
        assert_eq!(s.outputs.stdout, Some(false));
        let s3 = s.outputs.s3.unwrap();
        assert!(s3.force_path_style);
        assert_eq!(s3.multipart_threshold_bytes, 10 << 20);
        assert_eq!(s.outputs.emf.unwrap().notice_days, 30);
        let e = load(None, env(&[("EKSUP_FLEET__CONCURRENCY", "lots")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("EKSUP_FLEET__CONCURRENCY") && e.contains("fleet.concurrency"),
            "{e}"
        );
    }

    /// In a file an unquoted identifier is a number to YAML: an error that names the key
    /// and says to quote it, never a silently shortened ID.
    #[test]
    fn an_unquoted_identifier_in_the_file_is_an_error_that_says_to_quote_it() {
        for (text, key) in [
            (
                "outputs:\n  s3: {bucket: b, expected_bucket_owner: 012345678901}\n",
                "outputs.s3.expected_bucket_owner",
            ),
            ("writer: 0042\n", "writer"),
            ("cluster: 1234\n", "cluster"),
            ("cluster: true\n", "cluster"),
            (
                "fleet: {role_name: r, accounts: [\"011111111111\"], regions: [a], external_id: 42}\n",
                "fleet.external_id",
            ),
            (
                "fleet: {role_name: r, accounts: [\"011111111111\"], regions: [a], tags: {team: 7}}\n",
                "fleet.tags.team",
            ),
            (
                "fleet: {role_name: r, organization: {exclude: [000000000001]}, regions: [a]}\n",
                "fleet.organization.exclude[0]",
            ),
            ("clusters: [{cluster: 0123}]\n", "clusters[0].cluster"),
            ("targets: [{profile: 7}]\n", "targets[0].profile"),
        ] {
            let (_d, p) = file("ids.yaml", text);
            let e = load(Some(&p), env(&[])).unwrap_err().to_string();
            assert!(
                e.contains("ids.yaml")
                    && e.contains(&format!("key `{key}`"))
                    && e.contains("quote it"),
                "{text}: {e}"
            );
        }
        let (_d, p) = file(
            "ids.yaml",
            "outputs:\n  s3: {bucket: b, expected_bucket_owner: \"012345678901\"}\nwriter: \"0042\"\n",
        );
        let s = load(Some(&p), env(&[])).unwrap();
        assert_eq!(
            s.outputs.s3.unwrap().expected_bucket_owner.as_deref(),
            Some("012345678901")
        );
        assert_eq!(s.writer.as_deref(), Some("0042"));
        // TOML refuses a leading zero outright; a bare number is the same error as in YAML.
        let (_d, p) = file("ids.toml", "writer = 42\n");
        let e = load(Some(&p), env(&[])).unwrap_err().to_string();
        assert!(
            e.contains("ids.toml") && e.contains("key `writer`") && e.contains("quote it"),
            "{e}"
        );
    }

    /// After the merge, an error still names where the bad key came from.
    #[test]
    fn errors_name_the_variable_or_the_file_after_the_merge() {
        let (_d, p) = file("fleet.yaml", FLEET);
        let e = load(Some(&p), env(&[("EKSUP_FLEET__COLOUR", "blue")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("environment variable EKSUP_FLEET__COLOUR") && e.contains("colour"),
            "{e}"
        );
        let e = load(Some(&p), env(&[("EKSUP_FLEET__REGIONS", "")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("environment variable EKSUP_FLEET__REGIONS")
                && e.contains("fleet.regions"),
            "{e}"
        );
        let e = load(Some(&p), env(&[("EKSUP_CHECKS__DISABLED", "K8S999")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("environment variable EKSUP_CHECKS__DISABLED"),
            "{e}"
        );
        let (_d, bad) = file("bad.yaml", "fleet: {colour: blue}\n");
        let e = load(Some(&bad), env(&[("EKSUP_FLEET__CONCURRENCY", "4")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.yaml") && e.contains("colour"), "{e}");
        let e = load(None, env(&[("EKSUP_FLEET____X", "1")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("EKSUP_FLEET____X") && e.contains("__"), "{e}");
    }

    /// Flags are typed by clap: identifiers stay text there too.
    #[test]
    fn identifier_flags_stay_text() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "eksup",
            "run",
            "--cluster",
            "0123",
            "--profile",
            "007",
            "--context",
            "01",
            "--region",
            "0",
            "--s3",
            "s3://0123-reports/007",
            "--dry-run",
        ])
        .unwrap();
        let crate::cli::Command::Run(args) = cli.command else {
            panic!("not run")
        };
        let mut s = Settings::default();
        s.apply(Overrides {
            cluster: args.cluster.cluster.clone(),
            profile: args.cluster.profile.clone(),
            context: args.cluster.context.clone(),
            region: args.cluster.region.clone(),
            ..Default::default()
        });
        assert_eq!(
            (
                s.cluster.as_deref(),
                s.profile.as_deref(),
                s.context.as_deref(),
                s.region.as_deref()
            ),
            (Some("0123"), Some("007"), Some("01"), Some("0"))
        );
        assert_eq!(args.s3.as_deref(), Some("s3://0123-reports/007"));
    }
}
