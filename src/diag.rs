//! Diagnostics as plain data, and one renderer per output format.
//!
//! Every stage reports problems as [`Diagnostic`] values; nothing prints on its own.
//! `main` decides exit codes from the severities, the renderers here decide the text.

use crate::source::{SourceMap, Span};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in the input. `code` is stable (`parse::...`, `schema::...`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    /// `Kind namespace/name` of the object the problem belongs to, when known.
    pub object: Option<String>,
    /// Field path inside the object, as a JSON pointer (`/spec/rules/0`).
    pub path: Option<String>,
    pub span: Option<Span>,
    pub help: Option<String>,
    /// The object holds secret material: renderers show no source snippet for it.
    pub sensitive: bool,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            object: None,
            path: None,
            span: None,
            help: None,
            sensitive: false,
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
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
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sort diagnostics into a stable order: by file, position, then code and message.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        let ka = (a.span.map(|s| (s.file, s.start)), a.code, &a.message, &a.path);
        let kb = (b.span.map(|s| (s.file, s.start)), b.code, &b.message, &b.path);
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
        let from = first_line.saturating_sub(before);
        let to = (last_line + after).min(self.line_starts.len() - 1);
        let start = self.line_starts[from];
        let end = self.line_starts.get(to + 1).copied().unwrap_or(len);
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

/// Does the text around `at` (its line and the ones beside it) hold a private key? Then a
/// snippet would leak it, whatever the object is.
fn near_key_material(text: &str, at: usize) -> bool {
    let at = at.min(text.len());
    let start = text[..at].rmatch_indices('\n').nth(2).map(|(i, _)| i).unwrap_or(0);
    let end = text[at..].match_indices('\n').nth(2).map(|(i, _)| at + i).unwrap_or(text.len());
    text.get(start..end).is_some_and(|t| t.contains("PRIVATE KEY"))
}

#[derive(Serialize)]
struct JsonDiag<'a> {
    severity: Severity,
    code: &'a str,
    message: &'a str,
    object: Option<&'a str>,
    path: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
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
                message: &d.message,
                object: d.object.as_deref(),
                path: d.path.as_deref(),
                file: d.span.map(|s| sources.name(s.file)),
                line: pos.map(|p| p.0),
                column: pos.map(|p| p.1),
                help: d.help.as_deref(),
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
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_context_lines(1);
    let mut out = String::new();
    for d in diags {
        let location = match d.span {
            Some(s) => {
                let (l, c) = sources.line_col(s);
                format!("{}:{}:{}: ", sources.name(s.file), l, c)
            }
            None => String::new(),
        };
        let mut message = format!("{location}{}", d.message);
        if let Some(obj) = &d.object {
            message.push_str(&format!(" [{obj}]"));
        }
        let mut md = MietteDiagnostic::new(message)
            .with_code(d.code)
            .with_severity(match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            });
        if let Some(h) = &d.help {
            md = md.with_help(h.clone());
        }
        let report = if let Some(s) = d.span.filter(|s| !d.sensitive && !near_key_material(sources.text(s.file), s.start)) {
            let label = d.path.clone().unwrap_or_default();
            let text = sources.text(s.file);
            let start = s.start.min(text.len());
            let len = (s.end.min(text.len()).saturating_sub(start)).max(usize::from(start < text.len()));
            md = md.with_label(LabeledSpan::new(if label.is_empty() { None } else { Some(label) }, start, len));
            let window = Window { name: sources.name(s.file).to_string(), text: text.clone(), line_starts: sources.line_starts(s.file).clone() };
            Report::new(md).with_source_code(window)
        } else {
            if let Some(p) = &d.path {
                md = md.with_help(match &d.help {
                    Some(h) => format!("at {p}; {h}"),
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
        props.push(format!("title={}", escape_prop(d.code)));
        let mut msg = d.message.clone();
        if let Some(o) = &d.object {
            msg.push_str(&format!(" [{o}]"));
        }
        out.push_str(&format!("::{level} {}::{}\n", props.join(","), escape_data(&msg)));
    }
    out
}

/// SARIF 2.1.0 for code scanning: one run, a rule per code, a result per diagnostic.
pub fn render_sarif(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
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
                "ruleId": d.code,
                "ruleIndex": codes.iter().position(|c| *c == d.code).unwrap_or(0),
                "level": if d.is_error() { "error" } else { "warning" },
                "message": {"text": match &d.object { Some(o) => format!("{} [{o}]", d.message), None => d.message.clone() }},
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
