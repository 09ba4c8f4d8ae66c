//! Kubernetes minor versions, upgrade hops and the embedded EKS support calendar.

use std::fmt;
use std::str::FromStr;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Kubernetes `major.minor` version; patch and build suffixes are dropped because
/// every upgrade rule in eksup is about minors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

/// Why a version string could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{input}` is not a Kubernetes version (expected e.g. 1.30, v1.30 or v1.30.7-eks-1a2b3c)")]
pub struct ParseVersionError {
    pub input: String,
}

impl KubeVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }

    /// The next minor version (EKS upgrades one minor at a time).
    pub fn next(self) -> Self {
        Self::new(self.major, self.minor + 1)
    }

    /// Signed number of minors from `self` to `other` (positive when `other` is newer).
    pub fn minors_to(self, other: Self) -> i64 {
        if self.major != other.major {
            // Kubernetes 2.x does not exist; treat a major change as far apart.
            return (i64::from(other.major) - i64::from(self.major)) * 100;
        }
        i64::from(other.minor) - i64::from(self.minor)
    }
}

impl FromStr for KubeVersion {
    type Err = ParseVersionError;

    /// Accepts `1.30`, `v1.30`, `1.30.7`, `v1.30.7-eks-1a2b3c`, and the `30+` minor that
    /// some API servers report.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseVersionError {
            input: s.to_string(),
        };
        let trimmed = s.trim();
        let body = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let mut parts = body.splitn(3, '.');
        let major = parts.next().ok_or_else(err)?;
        let minor = parts.next().ok_or_else(err)?;
        let minor_digits: String = minor.chars().take_while(char::is_ascii_digit).collect();
        // Anything after the digits of the minor must be a separator (`-eks…`, `+`) or,
        // when a patch follows, nothing at all.
        let rest = &minor[minor_digits.len()..];
        if !(rest.is_empty() || rest.starts_with('-') || rest == "+") {
            return Err(err());
        }
        if parts
            .next()
            .is_some_and(|patch| !patch.starts_with(|c: char| c.is_ascii_digit()))
        {
            return Err(err());
        }
        let major: u32 = major.parse().map_err(|_| err())?;
        let minor: u32 = minor_digits.parse().map_err(|_| err())?;
        if major == 0 {
            return Err(err());
        }
        Ok(Self::new(major, minor))
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for KubeVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The message for a version written as a number: YAML and TOML read `1.30` unquoted as the
/// float 1.3, so accepting numbers would silently analyze for the wrong version.
fn quote_it(shown: impl fmt::Display) -> String {
    format!(
        "`{shown}` is a number, not a version: quote it (e.g. \"1.30\"); unquoted, YAML and TOML read 1.30 as 1.3"
    )
}

impl schemars::JsonSchema for KubeVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "KubeVersion".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^1\\.[0-9]+$",
            "description": "A Kubernetes minor version as a quoted string, e.g. \"1.33\""
        })
    }
}

impl<'de> Deserialize<'de> for KubeVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = KubeVersion;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes version as a string, e.g. \"1.30\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<KubeVersion, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<KubeVersion, E> {
                Err(E::custom(quote_it(v)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<KubeVersion, E> {
                Err(E::custom(quote_it(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<KubeVersion, E> {
                Err(E::custom(quote_it(v)))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// The minors a cluster passes through from `current` to `target`, excluding `current`:
/// 1.29 → 1.31 is `[1.30, 1.31]`. Empty when the target is the current version.
pub fn hops(current: KubeVersion, target: KubeVersion) -> Vec<KubeVersion> {
    let mut out = Vec::new();
    let mut v = current;
    while v < target {
        v = v.next();
        out.push(v);
    }
    out
}

/// Why a target version cannot be analyzed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error(
        "target version {target} is below the control plane version {current}; EKS cannot downgrade"
    )]
    BelowCurrent {
        target: KubeVersion,
        current: KubeVersion,
    },
    #[error("target version {target} is newer than the newest EKS version eksup knows ({newest})")]
    Unknown {
        target: KubeVersion,
        newest: KubeVersion,
    },
}

/// Picks the target: the one asked for (validated), else the control plane's next minor,
/// else — when the cluster already runs the newest known minor — the current one.
pub fn resolve_target(
    current: KubeVersion,
    requested: Option<KubeVersion>,
    calendar: &SupportCalendar,
) -> Result<KubeVersion, TargetError> {
    let newest = calendar.newest();
    match requested {
        Some(target) if target < current => Err(TargetError::BelowCurrent { target, current }),
        Some(target) if target > newest => Err(TargetError::Unknown { target, newest }),
        Some(target) => Ok(target),
        None if current.next() <= newest => Ok(current.next()),
        None => Ok(current),
    }
}

/// One row of the EKS support calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportWindow {
    pub version: KubeVersion,
    pub release: NaiveDate,
    pub end_of_standard_support: NaiveDate,
    pub end_of_extended_support: NaiveDate,
}

impl SupportWindow {
    /// EKS's rule for a version whose end dates are not published yet: standard support
    /// for 14 months from the EKS release, extended support for 12 more.
    pub fn from_release(version: KubeVersion, release: NaiveDate) -> Self {
        let end_of_standard_support = release + Months::new(14);
        Self {
            version,
            release,
            end_of_standard_support,
            end_of_extended_support: end_of_standard_support + Months::new(12),
        }
    }
}

/// Where the calendar's dates came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CalendarSource {
    /// `DescribeClusterVersions` at run time.
    EksApi,
    /// The table built into eksup (`data/eks-versions.csv`).
    Embedded,
}

impl CalendarSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EksApi => "eks-api",
            Self::Embedded => "embedded",
        }
    }
}

