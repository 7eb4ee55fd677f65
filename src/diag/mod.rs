//! Diagnostics as plain data, and one renderer per output format.
//!
//! Every stage reports problems as [`Diagnostic`] values; nothing prints on its own.
//! `main` decides exit codes from the severities, the renderers here decide the text.

mod code;
pub use code::{Class, Code, reference_page};

use crate::source::{SourceMap, Span};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in the input. Its severity follows from its code's class (and from
/// `--allow-unsupported`, see [`allow_unsupported`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    /// `Kind namespace/name` of the object the problem belongs to, when known.
    pub object: Option<String>,
    /// Field path inside the object, as a JSON pointer (`/spec/rules/0`).
    pub path: Option<String>,
    pub span: Option<Span>,
    pub help: Option<String>,
    /// The object holds secret material: renderers show no source snippet for it.
    pub sensitive: bool,
    /// Another place the problem involves (the first definition of a duplicate object).
    pub related: Option<Span>,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: match code.class() {
                Class::Invalid | Class::Unsupported => Severity::Error,
                Class::Rejected | Class::Advice => Severity::Warning,
            },
            code,
            message: message.into(),
            object: None,
            path: None,
            span: None,
            help: None,
            sensitive: false,
            related: None,
        }
    }
    pub fn with_span(mut self, span: Option<Span>) -> Self {
        self.span = span;
        self
    }
    pub fn with_object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
    pub fn with_related(mut self, span: Option<Span>) -> Self {
        self.related = span;
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `--allow-unsupported`: what is not implemented yet becomes a warning.
pub fn allow_unsupported(diags: &mut [Diagnostic]) {
    for d in diags.iter_mut().filter(|d| d.code.class() == Class::Unsupported) {
        d.severity = Severity::Warning;
    }
}

/// Which verb judges the diagnostics (see the table in docs/diagnostics.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `translate`, `render`: fail on errors.
    Translate,
    /// `validate`: fail on errors and on what status would report as rejected.
    Validate,
    /// `status`: fail only when the input could not be read or parsed.
    Status,
}

/// Does this run fail? Decided from severities and classes only.
pub fn fails(diags: &[Diagnostic], verdict: Verdict, strict: bool) -> bool {
    diags.iter().any(|d| match verdict {
        Verdict::Status => d.is_error() && d.code.is_read_failure(),
        Verdict::Translate => d.is_error() || strict,
        Verdict::Validate => d.is_error() || strict || d.code.class() == Class::Rejected,
    })
}

/// Longest message a renderer prints; the rest is cut (values from input can be huge).
const MAX_MESSAGE_CHARS: usize = 1000;

/// Text from input made safe to print: control characters (C0, DEL, C1, and the bidirectional
/// overrides that reorder terminal text) are escaped, so no input can move a cursor, forge a
/// log line or a workflow command; overlong text is cut.
pub fn safe_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_MESSAGE_CHARS + 16));
    for (n, c) in s.chars().enumerate() {
        if n == MAX_MESSAGE_CHARS {
            out.push_str(&format!("… ({} more characters)", s.chars().count() - n));
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// The message as every renderer prints it: escaped, cut, with the object and the related
/// place.
fn full_message(d: &Diagnostic, sources: &SourceMap) -> String {
    let mut m = safe_text(&d.message);
    if let Some(o) = &d.object {
        m.push_str(&format!(" [{}]", safe_text(o)));
    }
    if let Some(r) = d.related {
        let (l, c) = sources.line_col(r);
        m.push_str(&format!(" (also at {}:{l}:{c})", safe_text(sources.name(r.file))));
    }
    m
}

/// Sort diagnostics into a stable order: by file, position, then code and message.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        let ka = (a.span.map(|s| (s.file, s.start)), a.code.as_str(), &a.message, &a.path);
        let kb = (b.span.map(|s| (s.file, s.start)), b.code.as_str(), &b.message, &b.path);
        ka.cmp(&kb)
    });
}

/// Remove exact duplicates while keeping order.
pub fn dedup(diags: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert(d.clone()));
}

/// The source as miette sees it: only the lines around a span are read, found through the
/// line table, so rendering many diagnostics of a large file stays linear.
struct Window {
    name: String,
    text: std::sync::Arc<str>,
    line_starts: std::sync::Arc<[usize]>,
}

impl Window {
    fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }
}

