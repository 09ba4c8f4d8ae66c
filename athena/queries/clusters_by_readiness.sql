-- Query: clusters_by_readiness
-- Answers: can each cluster be upgraded now? The verdict of its latest run for its target:
--   blocked (a required finding) first, then unknown (a check that can block could not run,
--   or the cluster could not be read), then ready; with the checks run and skipped. Rows
--   written before the verdict existed have no readiness: blocked when the run read the
--   cluster and found a required finding, else unknown, never ready (src/output/fleet.rs).
--   Rows about a whole account or region (cluster_name = '*') are not clusters.
-- Reads: latest_cluster_state: account_id, region, cluster_name, current_version,
--   target_version, readiness, checks_run, checks_skipped, required_findings, status, dt
-- Parameters: the dt filter (7 days).
SELECT
  l.account_id,
  l.region,
  l.cluster_name,
  l.current_version,
  l.target_version,
  CASE
    WHEN l.readiness IN ('blocked', 'ready') THEN l.readiness
    WHEN l.readiness IS NOT NULL THEN 'unknown'
    WHEN l.status <> 'error' AND l.required_findings > 0 THEN 'blocked'
    ELSE 'unknown'
  END AS readiness,
  l.checks_run,
  l.checks_skipped,
  l.required_findings,
  l.status
FROM latest_cluster_state l
WHERE l.dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
  AND l.cluster_name <> '*'
ORDER BY
  CASE
    WHEN l.readiness = 'blocked' OR (l.readiness IS NULL AND l.status <> 'error' AND l.required_findings > 0) THEN 0
    WHEN l.readiness = 'ready' THEN 2
    ELSE 1
  END,
  l.account_id,
  l.region,
  l.cluster_name
