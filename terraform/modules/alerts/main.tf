data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  create_kms_key = var.kms_key_arn == null
  kms_key_arn    = local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  # One alarm per condition over the whole fleet, on the fleet totals `eksup run` prints as
  # EMF (one line per run, no dimensions): src/output/sink/emf.rs FLEET_METRICS. A test keeps the
  # metric names and the namespace equal to what the binary emits.
  alarms = {
    within-notice = {
      metric      = "ClustersWithinNotice"
      statistic   = "Maximum"
      operator    = "GreaterThanThreshold"
      threshold   = 0
      periods     = 1
      missing     = "notBreaching"
      description = "Clusters reach the end of standard support within the notice window (outputs.emf.notice_days): plan their upgrades. Athena: clusters_near_end_of_standard_support"
    }
    extended-support = {
      metric      = "ClustersInExtendedSupport"
      statistic   = "Maximum"
      operator    = "GreaterThanThreshold"
      threshold   = 0
      periods     = 1
      missing     = "notBreaching"
      description = "Clusters are in extended support ($0.60 instead of $0.10 per cluster-hour). Athena: extended_support_cost"
    }
    extended-support-cost = {
      metric      = "ExtendedSupportExtraCostPerMonth"
      statistic   = "Maximum"
      operator    = "GreaterThanThreshold"
      threshold   = var.extended_support_monthly_budget_usd
      periods     = 1
      missing     = "notBreaching"
      description = "Extended support adds more than ${var.extended_support_monthly_budget_usd} US dollars per month to the fleet's EKS bill (data/eks-prices.csv: $365.00 per cluster-month). Athena: extended_support_cost"
    }
    errored = {
      metric      = "ClustersErrored"
      statistic   = "Maximum"
      operator    = "GreaterThanThreshold"
      threshold   = 0
      periods     = 1
      missing     = "notBreaching"
      description = "eksup could not read some clusters (status = error). Athena: silent_or_errored_clusters"
    }
    unreadable-scopes = {
      metric      = "ScopesUnreadable"
      statistic   = "Maximum"
      operator    = "GreaterThanThreshold"
      threshold   = 0
      periods     = 1
      missing     = "notBreaching"
      description = "eksup could not read a whole account or region (its role could not be assumed, or the region is not enabled): none of its clusters were analyzed. Athena: silent_or_errored_clusters"
    }
    stopped-reporting = {
      metric      = "ClustersAnalyzed"
      statistic   = "Sum"
      operator    = "LessThanThreshold"
      threshold   = var.expected_clusters
      periods     = var.silent_periods
      missing     = "breaching"
      description = "Fewer clusters than expected were analyzed, or eksup did not run, for ${var.silent_periods} period(s). Athena: silent_or_errored_clusters"
    }
  }
}

################################################################################
# SNS topic (encrypted with a key CloudWatch may use)
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

  statement {
    sid       = "CloudWatchPublishesAlarms"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "eksup alarms topic ${var.name}-alerts"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms[0].json

  tags = var.tags
}

resource "aws_sns_topic" "this" {
  name              = "${var.name}-alerts"
  kms_master_key_id = local.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.email_addresses)

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}

################################################################################
# Alarms: one per condition, over the fleet totals
################################################################################

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = var.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  period              = var.period_seconds
  evaluation_periods  = each.value.periods
  datapoints_to_alarm = each.value.periods
  comparison_operator = each.value.operator
  threshold           = each.value.threshold
  treat_missing_data  = each.value.missing

  alarm_actions = [aws_sns_topic.this.arn]
  ok_actions    = [aws_sns_topic.this.arn]

  tags = var.tags
}
