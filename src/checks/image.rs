//! Container image references: `[registry[:port]/]path[:tag][@digest]`.

/// A parsed image reference. The registry is the first path component when it looks like a
/// host (has a `.` or a `:`, or is `localhost`), as the container runtimes decide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: Option<String>,
    /// Repository path without the registry, e.g. `eks/kube-proxy`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(image: &str) -> Option<Self> {
        let image = image.trim();
        if image.is_empty() || image.chars().any(char::is_whitespace) {
            return None;
        }
        let (name, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (image, None),
        };
        // The tag separator is a `:` after the last `/`, so a registry port is never a tag.
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (
                &name[..last_slash + i],
                Some(name[last_slash + i + 1..].to_string()),
            ),
            None => (name, None),
        };
        if name.is_empty() || tag.as_deref() == Some("") {
            return None;
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first.to_string()), rest.to_string())
            }
            _ => (None, name.to_string()),
        };
        if repository.is_empty() || repository.split('/').any(str::is_empty) {
            return None;
        }
        Some(Self {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The last `n` components of the repository path, e.g. `["ingress-nginx", "controller"]`.
    pub fn path_tail(&self, n: usize) -> Vec<&str> {
        let parts: Vec<&str> = self.repository.split('/').collect();
        parts[parts.len().saturating_sub(n)..].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registry_ports_tags_and_digests() {
        let r = ImageRef::parse("registry.local:5000/eks/kube-proxy:v1.29.0-eksbuild.1").unwrap();
        assert_eq!(r.registry.as_deref(), Some("registry.local:5000"));
        assert_eq!(r.repository, "eks/kube-proxy");
        assert_eq!(r.tag.as_deref(), Some("v1.29.0-eksbuild.1"));

        let r = ImageRef::parse("localhost:5000/kube-proxy@sha256:abcd").unwrap();
        assert_eq!(r.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.as_deref(), Some("sha256:abcd"));

        let r = ImageRef::parse(
            "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.30.0-minimal-eksbuild.3@sha256:00ff",
        )
        .unwrap();
        assert_eq!(r.tag.as_deref(), Some("v1.30.0-minimal-eksbuild.3"));
        assert_eq!(r.digest.as_deref(), Some("sha256:00ff"));

        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(
            (r.registry, r.repository.as_str(), r.tag),
            (None, "nginx", None)
        );

        let r = ImageRef::parse("library/nginx:1.27").unwrap();
        assert_eq!(r.registry, None);
        assert_eq!(r.repository, "library/nginx");
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in [
            "",
            "  ",
            "a b",
            "repo:",
            "registry.io/",
            "registry.io//x:1",
            ":tag",
        ] {
            assert_eq!(ImageRef::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn path_tail_drops_registry_and_prefixes() {
        let r = ImageRef::parse(
            "123.dkr.ecr.eu-west-1.amazonaws.com/registry.k8s.io/ingress-nginx/controller:v1.11.2",
        )
        .unwrap();
        assert_eq!(r.path_tail(2), vec!["ingress-nginx", "controller"]);
        assert_eq!(
            ImageRef::parse("nginx").unwrap().path_tail(2),
            vec!["nginx"]
        );
    }
}