/// Lines longer than this are shown as a window of [`WINDOW`] bytes each side of the span.
const MAX_SNIPPET_LINE: usize = 400;
const WINDOW: usize = 80;

impl miette::SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let len = self.text.len();
        if span.offset() > len {
            return Err(miette::MietteError::OutOfBounds);
        }
        let first_line = self.line_of(span.offset());
        let last_line = self.line_of((span.offset() + span.len()).saturating_sub(1).max(span.offset()));
        let line_end = |l: usize| self.line_starts.get(l + 1).copied().unwrap_or(len);
        // A long line (minified JSON) is shown as a window around the span, alone: a snippet
        // never copies more than a few hundred bytes, whatever the line.
        if line_end(last_line) - self.line_starts[first_line] > MAX_SNIPPET_LINE {
            let floor = |mut i: usize| {
                while !self.text.is_char_boundary(i) {
                    i -= 1;
                }
                i
            };
            let start = floor(span.offset().saturating_sub(WINDOW).max(self.line_starts[first_line]));
            let end = floor((span.offset() + span.len().min(WINDOW) + WINDOW).min(line_end(first_line)).min(len));
            let end = self.text[start..end].find('\n').map(|i| start + i).unwrap_or(end);
            let column = self.text[self.line_starts[first_line]..start].chars().count();
            let contents = miette::MietteSpanContents::new_named(self.name.clone(), &self.text.as_bytes()[start..end], (start, end - start).into(), first_line, column, 1)
                .with_language("yaml");
            return Ok(Box::new(contents));
        }
        let from = first_line.saturating_sub(before);
        let to = (last_line + after).min(self.line_starts.len() - 1);
        let start = self.line_starts[from];
        let end = line_end(to);
        let column = span.offset() - self.line_starts[first_line];
        let contents = miette::MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[start..end],
            (start, end - start).into(),
            from,
            if before == 0 { column } else { 0 },
            to - from + 1,
        )
        .with_language("yaml");
        Ok(Box::new(contents))
    }
}

/// Could a snippet at `at` show secret material? When the YAML document around it (between
/// `---` lines; a whole List counts as one) is or holds a Secret, or key material is near.
fn near_secret(text: &str, at: usize) -> bool {
    let at = at.min(text.len());
    let b = text.as_bytes();
    let is_marker = |i: usize| b[i..].starts_with(b"---") && (i == 0 || b[i - 1] == b'\n');
    let start = text[..at].rmatch_indices("---").map(|(i, _)| i).find(|&i| is_marker(i)).unwrap_or(0);
    let end = text[at..].match_indices("---").map(|(i, _)| at + i).find(|&i| is_marker(i)).unwrap_or(text.len());
    let doc = &text[start..end];
    doc.contains("PRIVATE KEY") || declares_secret(doc)
}

/// `kind: Secret` in any YAML or JSON spelling (`kind: "Secret"`, `{"kind":"Secret"}`).
fn declares_secret(doc: &str) -> bool {
    doc.match_indices("Secret").any(|(i, _)| {
        let after = doc[i + 6..].chars().next();
        if after.is_some_and(|c| c.is_alphanumeric()) {
            return false;
        }
        let before = doc[..i].trim_end_matches(['"', '\'']).trim_end();
        let Some(before) = before.strip_suffix(':') else { return false };
        let key = before.trim_end().trim_end_matches(['"', '\'']);
        key.ends_with("kind") && !key[..key.len() - 4].ends_with(|c: char| c.is_alphanumeric() || c == '_')
    })
}

#[derive(Serialize)]
struct JsonDiag<'a> {
    severity: Severity,
    code: Code,
    message: String,
    object: Option<String>,
    path: Option<String>,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    related: Option<JsonPlace<'a>>,
}

#[derive(Serialize)]
struct JsonPlace<'a> {
    file: &'a str,
    line: usize,
    column: usize,
}

