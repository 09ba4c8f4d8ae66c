//! Finding the fleet: the Organization's accounts, the regions enabled in an account, and
//! the clusters of one (account, region) that pass the filters — each described once, and
//! that description is what the analysis starts from.

use std::collections::{HashSet, VecDeque};

use aws_config::SdkConfig;
use aws_sdk_eks::error::ProvideErrorMetadata;
use futures::StreamExt;

use super::plan::{ClusterFilter, OrganizationPlan};
use crate::collect::aws::eks::describe_cluster;
use crate::collect::{AwsScope, CollectError, EksCluster};

/// `DescribeCluster` calls in flight per (account, region).
const DESCRIBE_CONCURRENCY: usize = 4;

/// Every ACTIVE account of the Organization (or under the listed OUs, nested OUs included),
/// minus the excluded ones, read with the runner's credentials.
pub async fn organization_accounts(
    runner: &SdkConfig,
    org: &OrganizationPlan,
) -> Result<Vec<String>, String> {
    let client = crate::counted_client!(aws_sdk_organizations, runner);
    let accounts = if org.ou_ids.is_empty() {
        let pages: Vec<_> = client
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| denied("ListAccounts", None, &crate::error::chain(&e)))?;
        pages
            .into_iter()
            .flat_map(|p| p.accounts.unwrap_or_default())
            .collect()
    } else {
        ou_tree_accounts(&client, &org.ou_ids).await?
    };
    let mut ids: Vec<String> = accounts
        .into_iter()
        .filter(is_active)
        .filter_map(|a| a.id)
        .filter(|id| !org.exclude.contains(id))
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Whether an account can be entered. `State` first: AWS retired the account's `Status`
/// on 2026-09-09, and an account with neither reads as active (the call would tell).
fn is_active(a: &aws_sdk_organizations::types::Account) -> bool {
    use aws_sdk_organizations::types::{AccountState, AccountStatus};
    match (a.state(), a.status()) {
        (Some(state), _) => *state == AccountState::Active,
        (None, Some(status)) => *status == AccountStatus::Active,
        (None, None) => true,
    }
}

/// Why an Organizations call failed. `parent` is the OU (or root) it was about.
fn denied(action: &str, parent: Option<&str>, e: &dyn std::fmt::Display) -> String {
    let about = parent.map(|p| format!(" for {p}")).unwrap_or_default();
    format!(
        "organizations:{action}{about} failed from the runner's account (it must be the management or a delegated administrator account, and the runner role needs the action): {e}"
    )
}

/// The accounts under the OUs `roots`, at any depth: each OU's own accounts
/// (`ListAccountsForParent`) and its child OUs (`ListOrganizationalUnitsForParent`), both
/// paginated, breadth first. An OU is read once even when it is listed and also nested
/// under another listed OU (or listed twice).
async fn ou_tree_accounts(
    client: &aws_sdk_organizations::Client,
    roots: &[String],
) -> Result<Vec<aws_sdk_organizations::types::Account>, String> {
    let mut queue: VecDeque<String> = roots.iter().cloned().collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut accounts = Vec::new();
    while let Some(ou) = queue.pop_front() {
        if !seen.insert(ou.clone()) {
            continue;
        }
        let pages: Vec<_> = client
            .list_accounts_for_parent()
            .parent_id(&ou)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| denied("ListAccountsForParent", Some(&ou), &crate::error::chain(&e)))?;
        accounts.extend(
            pages
                .into_iter()
                .flat_map(|p| p.accounts.unwrap_or_default()),
        );
        let pages: Vec<_> = client
            .list_organizational_units_for_parent()
            .parent_id(&ou)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                denied(
                    "ListOrganizationalUnitsForParent",
                    Some(&ou),
                    &crate::error::chain(&e),
                )
            })?;
        queue.extend(
            pages
                .into_iter()
                .flat_map(|p| p.organizational_units.unwrap_or_default())
                .filter_map(|child| child.id)
                .filter(|id| !seen.contains(id)),
        );
    }
    Ok(accounts)
}

