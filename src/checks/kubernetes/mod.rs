//! Checks over the Kubernetes API objects (K8S001–K8S013).

pub mod crds;
pub mod deprecated_apis;
pub mod ingress;
pub mod kube_proxy;
pub mod nodes;
pub mod workloads;

#[cfg(test)]
pub(crate) mod fixtures;
