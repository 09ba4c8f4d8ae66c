//! Services, projected to the ones that set `spec.externalIPs` (K8S016). The field is in the
//! spec, not the metadata, so the list is full; it is made only when a hop of the upgrade
//! reaches the release that deprecates the field, and only those Services are kept.

use serde::Deserialize;

use crate::snapshot::ExternalIpService;

#[derive(Deserialize)]
pub struct RawService {
    metadata: Meta,
    #[serde(default)]
    spec: Spec,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    namespace: String,
    name: String,
}

#[derive(Deserialize, Default)]
struct Spec {
    #[serde(
        default,
        rename = "externalIPs",
        deserialize_with = "super::wire::or_default"
    )]
    external_ips: Vec<String>,
}

pub fn external_ips(s: RawService) -> Option<ExternalIpService> {
    (!s.spec.external_ips.is_empty()).then_some(ExternalIpService {
        namespace: s.metadata.namespace,
        name: s.metadata.name,
        external_ips: s.spec.external_ips,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Option<ExternalIpService> {
        external_ips(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn keeps_only_services_with_external_ips() {
        let s = parse(
            r#"{"metadata":{"namespace":"edge","name":"legacy"},"spec":{"type":"ClusterIP","externalIPs":["203.0.113.10","203.0.113.11"],"ports":[{"port":80}]}}"#,
        )
        .unwrap();
        assert_eq!(
            (s.namespace.as_str(), s.name.as_str(), s.external_ips.len()),
            ("edge", "legacy", 2)
        );
        assert!(
            parse(r#"{"metadata":{"namespace":"a","name":"b"},"spec":{"clusterIP":"10.0.0.1"}}"#)
                .is_none()
        );
        assert!(
            parse(r#"{"metadata":{"namespace":"a","name":"c"},"spec":{"externalIPs":[]}}"#)
                .is_none()
        );
    }
}
