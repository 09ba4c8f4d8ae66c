//! Configuration: defaults < config file < `EKSUP_*` environment < command-line flags.
//!
//! Each layer is validated on its own before they are merged, so an unknown key or a bad
//! value is reported with the key's full path and the file (or variable) it came from.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checks::{CheckSettings, lookup};

/// Files looked for in the working directory when `--config` is not given, in order.
pub const DEFAULT_FILES: [&str; 4] = [".eksup.yaml", ".eksup.yml", ".eksup.toml", "eksup.toml"];
const ENV_PREFIX: &str = "EKSUP";

/// Output format of `analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Json,
}

/// The level from which findings make the process exit with code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Required,
    Recommended,
}

/// Everything that can be set in a config file or the environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub cluster: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub target_version: Option<String>,
    pub format: Option<Format>,
    pub ignore_recommended: bool,
    pub fail_on: Option<FailOn>,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub no_aws: bool,
    pub in_cluster: bool,
    pub checks: CheckSettings,
    /// Clusters `eksup run` analyzes; empty: the one named by `cluster` (or the flags).
    pub targets: Vec<TargetSettings>,
    /// Where `eksup run` writes.
    pub outputs: OutputSettings,
    /// Names this writer in object names (`<run_id>-<writer>.parquet`); default: the host name.
    pub writer: Option<String>,
}

/// One cluster of `eksup run`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetSettings {
    pub cluster: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub target_version: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub in_cluster: bool,
    pub no_aws: bool,
    pub snapshot: Option<PathBuf>,
}

/// The outputs of `eksup run`. With none configured it writes to `./eksup-out` and stdout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSettings {
    pub directory: Option<PathBuf>,
    /// JSON lines on stdout (default: on).
    pub stdout: Option<bool>,
    pub s3: Option<crate::sink::s3::S3Settings>,
    /// CloudWatch Embedded Metric Format lines on stdout (off unless set).
    pub emf: Option<crate::sink::emf::EmfSettings>,
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

/// Checks what serde cannot: that `checks.disabled` names real checks.
fn validate(settings: &Settings) -> Result<(), String> {
    for code in &settings.checks.disabled {
        if lookup(code).is_none() {
            return Err(format!(
                "key `checks.disabled`: `{code}` is not a check code (see `eksup checks`)"
            ));
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
        let value: config::Value = if key == "checks.disabled" {
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
                .into()
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

    fn tmp() -> PathBuf {
        let d = std::env::temp_dir().join(format!("eksup-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&d).unwrap();
        d
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
