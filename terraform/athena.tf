locals {
  glue_database_name = coalesce(var.glue_database_name, replace(var.name, "-", "_"))
  workgroup_name     = coalesce(var.athena.workgroup_name, var.name)

  # Glue (Hive) column types and the Trino types Athena records for a view's columns.
  trino_types = {
    string    = "varchar"
    int       = "integer"
    bigint    = "bigint"
    double    = "double"
    boolean   = "boolean"
    date      = "date"
    timestamp = "timestamp"
  }

  # Views: athena/views/<name>.sql, each a SELECT over one table whose columns it keeps, then
  # dt. A test keeps this map and the files in athena/views/ equal.
  views = {
    latest_cluster_state = { table = "clusters" }
  }
  view_columns = {
    for view, v in local.views : view => concat(
      [for c in local.tables[v.table] : { name = c.Name, type = c.Type, comment = c.Comment }],
      [{ name = "dt", type = "string", comment = "partition: the run's day, yyyy-MM-dd (UTC)" }],
    )
  }
  # The SELECT of each view, without its header comment and trailing semicolon.
  view_sql = {
    for view in keys(local.views) : view => trimsuffix(trimspace(join("\n", [
      for line in split("\n", file("${local.athena_dir}/views/${view}.sql")) : line
      if !startswith(trimspace(line), "--")
    ])), ";")
  }

  # Named queries: every athena/queries/*.sql, named after the file.
  queries = { for f in fileset("${local.athena_dir}/queries", "*.sql") : trimsuffix(f, ".sql") => f }
}

################################################################################
# Glue: database, the findings and clusters tables (partition projection on dt), views
################################################################################

resource "aws_glue_catalog_database" "this" {
  name        = local.glue_database_name
  description = "eksup: upgrade-readiness findings and cluster states written by `eksup run` to s3://${local.bucket_name}/${local.results_prefix}/"

  tags = var.tags
}

resource "aws_glue_catalog_table" "this" {
  for_each = local.tables

  name          = each.key
  database_name = aws_glue_catalog_database.this.name
  description   = "eksup ${each.key} (Parquet, zstd), partitioned by dt; columns from `eksup schema --format glue-json`"
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    EXTERNAL                      = "TRUE"
    classification                = "parquet"
    "parquet.compression"         = "ZSTD"
    "projection.enabled"          = "true"
    "projection.dt.type"          = "date"
    "projection.dt.format"        = "yyyy-MM-dd"
    "projection.dt.range"         = "${var.partition_projection_start},NOW"
    "projection.dt.interval"      = "1"
    "projection.dt.interval.unit" = "DAYS"
    "storage.location.template"   = "s3://${local.bucket_name}/${local.results_prefix}/${each.key}/dt=$${dt}/"
  }

  partition_keys {
    name    = "dt"
    type    = "string"
    comment = "the run's day, yyyy-MM-dd (UTC)"
  }

  storage_descriptor {
    location      = "s3://${local.bucket_name}/${local.results_prefix}/${each.key}/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      name                  = each.key
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      parameters = {
        "serialization.format" = "1"
      }
    }

    dynamic "columns" {
      for_each = each.value

      content {
        name       = columns.value.Name
        type       = columns.value.Type
        comment    = columns.value.Comment
        parameters = columns.value.Parameters
      }
    }
  }
}

# An Athena view is a Glue table of type VIRTUAL_VIEW whose original text carries the view's
# SQL and Trino column types, as Athena's own CREATE VIEW stores it.
resource "aws_glue_catalog_table" "view" {
  for_each = local.views

  name          = each.key
  database_name = aws_glue_catalog_database.this.name
  description   = "eksup view ${each.key} (athena/views/${each.key}.sql)"
  table_type    = "VIRTUAL_VIEW"

  parameters = {
    presto_view = "true"
    comment     = "Presto View"
  }

  view_original_text = "/* Presto View: ${base64encode(jsonencode({
    originalSql = local.view_sql[each.key]
    catalog     = "awsdatacatalog"
    schema      = aws_glue_catalog_database.this.name
    columns     = [for c in local.view_columns[each.key] : { name = c.name, type = local.trino_types[c.type] }]
  }))} */"
  view_expanded_text = "/* Presto View */"

  storage_descriptor {
    ser_de_info {
      name                  = "-"
      serialization_library = "-"
    }

    dynamic "columns" {
      for_each = local.view_columns[each.key]

      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }

  depends_on = [aws_glue_catalog_table.this]
}

################################################################################
# Athena: workgroup and named queries
################################################################################

resource "aws_athena_workgroup" "this" {
  name          = local.workgroup_name
  description   = "eksup fleet queries over ${local.glue_database_name}"
  state         = "ENABLED"
  force_destroy = var.athena.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena.bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location       = "s3://${local.bucket_name}/${var.athena.results_prefix}/"
      expected_bucket_owner = local.account_id

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = local.kms_key_arn
      }
    }
  }

  tags = var.tags
}

resource "aws_athena_named_query" "this" {
  for_each = local.queries

  name        = each.key
  description = "eksup: athena/queries/${each.value} (see its header comment)"
  workgroup   = aws_athena_workgroup.this.id
  database    = aws_glue_catalog_database.this.name
  query       = file("${local.athena_dir}/queries/${each.value}")

  depends_on = [aws_glue_catalog_table.view]
}
