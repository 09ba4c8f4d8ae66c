//! The EKS side of collection: `DescribeCluster`, and the credentials the rest reuse.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_eks::error::{DisplayErrorContext, ProvideErrorMetadata};

use super::CollectError;
use crate::version::KubeVersion;

/// What `DescribeCluster` tells eksup about a cluster.
#[derive(Debug, Clone)]
pub struct EksCluster {
    pub name: String,
    pub arn: Option<String>,
    pub region: String,
    pub account_id: Option<String>,
    pub version: KubeVersion,
    pub platform_version: Option<String>,
    pub endpoint: String,
    /// Base64 PEM of the cluster's certificate authority, as EKS returns it.
    pub certificate_authority: String,
}

/// Loads the standard AWS configuration chain with the optional profile and region.
pub async fn load_sdk_config(
    profile: Option<&str>,
    region: Option<&str>,
) -> Result<SdkConfig, CollectError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(CollectError::NoRegion);
    }
    Ok(sdk)
}

/// The account id is the fifth field of the ARN; reading it there saves an STS call.
fn account_from_arn(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

pub async fn describe_cluster(sdk: &SdkConfig, name: &str) -> Result<EksCluster, CollectError> {
    let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
    let client = aws_sdk_eks::Client::new(sdk);
    let out = client.describe_cluster().name(name).send().await.map_err(|e| {
        let message = match e.code() {
            Some("ResourceNotFoundException") => format!("cluster `{name}` does not exist in {region}"),
            Some("AccessDeniedException") => {
                format!("access denied: add eks:DescribeCluster on cluster `{name}` to the role ({})", e.message().unwrap_or_default())
            }
            _ => DisplayErrorContext(&e).to_string(),
        };
        CollectError::Aws {
            operation: "eks:DescribeCluster",
            message,
        }
    })?;
    let cluster = out.cluster.ok_or_else(|| CollectError::Aws {
        operation: "eks:DescribeCluster",
        message: "the answer has no cluster".into(),
    })?;
    let invalid = |what: &str| CollectError::Aws {
        operation: "eks:DescribeCluster",
        message: format!("cluster `{name}` has no {what}; is it still being created?"),
    };
    let version = cluster
        .version()
        .ok_or_else(|| invalid("version"))?
        .parse()
        .map_err(|e| CollectError::Aws {
            operation: "eks:DescribeCluster",
            message: format!("{e}"),
        })?;
    Ok(EksCluster {
        name: cluster.name().unwrap_or(name).to_string(),
        account_id: cluster.arn().and_then(account_from_arn),
        arn: cluster.arn().map(str::to_string),
        region,
        version,
        platform_version: cluster.platform_version().map(str::to_string),
        endpoint: cluster
            .endpoint()
            .ok_or_else(|| invalid("endpoint"))?
            .to_string(),
        certificate_authority: cluster
            .certificate_authority()
            .and_then(|c| c.data())
            .ok_or_else(|| invalid("certificate authority"))?
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_comes_from_the_arn() {
        assert_eq!(
            account_from_arn("arn:aws:eks:us-east-1:012345678901:cluster/prod").as_deref(),
            Some("012345678901")
        );
        assert_eq!(account_from_arn("nonsense"), None);
    }
}
