//! The `fleet` section of the settings, owned here (the configuration assembles it): which
//! accounts, regions and clusters the central runner reads, and its limits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The `fleet` section: which accounts, regions and clusters the central runner reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FleetSettings {
    /// Role assumed in each member account: `arn:<partition>:iam::<id>:role/<role_name>`, in the runner region's partition.
    pub role_name: Option<String>,
    /// Sent with every AssumeRole unless an account sets its own.
    pub external_id: Option<String>,
    /// Member accounts: quoted 12-digit IDs, or `{id, role_arn, external_id}`.
    pub accounts: Vec<AccountSettings>,
    /// Every ACTIVE account of the AWS Organization instead of `accounts`.
    pub organization: Option<OrganizationSettings>,
    /// Regions to read in every account, or `enabled` for each account's enabled regions.
    pub regions: Regions,
    /// Cluster-name globs to keep (all when empty).
    pub include: Vec<String>,
    /// Cluster-name globs to drop.
    pub exclude: Vec<String>,
    /// Only clusters that carry every one of these tags.
    pub tags: BTreeMap<String, String>,
    /// Clusters analyzed at once.
    pub concurrency: usize,
    /// Seconds per cluster, collection included.
    pub cluster_timeout_seconds: u64,
}

impl Default for FleetSettings {
    fn default() -> Self {
        Self {
            role_name: None,
            external_id: None,
            accounts: Vec::new(),
            organization: None,
            regions: Regions::List(Vec::new()),
            include: Vec::new(),
            exclude: Vec::new(),
            tags: BTreeMap::new(),
            concurrency: 16,
            cluster_timeout_seconds: 300,
        }
    }
}

/// A member account: its 12-digit ID (as a string) or an object with its own role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountSettings {
    pub id: String,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
}

impl schemars::JsonSchema for AccountSettings {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AccountSettings".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "oneOf": [
                { "type": "string", "description": "a quoted 12-digit account ID" },
                {
                    "type": "object",
                    "properties": {
                        "id": { "type": "string" },
                        "role_arn": { "type": ["string", "null"] },
                        "external_id": { "type": ["string", "null"] }
                    },
                    "required": ["id"]
                }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for AccountSettings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            id: String,
            #[serde(default)]
            role_arn: Option<String>,
            #[serde(default)]
            external_id: Option<String>,
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = AccountSettings;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a quoted 12-digit account ID or {id, role_arn, external_id}")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<AccountSettings, E> {
                Ok(AccountSettings {
                    id: s.to_string(),
                    role_arn: None,
                    external_id: None,
                })
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<AccountSettings, E> {
                Err(E::custom(format!(
                    "account ID {v} is a number: quote it (\"{v:012}\"), or an ID with leading zeros loses them"
                )))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<AccountSettings, E> {
                self.visit_i64(v as i64)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<AccountSettings, A::Error> {
                let f = Full::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(AccountSettings {
                    id: f.id,
                    role_arn: f.role_arn,
                    external_id: f.external_id,
                })
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `fleet.organization`: accounts from `organizations:ListAccounts`, or from the OU tree
/// under `ou_ids` (`ListAccountsForParent` and `ListOrganizationalUnitsForParent`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OrganizationSettings {
    /// Only accounts under these organizational units, nested OUs included (all when empty).
    pub ou_ids: Vec<String>,
    /// Account IDs to leave out.
    pub exclude: Vec<String>,
}

/// `fleet.regions`: a list, or `enabled` for every region enabled in each account.
#[derive(Debug, Clone, PartialEq)]
pub enum Regions {
    List(Vec<String>),
    Enabled,
}

/// As written: the list, or `"enabled"`.
impl Serialize for Regions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::List(list) => list.serialize(s),
            Self::Enabled => s.serialize_str("enabled"),
        }
    }
}

