provider "aws" {
  region = "eu-west-1"
}

# ARNs for the partition of the provider's region (aws, aws-cn, aws-us-gov).
data "aws_partition" "current" {}

################################################################################
# A cluster that reports on itself: the in-cluster CronJob (deploy/kubernetes, in-cluster
# overlay) writes to the central bucket; the reporting account lists this account in
# `writer_account_ids`.
################################################################################

module "cluster_writer" {
  source = "../../modules/cluster-writer"

  cluster_name = "prod"
  # The CronJob's `writer:` (deploy/kubernetes/overlays/in-cluster/config.yaml): the role may
  # put only objects named after it. The default is cluster_name; set here to show the link.
  writer = "prod"

  # Outputs `bucket_id`, `results_prefix` and `kms_key_arn` of examples/complete.
  results = {
    bucket      = "eksup-results-999999999999-eu-west-1"
    prefix      = "eksup/v1"
    kms_key_arn = "arn:${data.aws_partition.current.partition}:kms:eu-west-1:999999999999:key/0d4c6a0e-2f1b-4d3c-9a8e-1b2c3d4e5f60"
  }

  tags = {
    Example = "in-cluster"
  }
}

output "role_arn" {
  description = "ARN of the role the CronJob's service account receives"
  value       = module.cluster_writer.role_arn
}

output "eksup_s3_output" {
  description = "The `outputs.s3` block of the CronJob's eksup configuration"
  value       = module.cluster_writer.eksup_s3_output
}

output "writer" {
  description = "The CronJob's `writer:`"
  value       = module.cluster_writer.writer
}
