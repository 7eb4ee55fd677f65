//! The fuzz corpus (fuzz/corpus/<target>/, grown by cargo-fuzz and committed) replayed as an
//! ordinary test: every input that ever found new coverage runs through the same entry points
//! the fuzz targets call, and none may panic.

fn replay(target: &str, f: fn(&[u8])) {
    let dir = std::path::Path::new("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("corpus directory").map(|e| e.expect("entry").path()).collect();
    files.sort();
    assert!(files.len() >= 20, "the {target} corpus shrank to {} inputs", files.len());
    for path in files {
        let data = std::fs::read(&path).expect("read corpus input");
        if std::panic::catch_unwind(|| f(&data)).is_err() {
            panic!("{} panics", path.display());
        }
    }
}

#[test]
fn loader_corpus_never_panics() {
    replay("loader", gatewayc::fuzzing::loader);
}

#[test]
fn pipeline_corpus_never_panics() {
    replay("pipeline", gatewayc::fuzzing::pipeline);
}
