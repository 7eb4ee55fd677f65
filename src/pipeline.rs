//! The stages run top to bottom: source → validate (api types) → resolve → ir → emit.
//! Each function here returns owned results; nothing is written.

use crate::diag::{Code, Diagnostic};
use crate::emit::envoy::{self, EnvoyOptions};
use crate::ir::GatewayIr;
use crate::resolve::{self, Options};
use crate::source::{self, Input, SourceMap};

/// Everything one run computed.
pub struct Compiled<R = ()> {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// Every Gateway of our GatewayClasses, (namespace, name), sorted.
    pub gateways: Vec<(String, String)>,
    /// What [`Emit::each`] produced for the selected Gateways, in name order.
    pub outputs: Vec<R>,
    /// Gateway API objects with status, as YAML documents (for `gatewayc status`).
    pub status_objects: Vec<serde_json::Value>,
    /// When `gateways` is empty: why, in one line (for `input::no-gateway`).
    pub why_no_gateway: String,
}

/// What a run needs besides the IR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Bootstraps and diagnostics.
    Translate,
    /// Also the objects with status (costly on large inputs, so only when asked).
    Status,
}

/// Read, parse and validate. Documents are parsed and checked as they complete, so their
/// value trees never all exist at once; large inputs are split at document boundaries and
/// handled by several threads, then merged in input order (the result does not depend on it).
pub fn compile<R: Send>(inputs: &[Input], stdin: &mut dyn std::io::Read, opts: &Options, want: Want, emit: Option<&Emit<R>>) -> Compiled<R> {
    let t = Timer::new();
    let (sources, texts, mut diagnostics) = source::read(inputs, stdin);
    let total: usize = texts.iter().map(|(_, t)| t.len()).sum();
    let workers = if total < PARALLEL_BYTES {
        1
    } else {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8)
    };
    // Work items: document ranges of every file, in input order, about `target` bytes each.
    let target = (total / (workers * 4)).max(64 * 1024);
    let items: Vec<(source::FileId, &std::sync::Arc<str>, usize, usize)> = texts
        .iter()
        .flat_map(|(f, text)| source::chunks(text, target).into_iter().map(move |(s, e)| (*f, text, s, e)))
        .collect();
    let work = |items: &[(source::FileId, &std::sync::Arc<str>, usize, usize)]| {
        let mut part = crate::validate::Part::new(opts.channel);
        let mut diags = Vec::new();
        let mut with_objects = std::collections::BTreeSet::new();
        for (f, text, s, e) in items {
            source::parse_range(*f, text, *s, *e, &mut diags, &mut |doc| {
                with_objects.insert(doc.file);
                crate::validate::check_document(doc, &mut part)
            });
        }
        (part, diags, with_objects)
    };
    let results: Vec<_> = if workers == 1 || items.len() < 2 {
        vec![work(&items)]
    } else {
        // Contiguous shares of about equal bytes, so that merging keeps input order.
        let per = total.div_ceil(workers);
        let mut shares: Vec<&[_]> = Vec::new();
        let (mut from, mut acc) = (0, 0);
        for (i, it) in items.iter().enumerate() {
            acc += it.3 - it.2;
            if acc >= per && shares.len() + 1 < workers {
                shares.push(&items[from..=i]);
                from = i + 1;
                acc = 0;
            }
        }
        shares.push(&items[from..]);
        std::thread::scope(|sc| {
            let handles: Vec<_> = shares.into_iter().map(|sh| sc.spawn(move || work(sh))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
        })
    };
    let mut parts = Vec::new();
    let mut with_objects = std::collections::BTreeSet::new();
    for (part, diags, files) in results {
        diagnostics.extend(diags);
        parts.push(part);
        with_objects.extend(files);
    }
    empty_inputs(&sources, &with_objects, &mut diagnostics);
    t.lap("source+validate");
    finish(sources, diagnostics, crate::validate::finish(parts), opts, want, emit)
}

/// Name each input path that yields no object; an input with no object at all is an error,
/// unless reading it already failed.
fn empty_inputs(sources: &SourceMap, with_objects: &std::collections::BTreeSet<source::FileId>, diagnostics: &mut Vec<Diagnostic>) {
    let failed = diagnostics.iter().any(Diagnostic::is_error);
    let empty: Vec<&str> = sources.inputs().iter().filter(|(_, files)| !files.iter().any(|f| with_objects.contains(f))).map(|(n, _)| n.as_str()).collect();
    if with_objects.is_empty() {
        if !failed {
            let which = if empty.is_empty() { String::new() } else { format!(" ({})", empty.join(", ")) };
            diagnostics.push(Diagnostic::new(Code::InputEmpty, format!("the input holds no Kubernetes object{which}")));
        }
        return;
    }
    for name in empty {
        diagnostics.push(
            Diagnostic::new(Code::InputNoObjects, format!("{name} yields no Kubernetes object"))
                .with_help("an empty file, or a directory without .yaml, .yml or .json files"),
        );
    }
}

/// Inputs smaller than this are handled on one thread.
const PARALLEL_BYTES: usize = 1 << 20;

