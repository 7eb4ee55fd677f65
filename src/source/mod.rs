//! Stage 1: bytes to documents. Every node of every document keeps its position.
//!
//! Input: the paths given with `-f` (files, directories, `-` for stdin).
//! Output: a [`SourceMap`] (file names and texts, for rendering positions) and a list of
//! [`Document`]s, each a `serde_json::Value` plus a [`SpanIndex`] from JSON pointer to byte range.
//! `kind: List` documents are expanded here, so later stages see one document per object.

mod yaml;

use crate::diag::{Code, Diagnostic};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read as _;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use yaml::{MAX_ALIAS_NODES, MAX_DEPTH, MAX_DOCUMENT_BYTES};

pub type FileId = usize;

/// A byte range in one input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

struct SourceFile {
    name: String,
    text: Arc<str>,
    /// Computed when a position is first rendered (8 bytes a line: not worth it for an input
    /// that has no diagnostic).
    line_starts: std::sync::OnceLock<Arc<[usize]>>,
}

/// All input texts, so that a [`Span`] can be turned into `file:line:col` and a snippet.
#[derive(Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// Each input as given on the command line, and the files it yielded.
    inputs: Vec<(String, Vec<FileId>)>,
}

impl SourceMap {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        let text: Arc<str> = text.into();
        self.files.push(SourceFile { name: name.into(), text, line_starts: std::sync::OnceLock::new() });
        self.files.len() - 1
    }
    pub fn name(&self, file: FileId) -> &str {
        &self.files[file].name
    }
    pub fn text(&self, file: FileId) -> &Arc<str> {
        &self.files[file].text
    }
    /// Byte offsets where each line starts.
    pub fn line_starts(&self, file: FileId) -> &Arc<[usize]> {
        let f = &self.files[file];
        f.line_starts.get_or_init(|| line_starts(&f.text).into())
    }
    pub fn len(&self) -> usize {
        self.files.len()
    }
    /// Each input as given (`-` for stdin) with the files it yielded.
    pub fn inputs(&self) -> &[(String, Vec<FileId>)] {
        &self.inputs
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
    /// 1-based line and 1-based column (in characters) of the span's start.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let f = &self.files[span.file];
        let starts = self.line_starts(span.file);
        let line = match starts.binary_search(&span.start) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = starts[line];
        let end = span.start.min(f.text.len());
        let col = f.text.get(start..end).map(|s| s.chars().count()).unwrap_or(end - start);
        (line + 1, col + 1)
    }
}

/// Byte offsets where lines start. A line ends at LF, CR LF, or a lone CR (old Mac files),
/// as YAML counts them.
pub fn line_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = vec![0];
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            out.push(i + 1);
        }
    }
    out
}

/// Position of one node: the value's byte range and, for a mapping entry, its key's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    pub key: Option<(u32, u32)>,
    pub value: (u32, u32),
}

/// JSON pointer → position, for every node of one YAML document. Built on first use by
/// re-parsing the document's text: diagnostics are rare, and keeping a position for every
/// node of every document would cost more memory than the documents themselves.
#[derive(Debug)]
pub struct SpanIndex {
    text: Arc<str>,
    /// File id and byte range as u32: one exists per document, and no file is larger than
    /// [`MAX_FILE_BYTES`].
    file: u32,
    start: u32,
    end: u32,
    // Boxed: a record exists per document and most never build their map (48 bytes unboxed).
    #[allow(clippy::box_collection)]
    nodes: std::sync::OnceLock<Box<HashMap<String, NodeSpan>>>,
}

impl SpanIndex {
    pub fn new(file: FileId, text: Arc<str>, start: usize, end: usize) -> Self {
        let small = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        SpanIndex { text, file: small(file), start: small(start), end: small(end), nodes: std::sync::OnceLock::new() }
    }
    pub fn file(&self) -> FileId {
        self.file as FileId
    }
    fn nodes(&self) -> &HashMap<String, NodeSpan> {
        self.nodes.get_or_init(|| Box::new(yaml::span_index(&self.text, self.start as usize, self.end as usize)))
    }
}

/// One object of the input: its value and where each of its nodes came from.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: FileId,
    pub value: Value,
    pub loc: Locator,
}

/// Finds the position of any node of one object by its JSON pointer. Typed objects keep one,
/// so later stages can point at a field without going back to the YAML.
#[derive(Debug, Clone)]
pub struct Locator {
    spans: Arc<SpanIndex>,
    /// Pointer prefix of this object inside its YAML document (`/items/3` for a List item).
    base: Box<str>,
}

