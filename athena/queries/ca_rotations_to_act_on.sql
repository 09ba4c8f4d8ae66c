-- Query: ca_rotations_to_act_on
-- Answers: which clusters are in a certificate-authority rotation (EKS106): a successor CA
--   that every client holding the cluster's CA by value (kubeconfigs, CI systems, GitOps
--   agents, self-managed and hybrid nodes) must trust before EKS activates it. Per cluster
--   (its latest run): the successor's state and EKS distribution, its next auto-activation
--   and when the signing CA expires, with the days left as of today, and the level of the
--   run's EKS106 finding (required within 30 days of the final auto-activation or the expiry;
--   null when the check was switched off). Required first, then the soonest activation.
-- Reads: latest_cluster_state: account_id, region, cluster_name, run_id,
--   ca_successor_status, ca_successor_distribution, ca_next_auto_activation,
--   ca_signing_expires, dt; findings: run_id, account_id, region, cluster_name, code,
--   remediation, dt
-- Parameters: the dt filter (7 days).
SELECT
  l.account_id,
  l.region,
  l.cluster_name,
  l.ca_successor_status,
  l.ca_successor_distribution,
  l.ca_next_auto_activation,
  date_diff('day', current_date, l.ca_next_auto_activation) AS days_to_auto_activation,
  l.ca_signing_expires,
  date_diff('day', current_date, l.ca_signing_expires) AS days_to_expiry,
  f.remediation
FROM latest_cluster_state l
LEFT JOIN (
  SELECT run_id, dt, account_id, region, cluster_name, remediation
  FROM findings
  WHERE dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
    AND code = 'EKS106'
) f
  ON f.run_id = l.run_id
  AND f.dt = l.dt
  AND f.account_id IS NOT DISTINCT FROM l.account_id
  AND f.region IS NOT DISTINCT FROM l.region
  AND f.cluster_name = l.cluster_name
WHERE l.dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
  AND l.ca_successor_status IS NOT NULL
ORDER BY
  CASE f.remediation WHEN 'required' THEN 0 WHEN 'recommended' THEN 1 ELSE 2 END,
  days_to_auto_activation,
  l.account_id,
  l.region,
  l.cluster_name
