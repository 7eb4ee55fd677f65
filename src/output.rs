//! Writing files, atomically for the whole run: every file goes to a temp file in its
//! directory as soon as it is rendered (and is synced there); only when all of them are
//! written are they renamed into place. A failure while renaming puts back what was there
//! before. A failed run leaves nothing behind: dropped temp files delete themselves, and
//! directories the run created are removed again when they stay empty. Temp files of runs that
//! were killed (`kill -9`) carry their process id and are cleaned up by the next run that
//! writes in their directory; input directories skip them (they are dot files).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const TMP_PREFIX: &str = ".gatewayc-tmp-";
const BACKUP_PREFIX: &str = ".gatewayc-bak-";

/// Directories this process created for staged files, removed when a run fails.
static CREATED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A file written to a temp name, waiting for [`commit`].
pub struct Staged {
    tmp: Option<tempfile::NamedTempFile>,
    dest: PathBuf,
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.tmp.take().is_some() {
            remove_created_dirs();
        }
    }
}

/// Remove the directories this process created that are empty now, deepest first.
fn remove_created_dirs() {
    let Ok(mut dirs) = CREATED.lock() else { return };
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    dirs.retain(|d| std::fs::remove_dir(d).is_err() && d.exists());
}

/// Create `dir` and its missing parents, remembering which ones this run made.
fn create_dirs(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut d = dir;
    while !d.as_os_str().is_empty() && !d.exists() {
        missing.push(d.to_path_buf());
        match d.parent() {
            Some(p) => d = p,
            None => break,
        }
    }
    std::fs::create_dir_all(dir)?;
    if let Ok(mut c) = CREATED.lock() {
        c.extend(missing);
    }
    Ok(())
}

/// Temp and backup files of gatewayc processes that no longer run (killed mid-write).
fn clean_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(TMP_PREFIX).or_else(|| name.strip_prefix(BACKUP_PREFIX)) else { continue };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != std::process::id()
            && Path::new("/proc").is_dir()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn prefix(kind: &str) -> String {
    format!("{kind}{}-", std::process::id())
}

pub fn stage(root: &Path, rel: &Path, content: &[u8]) -> Result<Staged, String> {
    stage_with(root, rel, &mut |w| w.write_all(content).map_err(|e| e.to_string()))
}

/// Stage a file whose content `write` produces straight into it (buffered), synced to disk.
pub fn stage_with(root: &Path, rel: &Path, write: &mut dyn FnMut(&mut dyn Write) -> Result<(), String>) -> Result<Staged, String> {
    let dest = root.join(rel);
    let dir = dest.parent().unwrap_or(root).to_path_buf();
    let fail = |e: String| format!("cannot write {}: {e}", dest.display());
    create_dirs(&dir).map_err(|e| fail(e.to_string()))?;
    clean_stale(&dir);
    let tmp = tempfile::Builder::new().prefix(&prefix(TMP_PREFIX)).tempfile_in(&dir).map_err(|e| fail(e.to_string()))?;
    // From here on, dropping `staged` (on any error) removes the temp file and the new dirs.
    let mut staged = Staged { tmp: None, dest: dest.clone() };
    let mut buf = std::io::BufWriter::with_capacity(1 << 16, tmp);
    write(&mut buf).map_err(fail)?;
    let tmp = buf.into_inner().map_err(|e| fail(e.error().to_string()))?;
    tmp.as_file().sync_all().map_err(|e| fail(e.to_string()))?;
    staged.tmp = Some(tmp);
    Ok(staged)
}

/// Rename every staged file into place. If one rename fails, the files renamed before it are
/// put back as they were (or removed when they are new), so the output is all or nothing.
pub fn commit(mut staged: Vec<Staged>) -> Result<(), String> {
    // (destination, backup of what was there)
    let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    let mut failure = None;
    for s in staged.iter_mut() {
        let Some(tmp) = s.tmp.take() else { continue };
        let dest = s.dest.clone();
        let dir = dest.parent().map(Path::to_path_buf).unwrap_or_default();
        let backup = if dest.exists() {
            let b = tempfile::Builder::new().prefix(&prefix(BACKUP_PREFIX)).make_in(&dir, |p| std::fs::rename(&dest, p).map(|_| p.to_path_buf()));
            match b {
                Ok(b) => Some(b.into_temp_path().keep().map_err(|e| e.to_string())),
                Err(e) => {
                    failure = Some(format!("cannot write {}: {e}", dest.display()));
                    break;
                }
            }
        } else {
            None
        };
        let backup = match backup.transpose() {
            Ok(b) => b,
            Err(e) => {
                failure = Some(format!("cannot write {}: {e}", dest.display()));
                break;
            }
        };
        match tmp.persist(&dest) {
            Ok(_) => done.push((dest, backup)),
            Err(e) => {
                if let Some(b) = &backup {
                    let _ = std::fs::rename(b, &dest);
                }
                failure = Some(format!("cannot write {}: {}", dest.display(), e.error));
                break;
            }
        }
    }
    match failure {
        None => {
            for (_, b) in done {
                if let Some(b) = b {
                    let _ = std::fs::remove_file(b);
                }
            }
            if let Ok(mut c) = CREATED.lock() {
                c.clear();
            }
            Ok(())
        }
        Some(e) => {
            for (dest, b) in done.into_iter().rev() {
                match b {
                    Some(b) => {
                        let _ = std::fs::rename(b, &dest);
                    }
                    None => {
                        let _ = std::fs::remove_file(&dest);
                    }
                }
            }
            drop(staged);
            remove_created_dirs();
            Err(e)
        }
    }
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