impl schemars::JsonSchema for Regions {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Regions".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "oneOf": [
                { "type": "array", "items": { "type": "string" } },
                { "const": "enabled" }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for Regions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Regions;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of regions or \"enabled\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Regions, E> {
                if s == "enabled" {
                    Ok(Regions::Enabled)
                } else {
                    Err(E::custom(format!(
                        "`{s}`: give a list of regions, or \"enabled\" for every region enabled in each account"
                    )))
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Regions, A::Error> {
                Vec::<String>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(Regions::List)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// An AWS account ID: exactly 12 digits.
fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.chars().all(|c| c.is_ascii_digit())
}

/// An Organizations parent ID as AWS accepts it: `ou-<root part>-<ou part>` or `r-<root>`.
fn is_parent_id(id: &str) -> bool {
    let part = |s: &str, min: usize| {
        (min..=32).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    };
    if let Some(root) = id.strip_prefix("r-") {
        return part(root, 4);
    }
    id.strip_prefix("ou-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(root, ou)| part(root, 4) && part(ou, 8))
}

/// Checks what serde cannot: that the section is complete and consistent. Messages name
/// the key; the caller adds where the layer came from.
pub fn validate(f: &FleetSettings) -> Result<(), String> {
    for (i, a) in f.accounts.iter().enumerate() {
        if !is_account_id(&a.id) {
            return Err(format!(
                "key `fleet.accounts[{i}]`: `{}` is not a 12-digit AWS account ID",
                a.id
            ));
        }
        if a.role_arn.is_none() && f.role_name.is_none() {
            return Err(format!(
                "key `fleet.role_name`: account {} has no `role_arn`, so `fleet.role_name` is needed",
                a.id
            ));
        }
    }
    if f.organization.is_some() && f.role_name.is_none() {
        return Err(
            "key `fleet.role_name`: organization discovery needs the member role name".into(),
        );
    }
    if let Some(org) = &f.organization
        && let Some((i, bad)) = org
            .ou_ids
            .iter()
            .enumerate()
            .find(|(_, o)| !is_parent_id(o))
    {
        return Err(format!(
            "key `fleet.organization.ou_ids[{i}]`: `{bad}` is not an organizational unit ID (ou-ab12-cdefgh34) or a root ID (r-ab12)"
        ));
    }
    if let Some(org) = &f.organization
        && let Some(bad) = org.exclude.iter().find(|a| !is_account_id(a))
    {
        return Err(format!(
            "key `fleet.organization.exclude`: `{bad}` is not a quoted 12-digit AWS account ID"
        ));
    }
    match (f.accounts.is_empty(), f.organization.is_some()) {
        (true, false) => {
            return Err("key `fleet`: list `accounts`, or set `organization: {}` to read every account of the AWS Organization".into());
        }
        (false, true) => {
            return Err(
                "key `fleet`: `accounts` and `organization` are both set: use one of them".into(),
            );
        }
        _ => {}
    }
    if let Regions::List(list) = &f.regions
        && list.is_empty()
    {
        return Err("key `fleet.regions`: list the regions, or set \"enabled\"".into());
    }
    if f.concurrency == 0 {
        return Err("key `fleet.concurrency`: must be at least 1".into());
    }
    if f.cluster_timeout_seconds == 0 {
        return Err("key `fleet.cluster_timeout_seconds`: must be at least 1".into());
    }
    for (key, globs) in [("include", &f.include), ("exclude", &f.exclude)] {
        for g in globs {
            globset::Glob::new(g).map_err(|e| format!("key `fleet.{key}`: `{g}`: {e}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organization_parent_ids_follow_the_aws_pattern() {
        for good in ["r-ab12", "ou-ab12-cdefgh34", "ou-0abc-1234567890abcdef"] {
            assert!(is_parent_id(good), "{good}");
        }
        for bad in [
            "",
            "ou-",
            "ou-ab12",
            "ou-ab1-cdefgh34",
            "ou-ab12-cdefg",
            "OU-AB12-CDEFGH34",
            "r-ab",
            "prod",
        ] {
            assert!(!is_parent_id(bad), "{bad}");
        }
    }
}
