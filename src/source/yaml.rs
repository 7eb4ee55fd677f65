//! A YAML 1.2 loader on saphyr-parser events that keeps a position for every node.
//!
//! Limits, each a diagnostic rather than a hang: nesting depth, alias expansion (a node
//! budget, against "billion laughs"), document size. Duplicate keys are errors.

use super::{Document, FileId, Locator, NodeSpan, Span, SpanIndex, escape_pointer};
use crate::diag::{Code, Diagnostic};
use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Deepest nesting of mappings and sequences accepted.
pub const MAX_DEPTH: usize = 64;
/// Nodes that aliases may add to one file, in total.
pub const MAX_ALIAS_NODES: usize = 100_000;
/// Largest document accepted (the API server refuses objects over 3 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 3 * 1024 * 1024;

enum Frame {
    Map { map: Map<String, Value>, ptr: String, start: usize, anchor: usize, key: Option<(String, (usize, usize))> },
    Seq { vec: Vec<Value>, ptr: String, start: usize, anchor: usize },
}

struct Offsets<'a> {
    text: &'a str,
    ascii: bool,
    line_starts: Vec<usize>,
}

impl Offsets<'_> {
    fn byte(&self, m: &saphyr_parser::Marker) -> usize {
        if self.ascii {
            return m.index().min(self.text.len());
        }
        let line = m.line().saturating_sub(1).min(self.line_starts.len().saturating_sub(1));
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let rest = &self.text[start..];
        rest.char_indices().nth(m.col()).map(|(i, _)| start + i).unwrap_or(self.text.len())
    }
}

fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let b = s.as_bytes();
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits(unsigned) {
        if let Ok(i) = s.parse::<i64>() {
            return Value::Number(i.into());
        }
        if let Ok(u) = s.parse::<u64>() {
            return Value::Number(u.into());
        }
    }
    if let Some(h) = s.strip_prefix("0x")
        && !h.is_empty()
        && let Ok(u) = u64::from_str_radix(h, 16)
    {
        return Value::Number(u.into());
    }
    if let Some(o) = s.strip_prefix("0o")
        && !o.is_empty()
        && let Ok(u) = u64::from_str_radix(o, 8)
    {
        return Value::Number(u.into());
    }
    // Floats of the core schema: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    if !b.is_empty() && is_core_float(unsigned)
        && let Ok(f) = s.parse::<f64>()
            && let Some(n) = Number::from_f64(f)
        {
            return Value::Number(n);
        }
    Value::String(s.to_string())
}

/// The non-specific tag `!`.
fn non_specific(t: &saphyr_parser::Tag) -> bool {
    format!("{}{}", t.handle, t.suffix) == "!"
}

/// A scalar with an explicit tag: the core schema's tags are honoured (and must fit the
/// value), `!` means a string; anything else is refused, never ignored.
fn tagged_scalar(t: &saphyr_parser::Tag, raw: &str) -> Result<Value, String> {
    if non_specific(t) {
        return Ok(Value::String(raw.to_string()));
    }
    let name = format!("{}{}", if t.is_yaml_core_schema() { "!!" } else { &t.handle }, t.suffix);
    if !t.is_yaml_core_schema() {
        return Err(format!("tag `{name}` is not supported; Kubernetes objects use plain YAML"));
    }
    let v = resolve_plain(raw);
    let fits = match t.suffix.as_str() {
        "str" => return Ok(Value::String(raw.to_string())),
        "int" => v.is_i64() || v.is_u64(),
        "float" => v.is_number(),
        "bool" => v.is_boolean(),
        "null" => v.is_null(),
        "binary" => return Err("tag `!!binary` is not supported; Secret and ConfigMap data are base64 strings, write them untagged".into()),
        _ => return Err(format!("tag `{name}` is not supported")),
    };
    let v = if t.suffix == "float" { v.as_f64().and_then(Number::from_f64).map(Value::Number).unwrap_or(v) } else { v };
    if fits { Ok(v) } else { Err(format!("`{name}` does not fit this value")) }
}

fn is_core_float(s: &str) -> bool {
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mant_ok = match mant.split_once('.') {
        Some((a, b)) => a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit()) && !(a.is_empty() && b.is_empty()),
        None => !mant.is_empty() && mant.bytes().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = match exp {
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
        }
        None => true,
    };
    mant_ok && exp_ok && (s.contains('.') || exp.is_some())
}

