variable "cluster_name" {
  description = "EKS cluster whose in-cluster CronJob writes its own results"
  type        = string
}

variable "name" {
  description = "Name of the role. Default: `eksup-<cluster_name>`"
  type        = string
  default     = null
}

variable "writer" {
  description = "Writer name of the CronJob (`writer` in its eksup configuration): the role may put only objects named after it. Default: `cluster_name`"
  type        = string
  default     = null

  validation {
    # eksup replaces other characters by `_` in object keys, which would no longer match.
    condition     = var.writer == null || can(regex("^[A-Za-z0-9_-]+$", var.writer))
    error_message = "writer is made of letters, digits, `_` and `-` (eksup writes a dot as `_`)."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of eksup's service account"
  type        = string
  default     = "eksup"
}

variable "service_account" {
  description = "eksup's Kubernetes service account"
  type        = string
  default     = "eksup"
}

variable "results" {
  description = "Where the central account keeps results: bucket, key prefix and the bucket's KMS key (outputs `bucket_id`, `results_prefix`, `kms_key_arn` of the root module). The bucket policy must list this account in `writer_account_ids` (or its organization)"
  type = object({
    bucket      = string
    prefix      = optional(string, "eksup/v1")
    kms_key_arn = string
  })

  validation {
    condition     = can(regex("^arn:[^:]+:kms:[^:]+:[0-9]{12}:key/.+$", var.results.kms_key_arn))
    error_message = "results.kms_key_arn is a KMS key ARN (an alias cannot be used across accounts)."
  }
}

variable "permissions_boundary" {
  description = "ARN of a permissions boundary for the role. Default: none"
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