/// Where a version stands in its support life on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SupportStatus {
    Standard,
    Extended,
    /// Past the end of extended support: EKS upgrades such clusters itself.
    Ended,
}

impl SupportStatus {
    /// Billed at the extended price: in extended support, or past its end until EKS has
    /// upgraded the cluster.
    pub fn bills_extended(self) -> bool {
        matches!(self, Self::Extended | Self::Ended)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Extended => "extended",
            Self::Ended => "ended",
        }
    }
}

/// The support dates of one version, as of one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Support {
    pub status: SupportStatus,
    pub end_of_standard_support: NaiveDate,
    pub end_of_extended_support: NaiveDate,
    /// Negative once the date has passed.
    pub days_to_end_of_standard_support: i64,
    pub days_to_end_of_extended_support: i64,
    pub source: CalendarSource,
}

/// The EKS support calendar: which versions exist and when their support ends.
#[derive(Debug, Clone)]
pub struct SupportCalendar {
    windows: Vec<SupportWindow>,
    /// Versions EKS ships whose dates were not published yet (a row with empty dates): valid
    /// targets whose support is unknown until `DescribeClusterVersions` gives it.
    announced: Vec<KubeVersion>,
    source: CalendarSource,
}

const EMBEDDED_CALENDAR: &str = include_str!("../data/eks-versions.csv");

impl SupportCalendar {
    /// The calendar compiled into the binary from `data/eks-versions.csv`.
    pub fn embedded() -> Self {
        Self::from_csv(EMBEDDED_CALENDAR).expect("data/eks-versions.csv is valid (unit-tested)")
    }

