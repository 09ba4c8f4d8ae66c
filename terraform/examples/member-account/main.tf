provider "aws" {
  region = "eu-west-1"
}

data "aws_partition" "current" {}

locals {
  # Output `runner_role_arn` of examples/complete, in the reporting account.
  runner_role_arn = "arn:${data.aws_partition.current.partition}:iam::999999999999:role/eksup-runner"
}

variable "external_id" {
  description = "External ID the central runner presents (`fleet.external_id` of its configuration)"
  type        = string
  sensitive   = true
}

################################################################################
# Member account: the role the central runner assumes, and its Kubernetes access
################################################################################

module "member_role" {
  source = "../../modules/member-role"

  name            = "eksup-reader"
  runner_role_arn = local.runner_role_arn
  external_id     = var.external_id

  # Clusters of this account and region; each gets an access entry in the group
  # `eksup-readers`, which deploy/kubernetes/base binds to the read-only ClusterRole.
  access_entries = ["prod", "staging"]

  tags = {
    Example = "member-account"
  }
}

output "role_arn" {
  description = "ARN of the member role"
  value       = module.member_role.role_arn
}
