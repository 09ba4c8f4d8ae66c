//! The fleet section of the settings, validated into what the runner needs: the accounts
//! (listed, or the Organization's), the regions, the cluster filters and the limits.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::credentials::Account;
use super::settings::{FleetSettings, Regions};
use crate::run::Error;
use crate::version::KubeVersion;

/// Which accounts to read.
#[derive(Debug, Clone)]
pub enum Accounts {
    Listed(Vec<Account>),
    Organization(OrganizationPlan),
}

#[derive(Debug, Clone)]
pub struct OrganizationPlan {
    pub ou_ids: Vec<String>,
    pub exclude: Vec<String>,
    pub role_name: String,
    pub external_id: Option<String>,
}

impl OrganizationPlan {
    pub fn account(&self, id: String) -> Account {
        Account {
            role_arn: role_arn(&id, &self.role_name),
            external_id: self.external_id.clone(),
            id,
        }
    }
}

fn role_arn(account: &str, role_name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{role_name}")
}

/// Which clusters of an (account, region) to analyze.
#[derive(Debug, Clone)]
pub struct ClusterFilter {
    include: Option<GlobSet>,
    exclude: GlobSet,
    tags: BTreeMap<String, String>,
    /// As configured, for the plan's description.
    patterns: (Vec<String>, Vec<String>),
}

fn glob_set(key: &str, patterns: &[String]) -> Result<GlobSet, Error> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|e| Error::Usage(format!("fleet.{key}: `{p}`: {e}")))?);
    }
    b.build()
        .map_err(|e| Error::Usage(format!("fleet.{key}: {e}")))
}

impl ClusterFilter {
    pub fn new(
        include: &[String],
        exclude: &[String],
        tags: BTreeMap<String, String>,
    ) -> Result<Self, Error> {
        Ok(Self {
            include: (!include.is_empty())
                .then(|| glob_set("include", include))
                .transpose()?,
            exclude: glob_set("exclude", exclude)?,
            tags,
            patterns: (include.to_vec(), exclude.to_vec()),
        })
    }

    pub fn keeps_name(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|g| g.is_match(name)) && !self.exclude.is_match(name)
    }

    pub fn keeps_tags(&self, tags: &BTreeMap<String, String>) -> bool {
        self.tags.iter().all(|(k, v)| tags.get(k) == Some(v))
    }
}

/// The validated fleet.
#[derive(Debug, Clone)]
pub struct FleetPlan {
    pub accounts: Accounts,
    pub regions: Regions,
    pub filter: ClusterFilter,
    pub concurrency: usize,
    pub cluster_timeout: Duration,
    pub target_version: Option<KubeVersion>,
}

impl FleetPlan {
    pub fn new(s: &FleetSettings, target_version: Option<KubeVersion>) -> Result<Self, Error> {
        let accounts = match &s.organization {
            Some(org) => Accounts::Organization(OrganizationPlan {
                ou_ids: org.ou_ids.clone(),
                exclude: org.exclude.clone(),
                role_name: s.role_name.clone().unwrap_or_default(),
                external_id: s.external_id.clone(),
            }),
            None => {
                let mut list: Vec<Account> = s
                    .accounts
                    .iter()
                    .map(|a| Account {
                        id: a.id.clone(),
                        role_arn: a.role_arn.clone().unwrap_or_else(|| {
                            role_arn(&a.id, s.role_name.as_deref().unwrap_or_default())
                        }),
                        external_id: a.external_id.clone().or(s.external_id.clone()),
                    })
                    .collect();
                list.sort();
                list.dedup_by(|a, b| a.id == b.id);
                Accounts::Listed(list)
            }
        };
        Ok(Self {
            accounts,
            regions: s.regions.clone(),
            filter: ClusterFilter::new(&s.include, &s.exclude, s.tags.clone())?,
            concurrency: s.concurrency,
            cluster_timeout: Duration::from_secs(s.cluster_timeout_seconds),
            target_version,
        })
    }

    /// The plan in words (`--dry-run`).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        match &self.accounts {
            Accounts::Listed(list) => {
                let _ = writeln!(out, "fleet accounts: {}", list.len());
                for a in list {
                    let _ = writeln!(
                        out,
                        "  - {} via {}{}",
                        a.id,
                        a.role_arn,
                        if a.external_id.is_some() {
                            " (external ID)"
                        } else {
                            ""
                        }
                    );
                }
            }
            Accounts::Organization(o) => {
                let scope = if o.ou_ids.is_empty() {
                    "every ACTIVE account of the AWS Organization".to_string()
                } else {
                    format!(
                        "every ACTIVE account under {} (nested OUs included)",
                        o.ou_ids.join(", ")
                    )
                };
                let _ = writeln!(
                    out,
                    "fleet accounts: {scope}{}, via role {}",
                    if o.exclude.is_empty() {
                        String::new()
                    } else {
                        format!(" except {}", o.exclude.join(", "))
                    },
                    o.role_name
                );
            }
        }
        match &self.regions {
            Regions::List(r) => {
                let _ = writeln!(out, "fleet regions: {}", r.join(", "));
                if let Accounts::Listed(a) = &self.accounts {
                    let _ = writeln!(out, "(account, region) pairs: {}", a.len() * r.len());
                }
            }
            Regions::Enabled => {
                let _ = writeln!(out, "fleet regions: every region enabled in each account");
            }
        }
        let (inc, exc) = &self.filter.patterns;
        let _ = writeln!(
            out,
            "clusters: include {}, exclude {}, tags {}",
            if inc.is_empty() {
                "all".into()
            } else {
                inc.join(", ")
            },
            if exc.is_empty() {
                "none".into()
            } else {
                exc.join(", ")
            },
            if self.filter.tags.is_empty() {
                "any".into()
            } else {
                self.filter
                    .tags
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        let _ = writeln!(
            out,
            "concurrency: {} clusters; timeout {} s per cluster",
            self.concurrency,
            self.cluster_timeout.as_secs()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_globs_and_tags() {
        let tags: BTreeMap<String, String> = [("env".to_string(), "prod".to_string())].into();
        let f = ClusterFilter::new(&["prod-*".into()], &["prod-sandbox-*".into()], tags.clone())
            .unwrap();
        assert!(f.keeps_name("prod-eu"));
        assert!(!f.keeps_name("dev-eu"));
        assert!(!f.keeps_name("prod-sandbox-1"));
        assert!(f.keeps_tags(&[("env".into(), "prod".into()), ("team".into(), "a".into())].into()));
        assert!(!f.keeps_tags(&[("env".into(), "dev".into())].into()));
        let all = ClusterFilter::new(&[], &[], BTreeMap::new()).unwrap();
        assert!(all.keeps_name("anything") && all.keeps_tags(&BTreeMap::new()));
    }
}