    /// Parses `version,eks_release,end_of_standard_support,end_of_extended_support,…`.
    pub fn from_csv(text: &str) -> Result<Self, String> {
        let mut windows = Vec::new();
        let mut announced = Vec::new();
        for (i, line) in text.lines().enumerate().skip(1) {
            if line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split(',').collect();
            if cols.len() < 4 {
                return Err(format!("line {}: expected at least 4 columns", i + 1));
            }
            // A version EKS has announced without published dates: DescribeClusterVersions
            // gives them at run time, and nothing here guesses them.
            if cols[1..4].iter().all(|c| c.trim().is_empty()) {
                announced.push(
                    cols[0]
                        .parse()
                        .map_err(|e| format!("line {}: {e}", i + 1))?,
                );
                continue;
            }
            let date = |s: &str| {
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|e| format!("line {}: bad date `{s}`: {e}", i + 1))
            };
            windows.push(SupportWindow {
                version: cols[0]
                    .parse()
                    .map_err(|e| format!("line {}: {e}", i + 1))?,
                release: date(cols[1])?,
                end_of_standard_support: date(cols[2])?,
                end_of_extended_support: date(cols[3])?,
            });
        }
        if windows.is_empty() {
            return Err("calendar has no versions".into());
        }
        windows.sort_by_key(|w| w.version);
        announced.retain(|v| !windows.iter().any(|w| w.version == *v));
        announced.sort();
        Ok(Self {
            windows,
            announced,
            source: CalendarSource::Embedded,
        })
    }

    /// This calendar with the versions EKS reported at run time laid over it; when `api` is
    /// empty (the call was denied or unavailable) the calendar stays as it is.
    pub fn with_api(mut self, api: &[SupportWindow]) -> Self {
        if api.is_empty() {
            return self;
        }
        for window in api {
            self.windows.retain(|w| w.version != window.version);
            self.announced.retain(|v| *v != window.version);
            self.windows.push(window.clone());
        }
        self.windows.sort_by_key(|w| w.version);
        self.source = CalendarSource::EksApi;
        self
    }

    pub fn source(&self) -> CalendarSource {
        self.source
    }

    /// Support status and days left for `version` on `today`; `None` for a version the
    /// calendar does not know.
    pub fn support(&self, version: KubeVersion, today: NaiveDate) -> Option<Support> {
        let w = self.window(version)?;
        let status = if today <= w.end_of_standard_support {
            SupportStatus::Standard
        } else if today <= w.end_of_extended_support {
            SupportStatus::Extended
        } else {
            SupportStatus::Ended
        };
        Some(Support {
            status,
            end_of_standard_support: w.end_of_standard_support,
            end_of_extended_support: w.end_of_extended_support,
            days_to_end_of_standard_support: (w.end_of_standard_support - today).num_days(),
            days_to_end_of_extended_support: (w.end_of_extended_support - today).num_days(),
            source: self.source,
        })
    }

    pub fn oldest(&self) -> KubeVersion {
        self.windows
            .first()
            .map(|w| w.version)
            .expect("calendar is never empty")
    }

    /// The newest version EKS ships, dated or not.
    pub fn newest(&self) -> KubeVersion {
        let dated = self
            .windows
            .last()
            .map(|w| w.version)
            .expect("calendar is never empty");
        self.announced.last().map_or(dated, |v| dated.max(*v))
    }

    /// A version EKS ships whose support dates are not known yet: shown as unknown, never
    /// guessed.
    pub fn dates_unknown(&self, version: KubeVersion) -> bool {
        self.announced.contains(&version)
    }

    pub fn window(&self, version: KubeVersion) -> Option<&SupportWindow> {
        self.windows.iter().find(|w| w.version == version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> KubeVersion {
        s.parse().unwrap()
    }

    #[test]
    fn parses_the_forms_eks_and_kubernetes_print() {
        assert_eq!(v("1.30"), KubeVersion::new(1, 30));
        assert_eq!(v("v1.30"), KubeVersion::new(1, 30));
        assert_eq!(v("v1.30.7-eks-1a2b3c"), KubeVersion::new(1, 30));
        assert_eq!(v("1.29.3"), KubeVersion::new(1, 29));
        assert_eq!(v("v1.31.0-eks-a737599"), KubeVersion::new(1, 31));
        assert_eq!(v("1.28+"), KubeVersion::new(1, 28));
    }

    #[test]
    fn rejects_what_is_not_a_version() {
        for bad in [
            "", "1", "v", "latest", "1.x", "1.30a", "0.30", "1.30.x", "one.two",
        ] {
            assert!(
                bad.parse::<KubeVersion>().is_err(),
                "{bad} should not parse"
            );
        }
    }

    #[test]
    fn hops_list_every_intermediate_minor() {
        assert_eq!(hops(v("1.29"), v("1.31")), vec![v("1.30"), v("1.31")]);
        assert!(hops(v("1.31"), v("1.31")).is_empty());
    }

    #[test]
    fn target_defaults_to_next_minor_and_rejects_bad_targets() {
        let cal = SupportCalendar::embedded();
        assert_eq!(resolve_target(v("1.30"), None, &cal), Ok(v("1.31")));
        assert_eq!(
            resolve_target(v("1.30"), Some(v("1.32")), &cal),
            Ok(v("1.32"))
        );
        assert_eq!(
            resolve_target(v("1.30"), Some(v("1.29")), &cal),
            Err(TargetError::BelowCurrent {
                target: v("1.29"),
                current: v("1.30")
            })
        );
        let newest = cal.newest();
        assert!(matches!(
            resolve_target(v("1.30"), Some(newest.next()), &cal),
            Err(TargetError::Unknown { .. })
        ));
        assert_eq!(resolve_target(newest, None, &cal), Ok(newest));
    }

    #[test]
    fn later_versions_follow_the_14_plus_12_month_rule() {
        let w =
            SupportWindow::from_release(v("1.36"), NaiveDate::from_ymd_opt(2026, 5, 20).unwrap());
        assert_eq!(w.end_of_standard_support.to_string(), "2027-07-20");
        assert_eq!(w.end_of_extended_support.to_string(), "2028-07-20");
        // The published table follows the same rule.
        let cal = SupportCalendar::embedded();
        let w133 = cal.window(v("1.33")).unwrap();
        assert_eq!(
            SupportWindow::from_release(w133.version, w133.release),
            *w133
        );
    }

    #[test]
    fn api_versions_override_and_extend_the_embedded_table() {
        let release = NaiveDate::from_ymd_opt(2026, 5, 20).unwrap();
        let api = vec![SupportWindow::from_release(v("1.36"), release)];
        let cal = SupportCalendar::embedded().with_api(&api);
        assert_eq!(cal.window(v("1.36")).unwrap().release, release);
        assert_eq!(cal.newest(), v("1.37"), "1.37 stays known, undated");
        assert_eq!(cal.source(), CalendarSource::EksApi);
        assert!(cal.window(v("1.31")).is_some(), "embedded rows stay");
        assert_eq!(
            SupportCalendar::embedded().with_api(&[]).source(),
            CalendarSource::Embedded
        );
    }

    #[test]
    fn support_status_and_days_left() {
        let cal = SupportCalendar::embedded();
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let s = cal.support(v("1.31"), day("2025-11-20")).unwrap();
        assert_eq!(
            (s.status, s.days_to_end_of_standard_support),
            (SupportStatus::Standard, 6)
        );
        let s = cal.support(v("1.31"), day("2026-11-23")).unwrap();
        assert_eq!(
            (s.status, s.days_to_end_of_extended_support),
            (SupportStatus::Extended, 3)
        );
        assert_eq!(
            cal.support(v("1.28"), day("2026-11-23")).unwrap().status,
            SupportStatus::Ended
        );
        assert!(cal.support(v("1.99"), day("2026-11-23")).is_none());
    }

    /// The reference copy beside the checkout (`../shared/data`, present for developers and
    /// CI) is the newest calendar AWS publishes dates for: the embedded one holds every row
    /// of it with the same dates.
    #[test]
    fn embedded_calendar_is_as_new_as_the_reference_copy() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/eks-versions.csv"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("{path} is not beside this checkout; nothing to compare");
            return;
        };
        let reference = SupportCalendar::from_csv(&text).unwrap();
        let embedded = SupportCalendar::embedded();
        assert!(embedded.newest() >= reference.newest());
        for w in &reference.windows {
            assert_eq!(embedded.window(w.version), Some(w), "{}", w.version);
        }
    }

    #[test]
    fn embedded_calendar_matches_the_published_table() {
        let cal = SupportCalendar::embedded();
        let w = cal.window(v("1.31")).unwrap();
        assert_eq!(w.end_of_standard_support.to_string(), "2025-11-26");
        assert_eq!(w.end_of_extended_support.to_string(), "2026-11-26");
        assert!(cal.newest() >= v("1.35"));
    }

    /// 1.37 ships on EKS without published dates: a valid target whose support is unknown
    /// (never derived from the 14 + 12 month rule), until the API gives its dates.
    #[test]
    fn a_version_without_dates_is_a_valid_target_with_unknown_support() {
        let cal = SupportCalendar::embedded();
        let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert_eq!(cal.newest(), v("1.37"));
        assert!(cal.dates_unknown(v("1.37")) && !cal.dates_unknown(v("1.36")));
        assert_eq!(
            resolve_target(v("1.35"), Some(v("1.37")), &cal),
            Ok(v("1.37"))
        );
        assert_eq!(
            resolve_target(v("1.36"), Some(v("1.36")), &cal),
            Ok(v("1.36"))
        );
        assert_eq!(resolve_target(v("1.36"), None, &cal), Ok(v("1.37")));
        assert_eq!(
            resolve_target(v("1.35"), Some(v("1.38")), &cal),
            Err(TargetError::Unknown {
                target: v("1.38"),
                newest: v("1.37")
            })
        );
        assert!(cal.window(v("1.37")).is_none(), "no dates are invented");
        assert!(cal.support(v("1.37"), day).is_none());
        let w136 = cal.window(v("1.36")).unwrap();
        assert_eq!(w136.end_of_standard_support.to_string(), "2027-08-02");
        // The API's dates replace the unknown ones.
        let api = [SupportWindow::from_release(
            v("1.37"),
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        )];
        let cal = SupportCalendar::embedded().with_api(&api);
        assert!(!cal.dates_unknown(v("1.37")));
        assert_eq!(
            cal.support(v("1.37"), day).unwrap().end_of_standard_support,
            NaiveDate::from_ymd_opt(2027, 12, 1).unwrap()
        );
    }

    #[test]
    fn a_row_with_some_dates_only_is_refused() {
        let text = "version,eks_release,end_of_standard_support,end_of_extended_support,source\n\
                    1.36,2026-06-02,2027-08-02,2028-08-02,x\n1.37,2026-10-01,,,x\n";
        assert!(
            SupportCalendar::from_csv(text)
                .unwrap_err()
                .contains("line 3")
        );
    }

    /// 1.34 leaves standard support on 2026-12-02: that day is its last day of standard
    /// support (0 days left), the next one is extended.
    #[test]
    fn the_last_day_of_standard_support_has_zero_days_left() {
        let cal = SupportCalendar::embedded();
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let s = cal.support(v("1.34"), day(2)).unwrap();
        assert_eq!(
            (s.status, s.days_to_end_of_standard_support),
            (SupportStatus::Standard, 0)
        );
        let s = cal.support(v("1.34"), day(3)).unwrap();
        assert_eq!(
            (s.status, s.days_to_end_of_standard_support),
            (SupportStatus::Extended, -1)
        );
    }
}
