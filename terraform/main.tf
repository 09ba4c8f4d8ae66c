data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  bucket_name    = coalesce(var.bucket_name, "${var.name}-results-${local.account_id}-${local.region}")
  bucket_arn     = "arn:${local.partition}:s3:::${local.bucket_name}"
  results_prefix = var.results_prefix
  # Every object eksup writes: tables, JSON lines and reports.
  results_objects_arn = "${local.bucket_arn}/${local.results_prefix}/*"
  # What writers of other accounts may put at most (each one's own role narrows it to its
  # writer name): every writer's keys, never the fleet page.
  any_writer_object_arns = [for key in module.any_writer_keys.keys : "${local.bucket_arn}/${key}"]
  fleet_page_arns        = [for key in module.any_writer_keys.page_keys : "${local.bucket_arn}/${key}"]

  create_kms_key = var.kms_key_arn == null
  kms_key_arn    = local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  writer_account_roots = [for id in var.writer_account_ids : "arn:${local.partition}:iam::${id}:root"]
  runner_role_arn      = var.runner.create ? aws_iam_role.runner[0].arn : null

  # The tables' columns, exactly as `eksup schema --format glue-json` prints them (a test
  # keeps this file equal to the binary's output). Appending columns to the binary means
  # regenerating this one file.
  schema = jsondecode(file("${path.module}/schema/tables.json"))
  tables = { for name, columns in local.schema : name => columns if name != "schema_version" }

  athena_dir = "${path.module}/../athena"
}

module "any_writer_keys" {
  source = "./modules/object-keys"

  prefix  = local.results_prefix
  writers = ["*"]
}

################################################################################
# KMS key: bucket default encryption, what the writers send, Athena query results
################################################################################

data "aws_iam_policy_document" "kms" {
  count = local.create_kms_key ? 1 : 0

  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  dynamic "statement" {
    for_each = length(local.writer_account_roots) > 0 ? [1] : []

    content {
      sid       = "WriterAccountsEncryptThroughS3"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = local.writer_account_roots
      }

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.writer_organization_id != null ? [1] : []

    content {
      sid       = "OrganizationEncryptsThroughS3"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalOrgID"
        values   = [var.writer_organization_id]
      }

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "eksup results (${local.bucket_name}) and Athena query results"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.kms[0].json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${var.name}-results"
  target_key_id = aws_kms_key.this[0].key_id
}

################################################################################
# Results bucket
################################################################################

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is the deployer's choice; the results are re-created by the next run
  #checkov:skip=CKV2_AWS_62:No consumer needs object events; Athena reads the prefixes through partition projection
  bucket        = local.bucket_name
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-results"
    status = "Enabled"

    filter {
      prefix = "${local.results_prefix}/"
    }

    expiration {
      days = var.lifecycle_rules.results_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.lifecycle_rules.noncurrent_version_expiration_days
    }
  }

  rule {
    id     = "expire-athena-results"
    status = "Enabled"

    filter {
      prefix = "${var.athena.results_prefix}/"
    }

    expiration {
      days = var.lifecycle_rules.athena_results_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  count = var.access_logging != null ? 1 : 0

  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_logging.target_bucket
  target_prefix = var.access_logging.target_prefix
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # Results are encrypted with SSE-KMS under this bucket's key whatever the writer sends: the
  # default encryption applies when a request names none, and these two statements refuse
  # any other choice. `IfExists`, because UploadPart requests carry no encryption header.
  statement {
    sid       = "DenyResultsWithoutSseKms"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = [local.results_objects_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }

  statement {
    sid       = "DenyResultsUnderAnotherKey"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = [local.results_objects_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [local.kms_key_arn]
    }
  }

  # Only the central runner writes the fleet page, whatever another principal's own policy
  # allows (same-account roles need no grant here, so a Deny is what stops them).
  dynamic "statement" {
    for_each = var.runner.create ? [1] : []

    content {
      sid       = "DenyFleetPageToAllButRunner"
      effect    = "Deny"
      actions   = ["s3:PutObject"]
      resources = local.fleet_page_arns

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "ArnNotEquals"
        variable = "aws:PrincipalArn"
        values   = [local.runner_role_arn]
      }
    }
  }

  dynamic "statement" {
    for_each = var.runner.create ? [1] : []

    content {
      sid       = "RunnerWritesResults"
      actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
      resources = local.runner_object_arns

      principals {
        type        = "AWS"
        identifiers = [local.runner_role_arn]
      }

      condition {
        test     = "StringEqualsIfExists"
        variable = "s3:x-amz-server-side-encryption"
        values   = ["aws:kms"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(local.writer_account_roots) > 0 ? [1] : []

    content {
      sid       = "WriterAccountsWriteResults"
      actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
      resources = local.any_writer_object_arns

      principals {
        type        = "AWS"
        identifiers = local.writer_account_roots
      }

      condition {
        test     = "StringEqualsIfExists"
        variable = "s3:x-amz-server-side-encryption"
        values   = ["aws:kms"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.writer_organization_id != null ? [1] : []

    content {
      sid       = "OrganizationWritesResults"
      actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
      resources = local.any_writer_object_arns

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalOrgID"
        values   = [var.writer_organization_id]
      }

      condition {
        test     = "StringEqualsIfExists"
        variable = "s3:x-amz-server-side-encryption"
        values   = ["aws:kms"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
