-- Query: blocking_findings_by_cluster
-- Answers: which required findings block each cluster's next upgrade (its latest run), most
--   blocked cluster first, with the check codes to fix.
-- Reads: latest_cluster_state: account_id, region, cluster_name, current_version, run_id, dt;
--   findings: run_id, account_id, region, cluster_name, target_version, code, remediation, dt
-- Parameters: the dt filter (7 days).
SELECT
  l.account_id,
  l.region,
  l.cluster_name,
  l.current_version,
  f.target_version,
  count(*) AS required_findings,
  count(DISTINCT f.code) AS checks,
  array_join(array_sort(array_distinct(array_agg(f.code))), ', ') AS codes
FROM latest_cluster_state l
JOIN findings f
  ON f.run_id = l.run_id
  AND f.dt = l.dt
  AND f.account_id IS NOT DISTINCT FROM l.account_id
  AND f.region IS NOT DISTINCT FROM l.region
  AND f.cluster_name = l.cluster_name
WHERE f.dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
  AND l.dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
  AND f.remediation = 'required'
GROUP BY l.account_id, l.region, l.cluster_name, l.current_version, f.target_version
ORDER BY required_findings DESC, l.account_id, l.region, l.cluster_name
