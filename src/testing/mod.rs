//! Helpers for the unit tests: [`TempDir`], and [`http`], an in-process HTTP server the
//! AWS SDK clients can talk to.

pub mod http;

use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir, removed with everything in it when dropped,
/// so test runs leave nothing behind.
pub struct TempDir(PathBuf);

impl TempDir {
    /// `<temp>/<prefix>-<uuid>`, created.
    pub fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::TempDir;

    #[test]
    fn the_directory_goes_when_the_guard_drops() {
        let dir = TempDir::new("eksup-testing");
        std::fs::write(dir.join("f"), "x").unwrap();
        let path = dir.to_path_buf();
        assert!(path.is_dir());
        drop(dir);
        assert!(!path.exists());
    }
}