/// Plain scalars that YAML 1.1 readers (kubectl's go-yaml) read as something else.
fn yaml11_ambiguity(s: &str) -> Option<&'static str> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some("a boolean true"),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some("a boolean false"),
        _ if s.len() > 1 && s.starts_with('0') && s.bytes().all(|c| c.is_ascii_digit()) => Some("an octal number"),
        _ => None,
    }
}

fn count_nodes(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(count_nodes).sum::<usize>(),
        Value::Object(m) => 1 + m.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

struct DocState {
    root: Option<Value>,
    root_start: usize,
    root_end: usize,
    spans: HashMap<String, NodeSpan>,
}

/// Parse all documents of one file. Documents with errors are dropped; the errors say why.
/// This first pass keeps no per-node positions (they cost memory on every node); a
/// [`Locator`] rebuilds them for one document when a diagnostic needs them.
pub fn load_documents(file: FileId, text: &Arc<str>, start: usize, end: usize, diags: &mut Vec<Diagnostic>, out: &mut dyn FnMut(Document)) {
    let slice = text.get(start..end).unwrap_or("");
    parse(file, slice, start, false, diags, &mut |d, s, e, diags| finish_document(file, text, d, s, e, out, diags));
}

/// JSON pointer → position for every node of the document at `text[start..end]`.
pub fn span_index(text: &str, start: usize, end: usize) -> HashMap<String, NodeSpan> {
    let mut result = None;
    let mut ignored = Vec::new();
    let slice = text.get(start..end).unwrap_or("");
    parse(0, slice, start, true, &mut ignored, &mut |d, _, _, _| {
        if result.is_none() {
            result = Some(d.spans);
        }
    });
    result.unwrap_or_default()
}

type Sink<'s> = dyn FnMut(DocState, usize, usize, &mut Vec<Diagnostic>) + 's;

fn parse(file: FileId, text: &str, base: usize, track: bool, diags: &mut Vec<Diagnostic>, sink: &mut Sink) {
    let ascii = text.is_ascii();
    let line_starts = if ascii { Vec::new() } else { super::line_starts(text) };
    let offs = Offsets { text, ascii, line_starts };
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Value, usize)> = HashMap::new();
    let mut alias_nodes = 0usize;
    let mut doc: Option<DocState> = None;
    let mut doc_failed = false;
    let mut doc_start = 0usize;
    let span = |s: usize, e: usize| Some(Span { file, start: s, end: e.max(s) });

    loop {
        let (event, ev_span) = match parser.next_event() {
            None => break,
            Some(Ok(x)) => x,
            Some(Err(e)) => {
                let at = base + offs.byte(e.marker());
                diags.push(
                    Diagnostic::new(Code::ParseSyntax, format!("invalid YAML: {}", e.info())).with_span(span(at, at + 1)),
                );
                return;
            }
        };
        let start = base + offs.byte(&ev_span.start);
        let end = base + offs.byte(&ev_span.end);
        // The size limit holds while reading: a huge document is dropped as soon as it
        // passes the limit, not once it is built.
        if doc.is_some() && !doc_failed && end.saturating_sub(doc_start) > MAX_DOCUMENT_BYTES {
            diags.push(
                Diagnostic::new(Code::ParseDocumentTooLarge, format!("document is more than the limit of {MAX_DOCUMENT_BYTES} bytes"))
                    .with_span(span(doc_start, doc_start + 1)),
            );
            doc_failed = true;
            stack.clear();
            anchors.clear();
        }
        // A node that is complete: (value, start, end, anchor, is_scalar_key_candidate text).
        let mut done: Option<(Value, usize, usize, usize, Option<String>)> = None;
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                doc = Some(DocState { root: None, root_start: start, root_end: start, spans: HashMap::new() });
                doc_failed = false;
                doc_start = start;
                stack.clear();
                // Anchors belong to their document (YAML 1.2), whatever the file's size.
                anchors.clear();
                alias_nodes = 0;
            }
            Event::DocumentEnd => {
                if let Some(d) = doc.take()
                    && !doc_failed
                {
                    let root_end = d.root_end;
                    sink(d, doc_start, end.max(root_end).max(doc_start), diags);
                }
            }
            Event::Alias(id) => {
                match anchors.get(&id) {
                    Some((v, n)) => {
                        alias_nodes += n;
                        if alias_nodes > MAX_ALIAS_NODES {
                            diags.push(
                                Diagnostic::new(Code::ParseAliasLimit,
                                    format!("aliases expand to more than {MAX_ALIAS_NODES} nodes (possible billion-laughs attack)"),
                                )
                                .with_span(span(start, end)),
                            );
                            return;
                        }
                        done = Some((v.clone(), start, end, 0, None));
                    }
                    None => {
                        diags.push(Diagnostic::new(Code::ParseSyntax, "alias to an unknown anchor").with_span(span(start, end)));
                        return;
                    }
                }
            }
            Event::Scalar(text_value, style, anchor, tag) => {
                let raw = text_value.into_owned();
                let is_key = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
                if let Some(t) = tag.as_deref() {
                    match tagged_scalar(t, &raw) {
                        Ok(v) => {
                            done = Some((v, start, end, anchor, Some(raw.clone())));
                        }
                        Err(msg) => {
                            diags.push(Diagnostic::new(Code::ParseTag, msg).with_span(span(start, end)));
                            doc_failed = true;
                            stack.clear();
                            continue;
                        }
                    }
                }
                let value = if done.is_some() {
                    Value::Null
                } else if style == ScalarStyle::Plain {
                    let v = resolve_plain(&raw);
                    if !is_key
                        && let Some(what) = yaml11_ambiguity(&raw)
                    {
                        diags.push(
                            Diagnostic::new(Code::ParseYaml11Ambiguous,
                                // The value stays out of the message: it may be a Secret's.
                                format!("this plain scalar is {} in YAML 1.2 but {what} for YAML 1.1 readers such as kubectl", if v.is_string() { "a string" } else { "a decimal number" }),
                            )
                            .with_span(span(start, end))
                            .with_help("quote it if you mean the string"),
                        );
                    }
                    v
                } else {
                    Value::String(raw.clone())
                };
                if done.is_none() {
                    done = Some((value, start, end, anchor, Some(raw)));
                }
            }
            Event::MappingStart(anchor, ref tag) | Event::SequenceStart(anchor, ref tag) => {
                if doc.is_none() || doc_failed {
                    continue;
                }
                let want = if matches!(event, Event::MappingStart(..)) { "map" } else { "seq" };
                if let Some(t) = tag.as_deref()
                    && !(t.is_yaml_core_schema() && t.suffix == want || non_specific(t))
                {
                    diags.push(Diagnostic::new(Code::ParseTag, format!("tag `{}{}` is not supported here; Kubernetes objects use plain YAML", t.handle, t.suffix)).with_span(span(start, end)));
                    doc_failed = true;
                    stack.clear();
                    continue;
                }
                if stack.len() >= MAX_DEPTH {
                    diags.push(
                        Diagnostic::new(Code::ParseDepthLimit, format!("nesting deeper than {MAX_DEPTH} levels"))
                            .with_span(span(start, end)),
                    );
                    doc_failed = true;
                    stack.clear();
                    continue;
                }
                let ptr = match child_pointer(&stack, track) {
                    Ok(p) => p,
                    Err(()) => {
                        diags.push(Diagnostic::new(Code::ParseComplexKey, "mapping keys must be scalars").with_span(span(start, end)));
                        doc_failed = true;
                        stack.clear();
                        continue;
                    }
                };
                if matches!(event, Event::MappingStart(..)) {
                    stack.push(Frame::Map { map: Map::new(), ptr, start, anchor, key: None });
                } else {
                    stack.push(Frame::Seq { vec: Vec::new(), ptr, start, anchor });
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if doc_failed {
                    continue;
                }
                match stack.pop() {
                    Some(Frame::Map { map, start: s, anchor, .. }) => done = Some((Value::Object(map), s, end, anchor, None)),
                    Some(Frame::Seq { vec, start: s, anchor, .. }) => done = Some((Value::Array(vec), s, end, anchor, None)),
                    None => {}
                }
            }
        }
        let Some((value, s, e, anchor, raw)) = done else { continue };
        if doc_failed {
            continue;
        }
        if anchor != 0 {
            // Keeping an anchored subtree costs a copy: it counts against the same budget as
            // what aliases add, so anchors alone cannot exhaust memory either.
            let n = count_nodes(&value);
            alias_nodes += n;
            if alias_nodes > MAX_ALIAS_NODES {
                diags.push(
                    Diagnostic::new(Code::ParseAliasLimit, format!("anchors and aliases expand to more than {MAX_ALIAS_NODES} nodes (possible billion-laughs attack)"))
                        .with_span(span(s, e)),
                );
                return;
            }
            anchors.insert(anchor, (value.clone(), n));
        }
        let Some(d) = doc.as_mut() else { continue };
        match stack.last_mut() {
            None => {
                d.spans.insert(String::new(), NodeSpan { key: None, value: (s as u32, e as u32) });
                d.root = Some(value);
                d.root_start = s;
                d.root_end = e;
            }
            Some(Frame::Seq { vec, ptr, .. }) => {
                if track {
                    let p = format!("{ptr}/{}", vec.len());
                    d.spans.entry(p).or_insert(NodeSpan { key: None, value: (s as u32, e as u32) });
                }
                vec.push(value);
            }
            Some(Frame::Map { map, ptr, key, .. }) => match key.take() {
                None => match raw {
                    Some(k) => *key = Some((k, (s, e))),
                    None => {
                        diags.push(Diagnostic::new(Code::ParseComplexKey, "mapping keys must be scalars").with_span(span(s, e)));
                        doc_failed = true;
                        stack.clear();
                    }
                },
                Some((k, ks)) => {
                    if map.contains_key(&k) {
                        let p = format!("{ptr}/{}", escape_pointer(&k));
                        diags.push(
                            Diagnostic::new(Code::ParseDuplicateKey, format!("duplicate key `{k}`"))
                                .with_span(span(ks.0, ks.1))
                                .with_path(p.clone())
                                .with_help("a mapping may hold each key once; the API server would reject it"),
                        );
                        doc_failed = true;
                        stack.clear();
                        continue;
                    }
                    if track {
                        let p = format!("{ptr}/{}", escape_pointer(&k));
                        d.spans.entry(p).or_insert(NodeSpan { key: Some((ks.0 as u32, ks.1 as u32)), value: (s as u32, e as u32) });
                    }
                    map.insert(k, value);
                }
            },
        }
    }
}

