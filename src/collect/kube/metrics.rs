//! The API server's `/metrics`, read once for `apiserver_requested_deprecated_apis`: the
//! deprecated APIs requested since that API server process started.

use prometheus_parse::{Scrape, Value};

use crate::snapshot::DeprecatedApiRequest;

pub const METRIC: &str = "apiserver_requested_deprecated_apis";

/// The samples of [`METRIC`] in a Prometheus text exposition. Lines of other metrics are
/// dropped before parsing: a kube-apiserver exposition runs to megabytes and only this
/// family is needed. The parser itself is `prometheus-parse`.
pub fn deprecated_api_requests(text: &str) -> Result<Vec<DeprecatedApiRequest>, String> {
    let family = text
        .lines()
        .filter(|line| {
            let body = line
                .strip_prefix("# HELP ")
                .or_else(|| line.strip_prefix("# TYPE "))
                .unwrap_or(line);
            body.strip_prefix(METRIC)
                .is_some_and(|rest| rest.starts_with(['{', ' ']))
        })
        .map(|line| Ok(line.to_string()));
    let scrape = Scrape::parse(family).map_err(|e| format!("cannot parse /metrics: {e}"))?;
    let mut out: Vec<DeprecatedApiRequest> = scrape
        .samples
        .into_iter()
        .filter(|s| s.metric == METRIC)
        // The gauge is 1 for an API requested since the process started.
        .filter(|s| matches!(s.value, Value::Gauge(v) | Value::Untyped(v) if v > 0.0))
        .map(|s| {
            let label = |k: &str| s.labels.get(k).unwrap_or_default().to_string();
            DeprecatedApiRequest {
                group: label("group"),
                version: label("version"),
                resource: label("resource"),
                subresource: label("subresource"),
                removed_release: label("removed_release"),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.group, &a.version, &a.resource, &a.subresource).cmp(&(
            &b.group,
            &b.version,
            &b.resource,
            &b.subresource,
        ))
    });
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // As kube-apiserver prints it: HELP/TYPE lines, labels sorted by name.
    const EXPOSITION: &str = r#"# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="nodes",scope="cluster",subresource="",verb="LIST",version="v1"} 12
# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested, broken out by API group, version, resource, subresource, and removed_release.
# TYPE apiserver_requested_deprecated_apis gauge
apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",resource="flowschemas",subresource="",version="v1beta3"} 1
apiserver_requested_deprecated_apis{group="autoscaling",removed_release="",resource="horizontalpodautoscalers",subresource="status",version="v1"} 1
apiserver_requested_deprecated_apis_total_other 5
"#;

    #[test]
    fn keeps_only_the_deprecated_api_family() {
        let got = deprecated_api_requests(EXPOSITION).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].group, "flowcontrol.apiserver.k8s.io");
        assert_eq!(got[1].version, "v1beta3");
        assert_eq!(got[1].resource, "flowschemas");
        assert_eq!(got[1].removed_release, "1.32");
        assert_eq!(got[0].subresource, "status");
        assert_eq!(got[0].removed_release, "");
    }

    #[test]
    fn empty_exposition_has_no_requests() {
        assert_eq!(deprecated_api_requests("").unwrap(), []);
    }
}
