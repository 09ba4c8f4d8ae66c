//! K8S106: API extensions that cannot answer. While nodes drain, every evicted pod is
//! re-created through the admission chain, HPAs read the metrics APIs and reads of a CRD's
//! other versions go through its conversion webhook: a backend with no ready endpoint breaks
//! each of them. Judged from the Services' EndpointSlices as the collector read them.

use std::collections::HashMap;

use serde_json::json;

use crate::checks::{Check, Context, SkipCause, finding, lookup};
use crate::finding::{Finding, Remediation};
use crate::snapshot::{Backend, ServiceRef, WebhookTarget};

/// The aggregated groups the upgrade or the workloads need: the resource metrics
/// HorizontalPodAutoscalers scale on, and the custom and external metrics APIs.
const NEEDED_GROUPS: &[(&str, &str)] = &[
    (
        "metrics.k8s.io",
        "HorizontalPodAutoscalers on CPU or memory cannot scale and `kubectl top` fails",
    ),
    (
        "custom.metrics.k8s.io",
        "HorizontalPodAutoscalers on custom metrics cannot scale",
    ),
    (
        "external.metrics.k8s.io",
        "HorizontalPodAutoscalers on external metrics cannot scale",
    ),
];

/// Precondition: the API extensions were read. A snapshot saved by an eksup that did not
/// read them has none, which is said, never read as "nothing found".
pub fn not_read(ctx: &Context) -> Option<String> {
    ctx.snapshot.kubernetes.api_extensions.is_none().then(|| {
        "the snapshot holds no admission webhooks or APIServices (saved before eksup read them); collect it again to judge them".to_string()
    })
}

/// Why a webhook's backend cannot answer, or why eksup could not tell.
enum Judgement {
    Answers,
    Down { why: String, state: &'static str },
    Unjudged(String),
}

fn judge(target: &WebhookTarget, backends: &HashMap<&ServiceRef, &Backend>) -> Judgement {
    let service = match target {
        WebhookTarget::Url(url) => {
            return Judgement::Unjudged(format!(
                "addressed by url {url}, which eksup cannot check from the cluster"
            ));
        }
        WebhookTarget::Service(s) => s,
    };
    match backends.get(service) {
        None => Judgement::Unjudged(format!("Service {service} was not read")),
        Some(Backend::Unread(e)) => {
            Judgement::Unjudged(format!("Service {service} could not be read: {e}"))
        }
        Some(Backend::ExternalName(host)) => Judgement::Unjudged(format!(
            "Service {service} is an ExternalName ({host}), whose backend has no EndpointSlices to check"
        )),
        Some(Backend::Missing) => Judgement::Down {
            why: format!("Service {service} does not exist"),
            state: "missing",
        },
        Some(Backend::Endpoints { total: 0, .. }) => Judgement::Down {
            why: format!("Service {service} has no endpoints"),
            state: "no_endpoints",
        },
        Some(Backend::Endpoints { ready: 0, total }) => Judgement::Down {
            why: format!("none of the {total} endpoint(s) of Service {service} is ready"),
            state: "no_ready_endpoints",
        },
        Some(Backend::Endpoints { .. }) => Judgement::Answers,
    }
}

fn service_of(target: &WebhookTarget) -> String {
    match target {
        WebhookTarget::Service(s) => s.to_string(),
        WebhookTarget::Url(u) => u.clone(),
    }
}

pub fn unanswerable(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S106").expect("catalogued");
    let Some(ext) = &ctx.snapshot.kubernetes.api_extensions else {
        return Vec::new();
    };
    let backends: HashMap<&ServiceRef, &Backend> = ext
        .services
        .iter()
        .map(|s| (&s.service, &s.backend))
        .collect();
    let mut out = Vec::new();
    for w in &ext.webhooks {
        let resource = (w.kind.as_str(), "", w.configuration.as_str());
        let policy = if w.fails_closed { "Fail" } else { "Ignore" };
        match judge(&w.target, &backends) {
            Judgement::Answers => {}
            Judgement::Down { why, state } => {
                let (level, effect) = if w.fails_closed {
                    (
                        Remediation::Required,
                        "the API server rejects every request it matches, so pods drained from old nodes are not re-created",
                    )
                } else {
                    (
                        Remediation::Recommended,
                        "requests it matches are admitted without it, each after the call times out",
                    )
                };
                out.push(finding(
                    check,
                    level,
                    resource,
                    format!("webhook {} (failurePolicy {policy}): {why}; {effect}", w.name),
                    json!({"webhook": w.name, "failure_policy": policy, "service": service_of(&w.target), "backend": state, "backends": backend_counts(&w.target, &backends)}),
                ));
            }
            Judgement::Unjudged(why) => skip(
                ctx,
                check,
                resource,
                w.fails_closed,
                format!(
                    "webhook {} of {} {} (failurePolicy {policy}): {why}",
                    w.name, w.kind, w.configuration
                ),
            ),
        }
    }
    for a in &ext.api_services {
        if a.available.as_deref() != Some("False") {
            continue;
        }
        let needed = NEEDED_GROUPS.iter().find(|(g, _)| *g == a.group);
        let (level, effect) = match needed {
            Some((_, effect)) => (Remediation::Required, *effect),
            None => (
                Remediation::Recommended,
                "clients of the group get errors, and deleting a namespace stalls until it answers",
            ),
        };
        let reason = if a.message.is_empty() {
            a.reason.clone()
        } else {
            format!("{} ({})", a.reason, a.message)
        };
        out.push(finding(
            check,
            level,
            ("APIService", "", &a.name),
            format!(
                "APIService {} (group {}) is not Available: {reason}; {effect}",
                a.name, a.group
            ),
            json!({"group": a.group, "reason": a.reason, "message": a.message}),
        ));
    }
    out.extend(conversion_webhooks(ctx, check, &backends));
    out
}

/// CRD conversion webhooks, when the CRDs were listed (K8S105's opt-in list).
fn conversion_webhooks(
    ctx: &Context,
    check: &'static Check,
    backends: &HashMap<&ServiceRef, &Backend>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for crd in ctx.snapshot.kubernetes.crds.iter().flatten() {
        let Some(target) = &crd.conversion else {
            continue;
        };
        let resource = ("CustomResourceDefinition", "", crd.name.as_str());
        match judge(target, backends) {
            Judgement::Answers => {}
            Judgement::Down { why, state } => out.push(finding(
                check,
                Remediation::Required,
                resource,
                format!(
                    "conversion webhook of {}: {why}; every read or write of {} at a version other than the stored one fails",
                    crd.name, crd.name
                ),
                json!({"service": service_of(target), "backend": state, "backends": backend_counts(target, backends), "served_versions": crd.served}),
            )),
            // A conversion webhook has no failure policy: a failed call fails the request.
            Judgement::Unjudged(why) => skip(
                ctx,
                check,
                resource,
                true,
                format!("conversion webhook of CustomResourceDefinition {}: {why}", crd.name),
            ),
        }
    }
    out
}

fn backend_counts(
    target: &WebhookTarget,
    backends: &HashMap<&ServiceRef, &Backend>,
) -> serde_json::Value {
    match target {
        WebhookTarget::Service(s) => match backends.get(s) {
            Some(Backend::Endpoints { ready, total }) => json!({"ready": ready, "total": total}),
            _ => json!({"ready": 0, "total": 0}),
        },
        WebhookTarget::Url(_) => serde_json::Value::Null,
    }
}

/// A webhook eksup cannot judge is listed as skipped, not passed: a blind spot when it fails
/// closed (it could block), merely unchecked when it fails open.
fn skip(
    ctx: &Context,
    check: &Check,
    resource: (&str, &str, &str),
    fails_closed: bool,
    reason: String,
) {
    let cause = if fails_closed {
        SkipCause::NotCollected
    } else {
        SkipCause::NotApplicable
    };
    ctx.skip_resource(check, resource, cause, reason);
}

#[cfg(test)]
mod tests {
    use crate::checks::kubernetes::fixtures::{codes_for, run, snapshot};
    use crate::checks::{Readiness, SkipCause};
    use crate::finding::Remediation;
    use crate::snapshot::{
        AdmissionWebhook, ApiExtensions, ApiService, Backend, CustomResourceDefinition,
        ExtensionService, ServiceRef, Snapshot, WebhookTarget, source,
    };

