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

use std::collections::HashMap;

use crate::checks::{Check, Context};
use crate::snapshot::Workload;

/// `items` grouped by namespace. Budgets and workloads only select each other within one
/// namespace, so a check that pairs them looks up the namespace instead of comparing every
/// budget with every workload (10,000 of each would be 10⁸ pairs).
pub(crate) fn by_namespace<'a, T: 'a>(
    items: impl IntoIterator<Item = &'a T>,
    namespace: impl Fn(&T) -> &str,
) -> HashMap<&'a str, Vec<&'a T>> {
    let mut out: HashMap<&str, Vec<&T>> = HashMap::new();
    for item in items {
        out.entry(namespace(item)).or_default().push(item);
    }
    out
}

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
