//! Kubernetes label-selector matching (`matchLabels` and `matchExpressions`).

use std::collections::BTreeMap;

use crate::snapshot::LabelSelector;

/// Whether `selector` selects an object with `labels`. An empty selector selects
/// everything, as in `policy/v1` PodDisruptionBudgets; an unknown operator selects nothing.
pub fn matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = selector
        .match_labels
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v));
    labels_ok
        && selector.match_expressions.iter().all(|req| {
            let value = labels.get(&req.key);
            match req.operator.as_str() {
                "In" => value.is_some_and(|v| req.values.contains(v)),
                "NotIn" => value.is_none_or(|v| !req.values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn match_labels_must_all_be_equal() {
        let sel = LabelSelector {
            match_labels: labels(&[("app", "web"), ("tier", "front")]),
            match_expressions: vec![],
        };
        assert!(matches(
            &sel,
            &labels(&[("app", "web"), ("tier", "front"), ("x", "y")])
        ));
        assert!(!matches(&sel, &labels(&[("app", "web")])));
        assert!(!matches(
            &sel,
            &labels(&[("app", "api"), ("tier", "front")])
        ));
    }

    #[test]
    fn match_expressions_cover_all_operators() {
        let pod = labels(&[("app", "web"), ("env", "prod")]);
        let sel = |e| LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![e],
        };
        assert!(matches(&sel(expr("env", "In", &["prod", "stage"])), &pod));
        assert!(!matches(&sel(expr("env", "In", &["dev"])), &pod));
        assert!(matches(&sel(expr("env", "NotIn", &["dev"])), &pod));
        assert!(!matches(&sel(expr("env", "NotIn", &["prod"])), &pod));
        assert!(matches(&sel(expr("missing", "NotIn", &["x"])), &pod));
        assert!(matches(&sel(expr("app", "Exists", &[])), &pod));
        assert!(!matches(&sel(expr("missing", "Exists", &[])), &pod));
        assert!(matches(&sel(expr("missing", "DoesNotExist", &[])), &pod));
        assert!(!matches(&sel(expr("app", "Bogus", &[])), &pod));
    }

    #[test]
    fn empty_selector_selects_everything() {
        assert!(matches(&LabelSelector::default(), &labels(&[("a", "b")])));
    }
}
