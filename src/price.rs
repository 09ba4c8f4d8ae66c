//! EKS cluster prices as data (`data/eks-prices.csv`, each with its source) and the one
//! function that turns them into money: what extended support adds to a cluster's bill per
//! month. The `clusters` table, the fleet totals (page and EMF) and the Athena queries use
//! this figure; nothing else multiplies prices. US list prices, in cents, so sums are exact.

use std::sync::LazyLock;

const EMBEDDED: &str = include_str!("../data/eks-prices.csv");

/// The prices of an EKS cluster, per cluster-hour, and the hours AWS bills a month as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prices {
    pub standard_cents_per_hour: i64,
    pub extended_cents_per_hour: i64,
    pub hours_per_month: i64,
}

impl Prices {
    /// Parses `item,value,unit,source`; every item is required once, with a source.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (mut standard, mut extended, mut hours) = (None, None, None);
        for (i, line) in text.lines().enumerate().skip(1) {
            if line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.splitn(4, ',').map(str::trim).collect();
            let [item, value, _unit, source] = cols[..] else {
                return Err(format!("line {}: expected item,value,unit,source", i + 1));
            };
            if !source.starts_with("https://") {
                return Err(format!("line {}: the source must be an https URL", i + 1));
            }
            let slot = match item {
                "standard_support" => &mut standard,
                "extended_support" => &mut extended,
                "hours_per_month" => &mut hours,
                other => return Err(format!("line {}: unknown item `{other}`", i + 1)),
            };
            let parsed = if item == "hours_per_month" {
                value.parse::<i64>().map_err(|e| e.to_string())
            } else {
                cents(value)
            }
            .map_err(|e| format!("line {}: `{value}`: {e}", i + 1))?;
            if slot.replace(parsed).is_some() {
                return Err(format!("line {}: `{item}` given twice", i + 1));
            }
        }
        let need = |v: Option<i64>, item: &str| v.ok_or(format!("no `{item}` row"));
        Ok(Self {
            standard_cents_per_hour: need(standard, "standard_support")?,
            extended_cents_per_hour: need(extended, "extended_support")?,
            hours_per_month: need(hours, "hours_per_month")?,
        })
    }

    /// The table compiled into the binary, parsed once.
    pub fn embedded() -> Self {
        static PRICES: LazyLock<Prices> = LazyLock::new(|| {
            Prices::parse(EMBEDDED).expect("data/eks-prices.csv is valid (unit-tested)")
        });
        *PRICES
    }

    /// A month of one cluster in standard support.
    pub fn standard_cents_per_month(self) -> i64 {
        self.standard_cents_per_hour * self.hours_per_month
    }

    /// A month of one cluster in extended support.
    pub fn extended_cents_per_month(self) -> i64 {
        self.extended_cents_per_hour * self.hours_per_month
    }

    /// What extended support adds to one cluster's month: the figure every output shows.
    pub fn extended_extra_cents_per_month(self) -> i64 {
        self.extended_cents_per_month() - self.standard_cents_per_month()
    }

    /// What extended support adds this month to a cluster billed at the extended price or
    /// not (0 in standard support).
    pub fn extra_cents_per_month(self, billed_extended: bool) -> i64 {
        if billed_extended {
            self.extended_extra_cents_per_month()
        } else {
            0
        }
    }
}

/// `0.60` → 60: dollars with at most two decimals, read exactly.
fn cents(s: &str) -> Result<i64, String> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !(whole.chars().chain(frac.chars())).all(|c| c.is_ascii_digit())
    {
        return Err("expected dollars such as 0.60".into());
    }
    let whole: i64 = whole.parse().map_err(|e| format!("{e}"))?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|e| format!("{e}"))?;
    Ok(whole * 100 + frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published prices: $0.10 and $0.60 per cluster-hour, a month of 730 hours
    /// (365 × 24 / 12), so extended support adds $0.50 × 730 = $365.00 per cluster-month.
    #[test]
    fn extended_support_adds_365_dollars_per_cluster_month() {
        let p = Prices::embedded();
        assert_eq!(
            (
                p.standard_cents_per_hour,
                p.extended_cents_per_hour,
                p.hours_per_month
            ),
            (10, 60, 730)
        );
        assert_eq!(p.hours_per_month, 365 * 24 / 12);
        assert_eq!(p.standard_cents_per_month(), 7_300);
        assert_eq!(p.extended_cents_per_month(), 43_800);
        assert_eq!(p.extended_extra_cents_per_month(), 36_500);
        assert_eq!(p.extra_cents_per_month(true), 36_500);
        assert_eq!(p.extra_cents_per_month(false), 0);
    }

    #[test]
    fn prices_are_read_exactly_and_bad_rows_are_refused() {
        assert_eq!(cents("0.60"), Ok(60));
        assert_eq!(cents("1.5"), Ok(150));
        assert_eq!(cents("2"), Ok(200));
        for bad in ["0.605", "", ".5", "-0.10", "0,10", "abc"] {
            assert!(cents(bad).is_err(), "{bad}");
        }
        let head = "item,value,unit,source\n";
        let row = |i: &str, v: &str| format!("{i},{v},x,https://example.org\n");
        let full = format!(
            "{head}{}{}{}",
            row("standard_support", "0.10"),
            row("extended_support", "0.60"),
            row("hours_per_month", "730")
        );
        assert_eq!(Prices::parse(&full), Ok(Prices::embedded()));
        let missing = format!("{head}{}", row("standard_support", "0.10"));
        assert!(
            Prices::parse(&missing)
                .unwrap_err()
                .contains("extended_support")
        );
        let unsourced = format!("{head}standard_support,0.10,x,somewhere\n");
        assert!(Prices::parse(&unsourced).unwrap_err().contains("https"));
    }
}
