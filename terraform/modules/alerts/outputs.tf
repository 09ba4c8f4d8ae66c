output "sns_topic_arn" {
  description = "ARN of the topic the alarms notify"
  value       = try(aws_sns_topic.this.arn, null)
}

output "alarm_arns" {
  description = "ARNs of the alarms, by condition"
  value       = try({ for k, a in aws_cloudwatch_metric_alarm.this : k => a.arn }, {})
}

output "alarm_names" {
  description = "Names of the alarms, by condition"
  value       = try({ for k, a in aws_cloudwatch_metric_alarm.this : k => a.alarm_name }, {})
}
