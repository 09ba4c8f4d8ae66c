//! Checks over the Kubernetes API objects (K8S001–K8S106).

pub mod crds;
pub mod deprecated_apis;
pub mod disruption;
pub mod extensions;
pub mod external_ips;
pub mod git_repo;
pub mod ingress;
pub mod kube_proxy;
pub mod node_os;
pub mod nodes;
pub mod workloads;

#[cfg(test)]
pub(crate) mod fixtures;

use crate::checks::{Check, Context};
use crate::snapshot::Workload;

/// The workloads a check looks at: the kinds its catalogue entry covers, minus those the
/// configuration ignores for it. One place, so CHECKS.md's applicability table is the code.
pub(crate) fn workloads<'a>(
    ctx: &'a Context,
    check: &'a Check,
) -> impl Iterator<Item = &'a Workload> + 'a {
    ctx.snapshot
        .kubernetes
        .workloads
        .iter()
        .filter(move |w| check.covers.admits(w) && !ctx.settings.is_ignored(check.code, w))
}

pub(crate) fn resource(w: &Workload) -> (&str, &str, &str) {
    (w.kind.as_str(), w.namespace.as_str(), w.name.as_str())
}
