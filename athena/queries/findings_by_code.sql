-- Query: findings_by_code
-- Answers: across the fleet (latest run of each cluster), which checks fire, on how many
--   clusters and how often, most widespread first.
-- Reads: latest_cluster_state: account_id, region, cluster_name, run_id, dt;
--   findings: run_id, account_id, region, cluster_name, code, title, remediation, category, dt
-- Parameters: the dt filter (7 days).
SELECT
  f.code,
  f.title,
  f.remediation,
  f.category,
  count(DISTINCT coalesce(l.account_id, '') || '/' || coalesce(l.region, '') || '/' || l.cluster_name) AS clusters,
  count(*) AS findings
FROM latest_cluster_state l
JOIN findings f
  ON f.run_id = l.run_id
  AND f.dt = l.dt
  AND f.account_id IS NOT DISTINCT FROM l.account_id
  AND f.region IS NOT DISTINCT FROM l.region
  AND f.cluster_name = l.cluster_name
WHERE f.dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
  AND l.dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
GROUP BY f.code, f.title, f.remediation, f.category
ORDER BY clusters DESC, findings DESC, f.code, f.remediation
