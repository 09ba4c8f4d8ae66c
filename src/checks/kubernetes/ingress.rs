//! K8S013: the retired community ingress-nginx controller.

use serde_json::json;

use crate::checks::image::ImageRef;
use crate::checks::{Context, changes, finding, lookup};
use crate::finding::Finding;

/// Whether `image` is a build of the community ingress-nginx controller, wherever it is
/// pulled from: the repository path must end in `ingress-nginx/controller[-chroot]` (the
/// registry.k8s.io name, also behind mirrors and pull-through caches) or in
/// `nginx-ingress-controller` (the older quay.io and repackaged names). F5's
/// `nginx/nginx-ingress` is a different, maintained controller and does not match.
pub fn is_community_ingress_nginx(image: &str) -> bool {
    let Some(r) = ImageRef::parse(image) else {
        return false;
    };
    match r.path_tail(2).as_slice() {
        ["ingress-nginx", "controller" | "controller-chroot"] => true,
        [.., last] => *last == "nginx-ingress-controller",
        [] => false,
    }
}

/// K8S013: the level comes from the retirement's row in `data/behaviour-changes.csv`.
pub fn retired_ingress_nginx(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S013").expect("catalogued");
    let Some(level) = changes::for_check(check.code).level(ctx.target) else {
        return Vec::new();
    };
    super::workloads(ctx, check)
        .filter_map(|w| {
            let images: Vec<&str> = w
                .pod
                .containers
                .iter()
                .chain(&w.pod.init_containers)
                .map(|c| c.image.as_str())
                .filter(|i| is_community_ingress_nginx(i))
                .collect();
            (!images.is_empty()).then(|| {
                finding(
                    check,
                    level,
                    (w.kind.as_str(), &w.namespace, &w.name),
                    format!("runs the retired community ingress-nginx controller ({}); plan a migration", images.join(", ")),
                    json!({"images": images}),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_repository_paths_not_substrings() {
        for yes in [
            "registry.k8s.io/ingress-nginx/controller:v1.11.2@sha256:d5f8",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/registry.k8s.io/ingress-nginx/controller:v1.10.0",
            "harbor.corp:8443/mirror/ingress-nginx/controller-chroot:v1.9.4",
            "quay.io/kubernetes-ingress-controller/nginx-ingress-controller:0.33.0",
        ] {
            assert!(is_community_ingress_nginx(yes), "{yes}");
        }
        for no in [
            "nginx/nginx-ingress:3.5.0",
            "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.1",
            "example.com/ingress-nginx-controller-docs:1",
            "example.com/my-ingress-nginx/controllers:1",
            "nginx:1.27",
        ] {
            assert!(!is_community_ingress_nginx(no), "{no}");
        }
    }
}
