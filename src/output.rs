//! Writing files: every file goes to a temp file in its directory as soon as it is rendered,
//! and only when all of them are written are they renamed into place. A failed run leaves
//! nothing behind (dropped temp files delete themselves).

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file written to a temp name, waiting for [`commit`].
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
}

pub fn stage(root: &Path, rel: &Path, content: &[u8]) -> Result<Staged, String> {
    stage_with(root, rel, &mut |w| w.write_all(content).map_err(|e| e.to_string()))
}

/// Stage a file whose content `write` produces straight into it (buffered).
pub fn stage_with(root: &Path, rel: &Path, write: &mut dyn FnMut(&mut dyn Write) -> Result<(), String>) -> Result<Staged, String> {
    let dest = root.join(rel);
    let dir = dest.parent().unwrap_or(root).to_path_buf();
    let fail = |e: String| format!("cannot write {}: {e}", dest.display());
    std::fs::create_dir_all(&dir).map_err(|e| fail(e.to_string()))?;
    let tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| fail(e.to_string()))?;
    let mut buf = std::io::BufWriter::with_capacity(1 << 16, tmp);
    write(&mut buf).map_err(fail)?;
    let tmp = buf.into_inner().map_err(|e| fail(e.error().to_string()))?;
    tmp.as_file().sync_all().map_err(|e| fail(e.to_string()))?;
    Ok(Staged { tmp, dest })
}

/// Rename every staged file into place.
pub fn commit(staged: Vec<Staged>) -> Result<(), String> {
    for s in staged {
        let dest = s.dest;
        s.tmp.persist(&dest).map_err(|e| format!("cannot write {}: {}", dest.display(), e.error))?;
    }
    Ok(())
}

pub fn write_all(root: &Path, files: &[(PathBuf, String)]) -> Result<(), String> {
    let staged = files.iter().map(|(rel, content)| stage(root, rel, content.as_bytes())).collect::<Result<Vec<_>, _>>()?;
    commit(staged)
}

/// Map `f` over `items` on up to as many threads as the machine has, keeping order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(items.len()).min(8);
    if n <= 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(n);
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = items.chunks(chunk).map(|c| s.spawn(move || c.iter().map(f).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}