impl Locator {
    pub fn new(spans: Arc<SpanIndex>, base: String) -> Self {
        Locator { spans, base: base.into() }
    }
    /// The span of the node at `pointer` (relative to this object), or of its nearest ancestor
    /// that has one. `key` prefers the mapping key's span, which is where an unknown field is.
    pub fn span_of(&self, pointer: &str, key: bool) -> Option<Span> {
        let mut p = format!("{}{}", self.base, pointer);
        loop {
            if let Some(ns) = self.spans.nodes().get(&p) {
                let (s, e) = if key { ns.key.unwrap_or(ns.value) } else { ns.value };
                return Some(Span { file: self.spans.file(), start: s as usize, end: e as usize });
            }
            match p.rfind('/') {
                Some(i) if !p.is_empty() => p.truncate(i),
                _ => return None,
            }
        }
    }
    /// Where the object was read: (file, document start, List item index). Files are
    /// numbered in reading order, so this orders objects as they were read.
    pub fn input_order(&self) -> (u32, u32, usize) {
        let item = self.base.strip_prefix("/items/").and_then(|i| i.parse().ok()).unwrap_or(0);
        (self.spans.file, self.spans.start, item)
    }
    /// Span of the whole object (its root mapping).
    pub fn span(&self) -> Option<Span> {
        self.span_of("", false)
    }
}

/// Escape one JSON pointer segment (RFC 6901).
pub fn escape_pointer(seg: &str) -> String {
    if seg.contains(['~', '/']) { seg.replace('~', "~0").replace('/', "~1") } else { seg.to_string() }
}

/// Where input comes from.
#[derive(Debug, Clone)]
pub enum Input {
    Path(PathBuf),
    Stdin,
}

impl Input {
    pub fn parse(arg: &str) -> Input {
        if arg == "-" { Input::Stdin } else { Input::Path(PathBuf::from(arg)) }
    }
}

/// Everything read from the inputs.
pub struct Loaded {
    pub sources: SourceMap,
    pub documents: Vec<Document>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Read every input, in order: files as given, directories walked in sorted path order.
/// Read and parse every input, keeping all documents (for tests, tools and the benchmark floor;
/// the pipeline streams documents instead, see [`read`] and [`parse_range`]).
pub fn load(inputs: &[Input], stdin: &mut dyn std::io::Read) -> Loaded {
    let (sources, texts, mut diagnostics) = read(inputs, stdin);
    let mut documents = Vec::new();
    for (file, text) in texts {
        parse_range(file, &text, 0, text.len(), &mut diagnostics, &mut |d| documents.push(d));
    }
    Loaded { sources, documents, diagnostics }
}

/// Parse the documents of `text[start..end]` (whole documents, see [`chunks`]), handing each
/// to `sink` as soon as it is complete.
pub fn parse_range(file: FileId, text: &Arc<str>, start: usize, end: usize, diags: &mut Vec<Diagnostic>, sink: &mut dyn FnMut(Document)) {
    yaml::load_documents(file, text, start, end, diags, sink);
}

/// Byte ranges of `text` that hold whole YAML documents, split at `---` lines, so that they
/// can be parsed independently (in parallel). A document marker at the start of a line always
/// ends the previous document in YAML, even a block scalar. Files with directives (`%YAML`)
/// stay whole.
pub fn chunks(text: &str, target: usize) -> Vec<(usize, usize)> {
    if text.starts_with('%') || text.contains("\n%") {
        return vec![(0, text.len())];
    }
    let mut out = Vec::new();
    let mut start = 0;
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(off) = text[i..].find("\n---") {
        let line = i + off + 1;
        let after = b.get(line + 3).copied();
        if matches!(after, None | Some(b'\n' | b'\r' | b' ' | b'\t')) && line - start >= target {
            out.push((start, line));
            start = line;
        }
        i = line + 3;
    }
    out.push((start, text.len()));
    out
}

/// The inputs' texts, in order: files as given, directories walked in sorted path order.
pub fn read(inputs: &[Input], stdin: &mut dyn std::io::Read) -> (SourceMap, Vec<(FileId, Arc<str>)>, Vec<Diagnostic>) {
    let mut loaded = Reader { sources: SourceMap::default(), texts: Vec::new(), diagnostics: Vec::new() };
    for input in inputs {
        let first = loaded.sources.files.len();
        let errors = loaded.diagnostics.len();
        match input {
            Input::Stdin => {
                match read_capped(stdin, 0) {
                    Ok(bytes) => add_bytes(&mut loaded, "<stdin>".to_string(), bytes),
                    Err(e) => loaded.diagnostics.push(Diagnostic::new(Code::InputIo, format!("cannot read stdin: {e}"))),
                }
            }
            Input::Path(p) => {
                // Files, and whatever else can be read as one: pipes, FIFOs, `/dev/stdin`,
                // process substitution (`-f <(cmd)`).
                for file in collect_files(p, &mut loaded.diagnostics) {
                    let read = std::fs::File::open(&file).and_then(|mut f| {
                        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                        read_capped(&mut f, usize::try_from(size).unwrap_or(usize::MAX))
                    });
                    match read {
                        Ok(bytes) => add_bytes(&mut loaded, file.display().to_string(), bytes),
                        Err(e) => loaded.diagnostics.push(Diagnostic::new(Code::InputIo,
                            format!("cannot read {}: {e}", file.display()),
                        )),
                    }
                }
            }
        }
        let name = match input {
            Input::Stdin => "-".to_string(),
            Input::Path(p) => p.display().to_string(),
        };
        // An input that could not be read is named by its error already.
        if loaded.diagnostics.len() == errors {
            let files = (first..loaded.sources.files.len()).collect();
            loaded.sources.inputs.push((name, files));
        }
    }
    (loaded.sources, loaded.texts, loaded.diagnostics)
}

/// The largest file read: positions are kept as 32-bit offsets.
pub const MAX_FILE_BYTES: usize = u32::MAX as usize;

/// Read everything, refusing more than [`MAX_FILE_BYTES`]. `hint` is the expected size (0 if
/// unknown); the buffer ends exactly as large as the text, since it is copied once more later.
fn read_capped(r: &mut dyn std::io::Read, hint: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(hint.min(MAX_FILE_BYTES).saturating_add(1));
    std::io::Read::take(r, MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!("larger than {} GiB, the most gatewayc reads from one file", (MAX_FILE_BYTES + 1) >> 30)));
    }
    bytes.shrink_to_fit();
    Ok(bytes)
}

