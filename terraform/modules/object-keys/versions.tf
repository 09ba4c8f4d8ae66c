terraform {
  required_version = ">= 1.5"

  # No provider: the key patterns are plain strings, so tests evaluate this module offline
  # with `terraform console`.
}
