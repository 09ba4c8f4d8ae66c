//! The fleet section of the settings, validated into what the runner needs: the accounts
//! (listed, or the Organization's), the regions, the cluster filters and the limits.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::credentials::Account;
use super::settings::{FleetSettings, Regions};
use crate::arn;
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
    /// The runner's partition: member accounts are in the same one.
    pub partition: &'static str,
}

impl OrganizationPlan {
    pub fn account(&self, id: String) -> Account {
        Account {
            role_arn: arn::iam_role(self.partition, &id, &self.role_name),
            external_id: self.external_id.clone(),
            id,
        }
    }
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
    /// `region` is the runner's: an account can assume roles only in its own partition, so
    /// the member roles' ARNs are built for that one.
    pub fn new(
        s: &FleetSettings,
        target_version: Option<KubeVersion>,
        region: Option<&str>,
    ) -> Result<Self, Error> {
        let partition = arn::partition(region.unwrap_or_default());
        let accounts = match &s.organization {
            Some(org) => Accounts::Organization(OrganizationPlan {
                ou_ids: org.ou_ids.clone(),
                exclude: org.exclude.clone(),
                role_name: s.role_name.clone().unwrap_or_default(),
                external_id: s.external_id.clone(),
                partition,
            }),
            None => {
                let mut list: Vec<Account> = s
                    .accounts
                    .iter()
                    .map(|a| Account {
                        id: a.id.clone(),
                        role_arn: a.role_arn.clone().unwrap_or_else(|| {
                            arn::iam_role(
                                partition,
                                &a.id,
                                s.role_name.as_deref().unwrap_or_default(),
                            )
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
    use crate::run::fleet::settings::AccountSettings;

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

    fn role_arns(plan: &FleetPlan) -> Vec<String> {
        match &plan.accounts {
            Accounts::Listed(list) => list.iter().map(|a| a.role_arn.clone()).collect(),
            Accounts::Organization(org) => vec![org.account("012345678901".into()).role_arn],
        }
    }

    #[test]
    fn member_role_arns_are_in_the_runners_partition() {
        let mut s = FleetSettings {
            role_name: Some("eksup-reader".into()),
            accounts: vec![AccountSettings {
                id: "012345678901".into(),
                role_arn: None,
                external_id: None,
            }],
            ..FleetSettings::default()
        };
        for (region, partition) in [
            (Some("cn-northwest-1"), "aws-cn"),
            (Some("us-gov-west-1"), "aws-us-gov"),
            (Some("eu-west-1"), "aws"),
            (None, "aws"),
        ] {
            let expected = vec![format!(
                "arn:{partition}:iam::012345678901:role/eksup-reader"
            )];
            assert_eq!(
                role_arns(&FleetPlan::new(&s, None, region).unwrap()),
                expected
            );
        }
        // An account's own role_arn is kept as written.
        s.accounts[0].role_arn = Some("arn:aws-cn:iam::012345678901:role/other".into());
        assert_eq!(
            role_arns(&FleetPlan::new(&s, None, Some("cn-north-1")).unwrap()),
            ["arn:aws-cn:iam::012345678901:role/other"]
        );
        s.organization = Some(Default::default());
        assert_eq!(
            role_arns(&FleetPlan::new(&s, None, Some("us-gov-east-1")).unwrap()),
            ["arn:aws-us-gov:iam::012345678901:role/eksup-reader"]
        );
    }
}
