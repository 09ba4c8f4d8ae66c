-- View: latest_cluster_state
-- Answers: the newest row of every cluster (account, region, cluster name) that reported in
--   the last 30 days (newest run_time, ties broken by the greater run_id, as
--   src/output/fleet.rs): versions, support dates, finding counts, status. Its columns are
--   those of clusters, then dt. The other queries start from it.
-- Reads: clusters: every column
-- Parameters: lookback 30 days (the dt filter). A cluster silent for longer drops out of the
--   view; silent_or_errored_clusters.sql lists clusters silent for 2 days or more.
SELECT c.*
FROM clusters c
JOIN (
  SELECT
    account_id,
    region,
    cluster_name,
    run_id,
    row_number() OVER (
      PARTITION BY account_id, region, cluster_name
      ORDER BY run_time DESC, run_id DESC
    ) AS newest
  FROM clusters
  WHERE dt >= date_format(current_date - INTERVAL '30' DAY, '%Y-%m-%d')
) latest
  ON c.account_id IS NOT DISTINCT FROM latest.account_id
  AND c.region IS NOT DISTINCT FROM latest.region
  AND c.cluster_name = latest.cluster_name
  AND c.run_id = latest.run_id
  AND latest.newest = 1
WHERE c.dt >= date_format(current_date - INTERVAL '30' DAY, '%Y-%m-%d')
