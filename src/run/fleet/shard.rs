//! Sharding: N pods (a Kubernetes Indexed Job, an AWS Batch array job) split one fleet
//! without a coordinator. Each takes the (account, region) pairs whose position in the
//! sorted list is its index modulo N, so the shards are disjoint, cover every pair, and
//! differ in size by at most one pair.

use std::fmt;

/// Shard `index` of `count` (0-based, like `JOB_COMPLETION_INDEX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Self { index: 0, count: 1 }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `I/N` with 0 <= I < N.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a shard: use I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        Self::new(
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        )
        .ok_or_else(bad)
    }
}

/// Index and count variables of the engines eksup shards onto, in order of preference.
const ENGINES: [(&str, &str); 2] = [
    ("JOB_COMPLETION_INDEX", "JOB_COMPLETIONS"),
    ("AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE"),
];

impl Shard {
    pub fn new(index: u32, count: u32) -> Option<Self> {
        (count >= 1 && index < count).then_some(Self { index, count })
    }

    /// The shard from `--shard`, else from a Kubernetes Indexed Job's or an AWS Batch array
    /// job's variables (`lookup` reads the environment), else the whole fleet.
    pub fn resolve(
        flag: Option<Shard>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        if let Some(s) = flag {
            return Ok(s);
        }
        for (index_var, count_var) in ENGINES {
            let Some(index) = lookup(index_var) else {
                continue;
            };
            // An Indexed Job without JOB_COMPLETIONS in the pod spec is one shard of one only
            // if nothing says otherwise; a missing count is an error, not a silent 1.
            let count = lookup(count_var).ok_or_else(|| {
                format!(
                    "{index_var} is set but {count_var} is not: set both (the deploy manifests do)"
                )
            })?;
            let parse = |name: &str, v: &str| {
                v.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("{name}=`{v}` is not a number"))
            };
            let (index, count) = (parse(index_var, &index)?, parse(count_var, &count)?);
            return Self::new(index, count)
                .ok_or_else(|| format!("{index_var}={index} is not below {count_var}={count}"));
        }
        Ok(Self::default())
    }

    /// This shard's share of `items`: every item whose position in sorted order is the
    /// shard's index modulo the count. `items` are sorted and deduplicated first, so every
    /// shard that sees the same set agrees on the split.
    pub fn take<T: Ord + Clone>(&self, items: &[T]) -> Vec<T> {
        let mut sorted = items.to_vec();
        sorted.sort();
        sorted.dedup();
        sorted
            .into_iter()
            .enumerate()
            .filter(|(k, _)| *k as u32 % self.count == self.index)
            .map(|(_, item)| item)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn shards_partition_the_pairs_for_every_count_from_1_to_8() {
        let accounts = [
            "111111111111",
            "222222222222",
            "333333333333",
            "012345678901",
            "999999999999",
        ];
        let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
        let pairs: Vec<(String, String)> = accounts
            .iter()
            .flat_map(|a| regions.iter().map(move |r| (a.to_string(), r.to_string())))
            .collect();
        for n in 1..=8 {
            let mut seen: BTreeMap<(String, String), u32> = BTreeMap::new();
            let mut sizes = Vec::new();
            for i in 0..n {
                let mine = Shard::new(i, n).unwrap().take(&pairs);
                sizes.push(mine.len());
                for p in mine {
                    *seen.entry(p).or_default() += 1;
                }
            }
            assert_eq!(seen.len(), pairs.len(), "N={n}: every pair is covered");
            assert!(seen.values().all(|&c| c == 1), "N={n}: no pair twice");
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(max - min <= 1, "N={n}: balanced {sizes:?}");
        }
        // The order the pairs arrive in does not change the split.
        let mut reversed = pairs.clone();
        reversed.reverse();
        assert_eq!(
            Shard::new(2, 5).unwrap().take(&pairs),
            Shard::new(2, 5).unwrap().take(&reversed)
        );
    }

    #[test]
    fn shard_comes_from_the_flag_then_the_engines() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Shard::resolve(None, env(&[])), Ok(Shard::default()));
        assert_eq!(
            Shard::resolve(
                None,
                env(&[("JOB_COMPLETION_INDEX", "2"), ("JOB_COMPLETIONS", "4")])
            ),
            Ok(Shard { index: 2, count: 4 })
        );
        assert_eq!(
            Shard::resolve(
                None,
                env(&[
                    ("AWS_BATCH_JOB_ARRAY_INDEX", "1"),
                    ("AWS_BATCH_JOB_ARRAY_SIZE", "3")
                ])
            ),
            Ok(Shard { index: 1, count: 3 })
        );
        let flag = "1/2".parse().ok();
        assert_eq!(
            Shard::resolve(
                flag,
                env(&[("JOB_COMPLETION_INDEX", "0"), ("JOB_COMPLETIONS", "4")])
            ),
            Ok(Shard { index: 1, count: 2 })
        );
        let e = Shard::resolve(None, env(&[("JOB_COMPLETION_INDEX", "0")])).unwrap_err();
        assert!(e.contains("JOB_COMPLETIONS"), "{e}");
        let e = Shard::resolve(
            None,
            env(&[("JOB_COMPLETION_INDEX", "4"), ("JOB_COMPLETIONS", "4")]),
        )
        .unwrap_err();
        assert!(e.contains("not below"), "{e}");
        assert!("3/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
    }
}
