variable "name" {
  description = "Prefix of the alarm names and name of the SNS topic"
  type        = string
  default     = "eksup"
}

variable "namespace" {
  description = "CloudWatch namespace `eksup run` writes its EMF metrics to (`outputs.emf.namespace`)"
  type        = string
  default     = "eksup"
}

variable "period_seconds" {
  description = "Period of every alarm. eksup runs once a day: one period is one day, so each run is one data point"
  type        = number
  default     = 86400

  validation {
    condition     = var.period_seconds >= 3600 && var.period_seconds % 60 == 0
    error_message = "period_seconds is a multiple of 60, at least an hour: the job is daily."
  }
}

variable "expected_clusters" {
  description = "Clusters the fleet reports each period (ClustersAnalyzed summed over every writer). Fewer for `silent_periods` periods in a row, or no data at all, raises the stopped-reporting alarm"
  type        = number
  default     = 1
}

variable "silent_periods" {
  description = "Periods in a row with fewer than `expected_clusters` analyzed (or no data) before the stopped-reporting alarm fires"
  type        = number
  default     = 2

  validation {
    condition     = var.silent_periods >= 1 && var.silent_periods * var.period_seconds <= 604800
    error_message = "silent_periods x period_seconds is at most 7 days, CloudWatch's longest evaluation range."
  }
}

variable "email_addresses" {
  description = "Addresses subscribed to the topic (each confirms by e-mail)"
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "KMS key encrypting the topic; it must let cloudwatch.amazonaws.com use it. Default: a key is created for the topic"
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}

variable "extended_support_monthly_budget_usd" {
  description = "US dollars per month that extended support may add to the fleet's EKS bill before the extended-support-cost alarm fires (ExtendedSupportExtraCostPerMonth; 0: any extra cost)"
  type        = number
  default     = 0

  validation {
    condition     = var.extended_support_monthly_budget_usd >= 0
    error_message = "The budget is a non-negative number of US dollars per month."
  }
}
