################################################################################
# General
################################################################################

variable "name" {
  description = "Name (and prefix) of the resources: KMS alias, Glue database default, Athena workgroup default"
  type        = string
  default     = "eksup"
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}

################################################################################
# Results bucket
################################################################################

variable "bucket_name" {
  description = "Name of the results bucket. Default: `<name>-results-<account id>-<region>`"
  type        = string
  default     = null
}

variable "results_prefix" {
  description = "Key prefix the writers put results under (`eksup run` `outputs.s3.prefix`); the tables read `<prefix>/findings/` and `<prefix>/clusters/`"
  type        = string
  default     = "eksup/v1"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.results_prefix))
    error_message = "results_prefix is one or more key segments separated by `/`, without a leading or trailing `/`."
  }
}

variable "force_destroy" {
  description = "Whether `terraform destroy` may delete a bucket that still holds results"
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "ARN of an existing KMS key for the bucket, the Athena results and the writers. Default: a key is created. A key passed in must allow the writers (runner role, writer accounts) kms:GenerateDataKey and kms:Decrypt through S3"
  type        = string
  default     = null

  # The bucket policy compares the key the writers send with this string: a key id or an
  # alias would never be equal to the ARN they must send.
  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[^:]+:kms:[^:]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn is a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), not an id or an alias."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the created KMS key is deleted"
  type        = number
  default     = 30
}

variable "lifecycle_rules" {
  description = "Retention: results expire after `results_expiration_days`, Athena query results after `athena_results_expiration_days`, noncurrent versions after `noncurrent_version_expiration_days`; incomplete multipart uploads are always aborted after 1 day"
  type = object({
    results_expiration_days            = optional(number, 400)
    athena_results_expiration_days     = optional(number, 30)
    noncurrent_version_expiration_days = optional(number, 30)
  })
  default = {}
}

variable "access_logging" {
  description = "Server access logging of the results bucket into an existing log bucket. Default: off"
  type = object({
    target_bucket = string
    target_prefix = optional(string, "eksup-results/")
  })
  default = null
}

variable "writer_account_ids" {
  description = "Accounts whose principals may put results under the prefix (in-cluster CronJobs in member accounts, see modules/cluster-writer), only with SSE-KMS"
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.writer_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "writer_account_ids are 12-digit AWS account ids."
  }
}

variable "writer_organization_id" {
  description = "AWS Organization id (`o-…`) whose principals may put results under the prefix (aws:PrincipalOrgID), only with SSE-KMS. Default: none"
  type        = string
  default     = null

  validation {
    condition     = var.writer_organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.writer_organization_id))
    error_message = "writer_organization_id looks like o-abcdef1234."
  }
}

################################################################################
# Glue and Athena
################################################################################

variable "glue_database_name" {
  description = "Glue database holding the `findings` and `clusters` tables and the views. Default: `name` with `-` as `_`"
  type        = string
  default     = null
}

variable "partition_projection_start" {
  description = "First `dt` partition the tables project (yyyy-MM-dd); the range runs to NOW"
  type        = string
  default     = "2024-01-01"

  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", var.partition_projection_start))
    error_message = "partition_projection_start is a date, yyyy-MM-dd."
  }
}

variable "athena" {
  description = "Athena workgroup: name (default `name`), bytes-scanned cutoff per query, key prefix of query results in the bucket"
  type = object({
    workgroup_name                 = optional(string)
    bytes_scanned_cutoff_per_query = optional(number, 10737418240)
    results_prefix                 = optional(string, "athena-results")
    force_destroy                  = optional(bool, false)
  })
  default = {}

  validation {
    condition     = var.athena.bytes_scanned_cutoff_per_query >= 10485760
    error_message = "Athena's smallest bytes-scanned cutoff is 10 MB (10485760)."
  }
}

################################################################################
# Runner role
################################################################################

variable "runner" {
  description = "The central runner's IAM role. `trust` chooses who may assume it: `pod_identity` (EKS Pod Identity), `irsa` (needs `oidc_provider_arn`) or `ecs` (ECS tasks). It may assume `member_role_name` in `member_account_ids`, or in any account of the Organization `member_organization_id` (one of the two is required), put only the objects named after `writer` (`writer` of its eksup configuration; with `shards` > 1 also the `<writer>-shard-<I>-of-<N>` names of an Indexed Job's pods) and, when `publish_report` is on, the fleet page, use the KMS key, list the organization's accounts and organizational units when `organization_discovery` is on, and read the `clusters` and `findings` tables back when `publish_report` is on (`outputs.fleet_page: true` with S3 as the only output builds the page from the bucket)"
  type = object({
    create                 = optional(bool, true)
    name                   = optional(string, "eksup-runner")
    trust                  = optional(string, "pod_identity")
    oidc_provider_arn      = optional(string)
    namespace              = optional(string, "eksup")
    service_account        = optional(string, "eksup")
    member_role_name       = optional(string, "eksup-reader")
    member_account_ids     = optional(list(string), [])
    member_organization_id = optional(string)
    writer                 = optional(string, "central-runner")
    shards                 = optional(number, 1)
    organization_discovery = optional(bool, false)
    publish_report         = optional(bool, false)
    permissions_boundary   = optional(string)
    max_session_duration   = optional(number, 3600)
  })
  default = {}

  validation {
    condition     = contains(["pod_identity", "irsa", "ecs"], var.runner.trust)
    error_message = "runner.trust is pod_identity, irsa or ecs."
  }

  validation {
    condition     = var.runner.trust != "irsa" || var.runner.oidc_provider_arn != null
    error_message = "runner.trust = irsa needs runner.oidc_provider_arn."
  }

  validation {
    condition     = alltrue([for id in var.runner.member_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "runner.member_account_ids are 12-digit AWS account ids."
  }

  # Never `iam::*:role/…` unbounded: the accounts are listed, or the Organization bounds them.
  validation {
    condition     = !var.runner.create || length(var.runner.member_account_ids) > 0 || var.runner.member_organization_id != null
    error_message = "runner needs member_account_ids or member_organization_id: the role may assume the member role only in those accounts."
  }

  validation {
    condition     = var.runner.member_organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.runner.member_organization_id))
    error_message = "runner.member_organization_id looks like o-abcdef1234."
  }
}
