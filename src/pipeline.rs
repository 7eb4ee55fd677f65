//! The stages run top to bottom: source → validate (api types) → resolve → ir → emit.
//! Each function here returns owned results; nothing is written.

use crate::diag::Diagnostic;
use crate::emit::envoy::{self, EnvoyOptions};
use crate::ir::GatewayIr;
use crate::resolve::{self, Options};
use crate::source::{self, Input, SourceMap};

/// Everything one run computed.
pub struct Compiled {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub gateways: Vec<GatewayIr>,
    /// Gateway API objects with status, as YAML documents (for `gatewayc status`).
    pub status_objects: Vec<serde_json::Value>,
    /// Objects refused by validation.
    pub refused: usize,
}

pub fn compile(inputs: &[Input], stdin: &mut dyn std::io::Read, opts: &Options) -> Compiled {
    let loaded = source::load(inputs, stdin);
    compile_loaded(loaded, opts)
}

pub fn compile_loaded(loaded: source::Loaded, opts: &Options) -> Compiled {
    let mut diagnostics = loaded.diagnostics;
    // An input without any object is an error, unless reading it already failed.
    if loaded.documents.is_empty() && !diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.push(Diagnostic::error("input::empty", "the input holds no Kubernetes object"));
    }
    let validated = crate::validate::check(loaded.documents);
    diagnostics.extend(validated.diagnostics);
    let resolved = resolve::resolve(&validated.resources, opts);
    diagnostics.extend(resolved.diagnostics.iter().cloned());
    let gateways = crate::ir::build(&resolved);
    let status_objects = crate::emit::status::objects(&validated.resources, &resolved.status);
    crate::diag::sort(&mut diagnostics);
    crate::diag::dedup(&mut diagnostics);
    Compiled { sources: loaded.sources, diagnostics, gateways, status_objects, refused: validated.refused }
}

/// The bootstrap text of one Gateway.
pub fn render_bootstrap(g: &GatewayIr, opts: &EnvoyOptions, json: bool) -> Result<String, String> {
    envoy::render(&envoy::bootstrap(g, opts), json)
}
