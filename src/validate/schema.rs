//! JSON Schema validation of one document against the schema of its kind.

use crate::api::{self, Channel, Kind};
use crate::diag::{Code, Diagnostic};
use crate::source::Document;
use jsonschema::error::ValidationErrorKind;
use std::sync::OnceLock;

/// One compiled validator per (kind, channel), compiled the first time a document needs it:
/// a run reads few kinds, and compiling all of them would dominate small inputs.
fn validator(kind: Kind, channel: Channel) -> &'static Result<jsonschema::Validator, String> {
    const N: usize = Kind::ALL.len() * 2;
    static V: [OnceLock<Result<jsonschema::Validator, String>>; N] = [const { OnceLock::new() }; N];
    let k = Kind::ALL.iter().position(|x| *x == kind).unwrap_or(0);
    let i = k * 2 + usize::from(channel == Channel::Experimental);
    V[i].get_or_init(|| jsonschema::draft202012::new(&api::schema_for_channel(kind, channel)).map_err(|e| e.to_string()))
}

/// Drop `null` members of mappings, as the API server prunes them for non-nullable fields.
pub fn prune_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(prune_nulls);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}

/// All schema errors of one document, each pointing at its node.
pub fn check(kind: Kind, channel: Channel, doc: &Document, object: &str) -> Vec<Diagnostic> {
    let validator = match validator(kind, channel) {
        Ok(v) => v,
        Err(e) => return vec![Diagnostic::new(Code::InternalSchema, format!("schema of {} does not compile: {e}", kind.name()))],
    };
    let secret = kind == Kind::Secret;
    let mut out = Vec::new();
    for e in validator.iter_errors(&doc.value) {
        let path = e.instance_path().as_str().to_string();
        let (pointer, on_key, message) = match e.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    let p = format!("{path}/{}", crate::source::escape_pointer(key));
                    out.push(
                        Diagnostic::new(Code::SchemaUnknownField, format!("unknown field `{key}`"))
                            .with_span(doc.loc.span_of(&p, true))
                            .with_object(object)
                            .with_path(p.clone())
                            .with_help(known_fields_help(kind, channel, &path)),
                    );
                }
                continue;
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or("?").to_string();
                (path.clone(), false, format!("missing required field `{name}`"))
            }
            // Secret data must never be echoed back.
            _ if secret => (path.clone(), false, e.masked().to_string()),
            _ => (path.clone(), false, e.to_string()),
        };
        let code = match e.kind() {
            ValidationErrorKind::Required { .. } => Code::SchemaRequired,
            ValidationErrorKind::Type { .. } => Code::SchemaType,
            ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. } => Code::SchemaEnum,
            ValidationErrorKind::Pattern { .. } => Code::SchemaPattern,
            _ => Code::SchemaConstraint,
        };
        out.push(
            Diagnostic::new(code, message)
                .with_span(doc.loc.span_of(&pointer, on_key))
                .with_object(object)
                .with_path(if pointer.is_empty() { "/".to_string() } else { pointer }),
        );
    }
    out
}

/// "known fields here: a, b, c" for an unknown-field error, from the schema at that pointer.
fn known_fields_help(kind: Kind, channel: Channel, pointer: &str) -> String {
    use serde_json::Value;
    let schema = api::schema_for_channel(kind, channel);
    let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
    let resolve = |n: &Value| -> Value {
        match n.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
            Some(r) => defs.get(r).cloned().unwrap_or(Value::Null),
            None => n.clone(),
        }
    };
    let mut node = resolve(&schema);
    for seg in pointer.split('/').skip(1) {
        let next = if seg.parse::<usize>().is_ok() {
            node.get("items")
        } else {
            node.get("properties").and_then(|p| p.get(seg))
        };
        match next {
            Some(n) => node = resolve(n),
            None => return String::new(),
        }
    }
    match node.get("properties").and_then(Value::as_object) {
        Some(props) => format!("known fields here: {}", props.keys().cloned().collect::<Vec<_>>().join(", ")),
        None => String::new(),
    }
}
