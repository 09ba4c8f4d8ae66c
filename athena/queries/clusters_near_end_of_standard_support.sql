-- Query: clusters_near_end_of_standard_support
-- Answers: which clusters reach the end of standard support of their Kubernetes version
--   within N days, soonest first (latest state of each cluster that reported this week).
-- Reads: latest_cluster_state: account_id, region, cluster_name, current_version,
--   target_version, end_of_standard_support, required_findings, dt
-- Parameters: notice_days in the params CTE (default 90); the dt filter (7 days).
WITH params AS (
  SELECT 90 AS notice_days
)
SELECT
  l.account_id,
  l.region,
  l.cluster_name,
  l.current_version,
  l.target_version,
  l.end_of_standard_support,
  date_diff('day', current_date, l.end_of_standard_support) AS days_left,
  l.required_findings
FROM latest_cluster_state l
CROSS JOIN params p
WHERE l.dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
  AND date_diff('day', current_date, l.end_of_standard_support) BETWEEN 0 AND p.notice_days
ORDER BY days_left, l.account_id, l.region, l.cluster_name
