locals {
  # The policy the tests prove matches the calls eksup makes; deployed as it is.
  read_policy = file("${path.module}/../../../deploy/iam/eksup-policy.json")
}

################################################################################
# Member role: trusted by the central runner, read-only
################################################################################

data "aws_iam_policy_document" "trust" {
  statement {
    sid = "CentralRunner"
    # eksup sets a source identity on every session (CloudTrail shows `eksup` behind each
    # call); AWS refuses that AssumeRole unless the trust policy allows sts:SetSourceIdentity.
    actions = ["sts:AssumeRole", "sts:SetSourceIdentity"]

    principals {
      type        = "AWS"
      identifiers = [var.runner_role_arn]
    }

    dynamic "condition" {
      for_each = var.external_id != null ? [1] : []

      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = [var.external_id]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.name
  description          = "eksup: read-only upgrade-readiness analysis, assumed by ${var.runner_role_arn}"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  permissions_boundary = var.permissions_boundary
  max_session_duration = var.max_session_duration

  tags = var.tags
}

resource "aws_iam_role_policy" "read" {
  name   = "eksup-read"
  role   = aws_iam_role.this.id
  policy = local.read_policy
}

################################################################################
# EKS access entries: the role as a member of the read-only Kubernetes group
################################################################################

resource "aws_eks_access_entry" "this" {
  for_each = toset(var.access_entries)

  cluster_name      = each.value
  principal_arn     = aws_iam_role.this.arn
  kubernetes_groups = var.kubernetes_groups
  type              = "STANDARD"

  tags = var.tags
}
