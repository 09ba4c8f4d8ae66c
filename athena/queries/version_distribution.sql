-- Query: version_distribution
-- Answers: how many clusters run each Kubernetes version, per account and region, and in
--   which support window (latest state of each cluster that reported this week).
-- Reads: latest_cluster_state: account_id, region, current_version, support_status, dt
-- Parameters: the dt filter (7 days).
SELECT
  l.account_id,
  l.region,
  l.current_version,
  l.support_status,
  count(*) AS clusters
FROM latest_cluster_state l
WHERE l.dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
  AND l.current_version IS NOT NULL
GROUP BY l.account_id, l.region, l.current_version, l.support_status
ORDER BY l.account_id, l.region, l.current_version, l.support_status