/// The regions enabled for the account (`ec2:DescribeRegions` lists only those by default).
pub async fn enabled_regions(member: &SdkConfig) -> Result<Vec<String>, String> {
    let out = crate::counted_client!(aws_sdk_ec2, member)
        .describe_regions()
        .send()
        .await
        .map_err(|e| crate::error::aws_message("DescribeRegions", "ec2:DescribeRegions", &e))?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    regions.sort();
    Ok(regions)
}

/// Why one (account, region) could not be listed, in words an operator can act on.
fn list_error(
    account: &str,
    region: &str,
    e: &aws_sdk_eks::error::SdkError<
        aws_sdk_eks::operation::list_clusters::ListClustersError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> String {
    let code = e.code().unwrap_or_default();
    let detail = e.message().unwrap_or_default();
    match code {
        // What STS-signed requests get in an opt-in region the account has not enabled.
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "AuthFailure"
        | "OptInRequired" => {
            format!("region {region} is not enabled for account {account} ({code}: {detail})")
        }
        c if c.contains("AccessDenied") => format!(
            "eks:ListClusters denied in account {account}, region {region}: add it to the member role's policy ({detail})"
        ),
        _ => format!(
            "eks:ListClusters failed in account {account}, region {region}: {}",
            crate::error::chain(e)
        ),
    }
}

/// A cluster the filters kept: described, or the reason it could not be.
pub type Found = Result<EksCluster, (String, CollectError)>;

/// The clusters of one (account, region): `ListClusters` (paginated), the name filters,
/// then one `DescribeCluster` each (which carries the tags), then the tag filter.
pub async fn clusters(
    scope: &AwsScope,
    account: &str,
    filter: &ClusterFilter,
) -> Result<Vec<Found>, String> {
    let pages: Vec<_> = scope
        .clients
        .eks
        .list_clusters()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| list_error(account, &scope.region, &e))?;
    let mut names: Vec<String> = pages
        .into_iter()
        .flat_map(|p| p.clusters.unwrap_or_default())
        .filter(|n| filter.keeps_name(n))
        .collect();
    names.sort();
    let described: Vec<Found> = futures::stream::iter(names)
        .map(|name| async move {
            describe_cluster(&scope.clients.eks, &scope.region, &name)
                .await
                .map_err(|e| (name, e))
        })
        .buffer_unordered(DESCRIBE_CONCURRENCY)
        .collect()
        .await;
    let mut kept: Vec<Found> = described
        .into_iter()
        .filter(|d| match d {
            Ok(c) => filter.keeps_tags(&c.tags),
            Err(_) => true,
        })
        .collect();
    kept.sort_by(|a, b| name_of(a).cmp(name_of(b)));
    Ok(kept)
}

fn name_of(found: &Found) -> &str {
    match found {
        Ok(c) => &c.name,
        Err((n, _)) => n,
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};

    use super::is_active;

    #[test]
    fn the_account_state_decides_and_the_retired_status_is_the_fallback() {
        let with = |state: Option<AccountState>, status: Option<AccountStatus>| {
            is_active(
                &Account::builder()
                    .set_state(state)
                    .set_status(status)
                    .build(),
            )
        };
        assert!(with(Some(AccountState::Active), None));
        // After the retirement of Status, only State says an account is closed.
        assert!(!with(Some(AccountState::Suspended), None));
        assert!(!with(Some(AccountState::PendingClosure), None));
        assert!(!with(Some(AccountState::Closed), None));
        assert!(!with(Some(AccountState::PendingActivation), None));
        assert!(!with(
            Some(AccountState::Suspended),
            Some(AccountStatus::Active)
        ));
        assert!(with(None, Some(AccountStatus::Active)));
        assert!(!with(None, Some(AccountStatus::Suspended)));
        assert!(with(None, None));
    }
}