    fn svc(name: &str) -> ServiceRef {
        ServiceRef {
            namespace: "hooks".into(),
            name: name.into(),
        }
    }

    fn hook(name: &str, fails_closed: bool, target: WebhookTarget) -> AdmissionWebhook {
        AdmissionWebhook {
            kind: "ValidatingWebhookConfiguration".into(),
            configuration: "gate".into(),
            name: name.into(),
            fails_closed,
            target,
        }
    }

    fn backend(name: &str, backend: Backend) -> ExtensionService {
        ExtensionService {
            service: svc(name),
            backend,
        }
    }

    fn cluster(ext: ApiExtensions) -> Snapshot {
        let mut s = snapshot("1.34");
        s.kubernetes.api_extensions = Some(ext);
        s
    }

    fn one_hook(fails_closed: bool, state: Backend) -> Snapshot {
        cluster(ApiExtensions {
            webhooks: vec![hook(
                "v.example.com",
                fails_closed,
                WebhookTarget::Service(svc("hook")),
            )],
            services: vec![backend("hook", state)],
            ..Default::default()
        })
    }

    #[test]
    fn a_failing_closed_webhook_without_ready_endpoints_is_required() {
        let eval = run(
            &one_hook(true, Backend::Endpoints { ready: 0, total: 2 }),
            "1.35",
        );
        let found = codes_for(&eval.findings, "K8S106");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].remediation, Remediation::Required);
        assert_eq!(found[0].resource_name, "gate");
        assert!(found[0].message.contains("none of the 2 endpoint(s)"));
        assert_eq!(eval.readiness, Readiness::Blocked);
    }

    #[test]
    fn ready_endpoints_are_silent() {
        let eval = run(
            &one_hook(true, Backend::Endpoints { ready: 1, total: 3 }),
            "1.35",
        );
        assert!(codes_for(&eval.findings, "K8S106").is_empty());
        assert!(!eval.skipped.iter().any(|s| s.code == "K8S106"));
    }

    #[test]
    fn a_failing_open_webhook_is_recommended_at_most() {
        for state in [Backend::Missing, Backend::Endpoints { ready: 0, total: 0 }] {
            let eval = run(&one_hook(false, state), "1.35");
            let found = codes_for(&eval.findings, "K8S106");
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].remediation, Remediation::Recommended);
        }
    }

    #[test]
    fn a_missing_service_is_required() {
        let eval = run(&one_hook(true, Backend::Missing), "1.35");
        let found = codes_for(&eval.findings, "K8S106");
        assert_eq!(found[0].remediation, Remediation::Required);
        assert_eq!(found[0].details["backend"], "missing");
    }

    #[test]
    fn url_and_unread_webhooks_are_skipped_by_resource() {
        let s = cluster(ApiExtensions {
            webhooks: vec![
                hook(
                    "url.example.com",
                    true,
                    WebhookTarget::Url("https://x/v".into()),
                ),
                hook(
                    "open.example.com",
                    false,
                    WebhookTarget::Url("https://y/v".into()),
                ),
                hook("unread.example.com", true, WebhookTarget::Service(svc("u"))),
            ],
            services: vec![backend("u", Backend::Unread("HTTP 403".into()))],
            ..Default::default()
        });
        let eval = run(&s, "1.35");
        assert!(codes_for(&eval.findings, "K8S106").is_empty());
        let skips: Vec<_> = eval.skipped.iter().filter(|k| k.code == "K8S106").collect();
        assert_eq!(skips.len(), 3);
        assert!(
            skips
                .iter()
                .all(|k| k.resource.as_ref().unwrap().name == "gate")
        );
        assert_eq!(skips[0].cause, SkipCause::NotCollected);
        assert!(skips[0].reason.contains("addressed by url https://x/v"));
        assert_eq!(
            skips[1].cause,
            SkipCause::NotApplicable,
            "fails open: cannot block"
        );
        assert!(skips[2].reason.contains("could not be read: HTTP 403"));
        // A fail-closed webhook eksup could not judge is a blind spot.
        assert_eq!(eval.readiness, Readiness::Unknown);
    }

    #[test]
    fn api_services_by_their_available_condition() {
        let api = |name: &str, group: &str, status: Option<&str>| ApiService {
            name: name.into(),
            group: group.into(),
            available: status.map(str::to_owned),
            reason: "MissingEndpoints".into(),
            message: String::new(),
        };
        let s = cluster(ApiExtensions {
            api_services: vec![
                api("v1beta1.metrics.k8s.io", "metrics.k8s.io", Some("False")),
                api(
                    "v1.reports.example.com",
                    "reports.example.com",
                    Some("False"),
                ),
                api(
                    "v1beta1.custom.metrics.k8s.io",
                    "custom.metrics.k8s.io",
                    Some("True"),
                ),
                api("v1.other.example.com", "other.example.com", None),
            ],
            ..Default::default()
        });
        let eval = run(&s, "1.35");
        let found: Vec<_> = codes_for(&eval.findings, "K8S106")
            .into_iter()
            .map(|f| (f.resource_name.as_str(), f.remediation))
            .collect();
        assert_eq!(
            found,
            [
                ("v1beta1.metrics.k8s.io", Remediation::Required),
                ("v1.reports.example.com", Remediation::Recommended)
            ]
        );
        assert!(eval.findings[0].message.contains("MissingEndpoints"));
    }

    #[test]
    fn a_conversion_webhook_without_endpoints_is_required() {
        let mut s = cluster(ApiExtensions {
            services: vec![backend("conv", Backend::Endpoints { ready: 0, total: 0 })],
            ..Default::default()
        });
        s.kubernetes.crds = Some(vec![CustomResourceDefinition {
            name: "widgets.example.com".into(),
            served: vec!["v1".into(), "v2".into()],
            stored: vec!["v2".into()],
            conversion: Some(WebhookTarget::Service(svc("conv"))),
        }]);
        let eval = run(&s, "1.35");
        let found = codes_for(&eval.findings, "K8S106");
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].resource_kind.as_str(), found[0].remediation),
            ("CustomResourceDefinition", Remediation::Required)
        );
    }

    #[test]
    fn a_failed_list_skips_the_check_and_an_old_snapshot_says_so() {
        let mut s = one_hook(true, Backend::Missing);
        s.record_error(source::MUTATING_WEBHOOKS, "HTTP 403 Forbidden");
        let eval = run(&s, "1.35");
        let skipped = eval.skipped.iter().find(|k| k.code == "K8S106").unwrap();
        assert_eq!(skipped.cause, SkipCause::NotCollected);
        assert!(skipped.resource.is_none());
        assert!(codes_for(&eval.findings, "K8S106").is_empty());

        let old = snapshot("1.34");
        let eval = run(&old, "1.35");
        let skipped = eval.skipped.iter().find(|k| k.code == "K8S106").unwrap();
        assert_eq!(skipped.cause, SkipCause::NotApplicable);
    }
}
