//! The file-system steps durability is built from.

use super::StorageError;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Make the directory's entries (files created, renamed or deleted in it)
/// durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StorageError::io("sync directory", dir))
}

/// Replace `dir/name` with `bytes` atomically and durably: write a
/// temporary file, sync it, rename it over the old one, sync the
/// directory. After a crash the file holds either the old or the new
/// bytes, never a mix.
pub(crate) fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
    let temporary = dir.join(format!("{name}.tmp"));
    let target = dir.join(name);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temporary)
        .map_err(StorageError::io("create", &temporary))?;
    file.write_all(bytes)
        .map_err(StorageError::io("write", &temporary))?;
    file.sync_all()
        .map_err(StorageError::io("sync", &temporary))?;
    drop(file);
    fs::rename(&temporary, &target).map_err(StorageError::io("rename into place", &target))?;
    sync_dir(dir)
}

/// Remove a file; one already gone is fine.
pub(crate) fn remove_file(path: &Path) -> Result<(), StorageError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(StorageError::io("remove", path)(e))
        }
        _ => Ok(()),
    }
}

/// Create `dir` (and its parents) if missing.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), StorageError> {
    fs::create_dir_all(dir).map_err(StorageError::io("create directory", dir))
}

/// The names of the files in `dir` that end in `suffix`, sorted.
pub(crate) fn names_ending(dir: &Path, suffix: &str) -> Result<Vec<String>, StorageError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(StorageError::io("list", dir))? {
        let entry = entry.map_err(StorageError::io("list", dir))?;
        if let Some(name) = entry.file_name().to_str() {
            if name.ends_with(suffix) {
                names.push(name.to_owned());
            }
        }
    }
    names.sort();
    Ok(names)
}
