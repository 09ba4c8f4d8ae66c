-- Query: extended_support_extra_cost_by_account
-- Answers: what extended support adds per month to each account's EKS bill, as each
--   cluster's latest run priced it: the clusters column extended_support_extra_cents_per_month,
--   computed once by the binary (src/price.rs) from data/eks-prices.csv ($0.60 - $0.10 per
--   cluster-hour x 730 hours = $365.00 per cluster-month), so no price is restated here; and
--   the fleet's total. Clusters whose version has no known dates are counted apart (not priced).
-- Reads: latest_cluster_state: account_id, cluster_name, status,
--   extended_support_extra_cents_per_month, dt
-- Parameters: the dt filter (7 days).
SELECT
  l.account_id,
  count_if(l.extended_support_extra_cents_per_month > 0) AS clusters_in_extended_support,
  CAST(coalesce(sum(l.extended_support_extra_cents_per_month), 0) / 100.0 AS DECIMAL(12, 2))
    AS extra_usd_per_month,
  CAST(coalesce(sum(sum(l.extended_support_extra_cents_per_month)) OVER (), 0) / 100.0 AS DECIMAL(12, 2))
    AS fleet_extra_usd_per_month,
  count_if(l.extended_support_extra_cents_per_month IS NULL AND l.status <> 'error') AS clusters_not_priced
FROM latest_cluster_state l
WHERE l.dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
  AND l.cluster_name <> '*'
GROUP BY l.account_id
ORDER BY extra_usd_per_month DESC, l.account_id
