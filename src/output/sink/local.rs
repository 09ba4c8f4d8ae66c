//! The local-directory sink: the S3 layout under a directory. Each file is written beside
//! its final name and renamed into place, so a reader never sees half a file.

use std::path::Path;

pub fn put(dir: &Path, key: &str, body: &[u8]) -> Result<(), String> {
    let path = dir.join(key);
    let parent = path.parent().unwrap_or(dir);
    // Named by the object's path first, as the other errors are, then by what failed.
    std::fs::create_dir_all(parent).map_err(|e| {
        format!(
            "{}: cannot create {}: {e}",
            path.display(),
            parent.display()
        )
    })?;
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, body).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))
}
