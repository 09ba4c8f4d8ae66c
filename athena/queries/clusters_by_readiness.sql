-- Query: clusters_by_readiness
-- Answers: can each cluster be upgraded now? The verdict of its latest run for its target:
--   blocked (a required finding) first, then unknown (a check that can block could not run,
--   or the cluster could not be read), then ready; with the checks run and skipped. Rows
--   written before the verdict existed have no readiness and read as unknown, never ready.
-- Reads: latest_cluster_state: account_id, region, cluster_name, current_version,
--   target_version, readiness, checks_run, checks_skipped, required_findings, status, dt
-- Parameters: the dt filter (7 days).
SELECT
  l.account_id,
  l.region,
  l.cluster_name,
  l.current_version,
  l.target_version,
  coalesce(l.readiness, 'unknown') AS readiness,
  l.checks_run,
  l.checks_skipped,
  l.required_findings,
  l.status
FROM latest_cluster_state l
WHERE l.dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
ORDER BY
  CASE coalesce(l.readiness, 'unknown') WHEN 'blocked' THEN 0 WHEN 'unknown' THEN 1 ELSE 2 END,
  l.account_id,
  l.region,
  l.cluster_name
