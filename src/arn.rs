//! ARNs for the partition of a region (DESIGN.md, "Configuration"): the commercial
//! partition's ARNs name no China or GovCloud resource, so each ARN carries its partition.

/// The partition of `region`: `aws-cn` for the China regions, `aws-us-gov` for GovCloud, the
/// isolated partitions by their region prefixes, else `aws`.
pub fn partition(region: &str) -> &'static str {
    // Longest prefixes first: `us-isob-` also starts with `us-iso`.
    const PREFIXES: [(&str, &str); 6] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-iso-", "aws-iso"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

/// The ARN of IAM role `role_name` in `account`, in `partition`.
pub fn iam_role(partition: &str, account: &str, role_name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{role_name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_region_maps_to_its_partition() {
        for (region, expected) in [
            ("us-east-1", "aws"),
            ("eu-west-1", "aws"),
            ("ap-southeast-3", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-gov-east-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eu-isoe-west-1", "aws-iso-e"),
            // Not a prefix match on a bare word: `us-go` is not GovCloud.
            ("us-go", "aws"),
            ("", "aws"),
        ] {
            assert_eq!(partition(region), expected, "{region}");
        }
    }

    #[test]
    fn role_arns_carry_the_partition() {
        assert_eq!(
            iam_role(partition("cn-north-1"), "012345678901", "eksup-reader"),
            "arn:aws-cn:iam::012345678901:role/eksup-reader"
        );
    }
}
