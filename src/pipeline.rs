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

/// What a run needs besides the IR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Bootstraps and diagnostics.
    Translate,
    /// Also the objects with status (costly on large inputs, so only when asked).
    Status,
}

pub fn compile(inputs: &[Input], stdin: &mut dyn std::io::Read, opts: &Options, want: Want) -> Compiled {
    let t = Timer::new();
    let loaded = source::load(inputs, stdin);
    t.lap("source");
    compile_loaded(loaded, opts, want)
}

/// Stage timings on stderr when GATEWAYC_TIMINGS is set (for profiling, never in output).
struct Timer(Option<std::cell::Cell<std::time::Instant>>);

impl Timer {
    fn new() -> Self {
        Timer(std::env::var_os("GATEWAYC_TIMINGS").map(|_| std::cell::Cell::new(std::time::Instant::now())))
    }
    fn lap(&self, stage: &str) {
        if let Some(c) = &self.0 {
            let now = std::time::Instant::now();
            eprintln!("timing {stage}: {:.3}s", (now - c.get()).as_secs_f64());
            c.set(now);
        }
    }
}

pub fn compile_loaded(loaded: source::Loaded, opts: &Options, want: Want) -> Compiled {
    let mut diagnostics = loaded.diagnostics;
    // An input without any object is an error, unless reading it already failed.
    if loaded.documents.is_empty() && !diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.push(Diagnostic::error("input::empty", "the input holds no Kubernetes object"));
    }
    let t = Timer::new();
    let validated = crate::validate::check(loaded.documents);
    t.lap("validate");
    diagnostics.extend(validated.diagnostics);
    let resolved = resolve::resolve(&validated.resources, opts);
    t.lap("resolve");
    diagnostics.extend(resolved.diagnostics.iter().cloned());
    let gateways = crate::ir::build(&resolved);
    t.lap("ir");
    let status_objects =
        if want == Want::Status { crate::emit::status::objects(&validated.resources, &resolved.status) } else { Vec::new() };
    t.lap("status");
    crate::diag::sort(&mut diagnostics);
    crate::diag::dedup(&mut diagnostics);
    // The resources are large and every output is built; freeing them node by node costs
    // as much as building them, so a one-shot CLI run leaves that to process exit.
    let compiled = Compiled { sources: loaded.sources, diagnostics, gateways, status_objects, refused: validated.refused };
    std::mem::forget(resolved);
    std::mem::forget(validated.resources);
    compiled
}

/// The bootstrap text of one Gateway.
pub fn render_bootstrap(g: &GatewayIr, opts: &EnvoyOptions, json: bool) -> Result<String, String> {
    envoy::render(&envoy::bootstrap(g, opts), json)
}
