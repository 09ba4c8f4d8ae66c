//! K8S011 (kube-proxy version skew) and K8S012 (kube-proxy IPVS mode).

use serde_json::json;

use crate::checks::image::ImageRef;
use crate::checks::{Context, changes, finding, lookup};
use crate::finding::{Finding, Remediation};
use crate::version::KubeVersion;

/// kube-proxy may be at most this many minors older than the API server.
const MAX_PROXY_SKEW: i64 = 3;

fn proxy_version(image: &str) -> Option<KubeVersion> {
    ImageRef::parse(image)?.tag?.parse().ok()
}

/// K8S011: kube-proxy newer than the control plane, or more than 3 minors older than the
/// control plane will be after the upgrade, is required; any other skew is recommended.
/// An image whose version cannot be read is reported rather than skipped.
pub fn version_skew(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S011").expect("catalogued");
    let Some(proxy) = &ctx.snapshot.kubernetes.kube_proxy else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for image in &proxy.images {
        let Some(version) = proxy_version(image) else {
            out.push(finding(
                check,
                Remediation::Recommended,
                ("DaemonSet", "kube-system", "kube-proxy"),
                format!("cannot read a Kubernetes version from image `{image}`; check kube-proxy's version by hand"),
                json!({"image": image}),
            ));
            continue;
        };
        let behind_now = version.minors_to(ctx.current);
        let behind_after = version.minors_to(ctx.target);
        let (level, message) = if behind_now < 0 {
            (
                Remediation::Required,
                format!(
                    "kube-proxy {version} is newer than the control plane {}; kube-proxy must never be newer than the API server",
                    ctx.current
                ),
            )
        } else if behind_after > MAX_PROXY_SKEW {
            (
                Remediation::Required,
                format!(
                    "kube-proxy {version} would be {behind_after} minors behind {} after the upgrade (at most {MAX_PROXY_SKEW}); update kube-proxy first",
                    ctx.target
                ),
            )
        } else if behind_now > 0 {
            (
                Remediation::Recommended,
                format!(
                    "kube-proxy {version} is {behind_now} minor(s) behind the control plane {}; update it to {}",
                    ctx.current, ctx.current
                ),
            )
        } else {
            continue;
        };
        out.push(finding(
            check,
            level,
            ("DaemonSet", "kube-system", "kube-proxy"),
            message,
            json!({"image": image, "kube_proxy_version": version, "behind_now": behind_now, "behind_after_upgrade": behind_after}),
        ));
    }
    out
}

/// K8S012: kube-proxy configured for IPVS — deprecated from 1.35 (KEP-5495); required only
/// from a removal release recorded in `data/behaviour-changes.csv` (none yet).
pub fn ipvs_mode(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S012").expect("catalogued");
    let change = changes::for_check(check.code);
    let Some(level) = change.level(ctx.target) else {
        return Vec::new();
    };
    let Some(mode) = ctx
        .snapshot
        .kubernetes
        .kube_proxy
        .as_ref()
        .and_then(|p| p.mode.as_deref())
    else {
        return Vec::new();
    };
    if !mode.eq_ignore_ascii_case("ipvs") {
        return Vec::new();
    }
    let planned = change.planned_text();
    let removal = match (change.required_from, &planned) {
        (Some(v), _) => format!("removed in {v}"),
        (None, Some(plan)) => format!("planned: {plan}; no removal release is recorded yet"),
        (None, None) => "no removal release is recorded yet".to_string(),
    };
    vec![finding(
        check,
        level,
        ("ConfigMap", "kube-system", "kube-proxy-config"),
        format!(
            "kube-proxy runs in IPVS mode, deprecated from 1.35 ({removal}); plan the move to nftables (or iptables) mode"
        ),
        json!({"mode": mode, "deprecated_from": change.recommended_from, "removed_in": change.required_from, "planned": planned}),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::kubernetes::fixtures::{codes_for, run, snapshot};
    use crate::snapshot::KubeProxy;

    fn with_proxy(cp: &str, images: &[&str], mode: Option<&str>) -> crate::snapshot::Snapshot {
        let mut s = snapshot(cp);
        s.kubernetes.kube_proxy = Some(KubeProxy {
            images: images.iter().map(|i| i.to_string()).collect(),
            mode: mode.map(str::to_string),
        });
        s
    }

    #[test]
    fn skew_levels() {
        let ecr = "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy";
        let cases = [
            (format!("{ecr}:v1.30.0-minimal-eksbuild.3"), None),
            (
                format!("{ecr}:v1.29.0-eksbuild.1"),
                Some(Remediation::Recommended),
            ),
            (
                format!("{ecr}:v1.31.2-eksbuild.1"),
                Some(Remediation::Required),
            ),
            (
                format!("{ecr}:v1.27.1-eksbuild.1"),
                Some(Remediation::Required),
            ),
            (
                "registry.local:5000/kube-proxy:v1.28.3@sha256:ab".to_string(),
                Some(Remediation::Recommended),
            ),
            (
                "registry.local:5000/kube-proxy@sha256:ab".to_string(),
                Some(Remediation::Recommended),
            ),
        ];
        for (image, want) in cases {
            let s = with_proxy("1.30", &[&image], None);
            let f = run(&s, "1.31").findings;
            let got = codes_for(&f, "K8S011").first().map(|f| f.remediation);
            assert_eq!(got, want, "{image}");
        }
    }

    #[test]
    fn ipvs_is_recommended_from_135_while_no_removal_is_recorded() {
        let s = with_proxy("1.34", &[], Some("ipvs"));
        assert!(codes_for(&run(&s, "1.34").findings, "K8S012").is_empty());
        let f = run(&s, "1.35").findings;
        let f = codes_for(&f, "K8S012");
        assert_eq!(f[0].remediation, Remediation::Recommended);
        assert!(
            f[0].message.contains(
                "(planned: off by default in 1.40, removed in 1.43; no removal release is recorded yet)"
            ),
            "{}",
            f[0].message
        );
        let s = with_proxy("1.36", &[], Some("ipvs"));
        // Later targets too: required waits for a removal release in the data.
        let settings = crate::checks::CheckSettings::default();
        let eval = crate::checks::kubernetes::fixtures::run_with(&s, "1.37", &settings);
        assert_eq!(
            codes_for(&eval.findings, "K8S012")[0].remediation,
            Remediation::Recommended
        );
        let s = with_proxy("1.34", &[], Some("iptables"));
        assert!(codes_for(&run(&s, "1.35").findings, "K8S012").is_empty());
    }
}