/// The pointer a new child of the top frame gets. Err when the child would be a key.
fn child_pointer(stack: &[Frame], track: bool) -> Result<String, ()> {
    match stack.last() {
        Some(Frame::Map { key: None, .. }) => Err(()),
        _ if !track => Ok(String::new()),
        None => Ok(String::new()),
        Some(Frame::Seq { vec, ptr, .. }) => Ok(format!("{ptr}/{}", vec.len())),
        Some(Frame::Map { key: Some((k, _)), ptr, .. }) => Ok(format!("{ptr}/{}", escape_pointer(k))),
    }
}

/// `kind: List`, or a typed list (`ServiceList`) that has `items`.
fn is_list(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str).is_some_and(|k| k == "List" || (k.ends_with("List") && v.get("items").is_some()))
}

fn finish_document(file: FileId, text: &Arc<str>, d: DocState, start: usize, end: usize, out: &mut dyn FnMut(Document), diags: &mut Vec<Diagnostic>) {
    let Some(root) = d.root else { return };
    let root_span = (d.root_start, d.root_end);
    let sp = Some(Span { file, start: root_span.0, end: root_span.1 });
    match &root {
        Value::Null => return,
        Value::Object(_) => {}
        _ => {
            diags.push(Diagnostic::new(Code::ParseNotAnObject, "a document must be a mapping (a Kubernetes object)").with_span(sp));
            return;
        }
    }
    if end.saturating_sub(start) > MAX_DOCUMENT_BYTES {
        diags.push(
            Diagnostic::new(Code::ParseDocumentTooLarge,
                format!("document is {} bytes, more than the limit of {MAX_DOCUMENT_BYTES}", end - start),
            )
            .with_span(Some(Span { file, start: root_span.0, end: root_span.0 + 1 })),
        );
        return;
    }
    // Start the document at the beginning of its line, so that re-parsing it alone sees the
    // same indentation.
    let line_start = text[..root_span.0.min(text.len())].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let spans = Arc::new(SpanIndex::new(file, text.clone(), line_start.min(start), end.max(root_span.1)));
    if is_list(&root) {
        let Value::Object(mut m) = root else { return };
        let at = |p: &str| Locator::new(spans.clone(), String::new()).span_of(p, false);
        match m.remove("items") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.into_iter().enumerate() {
                    let p = format!("/items/{i}");
                    match item {
                        Value::Null => {}
                        Value::Object(_) if is_list(&item) => diags.push(Diagnostic::new(Code::ParseNotAnObject, "a List inside a List is not a Kubernetes object").with_span(at(&p))),
                        Value::Object(_) => out(Document { file, value: item, loc: Locator::new(spans.clone(), p) }),
                        _ => diags.push(Diagnostic::new(Code::ParseNotAnObject, "a List item must be a mapping (a Kubernetes object)").with_span(at(&p))),
                    }
                }
            }
            Some(_) => diags.push(Diagnostic::new(Code::ParseNotAnObject, "a List's `items` must be a sequence of objects").with_span(at("/items"))),
        }
        return;
    }
    out(Document { file, value: root, loc: Locator::new(spans, String::new()) });
}
