//! metadata checks as the API server does them: name, namespace, labels, annotations.

use crate::diag::Code;
use super::Ctx;
use crate::api::Kind;
use crate::api::meta::ObjectMeta;

const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && dns_labels(s)
}

/// Dot-separated DNS labels (lowercase alphanumerics and `-`, not at either end), any length.
fn dns_labels(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|l| !l.is_empty() && l.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-') && !l.starts_with('-') && !l.ends_with('-'))
}

fn is_dns1035_label(s: &str) -> bool {
    is_dns_label(s) && s.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters.
fn is_qualified_name_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && s.bytes().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// `^(dns-subdomain/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$`, the CRDs' key pattern
/// (the prefix's length is a rule of its own).
pub fn key_form(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    prefix.is_none_or(dns_labels) && is_qualified_name_part(name)
}

/// A hostname, optionally a wildcard: `^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`.
pub fn is_hostname(h: &str) -> bool {
    dns_labels(h.strip_prefix("*.").unwrap_or(h))
}

pub fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && !is_dns_subdomain(p)
    {
        return Err(format!("prefix `{p}` of key `{key}` must be a DNS subdomain (lowercase, at most 253 characters)"));
    }
    if !is_qualified_name_part(name) {
        return Err(format!(
            "name part of key `{key}` must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"
        ));
    }
    Ok(())
}

pub fn check(kind: Kind, meta: &ObjectMeta, ctx: &mut Ctx) {
    let name_ok = match kind {
        Kind::Namespace => is_dns_label(&meta.name),
        Kind::Service => is_dns1035_label(&meta.name),
        _ => is_dns_subdomain(&meta.name),
    };
    if !name_ok {
        let rule = match kind {
            Kind::Namespace => "a DNS label (at most 63 lowercase alphanumerics or '-', starting and ending with an alphanumeric)",
            Kind::Service => "a DNS-1035 label (at most 63 lowercase alphanumerics or '-', starting with a letter)",
            _ => "a DNS subdomain (at most 253 lowercase alphanumerics, '-' or '.')",
        };
        ctx.error(Code::SchemaMetadata, format!("invalid name `{}`: must be {rule}", meta.name), "/metadata/name");
    }
    if let Some(ns) = &meta.namespace
        && kind.namespaced()
        && !is_dns_label(ns)
    {
        ctx.error(Code::SchemaMetadata, format!("invalid namespace `{ns}`: must be a DNS label"), "/metadata/namespace");
    }
    for (k, v) in &meta.labels {
        let p = format!("/metadata/labels/{}", crate::source::escape_pointer(k));
        if let Err(e) = check_key(k) {
            ctx.error(Code::SchemaMetadata, format!("invalid label key: {e}"), p.clone());
        }
        if !v.is_empty() && !is_qualified_name_part(v) {
            ctx.error(Code::SchemaMetadata,
                format!("invalid value for label `{k}`: must be empty or at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"),
                p,
            );
        }
    }
    let mut total = 0;
    for (k, v) in &meta.annotations {
        total += k.len() + v.len();
        if let Err(e) = check_key(k) {
            ctx.error(Code::SchemaMetadata, format!("invalid annotation key: {e}"), format!("/metadata/annotations/{}", crate::source::escape_pointer(k)));
        }
    }
    if total > MAX_ANNOTATIONS_BYTES {
        ctx.error(Code::SchemaMetadata,
            format!("annotations total {total} bytes, more than the limit of {MAX_ANNOTATIONS_BYTES}"),
            "/metadata/annotations",
        );
    }
}
