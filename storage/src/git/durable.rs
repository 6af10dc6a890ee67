//! fsync helpers: what is acknowledged must survive a power cut.

use std::fs::File;
use std::io;
use std::path::Path;

/// fsync every file and directory under `dir`, then `dir` itself. Used on a freshly built repo
/// (a handful of small files) before it is renamed into place.
pub(crate) fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            sync_tree(&entry.path())?;
        } else if kind.is_file() {
            File::open(entry.path())?.sync_all()?;
        }
    }
    sync_dir(dir)
}

/// fsync a directory, so a rename or create inside it is durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
