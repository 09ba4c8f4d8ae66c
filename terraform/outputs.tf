################################################################################
# Results bucket and key
################################################################################

output "bucket_id" {
  description = "Name of the results bucket"
  value       = try(aws_s3_bucket.this.id, null)
}

output "bucket_arn" {
  description = "ARN of the results bucket"
  value       = try(aws_s3_bucket.this.arn, null)
}

output "results_prefix" {
  description = "Key prefix the writers put results under"
  value       = local.results_prefix
}

output "kms_key_arn" {
  description = "ARN of the KMS key of the bucket (created or passed in): use it as `outputs.s3.kms_key_id`"
  value       = local.kms_key_arn
}

output "eksup_s3_output" {
  description = "The `outputs.s3` block of the eksup configuration for writers of this bucket"
  value = {
    bucket                = try(aws_s3_bucket.this.id, null)
    prefix                = local.results_prefix
    kms_key_id            = local.kms_key_arn
    expected_bucket_owner = local.account_id
  }
}

################################################################################
# Glue and Athena
################################################################################

output "glue_database_name" {
  description = "Glue database of the tables and views"
  value       = try(aws_glue_catalog_database.this.name, null)
}

output "glue_table_names" {
  description = "Tables (findings, clusters) and views (latest_cluster_state)"
  value       = concat(try([for t in aws_glue_catalog_table.this : t.name], []), try([for v in aws_glue_catalog_table.view : v.name], []))
}

output "athena_workgroup_name" {
  description = "Athena workgroup to run the queries in"
  value       = try(aws_athena_workgroup.this.name, null)
}

output "athena_named_query_ids" {
  description = "Ids of the named queries, by name"
  value       = try({ for k, q in aws_athena_named_query.this : k => q.id }, {})
}

################################################################################
# Runner role
################################################################################

output "runner_role_arn" {
  description = "ARN of the central runner's role (what member roles trust)"
  value       = try(aws_iam_role.runner[0].arn, null)
}

output "runner_role_name" {
  description = "Name of the central runner's role"
  value       = try(aws_iam_role.runner[0].name, null)
}
