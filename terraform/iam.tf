locals {
  runner = var.runner

  runner_object_arns = [for key in module.runner_keys.keys : "${local.bucket_arn}/${key}"]
  # The host and path of the OIDC issuer, as IRSA's condition keys name it.
  oidc_issuer = local.runner.oidc_provider_arn == null ? null : replace(local.runner.oidc_provider_arn, "/^arn:[^:]+:iam::[0-9]{12}:oidc-provider\\//", "")

  # Listed accounts: one ARN each. Otherwise any account, bounded to the Organization by
  # aws:ResourceOrgID (the member role's organization) in the statement's condition.
  member_role_arns = length(local.runner.member_account_ids) > 0 ? [
    for id in local.runner.member_account_ids : "arn:${local.partition}:iam::${id}:role/${local.runner.member_role_name}"
  ] : ["arn:${local.partition}:iam::*:role/${local.runner.member_role_name}"]
}

# The keys the runner may put (modules/object-keys): named after its writer (and its shards),
# plus the fleet page when it publishes one.
module "runner_keys" {
  source = "./modules/object-keys"

  prefix     = local.results_prefix
  writers    = [local.runner.writer]
  shards     = local.runner.shards
  fleet_page = local.runner.publish_report
}

################################################################################
# Central runner role: who may assume it
################################################################################

data "aws_iam_policy_document" "runner_trust" {
  count = local.runner.create ? 1 : 0

  dynamic "statement" {
    for_each = local.runner.trust == "pod_identity" ? [1] : []

    content {
      sid     = "EksPodIdentity"
      actions = ["sts:AssumeRole", "sts:TagSession"]

      principals {
        type        = "Service"
        identifiers = ["pods.eks.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }

  dynamic "statement" {
    for_each = local.runner.trust == "irsa" ? [1] : []

    content {
      sid     = "IrsaServiceAccount"
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = [local.runner.oidc_provider_arn]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.oidc_issuer}:sub"
        values   = ["system:serviceaccount:${local.runner.namespace}:${local.runner.service_account}"]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.oidc_issuer}:aud"
        values   = ["sts.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.runner.trust == "ecs" ? [1] : []

    content {
      sid     = "EcsTasks"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "Service"
        identifiers = ["ecs-tasks.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
      }
    }
  }
}

resource "aws_iam_role" "runner" {
  count = local.runner.create ? 1 : 0

  name                 = local.runner.name
  description          = "eksup central runner: assumes ${local.runner.member_role_name} in member accounts, writes results to ${local.bucket_name}/${local.results_prefix}"
  assume_role_policy   = data.aws_iam_policy_document.runner_trust[0].json
  permissions_boundary = local.runner.permissions_boundary
  max_session_duration = local.runner.max_session_duration

  tags = var.tags
}

################################################################################
# Central runner role: what it may do
################################################################################

data "aws_iam_policy_document" "runner" {
  count = local.runner.create ? 1 : 0

  statement {
    sid = "AssumeMemberRoles"
    # The runner sets source identity `eksup` on each member session, which needs
    # sts:SetSourceIdentity in its own policy as well as in the member role's trust.
    actions   = ["sts:AssumeRole", "sts:SetSourceIdentity"]
    resources = local.member_role_arns

    dynamic "condition" {
      for_each = local.runner.member_organization_id != null ? [1] : []

      content {
        test     = "StringEquals"
        variable = "aws:ResourceOrgID"
        values   = [local.runner.member_organization_id]
      }
    }
  }

  # Its own objects, and the fleet page when it publishes one: never an in-cluster writer's.
  statement {
    sid       = "WriteOwnResults"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = local.runner_object_arns
  }

  statement {
    sid       = "EncryptResults"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [local.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  # `outputs.fleet_page: true` reads the window's tables back to draw the page: the listing is
  # limited to the two tables' partitions, the reads to their objects.
  dynamic "statement" {
    for_each = local.runner.publish_report ? [1] : []

    content {
      sid       = "ListTablePartitionsForReport"
      actions   = ["s3:ListBucket"]
      resources = [local.bucket_arn]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${local.results_prefix}/clusters/*", "${local.results_prefix}/findings/*"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.runner.publish_report ? [1] : []

    content {
      sid     = "ReadTablesForReport"
      actions = ["s3:GetObject"]
      resources = [
        "${local.bucket_arn}/${local.results_prefix}/clusters/*",
        "${local.bucket_arn}/${local.results_prefix}/findings/*",
      ]
    }
  }

  dynamic "statement" {
    for_each = local.runner.organization_discovery ? [1] : []

    content {
      sid = "DiscoverOrganizationAccounts"
      # ListAccounts for the whole Organization; with ou_ids, each OU's accounts and child
      # OUs (eksup walks nested OUs).
      actions = [
        "organizations:ListAccounts",
        "organizations:ListAccountsForParent",
        "organizations:ListOrganizationalUnitsForParent",
      ]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "runner" {
  count = local.runner.create ? 1 : 0

  name   = "eksup-runner"
  role   = aws_iam_role.runner[0].id
  policy = data.aws_iam_policy_document.runner[0].json
}
