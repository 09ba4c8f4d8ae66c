output "eksup_s3_output" {
  description = "The `outputs.s3` block of the runner's eksup configuration"
  value       = module.eksup.eksup_s3_output
}

output "runner_role_arn" {
  description = "What the member roles trust (input `runner_role_arn` of examples/member-account)"
  value       = module.eksup.runner_role_arn
}

output "athena_workgroup_name" {
  description = "Athena workgroup of the named queries"
  value       = module.eksup.athena_workgroup_name
}

output "glue_database_name" {
  description = "Glue database of the tables and views"
  value       = module.eksup.glue_database_name
}

output "sns_topic_arn" {
  description = "Topic the alarms notify"
  value       = module.alerts.sns_topic_arn
}