/// The sequential path from already loaded documents (tests, tools).
pub fn compile_loaded<R: Send>(loaded: source::Loaded, opts: &Options, want: Want, emit: Option<&Emit<R>>) -> Compiled<R> {
    let mut diagnostics = loaded.diagnostics;
    let with_objects = loaded.documents.iter().map(|d| d.file).collect();
    empty_inputs(&loaded.sources, &with_objects, &mut diagnostics);
    let validated = crate::validate::check(loaded.documents, opts.channel);
    finish(loaded.sources, diagnostics, validated, opts, want, emit)
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
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let mem: Vec<&str> = status.lines().filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS")).collect();
            eprintln!("timing {stage}: {:.3}s {}", (now - c.get()).as_secs_f64(), mem.join(" ").split_whitespace().collect::<Vec<_>>().join(" "));
            c.set(now);
        }
    }
}

/// What to produce from the IR, one Gateway at a time (its IR is dropped once `each` has
/// run, so the IR of all Gateways never exists at once).
pub struct Emit<'f, R> {
    /// Which Gateways (namespace, name) to produce.
    pub select: &'f (dyn Fn(&str, &str) -> bool + Sync),
    /// Whether to produce anything, given the diagnostics and all our Gateways' names.
    pub go: &'f dyn Fn(&[Diagnostic], &[(String, String)]) -> bool,
    /// Produce one Gateway's output (called in parallel, results kept in name order).
    pub each: &'f (dyn Fn(&GatewayIr) -> R + Sync),
}

fn finish<R: Send>(
    sources: SourceMap,
    mut diagnostics: Vec<Diagnostic>,
    validated: crate::validate::Validated,
    opts: &Options,
    want: Want,
    emit: Option<&Emit<R>>,
) -> Compiled<R> {
    let t = Timer::new();
    diagnostics.extend(validated.diagnostics);
    let mut resolved = resolve::resolve(&validated.resources, opts);
    t.lap("resolve");
    diagnostics.extend(resolved.diagnostics.iter().cloned());
    diagnostics.extend(patch_status(&validated.resources, &mut resolved));
    if opts.allow_unsupported {
        crate::diag::allow_unsupported(&mut diagnostics);
    }
    crate::diag::sort(&mut diagnostics);
    crate::diag::dedup(&mut diagnostics);
    let mut ours: Vec<&resolve::ResolvedGateway> = resolved.gateways.iter().filter(|g| g.accepted).collect();
    ours.sort_by(|a, b| a.key.cmp(&b.key));
    let gateways: Vec<(String, String)> = ours.iter().map(|g| (g.key.namespace.clone(), g.key.name.clone())).collect();
    // Nothing after resolve reads the input objects but status: build it now, then free them
    // while the IR is built. Freeing node by node costs about as much as building them, so it
    // happens on a background thread (a CLI run exits without waiting for it).
    let status_objects =
        if want == Want::Status { crate::emit::status::objects(&validated.resources, &resolved.status) } else { Vec::new() };
    t.lap("status");
    let why_no_gateway = if gateways.is_empty() { resolve::gateway::why_no_gateway(&validated.resources, opts, &resolved.status) } else { String::new() };
    let resources = validated.resources;
    if std::thread::Builder::new().name("free".into()).spawn(move || drop(resources)).is_err() {
        // Could not spawn: the resources were dropped with the closure, here.
    }
    let outputs = match emit {
        Some(e) if (e.go)(&diagnostics, &gateways) => {
            let selected: Vec<_> = ours.into_iter().filter(|g| (e.select)(&g.key.namespace, &g.key.name)).collect();
            crate::output::par_map(&selected, |g| (e.each)(&crate::ir::build_gateway(g)))
        }
        _ => Vec::new(),
    };
    t.lap("ir+emit");
    Compiled { sources, diagnostics, gateways, outputs, status_objects, why_no_gateway }
}

/// EnvoyPatchPolicies' Programmed conditions (and an EnvoyProxy `bootstrap` that does not
/// apply, an error), found by applying their patches to the bootstrap of each Gateway they
/// patch (with default output options) before status is
/// written: the same patches, on the same resources, apply when the bootstrap is written, so
/// status, `validate` and the output agree.
fn patch_status(res: &crate::api::Resources, resolved: &mut resolve::Resolved) -> Vec<crate::diag::Diagnostic> {
    let mut diags = Vec::new();
    for g in resolved.gateways.iter().filter(|g| g.accepted && (!g.patches.is_empty() || g.infra.proxy.bootstrap.is_some())) {
        let ir = crate::ir::build_gateway(g);
        let outcomes = match envoy::patched(&envoy::bootstrap(&ir, &EnvoyOptions::default()), &ir) {
            Ok((_, o)) => o,
            Err(e) => {
                diags.push(crate::diag::Diagnostic::new(crate::diag::Code::ProxyBootstrap, e).with_object(g.key.to_string()));
                continue;
            }
        };
        diags.extend(resolve::epp::programmed(res, &g.key, &outcomes, &mut resolved.status));
    }
    diags
}

/// The bootstrap text of one Gateway.
/// Write the bootstrap of one Gateway into `w`.
/// EnvoyPatchPolicies are applied here, to what would be written.
pub fn write_bootstrap(g: &GatewayIr, opts: &EnvoyOptions, json: bool, w: &mut dyn std::io::Write) -> Result<(), String> {
    let b = envoy::bootstrap(g, opts);
    if !envoy::is_patched(g) { envoy::write(&b, json, w) } else { envoy::write(&envoy::patched(&b, g)?.0, json, w) }
}

pub fn render_bootstrap(g: &GatewayIr, opts: &EnvoyOptions, json: bool) -> Result<String, String> {
    let b = envoy::bootstrap(g, opts);
    if !envoy::is_patched(g) { envoy::render(&b, json) } else { envoy::render(&envoy::patched(&b, g)?.0, json) }
}
