-- Query: silent_or_errored_clusters
-- Answers: which clusters need attention before their data can be trusted: those that
--   stopped reporting (no row for N days or more), those whose latest run errored, and the
--   accounts or regions that could not be read at all (cluster_name = '*'; such a row is
--   never a cluster, so it never "stops reporting": src/output/fleet.rs).
-- Reads: clusters: account_id, region, cluster_name, dt; latest_cluster_state: account_id,
--   region, cluster_name, status, error, dt
-- Parameters: silent_days in the params CTE (default 2); the dt filter (30 days).
WITH params AS (
  SELECT 2 AS silent_days
),
last_seen AS (
  SELECT account_id, region, cluster_name, max(dt) AS last_dt
  FROM clusters
  WHERE dt >= date_format(current_date - INTERVAL '30' DAY, '%Y-%m-%d')
    AND cluster_name <> '*'
  GROUP BY account_id, region, cluster_name
)
SELECT
  'stopped reporting' AS problem,
  s.account_id,
  s.region,
  s.cluster_name,
  s.last_dt AS last_reported,
  date_diff('day', date(s.last_dt), current_date) AS days_since,
  CAST(NULL AS varchar) AS error
FROM last_seen s
CROSS JOIN params p
WHERE date_diff('day', date(s.last_dt), current_date) >= p.silent_days
UNION ALL
SELECT
  CASE WHEN l.cluster_name = '*' THEN 'account or region unreadable' ELSE 'latest run errored' END
    AS problem,
  l.account_id,
  l.region,
  l.cluster_name,
  l.dt AS last_reported,
  date_diff('day', date(l.dt), current_date) AS days_since,
  l.error
FROM latest_cluster_state l
WHERE l.dt >= date_format(current_date - INTERVAL '30' DAY, '%Y-%m-%d')
  AND l.status = 'error'
ORDER BY problem, account_id, region, cluster_name
