provider "aws" {
  region = local.region
}

locals {
  name   = "eksup"
  region = "eu-west-1"

  # Accounts whose clusters the central runner analyzes (each deploys examples/member-account),
  # and accounts whose clusters run their own in-cluster CronJob (examples/in-cluster).
  member_account_ids = ["111111111111", "222222222222"]
  writer_account_ids = ["333333333333"]

  tags = {
    Example    = "complete"
    Repository = "eksup"
  }
}

################################################################################
# Reporting account: bucket, Glue tables and views, Athena workgroup, runner role
################################################################################

module "eksup" {
  source = "../.."

  name           = local.name
  results_prefix = "eksup/v1"

  writer_account_ids = local.writer_account_ids

  lifecycle_rules = {
    results_expiration_days = 400
  }

  athena = {
    bytes_scanned_cutoff_per_query = 1073741824
  }

  runner = {
    trust              = "pod_identity"
    member_role_name   = "eksup-reader"
    member_account_ids = local.member_account_ids
  }

  tags = local.tags
}

# The runner runs as a Kubernetes Job in a cluster of this account (deploy/kubernetes,
# central-runner overlay): EKS Pod Identity gives its service account the runner role.
resource "aws_eks_pod_identity_association" "runner" {
  cluster_name    = "tools"
  namespace       = "eksup"
  service_account = "eksup"
  role_arn        = module.eksup.runner_role_arn

  tags = local.tags
}

################################################################################
# Alerts on the metrics eksup run prints (outputs.emf)
################################################################################

module "alerts" {
  source = "../../modules/alerts"

  name              = local.name
  namespace         = "eksup"
  expected_clusters = 12
  email_addresses   = ["platform-team@example.com"]

  tags = local.tags
}
