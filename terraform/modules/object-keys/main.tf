################################################################################
# Object keys a writer may put (DESIGN.md, "S3 layout and tables";
# src/output/sink/layout.rs):
#   PREFIX/{findings,clusters}/dt=D/<run_id>-<batch>.<writer>.parquet
#   PREFIX/json/{findings,clusters}/dt=D/<run_id>-<batch>.<writer>.jsonl
#   PREFIX/runs/dt=D/<run_id>.<writer>.json
#   PREFIX/cluster-reports/dt=D/<account>/<region>/<cluster>/<run_id>.<writer>.json
#   PREFIX/fleet-page/latest.html, PREFIX/fleet-page/dt=D/<run_id>.html
#
# In IAM resource ARNs `*` matches any characters, `/` included, and `?` exactly one. A
# pattern `*-prod.parquet` would also match the keys of a writer `eu-prod`. So every part
# but the writer name is matched with a fixed number of `?`: the date (10), the run id (a
# UUID, 36) and the batch number (zero-padded, `batch_digits`). A key then matches a
# writer's pattern only if its writer part has that writer's length and characters: writer
# names that are suffixes or prefixes of each other cannot reach each other's keys. A
# cluster report's `*` (account/region/cluster) is followed by `/` and 36 characters,
# which a writer name (no `/`) cannot shift.
################################################################################

locals {
  dt     = "dt=????-??-??"
  run_id = "????????-????-????-????-????????????"
  # `<batch>`, numbered from 0 and zero-padded to this width.
  batch_digits = 4
  batch        = join("", [for i in range(local.batch_digits) : "?"])

  # The sharded names as eksup forms them (src/command/run.rs): the index as `?`s of each
  # width an index below N has, the count as written.
  shard_index_widths = distinct([for i in range(var.shards) : length(tostring(i))])
  names = flatten([for w in var.writers : concat([w], var.shards > 1 ? [
    for width in local.shard_index_widths : "${w}-shard-${join("", [for i in range(width) : "?"])}-of-${var.shards}"
  ] : [])])

  writer_keys = flatten([for w in local.names : [
    "${var.prefix}/findings/${local.dt}/${local.run_id}-${local.batch}.${w}.parquet",
    "${var.prefix}/clusters/${local.dt}/${local.run_id}-${local.batch}.${w}.parquet",
    "${var.prefix}/json/findings/${local.dt}/${local.run_id}-${local.batch}.${w}.jsonl",
    "${var.prefix}/json/clusters/${local.dt}/${local.run_id}-${local.batch}.${w}.jsonl",
    "${var.prefix}/runs/${local.dt}/${local.run_id}.${w}.json",
    "${var.prefix}/cluster-reports/${local.dt}/*/${local.run_id}.${w}.json",
  ]])

  page_keys = [
    "${var.prefix}/fleet-page/latest.html",
    "${var.prefix}/fleet-page/${local.dt}/${local.run_id}.html",
  ]

  keys = concat(local.writer_keys, var.fleet_page ? local.page_keys : [])
}
