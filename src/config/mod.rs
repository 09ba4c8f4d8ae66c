//! Configuration: defaults < config file < `EKSUP_*` environment < command-line flags.
//!
//! Each layer is validated on its own before they are merged, so an unknown key or a bad
//! value is reported with the key's full path and the file (or variable) it came from.

pub mod reference;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checks::{CheckSettings, lookup};
use crate::output::OutputSettings;
use crate::output::render::Format;
use crate::report::FailOn;
use crate::run::fleet::settings::{self as fleet, FleetSettings};
use crate::version::KubeVersion;

/// Files looked for in the working directory when `--config` is not given, in order.
pub const DEFAULT_FILES: [&str; 4] = [".eksup.yaml", ".eksup.yml", ".eksup.toml", "eksup.toml"];
const ENV_PREFIX: &str = "EKSUP";
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
    #[error("environment ({ENV_PREFIX}_* variables): {message}")]
    Env { message: String },
}

/// Where a layer comes from, for messages.
enum Origin<'a> {
    File(&'a Path),
    Env,
}

impl Origin<'_> {
    fn error(&self, message: String) -> ConfigError {
        match self {
            Origin::File(p) => ConfigError::File {
                path: p.display().to_string(),
                message,
            },
            Origin::Env => ConfigError::Env { message },
        }
    }
}

/// Deserializes one layer with the path of any offending key in the message.
fn deserialize_layer(config: config::Config, origin: &Origin) -> Result<Settings, ConfigError> {
    let settings: Settings = serde_path_to_error::deserialize(config).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let message = if path.is_empty() || path == "." {
            inner
        } else {
            format!("key `{path}`: {inner}")
        };
        origin.error(message)
    })?;
    validate(&settings).map_err(|m| origin.error(m))?;
    Ok(settings)
}

/// Checks what serde cannot: that `checks.disabled` names real checks, and that the fleet
/// section is complete and consistent.
fn validate(settings: &Settings) -> Result<(), String> {
    for code in &settings.checks.disabled {
        if lookup(code).is_none() {
            return Err(format!(
                "key `checks.disabled`: `{code}` is not a check code (see `eksup checks`)"
            ));
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

/// Whether a key segment is a check code (`K8S002`, `eks011`): written upper case.
fn is_check_code(segment: &str) -> bool {
    segment.len() == 6
        && segment[..3].chars().all(|c| c.is_ascii_alphanumeric())
        && segment[3..].chars().all(|c| c.is_ascii_digit())
}

/// The `EKSUP_*` variables as a config layer. `__` separates key levels
/// (`EKSUP_CHECKS__K8S002__MIN_REPLICAS`); keys are lower case except check codes, which
/// are upper case as in files, so both layers name the same key. Numbers and booleans are
/// parsed; `EKSUP_CHECKS__DISABLED` is a comma-separated list.
fn env_layer(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<config::Config, ConfigError> {
    let mut builder = config::Config::builder();
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
            return Err(ConfigError::Env {
                message: format!("`{name}` is not a valid key (use `__` between levels)"),
            });
        }
        let key = segments.join(".");
        let value: config::Value = if LIST_KEYS.contains(&key.as_str())
            && !(key == "fleet.regions" && raw.trim() == "enabled")
        {
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
                .into()
        } else if key.ends_with("external_id")
            || key == "fleet.role_name"
            || key.starts_with("fleet.tags.")
            || matches!(key.as_str(), "cluster" | "writer" | "profile" | "context")
        {
            // Strings even when they look like numbers.
            raw.into()
        } else if let Ok(i) = raw.parse::<i64>() {
            i.into()
        } else if let Ok(b) = raw.to_ascii_lowercase().parse::<bool>() {
            b.into()
        } else {
            raw.into()
        };
        builder = builder
            .set_override(&key, value)
            .map_err(|e| ConfigError::Env {
                message: format!("`{name}`: {e}"),
            })?;
    }
    builder.build().map_err(|e| ConfigError::Env {
        message: e.to_string(),
    })
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

/// Loads the file (if any) and the environment (`vars`, or the process environment when
/// `None`), each validated on its own, then merged with the environment on top.
pub fn load(
    file: Option<&Path>,
    vars: Option<Vec<(String, String)>>,
) -> Result<Settings, ConfigError> {
    let vars = vars.unwrap_or_else(|| std::env::vars().collect());
    let env = env_layer(vars)?;
    deserialize_layer(env.clone(), &Origin::Env)?;
    let mut builder = config::Config::builder();
    if let Some(path) = file {
        let origin = Origin::File(path);
        let source = file_source(path)?;
        let alone = config::Config::builder()
            .add_source(source.clone())
            .build()
            .map_err(|e| origin.error(e.to_string()))?;
        deserialize_layer(alone, &origin)?;
        builder = builder.add_source(source);
    }
    let merged = builder
        .add_source(env)
        .build()
        .map_err(|e| Origin::Env.error(e.to_string()))?;
    let origin = file.map_or(Origin::Env, Origin::File);
    deserialize_layer(merged, &origin)
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
  EKS011:
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

    /// The CRD list (K8S020) is off unless asked for; a mistyped key is an error.
    #[test]
    fn the_crd_list_is_opt_in() {
        use crate::collect::kube::Reads;
        let dir = tmp();
        let s = load(None, vars(&[])).unwrap();
        assert!(!s.checks.k8s020.enabled);
        assert!(!Reads::from(&s.checks).crds);
        let p = write(
            &dir,
            ".eksup.yaml",
            "checks:\n  K8S020:\n    enabled: true\n",
        );
        let s = load(Some(&p), vars(&[])).unwrap();
        assert!(Reads::from(&s.checks).crds);
        let p = write(
            &dir,
            "both.yaml",
            "checks:\n  K8S020:\n    enabled: true\n  disabled: [K8S020]\n",
        );
        assert!(!Reads::from(&load(Some(&p), vars(&[])).unwrap().checks).crds);
        let p = write(&dir, "typo.yaml", "checks:\n  K8S020:\n    enable: true\n");
        let e = load(Some(&p), vars(&[])).unwrap_err().to_string();
        assert!(e.contains("checks.K8S020") && e.contains("enable"), "{e}");
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