/// `{"diagnostics":[...]}` with 1-based line and column.
pub fn render_json(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let items: Vec<JsonDiag> = diags
        .iter()
        .map(|d| {
            let pos = d.span.map(|s| sources.line_col(s));
            JsonDiag {
                severity: d.severity,
                code: d.code,
                message: safe_text(&d.message),
                object: d.object.as_deref().map(safe_text),
                path: d.path.as_deref().map(safe_text),
                file: d.span.map(|s| sources.name(s.file)),
                line: pos.map(|p| p.0),
                column: pos.map(|p| p.1),
                help: d.help.as_deref().map(safe_text),
                related: d.related.map(|r| {
                    let (line, column) = sources.line_col(r);
                    JsonPlace { file: sources.name(r.file), line, column }
                }),
            }
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&serde_json::json!({ "diagnostics": items }))
        .unwrap_or_else(|_| String::from("{\"diagnostics\":[]}"));
    out.push('\n');
    out
}

/// Human output through miette: a header `file:line:col`, the YAML snippet with the node
/// underlined, the object and field path, and help.
pub fn render_human(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, Report};
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    // Messages are never wrapped: one diagnostic, one line to grep.
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_wrap_lines(false).with_context_lines(1);
    let mut out = String::new();
    for d in diags {
        let location = match d.span {
            Some(s) => {
                let (l, c) = sources.line_col(s);
                format!("{}:{}:{}: ", sources.name(s.file), l, c)
            }
            None => String::new(),
        };
        let message = format!("{}{}", safe_text(&location), full_message(d, sources));
        let mut md = MietteDiagnostic::new(message)
            .with_code(d.code.as_str())
            .with_severity(match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            });
        if let Some(h) = &d.help {
            md = md.with_help(safe_text(h));
        }
        let report = if let Some(s) = d.span.filter(|s| !d.sensitive && !near_secret(sources.text(s.file), s.start)) {
            let label = d.path.as_deref().map(safe_text).unwrap_or_default();
            let text = sources.text(s.file);
            let start = s.start.min(text.len());
            let len = (s.end.min(text.len()).saturating_sub(start)).max(usize::from(start < text.len()));
            md = md.with_label(LabeledSpan::new(if label.is_empty() { None } else { Some(label) }, start, len));
            let window = Window { name: sources.name(s.file).to_string(), text: text.clone(), line_starts: sources.line_starts(s.file).clone() };
            Report::new(md).with_source_code(window)
        } else {
            if let Some(p) = &d.path {
                let p = safe_text(p);
                md = md.with_help(match &d.help {
                    Some(h) => format!("at {p}; {}", safe_text(h)),
                    None => format!("at {p}"),
                });
            }
            Report::new(md)
        };
        let _ = handler.render_report(&mut out, report.as_ref());
    }
    out
}

/// GitHub Actions workflow commands: `::error file=F,line=L,col=C,title=CODE::message`.
pub fn render_github(diags: &[Diagnostic], sources: &SourceMap) -> String {
    fn escape_data(s: &str) -> String {
        s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    }
    fn escape_prop(s: &str) -> String {
        escape_data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let mut out = String::new();
    for d in diags {
        let level = if d.is_error() { "error" } else { "warning" };
        let mut props = Vec::new();
        if let Some(s) = d.span {
            let (l, c) = sources.line_col(s);
            props.push(format!("file={}", escape_prop(sources.name(s.file))));
            props.push(format!("line={l}"));
            props.push(format!("col={c}"));
        }
        props.push(format!("title={}", escape_prop(d.code.as_str())));
        let msg = full_message(d, sources);
        out.push_str(&format!("::{level} {}::{}\n", props.join(","), escape_data(&msg)));
    }
    out
}

/// SARIF 2.1.0 for code scanning: one run, a rule per code, a result per diagnostic.
pub fn render_sarif(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|c| serde_json::json!({"id": c, "name": c.replace("::", "/"), "shortDescription": {"text": c}, "helpUri": "https://gatewayc.dev/docs/diagnostics"}))
        .collect();
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let mut r = serde_json::json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": codes.iter().position(|c| *c == d.code.as_str()).unwrap_or(0),
                "level": if d.is_error() { "error" } else { "warning" },
                "message": {"text": full_message(d, sources)},
            });
            if let Some(s) = d.span {
                let (l, c) = sources.line_col(s);
                let (el, ec) = sources.line_col(Span { end: s.end, start: s.end.max(s.start), file: s.file });
                r["locations"] = serde_json::json!([{"physicalLocation": {
                    "artifactLocation": {"uri": sources.name(s.file)},
                    "region": {"startLine": l, "startColumn": c, "endLine": el, "endColumn": ec.max(c + usize::from(el == l))},
                }}]);
            }
            r
        })
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "gatewayc", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://gatewayc.dev", "rules": rules}},
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
