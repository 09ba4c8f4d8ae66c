//! Service Quotas: the EC2 vCPU and EBS storage quotas an upgrade's surge draws on.

use aws_sdk_servicequotas::Client;

use crate::error::aws_message as message;
use crate::snapshot::Quota;

/// `(service, quota code)` of the quotas AWS003–AWS005 read.
pub const EC2_ON_DEMAND_VCPU: (&str, &str) = ("ec2", "L-1216C47A");
pub const EBS_GP2_TIB: (&str, &str) = ("ebs", "L-D18FCD1D");
pub const EBS_GP3_TIB: (&str, &str) = ("ebs", "L-7A658B76");

pub async fn quota(client: &Client, (service, code): (&str, &str)) -> Result<Quota, String> {
    let out = client
        .get_service_quota()
        .service_code(service)
        .quota_code(code)
        .send()
        .await
        .map_err(|e| {
            message(
                &format!("GetServiceQuota {service}/{code}"),
                "servicequotas:GetServiceQuota",
                &e,
            )
        })?;
    let q = out
        .quota
        .ok_or_else(|| format!("GetServiceQuota {service}/{code}: the answer has no quota"))?;
    Ok(Quota {
        service_code: service.to_string(),
        quota_code: code.to_string(),
        name: q.quota_name().unwrap_or(code).to_string(),
        limit: q
            .value()
            .ok_or_else(|| format!("GetServiceQuota {service}/{code}: the quota has no value"))?,
        usage: None,
        unit: q.unit().unwrap_or("None").to_string(),
    })
}
