//! EC2: subnets (free IPs), launch templates (default and latest versions), and the usage
//! behind the vCPU and EBS quotas.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, InstanceLifecycleType, VolumeType};

use crate::error::aws_message as message;
use crate::snapshot::{LaunchTemplate, Subnet};

/// EC2 accepts at most 200 values per filter.
const FILTER_VALUES: usize = 200;

/// One `DescribeSubnets` (per 200 ids) for every distinct subnet. A filter rather than
/// `SubnetIds`, so a subnet deleted meanwhile is simply absent instead of failing the batch.
pub async fn subnets(client: &Client, ids: &[String]) -> Result<Vec<Subnet>, String> {
    let mut out = Vec::new();
    for chunk in ids.chunks(FILTER_VALUES) {
        let found: Vec<_> = client
            .describe_subnets()
            .filters(
                Filter::builder()
                    .name("subnet-id")
                    .set_values(Some(chunk.to_vec()))
                    .build(),
            )
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| message("DescribeSubnets", "ec2:DescribeSubnets", &e))?;
        out.extend(found.into_iter().map(|s| Subnet {
            id: s.subnet_id().unwrap_or_default().to_string(),
            availability_zone: s.availability_zone().unwrap_or_default().to_string(),
            available_ips: i64::from(s.available_ip_address_count().unwrap_or(0)),
            outpost_arn: s.outpost_arn().map(str::to_string),
        }));
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// The launch templates found, and the ids EC2 no longer knows (deleted templates).
#[derive(Debug, Default)]
pub struct Templates {
    pub found: Vec<LaunchTemplate>,
    pub deleted: Vec<String>,
}

/// The errors EC2 answers for a template that was deleted.
fn template_gone(e: &impl ProvideErrorMetadata) -> bool {
    matches!(
        e.code(),
        Some("InvalidLaunchTemplateId.NotFound" | "InvalidLaunchTemplateName.NotFoundException")
    )
}

/// One `DescribeLaunchTemplates` for every distinct template id: its default and latest
/// version numbers are all the drift checks need. A deleted template fails the whole call,
/// so then each id is asked alone and the ones EC2 no longer knows are named, not fatal.
pub async fn launch_templates(client: &Client, ids: &[String]) -> Result<Templates, String> {
    if ids.is_empty() {
        return Ok(Templates::default());
    }
    let found = match describe_templates(client, ids).await {
        Ok(found) => found,
        Err(e) if template_gone(&e) => {
            let mut found = Vec::new();
            for id in ids {
                match describe_templates(client, std::slice::from_ref(id)).await {
                    Ok(one) => found.extend(one),
                    Err(e) if template_gone(&e) => {}
                    Err(e) => return Err(template_error(&e)),
                }
            }
            found
        }
        Err(e) => return Err(template_error(&e)),
    };
    // An id absent from the answer is gone too (some endpoints leave it out silently).
    let deleted = ids
        .iter()
        .filter(|id| !found.iter().any(|t| &t.id == *id))
        .cloned()
        .collect();
    Ok(Templates { found, deleted })
}

type TemplatesError = aws_sdk_ec2::error::SdkError<
    aws_sdk_ec2::operation::describe_launch_templates::DescribeLaunchTemplatesError,
    aws_sdk_ec2::config::http::HttpResponse,
>;

fn template_error(e: &TemplatesError) -> String {
    message("DescribeLaunchTemplates", "ec2:DescribeLaunchTemplates", e)
}

async fn describe_templates(
    client: &Client,
    ids: &[String],
) -> Result<Vec<LaunchTemplate>, TemplatesError> {
    let found: Vec<_> = client
        .describe_launch_templates()
        .set_launch_template_ids(Some(ids.to_vec()))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await?;
    Ok(found
        .into_iter()
        .map(|t| LaunchTemplate {
            id: t.launch_template_id().unwrap_or_default().to_string(),
            name: t.launch_template_name().unwrap_or_default().to_string(),
            default_version: t.default_version_number().unwrap_or(0),
            latest_version: t.latest_version_number().unwrap_or(0),
        })
        .collect())
}

/// The instance families quota L-1216C47A, "Running On-Demand Standard (A, C, D, H, I, M,
/// R, T, Z) instances", counts: a family is the letters before the generation digit
/// (`m7i-flex` → `m`, `inf2` → `inf`), so DL, F, G, HPC, Inf, Mac, P, Trn, U, VT and X, which
/// have quotas of their own, are left out although some start with a standard letter. `im`
/// and `is` are the storage-optimized I families (Im4gn, Is4gen). Source: the EC2 quota types
/// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-spot-limits.html lists the same
/// quota families for Spot).
const STANDARD_FAMILIES: [&str; 11] = ["a", "c", "d", "h", "i", "im", "is", "m", "r", "t", "z"];

/// The family of an instance type: `m5.large` → `m`, `u-6tb1.metal` → `u`, `hpc6a.48xlarge` → `hpc`.
pub fn instance_family(instance_type: &str) -> &str {
    let end = instance_type
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(instance_type.len());
    &instance_type[..end]
}

/// Whether quota L-1216C47A counts this instance type.
pub fn counts_as_standard(instance_type: &str) -> bool {
    STANDARD_FAMILIES.contains(&instance_family(instance_type))
}

/// vCPUs of running On-Demand standard instances in the region (what quota L-1216C47A limits).
pub async fn on_demand_standard_vcpus(client: &Client) -> Result<f64, String> {
    let reservations: Vec<_> = client
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| message("DescribeInstances", "ec2:DescribeInstances", &e))?;
    let mut vcpus = 0i64;
    for instance in reservations.iter().flat_map(|r| r.instances()) {
        let spot = instance.instance_lifecycle() == Some(&InstanceLifecycleType::Spot);
        let standard = instance
            .instance_type()
            .is_some_and(|t| counts_as_standard(t.as_str()));
        if spot || !standard {
            continue;
        }
        let cpu = instance.cpu_options();
        let cores = cpu.and_then(|c| c.core_count()).unwrap_or(1);
        let threads = cpu.and_then(|c| c.threads_per_core()).unwrap_or(1);
        vcpus += i64::from(cores) * i64::from(threads);
    }
    Ok(vcpus as f64)
}

