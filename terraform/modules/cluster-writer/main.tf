data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name      = coalesce(var.name, "eksup-${var.cluster_name}")
  writer    = coalesce(var.writer, var.cluster_name)
  partition = data.aws_partition.current.partition
  # The policy the tests prove matches the calls eksup makes; deployed as it is.
  read_policy = file("${path.module}/../../../deploy/iam/eksup-policy.json")
  # The bucket's region comes from the key's ARN: the key lives beside the bucket.
  results_region = split(":", var.results.kms_key_arn)[3]
}

# The keys this cluster's job may put: only those carrying its writer name, never another
# writer's or the fleet page (../object-keys says how the patterns keep them apart).
module "keys" {
  source = "../object-keys"

  prefix  = var.results.prefix
  writers = [local.writer]
}

################################################################################
# Role for eksup's service account (EKS Pod Identity)
################################################################################

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "EksPodIdentity"
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = local.name
  description          = "eksup in-cluster CronJob of ${var.cluster_name}: reads the cluster, writes results to ${var.results.bucket}/${var.results.prefix}"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  permissions_boundary = var.permissions_boundary

  tags = var.tags
}

resource "aws_iam_role_policy" "read" {
  name   = "eksup-read"
  role   = aws_iam_role.this.id
  policy = local.read_policy
}

data "aws_iam_policy_document" "write" {
  statement {
    sid       = "WriteOwnResults"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [for key in module.keys.keys : "arn:${local.partition}:s3:::${var.results.bucket}/${key}"]
  }

  statement {
    sid       = "EncryptResults"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.results.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.results_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "write" {
  name   = "eksup-write-results"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.write.json
}

resource "aws_eks_pod_identity_association" "this" {
  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_account
  role_arn        = aws_iam_role.this.arn

  tags = var.tags
}
