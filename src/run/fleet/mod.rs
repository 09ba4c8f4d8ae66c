//! Fleet mode: every EKS cluster of many accounts and regions in one run (DESIGN.md,
//! "Fleet mode").
//!
//! | module | job |
//! |---|---|
//! | [`settings`] | the `fleet` section of the settings (owned here, assembled by the configuration) |
//! | [`plan`] | the `fleet` settings, validated: accounts, regions, filters, limits |
//! | [`shard`] | this pod's share of the (account, region) pairs |
//! | [`credentials`] | AssumeRole into each member account, renewed before expiry |
//! | [`discovery`] | Organization accounts, enabled regions, the clusters of a pair |
//! | [`progress`] | the progress bar or JSON progress lines, and the end-of-run summary |
//!
//! [`units`] turns the plan into a stream of clusters to analyze (each with the scope of
//! its account and region, whose shared sources its siblings reuse) and of failures, each
//! scoped to what failed: an account, a region, or one cluster.

pub mod credentials;
pub mod discovery;
pub mod plan;
pub mod progress;
pub mod settings;
pub mod shard;

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use futures::{Stream, StreamExt};
use tokio::sync::OnceCell;

pub use plan::FleetPlan;
pub use shard::Shard;

use crate::collect::{AwsScope, EksCluster};
use credentials::Account;
use plan::Accounts;
use settings::Regions;

/// Discovery of (account, region) pairs in flight at once.
const PAIR_CONCURRENCY: usize = 8;

/// What discovery yields: a cluster to analyze, or a failure scoped to what failed.
pub enum Unit {
    Cluster {
        scope: Arc<AwsScope>,
        cluster: Box<EksCluster>,
    },
    Failed(Failure),
}

/// A failure before any cluster could be analyzed. `cluster` is `*` when a whole account
/// or region failed; `region` is `None` when the account's regions are not known.
#[derive(Debug, Clone)]
pub struct Failure {
    pub account: Option<String>,
    pub region: Option<String>,
    pub cluster: String,
    pub error: String,
}

/// Everything the runner shares while it discovers.
struct Context<'a> {
    plan: &'a FleetPlan,
    runner: &'a SdkConfig,
    run_id: &'a str,
    /// One AssumeRole per account, shared by its regions.
    entered: HashMap<String, OnceCell<Result<SdkConfig, String>>>,
}

impl Context<'_> {
    async fn enter(&self, account: &Account) -> Result<SdkConfig, String> {
        self.entered[&account.id]
            .get_or_init(|| credentials::enter(self.runner, account, self.run_id))
            .await
            .clone()
    }
}

fn failed(account: Option<&str>, region: Option<&str>, error: String) -> Unit {
    Unit::Failed(Failure {
        account: account.map(str::to_string),
        region: region.map(str::to_string),
        cluster: "*".into(),
        error,
    })
}

/// The accounts of the plan: the listed ones, or the Organization's.
async fn accounts(plan: &FleetPlan, runner: &SdkConfig) -> Result<Vec<Account>, String> {
    match &plan.accounts {
        Accounts::Listed(list) => Ok(list.clone()),
        Accounts::Organization(org) => Ok(discovery::organization_accounts(runner, org)
            .await?
            .into_iter()
            .map(|id| org.account(id))
            .collect()),
    }
}

/// This shard's (account, region) pairs, and the failures met while finding them. With
/// `regions: enabled` every shard reads each account's regions (so all agree on the pairs);
/// an account that cannot be entered then is reported by one shard only.
async fn pairs(
    ctx: &Context<'_>,
    all: &[Account],
    shard: Shard,
) -> (Vec<(Account, String)>, Vec<Unit>) {
    match &ctx.plan.regions {
        Regions::List(regions) => {
            let pairs: Vec<(Account, String)> = all
                .iter()
                .flat_map(|a| regions.iter().map(move |r| (a.clone(), r.clone())))
                .collect();
            (shard.take(&pairs), Vec::new())
        }
        Regions::Enabled => {
            let mine: Vec<Account> = shard.take(all);
            let found: Vec<(Account, Result<Vec<String>, String>)> = futures::stream::iter(all)
                .map(|a| async move {
                    let regions = match ctx.enter(a).await {
                        Ok(member) => discovery::enabled_regions(&member).await,
                        Err(e) => Err(e),
                    };
                    (a.clone(), regions)
                })
                .buffer_unordered(PAIR_CONCURRENCY)
                .collect()
                .await;
            let mut pairs = Vec::new();
            let mut failures = Vec::new();
            for (account, regions) in found {
                match regions {
                    Ok(list) => pairs.extend(list.into_iter().map(|r| (account.clone(), r))),
                    Err(e) if mine.contains(&account) => {
                        failures.push(failed(Some(&account.id), None, e));
                    }
                    Err(_) => {}
                }
            }
            (shard.take(&pairs), failures)
        }
    }
}

/// The clusters of one pair, or why the pair could not be read.
async fn discover_pair(ctx: &Context<'_>, account: Account, region: String) -> Vec<Unit> {
    let member = match ctx.enter(&account).await {
        Ok(m) => m,
        Err(e) => {
            return vec![failed(
                Some(&account.id),
                Some(&region),
                format!("cannot enter account {}: {e}", account.id),
            )];
        }
    };
    let scope = Arc::new(AwsScope::new(
        member
            .to_builder()
            .region(Region::new(region.clone()))
            .build(),
    ));
    match discovery::clusters(&scope, &account.id, &ctx.plan.filter).await {
        Err(e) => vec![failed(Some(&account.id), Some(&region), e)],
        Ok(found) => found
            .into_iter()
            .map(|f| match f {
                Ok(cluster) => Unit::Cluster {
                    scope: scope.clone(),
                    cluster: Box::new(cluster),
                },
                Err((name, e)) => Unit::Failed(Failure {
                    account: Some(account.id.clone()),
                    region: Some(region.clone()),
                    cluster: name,
                    error: e.to_string(),
                }),
            })
            .collect(),
    }
}

/// The fleet as a stream of units for this shard: discovery runs ahead of the analysis a
/// few pairs at a time, so clusters start being analyzed while other pairs are listed.
pub async fn units<'a>(
    plan: &'a FleetPlan,
    runner: &'a SdkConfig,
    run_id: &'a str,
    shard: Shard,
    progress: &'a progress::Progress,
) -> impl Stream<Item = Unit> + 'a {
    let all = match accounts(plan, runner).await {
        Ok(a) => a,
        Err(e) => {
            return futures::stream::iter(vec![failed(None, None, e)]).left_stream();
        }
    };
    let ctx = Arc::new(Context {
        plan,
        runner,
        run_id,
        entered: all
            .iter()
            .map(|a| (a.id.clone(), OnceCell::new()))
            .collect(),
    });
    let (pairs, failures) = pairs(&ctx, &all, shard).await;
    progress.set_accounts(
        pairs
            .iter()
            .map(|(a, _)| a.id.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
    );
    let discovered = futures::stream::iter(pairs)
        .map(move |(account, region)| {
            let ctx = ctx.clone();
            async move { discover_pair(&ctx, account, region).await }
        })
        .buffer_unordered(PAIR_CONCURRENCY)
        .flat_map(futures::stream::iter);
    futures::stream::iter(failures)
        .chain(discovered)
        .right_stream()
}