/// Provisioned gp2 and gp3 storage in the region, in TiB (what L-D18FCD1D and L-7A658B76 limit).
pub async fn general_purpose_storage_tib(client: &Client) -> Result<(f64, f64), String> {
    let volumes: Vec<_> = client
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("volume-type")
                .values("gp2")
                .values("gp3")
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| message("DescribeVolumes", "ec2:DescribeVolumes", &e))?;
    let (mut gp2, mut gp3) = (0i64, 0i64);
    for v in &volumes {
        let size = i64::from(v.size().unwrap_or(0));
        match v.volume_type() {
            Some(VolumeType::Gp2) => gp2 += size,
            Some(VolumeType::Gp3) => gp3 += size,
            _ => {}
        }
    }
    Ok((gp2 as f64 / 1024.0, gp3 as f64 / 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_quota_counts_its_families_not_first_letters() {
        for t in [
            "m5.large",
            "i4i.xlarge",
            "d3.2xlarge",
            "h1.4xlarge",
            "z1d.large",
            "r7g.medium",
            "c7gn.large",
            "t4g.nano",
            "a1.medium",
            "m7i-flex.large",
            "im4gn.large",
            "is4gen.xlarge",
            "r7iz.large",
            "c6in.xlarge",
        ] {
            assert!(counts_as_standard(t), "{t} is standard");
        }
        for t in [
            "inf2.xlarge",
            "trn1.32xlarge",
            "dl1.24xlarge",
            "g5.xlarge",
            "p4d.24xlarge",
            "x2idn.16xlarge",
            "u-6tb1.metal",
            "hpc6a.48xlarge",
            "mac1.metal",
            "f1.2xlarge",
            "vt1.3xlarge",
            "gr6.4xlarge",
            "",
        ] {
            assert!(!counts_as_standard(t), "{t} is not standard");
        }
        assert_eq!(instance_family("u-6tb1.metal"), "u");
        assert_eq!(instance_family("hpc6a.48xlarge"), "hpc");
    }

    fn template_xml(id: &str) -> String {
        format!(
            "<launchTemplates><item><launchTemplateId>{id}</launchTemplateId><launchTemplateName>n-{id}</launchTemplateName><defaultVersionNumber>1</defaultVersionNumber><latestVersionNumber>2</latestVersionNumber></item></launchTemplates>"
        )
    }

    /// EC2 as it answers: a batch naming a deleted template fails with
    /// InvalidLaunchTemplateId.NotFound; that id alone too; the live one alone is found.
    #[tokio::test]
    async fn a_deleted_template_is_named_and_the_others_still_read() {
        let server = crate::testing::http::start(|r| {
            let body = String::from_utf8_lossy(&r.body).to_string();
            if body.contains("lt-gone") {
                let error = "<Response><Errors><Error><Code>InvalidLaunchTemplateId.NotFound</Code><Message>The specified launch template, with template ID lt-gone, does not exist.</Message></Error></Errors><RequestID>r1</RequestID></Response>";
                return (400, "text/xml", error.to_string());
            }
            let xml = format!(
                "<DescribeLaunchTemplatesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r2</requestId>{}</DescribeLaunchTemplatesResponse>",
                template_xml("lt-live")
            );
            (200, "text/xml", xml)
        })
        .await;
        let client = Client::new(&crate::testing::http::sdk_config(&server.url));
        let ids = ["lt-gone".to_string(), "lt-live".to_string()];
        let got = launch_templates(&client, &ids).await.unwrap();
        assert_eq!(got.deleted, ["lt-gone"]);
        assert_eq!(got.found.len(), 1);
        assert_eq!(
            (got.found[0].id.as_str(), got.found[0].latest_version),
            ("lt-live", 2)
        );
        // The batch, then each id alone.
        assert_eq!(server.requests().len(), 3);
    }

    #[tokio::test]
    async fn another_error_still_fails_the_source() {
        let server = crate::testing::http::start(|_| {
            let error = "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>not allowed</Message></Error></Errors><RequestID>r1</RequestID></Response>";
            (403, "text/xml", error.to_string())
        })
        .await;
        let client = Client::new(&crate::testing::http::sdk_config(&server.url));
        let err = launch_templates(&client, &["lt-1".to_string()])
            .await
            .unwrap_err();
        assert!(err.contains("ec2:DescribeLaunchTemplates"), "{err}");
    }
}
