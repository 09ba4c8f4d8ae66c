variable "prefix" {
  description = "Key prefix of the results (`outputs.s3.prefix`), without leading or trailing `/`"
  type        = string
}

variable "writers" {
  description = "Writer names (`writer` of the eksup configuration) whose objects the patterns cover; `*` covers every writer"
  type        = list(string)

  validation {
    # eksup replaces any other character (a dot too: it delimits the writer in a key) by `_`
    # in object keys (src/output/sink/layout.rs, writer_segment), so a name outside this set
    # would not be the name in the keys.
    condition     = alltrue([for w in var.writers : can(regex("^([A-Za-z0-9_-]+|\\*)$", w))])
    error_message = "writers are made of letters, digits, `_` and `-` (or are `*`): eksup writes a dot as `_`."
  }
}

variable "shards" {
  description = "Shard count N of an Indexed Job whose pods write as `<writer>-shard-<I>-of-<N>`; 1: unsharded only"
  type        = number
  default     = 1

  validation {
    condition     = var.shards >= 1 && var.shards <= 1000 && floor(var.shards) == var.shards
    error_message = "shards is a whole number from 1 to 1000."
  }
}

variable "fleet_page" {
  description = "Whether the patterns include the fleet page (`fleet-page/latest.html` and each run's copy): the central runner's alone"
  type        = bool
  default     = false
}
