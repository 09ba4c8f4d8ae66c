//! Kubernetes behaviour changes as data (`data/behaviour-changes.csv`): the release from
//! which a change is worth acting on (deprecated: recommended) and the one from which it
//! breaks the upgrade (removed or refused: required). A new Kubernetes release that removes
//! something is a row change here, with its source, not a code change in a check.

use crate::finding::Remediation;
use crate::version::KubeVersion;

const EMBEDDED: &str = include_str!("../../data/behaviour-changes.csv");

/// One behaviour change and the check that reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub change: String,
    pub check: String,
    /// Targets from this release on get a recommended finding; `None`: never recommended.
    pub recommended_from: Option<KubeVersion>,
    /// Targets from this release on get a required finding; `None`: no removal recorded yet.
    pub required_from: Option<KubeVersion>,
    /// What the project has announced for later releases but not yet done (e.g. IPVS off by
    /// default in 1.40, removed in 1.43): named in the findings, never a level by itself.
    pub planned: Vec<(KubeVersion, String)>,
    /// Where the release facts come from.
    pub source: String,
}

impl Change {
    /// The level of a finding for `target`, or `None` when the change does not matter yet.
    pub fn level(&self, target: KubeVersion) -> Option<Remediation> {
        if self.required_from.is_some_and(|v| target >= v) {
            Some(Remediation::Required)
        } else if self.recommended_from.is_some_and(|v| target >= v) {
            Some(Remediation::Recommended)
        } else {
            None
        }
    }

    /// The announced plan in words, e.g. `off by default in 1.40, removed in 1.43`.
    pub fn planned_text(&self) -> Option<String> {
        (!self.planned.is_empty()).then(|| {
            self.planned
                .iter()
                .map(|(v, what)| format!("{what} in {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// The first release at which the change reports anything.
    pub fn first_release(&self) -> Option<KubeVersion> {
        match (self.recommended_from, self.required_from) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Parses `change,check,recommended_from,required_from,planned,source`; `planned` is a list
/// of `<release> <what>` separated by `;` (empty when nothing is announced).
pub fn parse(text: &str) -> Result<Vec<Change>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let [change, check, recommended, required, planned, source] = cols[..] else {
            return Err(format!("line {}: expected 6 columns", i + 1));
        };
        let version = |s: &str| -> Result<Option<KubeVersion>, String> {
            if s.is_empty() {
                return Ok(None);
            }
            s.parse()
                .map(Some)
                .map_err(|e| format!("line {}: {e}", i + 1))
        };
        if !source.starts_with("https://") {
            return Err(format!("line {}: the source must be an https URL", i + 1));
        }
        let planned = planned
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (release, what) = p.split_once(' ').unwrap_or((p, ""));
                match version(release)? {
                    Some(v) if !what.trim().is_empty() => Ok((v, what.trim().to_string())),
                    _ => Err(format!(
                        "line {}: planned `{p}` is not `<release> <what>`",
                        i + 1
                    )),
                }
            })
            .collect::<Result<Vec<_>, String>>()?;
        let row = Change {
            change: change.to_string(),
            check: check.to_string(),
            recommended_from: version(recommended)?,
            required_from: version(required)?,
            planned,
            source: source.to_string(),
        };
        if row.first_release().is_none() {
            return Err(format!("line {}: {change} names no release", i + 1));
        }
        out.push(row);
    }
    Ok(out)
}

/// The embedded table, parsed once.
static TABLE: std::sync::LazyLock<Vec<Change>> = std::sync::LazyLock::new(|| {
    parse(EMBEDDED).expect("data/behaviour-changes.csv is valid (unit-tested)")
});

/// The change a check reports, from the embedded table (`None` for other checks).
pub fn find(code: &str) -> Option<Change> {
    TABLE.iter().find(|c| c.check == code).cloned()
}

/// The change a data-driven check reports; every such check has a row (unit-tested).
pub fn for_check(code: &str) -> Change {
    find(code).unwrap_or_else(|| panic!("data/behaviour-changes.csv has a row for {code}"))
}

/// Every row of the embedded table.
pub fn embedded() -> Vec<Change> {
    TABLE.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::lookup;
    use crate::version::SupportCalendar;

    fn v(s: &str) -> KubeVersion {
        s.parse().unwrap()
    }

    #[test]
    fn embedded_table_is_valid_and_names_catalogued_checks() {
        let rows = embedded();
        assert_eq!(rows.len(), 6);
        for row in &rows {
            assert!(
                lookup(&row.check).is_some(),
                "{} names {}",
                row.change,
                row.check
            );
        }
        let ipvs = for_check("K8S012");
        assert_eq!(
            (ipvs.recommended_from, ipvs.required_from),
            (Some(v("1.35")), None),
            "IPVS is deprecated from 1.35 with no removal release recorded"
        );
        assert_eq!(
            ipvs.planned_text().as_deref(),
            Some("off by default in 1.40, removed in 1.43")
        );
        let bad = "change,check,recommended_from,required_from,planned,source\nx,K8S012,1.35,,1.40,https://example.com\n";
        assert!(parse(bad).unwrap_err().contains("planned `1.40`"));
    }

    /// Each check's `min_target` is where its change first reports, unless that release is
    /// older than every EKS version (then the check applies to all targets).
    #[test]
    fn catalogue_min_targets_follow_the_data() {
        let oldest = SupportCalendar::embedded().oldest();
        for row in embedded() {
            let check = lookup(&row.check).unwrap();
            let first = row.first_release().filter(|v| *v > oldest);
            assert_eq!(check.min_target, first, "{}", row.check);
            // The catalogue lists what the check can report once the data records it.
            if row.required_from.is_some() {
                assert!(
                    check.levels.contains(&Remediation::Required),
                    "{}",
                    row.check
                );
            }
            if row.recommended_from.is_some() {
                assert!(
                    check.levels.contains(&Remediation::Recommended),
                    "{}",
                    row.check
                );
            }
        }
    }

    #[test]
    fn levels_by_target() {
        let git = for_check("K8S015");
        assert_eq!(git.level(v("1.35")), Some(Remediation::Recommended));
        assert_eq!(git.level(v("1.36")), Some(Remediation::Required));
        let cgroup = for_check("K8S103");
        assert_eq!(cgroup.level(v("1.34")), None);
        assert_eq!(cgroup.level(v("1.35")), Some(Remediation::Required));
        let containerd = for_check("K8S014");
        assert_eq!(containerd.level(v("1.35")), Some(Remediation::Recommended));
        assert_eq!(containerd.level(v("1.36")), Some(Remediation::Required));
    }

    #[test]
    fn a_removal_release_is_a_data_change() {
        let text = "change,check,recommended_from,required_from,planned,source\n\
                    kube-proxy-ipvs,K8S012,1.35,1.38,,https://example.org/kep\n";
        let row = &parse(text).unwrap()[0];
        assert_eq!(row.level(v("1.37")), Some(Remediation::Recommended));
        assert_eq!(row.level(v("1.38")), Some(Remediation::Required));
    }

    #[test]
    fn bad_rows_are_errors() {
        let head = "change,check,recommended_from,required_from,planned,source\n";
        for bad in [
            "x,K8S012,1.35,,,http://insecure",
            "x,K8S012,,,,https://example.org",
            "x,K8S012,one,,,https://example.org",
            "x,K8S012,1.35",
        ] {
            assert!(parse(&format!("{head}{bad}\n")).is_err(), "{bad}");
        }
    }
}
