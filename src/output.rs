//! Writing files: every file goes to a temp file in its directory, and only when all of them
//! are written are they renamed into place. A failed run leaves nothing behind.

use std::io::Write;
use std::path::{Path, PathBuf};

pub fn write_all(root: &Path, files: &[(PathBuf, String)]) -> Result<(), String> {
    let mut staged = Vec::new();
    for (rel, content) in files {
        let dest = root.join(rel);
        let dir = dest.parent().unwrap_or(root).to_path_buf();
        let result = std::fs::create_dir_all(&dir)
            .and_then(|_| tempfile::NamedTempFile::new_in(&dir))
            .and_then(|mut tmp| {
                tmp.write_all(content.as_bytes())?;
                tmp.as_file().sync_all()?;
                Ok(tmp)
            });
        match result {
            Ok(tmp) => staged.push((tmp, dest)),
            Err(e) => return Err(format!("cannot write {}: {e}", dest.display())),
        }
    }
    for (tmp, dest) in staged {
        tmp.persist(&dest).map_err(|e| format!("cannot write {}: {}", dest.display(), e.error))?;
    }
    Ok(())
}
