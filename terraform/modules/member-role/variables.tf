variable "name" {
  description = "Name of the member role the central runner assumes (`fleet.role_name` of the eksup configuration)"
  type        = string
  default     = "eksup-reader"
}

variable "runner_role_arn" {
  description = "ARN of the central runner's role (output `runner_role_arn` of the root module)"
  type        = string

  validation {
    condition     = can(regex("^arn:[^:]+:iam::[0-9]{12}:role/.+$", var.runner_role_arn))
    error_message = "runner_role_arn is an IAM role ARN."
  }
}

variable "external_id" {
  description = "External ID the runner must present (`fleet.external_id`). Default: none required"
  type        = string
  default     = null
  sensitive   = true
}

variable "access_entries" {
  description = "EKS clusters of this account (and region) to give the role an access entry, mapping it to the Kubernetes group that deploy/kubernetes/base binds to the read-only ClusterRole"
  type        = list(string)
  default     = []
}

variable "kubernetes_groups" {
  description = "Kubernetes groups of the access entries"
  type        = list(string)
  default     = ["eksup-readers"]
}

variable "permissions_boundary" {
  description = "ARN of a permissions boundary for the role. Default: none"
  type        = string
  default     = null
}

variable "max_session_duration" {
  description = "Longest session the runner can ask for, in seconds"
  type        = number
  default     = 3600
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
