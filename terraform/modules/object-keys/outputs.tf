output "keys" {
  description = "Object-key patterns (IAM wildcards, relative to the bucket) the writers may put"
  value       = local.keys
}

output "page_keys" {
  description = "Object-key patterns of the fleet page, whether or not `fleet_page` includes them"
  value       = local.page_keys
}
