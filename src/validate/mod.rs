//! Stage 3: schemas and rules. Decides which documents become typed objects.
//!
//! Input: documents from `source`. Output: [`Resources`] (every object that the API server
//! would have accepted, in canonical order) and diagnostics. Per document: classify by
//! apiVersion/kind, prune nulls, check the JSON Schema of its kind, decode into our types,
//! then the checks the API server does beyond the schema (metadata formats, the CRDs' CEL
//! rules). An object with an error is dropped here, as the API server would refuse it.

mod backendtls;
mod btp;
mod ctp;
mod eep;
mod epp;
mod routefilter;
mod backend;
mod sp;
mod envoyproxy;
mod gateway;
mod grpcroute;
mod httproute;
mod l4route;
mod metadata;
pub use metadata::{is_dns_label, is_dns_subdomain};
pub mod re2size;
pub mod regex;
pub mod schema;

use crate::api::{self, Class, Kind, Object, Resources};
use crate::diag::{Code, Diagnostic};
use crate::source::{Document, Locator};

/// Collects the diagnostics of one object, each pointing at a node of it.
pub struct Ctx<'a> {
    pub loc: &'a Locator,
    pub object: &'a str,
    pub diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub fn error(&mut self, code: Code, message: impl Into<String>, pointer: impl Into<String>) {
        let pointer = pointer.into();
        self.diags.push(
            Diagnostic::new(code, message)
                .with_span(self.loc.span_of(&pointer, false))
                .with_object(self.object)
                .with_path(pointer),
        );
    }
    /// A field we parse but do not implement yet.
    pub fn unsupported(&mut self, pointer: impl Into<String>, what: &str) {
        let pointer = pointer.into();
        self.diags.push(
            Diagnostic::new(Code::UnsupportedField, format!("{what} is not supported yet"))
                .with_span(self.loc.span_of(&pointer, true))
                .with_object(self.object)
                .with_path(pointer)
                .with_help(UNSUPPORTED_HELP),
        );
    }
}

/// Help for every `unsupported::*` diagnostic.
pub const UNSUPPORTED_HELP: &str = "see docs/features.md for what gatewayc implements; --allow-unsupported translates without it";

/// Everything validation decided.
pub struct Validated {
    pub resources: Resources,
    pub diagnostics: Vec<Diagnostic>,
}

/// What the checks of a run of documents decided, before merging (one per worker).
pub struct Part {
    channel: crate::api::Channel,
    /// In input order; not yet deduplicated or sorted.
    resources: Resources,
    strings: api::core::Interner,
    diagnostics: Vec<Diagnostic>,
}

impl Part {
    pub fn new(channel: crate::api::Channel) -> Self {
        Part { channel, resources: Resources::default(), strings: Default::default(), diagnostics: Vec::new() }
    }
}

/// Check all documents in order (the sequential form of [`check_document`] + [`finish`]).
pub fn check(documents: Vec<Document>, channel: crate::api::Channel) -> Validated {
    let mut part = Part::new(channel);
    for doc in documents {
        check_document(doc, &mut part);
    }
    finish(vec![part])
}

