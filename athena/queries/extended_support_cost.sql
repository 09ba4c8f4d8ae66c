-- Query: extended_support_cost
-- Answers: which clusters are already in extended support (past the end of standard support,
--   whether extended support has ended too or not: both bill the extended price until the
--   cluster is upgraded, as src/output/fleet.rs counts them), how long until extended support
--   ends, and what it costs on top of standard support per month, per cluster and for the fleet.
--   EKS bills $0.60 per cluster-hour in extended support against $0.10 in standard support:
--   $0.50 x 730 hours = $365.00 per cluster per month.
-- Reads: latest_cluster_state: account_id, region, cluster_name, current_version,
--   end_of_standard_support, end_of_extended_support, dt
-- Parameters: the prices and hours per month in the params CTE; the dt filter (7 days).
WITH params AS (
  SELECT 0.60 AS extended_usd_per_hour, 0.10 AS standard_usd_per_hour, 730 AS hours_per_month
)
SELECT
  l.account_id,
  l.region,
  l.cluster_name,
  l.current_version,
  l.end_of_standard_support,
  l.end_of_extended_support,
  date_diff('day', current_date, l.end_of_extended_support) AS days_to_end_of_extended_support,
  CAST((p.extended_usd_per_hour - p.standard_usd_per_hour) * p.hours_per_month AS DECIMAL(12, 2))
    AS extra_usd_per_month,
  CAST(sum((p.extended_usd_per_hour - p.standard_usd_per_hour) * p.hours_per_month) OVER () AS DECIMAL(12, 2))
    AS fleet_extra_usd_per_month
FROM latest_cluster_state l
CROSS JOIN params p
WHERE l.dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
  AND l.end_of_standard_support < current_date
  AND l.cluster_name <> '*'
ORDER BY days_to_end_of_extended_support, l.account_id, l.region, l.cluster_name
