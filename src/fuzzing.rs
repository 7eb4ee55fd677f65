//! Entry points of the fuzz targets (`fuzz/`, cargo-fuzz), also replayed over the committed
//! corpus by `tests/fuzz_corpus.rs`. Each takes arbitrary bytes and must return without a
//! panic, whatever they are.

use crate::pipeline::{self, Emit, Want};

/// The loader alone: bytes to documents, and every diagnostic's position and rendering.
pub fn loader(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let loaded = crate::source::load_str("fuzz.yaml", &text);
    for d in &loaded.documents {
        let _ = d.loc.span();
    }
    let _ = crate::diag::render_human(&loaded.diagnostics, &loaded.sources, false);
}

/// The whole pipeline: validate, resolve, status, a bootstrap per Gateway, every renderer.
pub fn pipeline(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let loaded = crate::source::load_str("fuzz.yaml", &text);
    let opts = crate::resolve::Options::default();
    let envoy = crate::emit::envoy::EnvoyOptions::default();
    let each = |g: &crate::ir::GatewayIr| pipeline::render_bootstrap(g, &envoy, false).map(|t| t.len());
    let emit = Emit { select: &|_, _| true, go: &|_, _| true, each: &each };
    let c = pipeline::compile_loaded(loaded, &opts, Want::Status, Some(&emit));
    let _ = crate::diag::render_human(&c.diagnostics, &c.sources, false);
    let _ = crate::diag::render_json(&c.diagnostics, &c.sources);
    let _ = crate::diag::render_github(&c.diagnostics, &c.sources);
    let _ = crate::diag::render_sarif(&c.diagnostics, &c.sources);
    let _ = crate::emit::yaml::to_string_multiple(&c.status_objects);
}
