-- Query: fleet_summary
-- Answers: the fleet in one row, counted exactly as `eksup report` and the EMF fleet totals
--   count it (src/output/fleet.rs): clusters, accounts and regions; analyzed and errored;
--   verdicts (a row without readiness is blocked when it read the cluster and has a required
--   finding, else unknown, never ready); past the end of standard support and what that
--   costs per month; within 30 and 90 days of the end of standard support; stopped reporting
--   (no row on the last day or the day before); accounts or regions that could not be read
--   at all (cluster_name = '*' rows, which are never clusters). An errored latest row keeps
--   the version and support dates of the cluster's newest row that has a version.
-- Reads: clusters: account_id, region, cluster_name, run_id, run_time, status,
--   current_version, end_of_standard_support, required_findings, readiness, dt
-- Parameters: window_days (the days read, ending today, default 14 as `eksup report`),
--   stale_after_days (2) and the prices in the params CTE (data/eks-prices.csv, in cents; a test
--   keeps them equal); the dt filter is the window.
WITH params AS (
  SELECT
    14 AS window_days,
    2 AS stale_after_days,
    60 AS extended_cents_per_hour,
    10 AS standard_cents_per_hour,
    730 AS hours_per_month
),
win AS (
  SELECT c.*
  FROM clusters c
  CROSS JOIN params p
  WHERE c.dt >= date_format(date_add('day', 1 - p.window_days, current_date), '%Y-%m-%d')
    AND c.dt <= date_format(current_date, '%Y-%m-%d')
),
ranked AS (
  SELECT
    w.*,
    row_number() OVER (
      PARTITION BY w.account_id, w.region, w.cluster_name
      ORDER BY w.run_time DESC, w.run_id DESC
    ) AS newest
  FROM win w
),
versioned AS (
  SELECT
    w.account_id,
    w.region,
    w.cluster_name,
    w.end_of_standard_support,
    row_number() OVER (
      PARTITION BY w.account_id, w.region, w.cluster_name
      ORDER BY w.run_time DESC, w.run_id DESC
    ) AS newest
  FROM win w
  WHERE w.current_version IS NOT NULL
),
state AS (
  SELECT
    l.account_id,
    l.region,
    l.status,
    l.dt,
    CASE
      WHEN l.readiness IN ('blocked', 'ready') THEN l.readiness
      WHEN l.readiness IS NOT NULL THEN 'unknown'
      WHEN l.status <> 'error' AND l.required_findings > 0 THEN 'blocked'
      ELSE 'unknown'
    END AS verdict,
    l.readiness IS NULL AS verdict_derived,
    CASE
      WHEN l.current_version IS NULL THEN v.end_of_standard_support
      ELSE l.end_of_standard_support
    END AS end_of_standard_support
  FROM ranked l
  LEFT JOIN versioned v
    ON v.account_id IS NOT DISTINCT FROM l.account_id
    AND v.region IS NOT DISTINCT FROM l.region
    AND v.cluster_name = l.cluster_name
    AND v.newest = 1
  WHERE l.newest = 1
    AND l.cluster_name <> '*'
),
scopes AS (
  SELECT count(*) AS unreadable_scopes
  FROM (SELECT DISTINCT account_id, region FROM win WHERE cluster_name = '*') s
),
counts AS (
  SELECT
    count(*) AS clusters,
    count(DISTINCT nullif(s.account_id, '')) AS accounts,
    count(DISTINCT nullif(s.region, '')) AS regions,
    count_if(s.status <> 'error') AS analyzed,
    count_if(s.status = 'error') AS errored,
    count_if(s.verdict = 'blocked') AS blocked,
    count_if(s.verdict = 'unknown') AS unknown,
    count_if(s.verdict = 'ready') AS ready,
    count_if(s.verdict_derived) AS verdicts_derived,
    count_if(s.end_of_standard_support < current_date) AS extended,
    count_if(date_diff('day', current_date, s.end_of_standard_support) BETWEEN 0 AND 30) AS within_30,
    count_if(date_diff('day', current_date, s.end_of_standard_support) BETWEEN 0 AND 90) AS within_90,
    count_if(date(s.dt) < date_add('day', 1 - p.stale_after_days, current_date)) AS stopped
  FROM state s
  CROSS JOIN params p
)
SELECT
  c.clusters,
  c.accounts,
  c.regions,
  c.analyzed,
  c.errored,
  c.blocked,
  c.unknown,
  c.ready,
  c.verdicts_derived,
  c.extended,
  c.extended * p.extended_cents_per_hour * p.hours_per_month AS extended_monthly_cents,
  c.extended * p.standard_cents_per_hour * p.hours_per_month AS standard_monthly_cents,
  c.extended * (p.extended_cents_per_hour - p.standard_cents_per_hour) * p.hours_per_month
    AS extended_extra_monthly_cents,
  c.within_30,
  c.within_90,
  c.stopped,
  sc.unreadable_scopes
FROM counts c
CROSS JOIN params p
CROSS JOIN scopes sc
