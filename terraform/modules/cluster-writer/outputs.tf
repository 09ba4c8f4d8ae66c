output "role_arn" {
  description = "ARN of the role eksup's service account receives"
  value       = try(aws_iam_role.this.arn, null)
}

output "pod_identity_association_id" {
  description = "Id of the EKS Pod Identity association"
  value       = try(aws_eks_pod_identity_association.this.association_id, null)
}

output "eksup_s3_output" {
  description = "The `outputs.s3` block of the CronJob's eksup configuration"
  value = {
    bucket     = var.results.bucket
    prefix     = var.results.prefix
    kms_key_id = var.results.kms_key_arn
    # The key lives in the bucket's (central) account.
    expected_bucket_owner = split(":", var.results.kms_key_arn)[4]
  }
}

output "writer" {
  description = "The writer name the role may put objects for: set it as `writer` in the CronJob's eksup configuration"
  value       = local.writer
}