struct Reader {
    sources: SourceMap,
    texts: Vec<(FileId, Arc<str>)>,
    diagnostics: Vec<Diagnostic>,
}

/// Parse one in-memory text (used by tests and benches).
pub fn load_str(name: &str, text: &str) -> Loaded {
    let mut reader = Reader { sources: SourceMap::default(), texts: Vec::new(), diagnostics: Vec::new() };
    add_bytes(&mut reader, name.to_string(), text.as_bytes().to_vec());
    let mut documents = Vec::new();
    let mut diagnostics = reader.diagnostics;
    for (file, text) in reader.texts {
        parse_range(file, &text, 0, text.len(), &mut diagnostics, &mut |d| documents.push(d));
    }
    Loaded { sources: reader.sources, documents, diagnostics }
}

fn add_bytes(loaded: &mut Reader, name: String, bytes: Vec<u8>) {
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // Offsets in the lossy text match the original up to the first invalid byte.
            let file = loaded.sources.add(name, lossy);
            loaded.diagnostics.push(
                Diagnostic::new(Code::ParseEncoding, "input is not valid UTF-8")
                    .with_span(Some(Span { file, start: valid, end: valid + 1 }))
                    .with_help("Kubernetes manifests must be UTF-8 encoded"),
            );
            return;
        }
    };
    let text: Arc<str> = text.into();
    let file = loaded.sources.add(name, text.clone());
    loaded.texts.push((file, text));
}

fn is_manifest(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

fn collect_files(path: &Path, diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    match std::fs::metadata(path) {
        Err(e) => {
            diags.push(Diagnostic::new(Code::InputIo, format!("cannot read {}: {e}", path.display())));
            Vec::new()
        }
        Ok(m) if !m.is_dir() => vec![path.to_path_buf()],
        Ok(_) => {
            let mut files = Vec::new();
            let walker = walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
            for entry in walker {
                match entry {
                    Ok(e) if e.file_type().is_file() && is_manifest(e.path()) => files.push(e.path().to_path_buf()),
                    Ok(_) => {}
                    // A symlink loop is skipped; it cannot hold anything new.
                    Err(e) if e.loop_ancestor().is_some() => {}
                    Err(e) => diags.push(Diagnostic::new(Code::InputIo, format!("cannot walk {}: {e}", path.display()))),
                }
            }
            files
        }
    }
}
