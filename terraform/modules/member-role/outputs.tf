output "role_arn" {
  description = "ARN of the member role"
  value       = try(aws_iam_role.this.arn, null)
}

output "role_name" {
  description = "Name of the member role"
  value       = try(aws_iam_role.this.name, null)
}

output "access_entry_arns" {
  description = "ARNs of the EKS access entries, by cluster name"
  value       = try({ for k, e in aws_eks_access_entry.this : k => e.access_entry_arn }, {})
}