/// Classify, schema-check, decode and rule-check one document. Its value is consumed: only
/// the typed object is kept.
pub fn check_document(mut doc: Document, part: &mut Part) {
    let diags = &mut part.diagnostics;
    let kind = match api::classify(&doc.value) {
        Class::Known(k) if part.channel == crate::api::Channel::Standard && api::experimental_version(k, &doc.value) => {
            let v = doc.value.get("apiVersion").and_then(|v| v.as_str()).unwrap_or("");
            diags.push(
                Diagnostic::new(Code::SchemaUnknownVersion, format!("{} is not served at {v} by the standard channel's CRDs; use {}", k.name(), k.api_versions()[0]))
                    .with_span(doc.loc.span_of("/apiVersion", false))
                    .with_object(describe(&doc.value, k.name()))
                    .with_path("/apiVersion"),
            );
            return;
        }
        Class::Known(k) => k,
        Class::Foreign => return,
        Class::Unsupported { kind } => {
            diags.push(
                Diagnostic::new(Code::UnsupportedKind, format!("{kind} is not supported yet"))
                    .with_span(doc.loc.span_of("/kind", false))
                    .with_object(describe(&doc.value, &kind))
                    .with_help(UNSUPPORTED_HELP),
            );
            return;
        }
        Class::Invalid { code, message, pointer } => {
            diags.push(Diagnostic::new(code, message).with_span(doc.loc.span_of(pointer, false)).with_path(pointer));
            return;
        }
    };
    schema::prune_nulls(&mut doc.value);
    let object = describe(&doc.value, kind.name());
    let mut errors = schema::check(kind, part.channel, &doc, &object);
    mark_sensitive(kind, &mut errors);
    if !errors.is_empty() {
        diags.extend(errors);
        return;
    }
    let obj = match api::decode(kind, doc.value) {
        Ok(o) => o,
        Err(e) => {
            // The schema should have caught this; report rather than panic.
            let msg = if kind == Kind::Secret { "Secret does not decode".to_string() } else { e.to_string() };
            diags.push(Diagnostic::new(Code::SchemaDecode, msg).with_span(doc.loc.span()).with_object(object));
            return;
        }
    };
    let mut ctx = Ctx { loc: &doc.loc, object: &object, diags: Vec::new() };
    metadata::check(kind, obj.meta(), &mut ctx);
    match &obj {
        Object::Gateway(g) => gateway::check(g, &mut ctx),
        Object::ListenerSet(s) => gateway::check_listener_set(s, &mut ctx),
        Object::HTTPRoute(r) => httproute::check(r, &mut ctx),
        Object::GRPCRoute(r) => grpcroute::check(r, &mut ctx),
        Object::BackendTLSPolicy(p) => backendtls::check(p, &mut ctx),
        Object::TCPRoute(r) => l4route::check_tcp(r, &mut ctx),
        Object::UDPRoute(r) => l4route::check_udp(r, &mut ctx),
        Object::TLSRoute(r) => l4route::check_tls(r, &mut ctx),
        Object::EnvoyProxy(e) => envoyproxy::check(e, &mut ctx),
        Object::BackendTrafficPolicy(p) => btp::check(p, &mut ctx),
        Object::ClientTrafficPolicy(p) => ctp::check(p, &mut ctx),
        Object::SecurityPolicy(p) => sp::check(p, &mut ctx),
        Object::EnvoyExtensionPolicy(p) => eep::check(p, &mut ctx),
        Object::EnvoyPatchPolicy(p) => epp::check(p, &mut ctx),
        Object::HTTPRouteFilter(f) => routefilter::check(f, &mut ctx),
        Object::Backend(b) => backend::check(b, &mut ctx),
        _ => {}
    }
    mark_sensitive(kind, &mut ctx.diags);
    // The API server refuses the object only for what it would check itself; an unsupported
    // field keeps the object (its status is still reported).
    let failed = ctx.diags.iter().any(|d| d.code.class() == crate::diag::Class::Invalid);
    diags.append(&mut ctx.diags);
    if failed {
        return;
    }
    part.resources.push(obj.keep(&mut part.strings), doc.loc);
}

/// Merge the parts in input order, then put everything in canonical order. The same object
/// defined twice follows `kubectl apply`: identical copies are one object; otherwise the later
/// definition (in `-f` order, then walk order) replaces the earlier one, with a warning that
/// names both places.
pub fn finish(parts: Vec<Part>) -> Validated {
    let mut diags = Vec::new();
    let mut lists = Vec::new();
    for mut part in parts {
        diags.append(&mut part.diagnostics);
        lists.push(part.resources);
    }
    let mut resources = Resources::concat(lists);
    resources.dedup(&mut |d| {
        if d.same {
            return;
        }
        let object = crate::id::ObjectKey::new(d.kind, d.namespace, d.name).to_string();
        let mut diag = Diagnostic::new(Code::ConflictDuplicateObject, format!("{object} is defined again with different content; this later definition replaces the earlier one"))
            .with_span(d.later.span_of("/metadata/name", false))
            .with_related(d.earlier.span_of("/metadata/name", false))
            .with_object(object)
            .with_help("kubectl apply of both would keep the later one; remove one of them");
        diag.sensitive = d.kind == Kind::Secret;
        diags.push(diag);
    });
    resources.sort();
    Validated { resources, diagnostics: diags }
}

fn mark_sensitive(kind: Kind, diags: &mut [Diagnostic]) {
    if kind == Kind::Secret {
        diags.iter_mut().for_each(|d| d.sensitive = true);
    }
}

/// `Kind ns/name` from a raw value, for diagnostics before decoding.
fn describe(v: &serde_json::Value, kind: &str) -> String {
    let name = v.pointer("/metadata/name").and_then(|n| n.as_str()).unwrap_or("<unnamed>");
    match v.pointer("/metadata/namespace").and_then(|n| n.as_str()) {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => {
            let cluster = matches!(kind, "GatewayClass" | "Namespace");
            if cluster { format!("{kind} {name}") } else { format!("{kind} default/{name}") }
        }
    }
}
