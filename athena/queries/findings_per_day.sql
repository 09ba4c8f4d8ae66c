-- Query: findings_per_day
-- Answers: the fleet's trend: per day, clusters reported and errored, and the required and
--   recommended findings of each cluster's last run that day.
-- Reads: clusters: dt, account_id, region, cluster_name, run_time, status, required_findings,
--   recommended_findings
-- Parameters: the dt filter (30 days).
WITH daily AS (
  SELECT
    dt,
    status,
    required_findings,
    recommended_findings,
    row_number() OVER (PARTITION BY dt, account_id, region, cluster_name ORDER BY run_time DESC) AS rn
  FROM clusters
  WHERE dt >= date_format(current_date - INTERVAL '30' DAY, '%Y-%m-%d')
)
SELECT
  date_parse(dt, '%Y-%m-%d') AS day,
  count(*) AS clusters,
  count_if(status = 'error') AS clusters_errored,
  sum(required_findings) AS required_findings,
  sum(recommended_findings) AS recommended_findings
FROM daily
WHERE rn = 1
GROUP BY dt
ORDER BY dt
