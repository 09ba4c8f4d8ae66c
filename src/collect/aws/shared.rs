//! Sources that are the same for every cluster of one account and region — the support
//! calendar, the addon catalogue per Kubernetes version, and the quotas with their usage.
//! A fleet reads each once per (account, region) and every cluster of it shares the answer;
//! a single-cluster run has a scope of its own, so it makes the same calls as before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::{Clients, ec2, eks, quotas};
use crate::snapshot::{AddonCatalog, Quota};
use crate::version::{KubeVersion, SupportWindow};

/// The quota readings and usage of one account and region, as read (errors included).
#[derive(Debug, Clone)]
pub struct QuotaReadings {
    pub vcpu_quota: Result<Quota, String>,
    pub gp2_quota: Result<Quota, String>,
    pub gp3_quota: Result<Quota, String>,
    pub vcpus: Result<f64, String>,
    /// gp2 and gp3 TiB in use.
    pub storage: Result<(f64, f64), String>,
}

type Catalogue = Arc<OnceCell<Result<AddonCatalog, String>>>;

/// Once-per-(account, region) answers. Each is read by the first cluster that needs it;
/// the others wait for that read instead of repeating it.
#[derive(Default)]
pub struct Shared {
    cluster_versions: OnceCell<Result<Vec<SupportWindow>, String>>,
    quotas: OnceCell<QuotaReadings>,
    addon_versions: Mutex<HashMap<KubeVersion, Catalogue>>,
}

impl Shared {
    pub async fn cluster_versions(&self, clients: &Clients) -> Result<Vec<SupportWindow>, String> {
        self.cluster_versions
            .get_or_init(|| eks::cluster_versions(&clients.eks))
            .await
            .clone()
    }

    pub async fn quotas(&self, clients: &Clients) -> QuotaReadings {
        self.quotas
            .get_or_init(|| async {
                let (vcpu_quota, gp2_quota, gp3_quota, vcpus, storage) = tokio::join!(
                    quotas::quota(&clients.quotas, quotas::EC2_ON_DEMAND_VCPU),
                    quotas::quota(&clients.quotas, quotas::EBS_GP2_TIB),
                    quotas::quota(&clients.quotas, quotas::EBS_GP3_TIB),
                    ec2::on_demand_standard_vcpus(&clients.ec2),
                    ec2::general_purpose_storage_tib(&clients.ec2),
                );
                QuotaReadings {
                    vcpu_quota,
                    gp2_quota,
                    gp3_quota,
                    vcpus,
                    storage,
                }
            })
            .await
            .clone()
    }

    /// The addon catalogue of one Kubernetes version (one `DescribeAddonVersions`).
    pub async fn addon_versions(
        &self,
        clients: &Clients,
        version: KubeVersion,
    ) -> Result<AddonCatalog, String> {
        let cell = {
            let mut map = self.addon_versions.lock().expect("not poisoned");
            map.entry(version).or_default().clone()
        };
        cell.get_or_init(|| eks::addon_versions(&clients.eks, version))
            .await
            .clone()
    }
}
