//! `gatewayc render`: the manifests that run each Gateway, for GitOps pipelines.
//! The stages are the same as translate's; this module only decides what to write.

use crate::cli::{Exit, RenderArgs, Report, Selection, inputs, options, usage};
use crate::diag::{Code, Diagnostic};
use crate::emit::envoy::EnvoyOptions;
use crate::emit::k8s::{self, MetalLb, RenderOptions};
use crate::pipeline;
use std::path::PathBuf;

/// One Gateway's rendered objects (with its namespace and name, which name its directory), or
/// diagnostics that stop the run.
type Rendered = Result<(crate::id::ObjectKey, Vec<k8s::types::Object>, crate::cli::Stats), Vec<Diagnostic>>;

fn parse_pools(a: &RenderArgs) -> Result<Option<MetalLb>, String> {
    if !crate::validate::is_dns_label(&a.metallb_namespace) {
        return Err(format!("--metallb-namespace must be a namespace name (a DNS label), got `{}`", crate::diag::safe_text(&a.metallb_namespace)));
    }
    if a.metallb_pools.is_empty() {
        return if a.metallb_l2 { Err("--metallb-l2 needs at least one --metallb-pool".into()) } else { Ok(None) };
    }
    let mut pools = Vec::new();
    for p in &a.metallb_pools {
        let Some((name, ranges)) = p.split_once('=') else {
            return Err(format!("--metallb-pool must be NAME=CIDR[,CIDR...], got `{p}`"));
        };
        if !crate::validate::is_dns_subdomain(name) {
            return Err(format!("--metallb-pool: `{name}` is not a valid object name"));
        }
        let ranges: Vec<String> = ranges.split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect();
        if ranges.is_empty() {
            return Err(format!("--metallb-pool {name}: no address range"));
        }
        for r in &ranges {
            k8s::check_range(r).map_err(|e| format!("--metallb-pool {name}: {e}"))?;
        }
        pools.push((name.to_string(), ranges));
    }
    Ok(Some(MetalLb { pools, l2: a.metallb_l2, namespace: a.metallb_namespace.clone() }))
}

pub fn run(a: RenderArgs, stdin: &mut dyn std::io::Read, color: bool) -> Report {
    let metallb = match parse_pools(&a) {
        Ok(m) => m,
        Err(e) => return usage(e),
    };
    let selected = match Selection::parse(&a.gateways) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if a.metrics_port == a.readiness_port {
        return usage("--metrics-port and --readiness-port must differ".to_string());
    }
    let opts = RenderOptions { image: a.envoy_image.clone(), readiness_port: a.readiness_port, metrics_port: a.metrics_port, metallb: metallb.clone(), external_dns: a.external_dns };
    // In the pod the certificates are files from a Secret, never inline in the ConfigMap.
    let Some((admin_address, admin_port)) = crate::cli::parse_admin(&a.admin_address) else {
        return usage(format!("--admin-address must be ADDR:PORT, got `{}`", a.admin_address));
    };
    let envoy = EnvoyOptions {
        admin_address,
        admin_port,
        secrets_dir: Some(PathBuf::from(k8s::SECRETS_DIR)),
        readiness_port: Some(a.readiness_port),
        metrics_port: Some(a.metrics_port),
        rate_limit_service: a.input.rate_limit_service.clone(),
        ..EnvoyOptions::default()
    };
    let is_selected = |ns: &str, name: &str| selected.includes(ns, name);
    let failed = |diags: &[Diagnostic]| crate::diag::fails(diags, crate::diag::Verdict::Translate, a.strict);
    let go = |diags: &[Diagnostic], ours: &[(String, String)]| !failed(diags) && selected.all_in(ours);
    let each = |g: &crate::ir::GatewayIr| -> Rendered {
        let mut problems = Vec::new();
        for addr in &g.infra.addresses {
            if addr.parse::<std::net::IpAddr>().is_err() {
                problems.push(Diagnostic::new(Code::SchemaAddress, format!("Gateway {}/{}: address `{addr}` is not an IP address", g.namespace, g.name)));
            } else if let Some(m) = &metallb
                && !m.pools.iter().any(|(_, rs)| rs.iter().any(|r| k8s::in_range(addr, r)))
            {
                problems.push(Diagnostic::new(Code::ConflictAddressOutsidePool,
                    format!("Gateway {}/{}: address {addr} is in no --metallb-pool; MetalLB could not assign it", g.namespace, g.name),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let bootstrap = pipeline::render_bootstrap(g, &envoy, false).map_err(|e| vec![Diagnostic::new(Code::InternalRender, e)])?;
        let files = crate::emit::envoy::secret_files(g, std::path::Path::new(k8s::SECRETS_DIR));
        // The rate-limit service's configuration, one key per domain file.
        let limits: Vec<(String, String)> = crate::emit::envoy::rate_limit_files(g)
            .map_err(|e| vec![Diagnostic::new(Code::InternalRender, e)])?
            .into_iter()
            .map(|(path, text)| (path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(), text))
            .collect();
        let key = crate::id::ObjectKey::new(crate::api::Kind::Gateway, &g.namespace, &g.name);
        Ok((key, k8s::gateway_objects(g, &bootstrap, &files, &limits, &opts), crate::cli::Stats::of(g)))
    };
    let emit = pipeline::Emit { select: &is_selected, go: &go, each: &each };
    let c = pipeline::compile(&inputs(&a.input), stdin, &options(&a.input), pipeline::Want::Translate, Some(&emit));
    let mut diags: Vec<Diagnostic> = c.diagnostics.clone();
    // A post-renderer sees whatever the chart renders: no Gateway (or no object) is fine then.
    if a.passthrough || a.krm {
        diags.retain(|d| d.code != Code::InputEmpty);
    }
    selected.check(&c.gateways, &a.input.controller_name, &c.why_no_gateway, !a.passthrough && !a.krm, &mut diags);
    let mut objects = Vec::new();
    let mut stats = crate::cli::Stats::default();
    for r in c.outputs {
        match r {
            Ok((key, objs, st)) => {
                stats.add(&st);
                objects.push((key, objs));
            }
            Err(mut d) => diags.append(&mut d),
        }
    }
    let stderr = crate::diag::render_human(&diags, &c.sources, color);
    if failed(&diags) {
        return Report { summary: String::new(), exit: Exit::Invalid, stdout: String::new(), stderr };
    }
    let pools = metallb.as_ref().map(k8s::metallb_objects).unwrap_or_default();
    let all: Vec<&k8s::types::Object> = objects.iter().flat_map(|(_, o)| o).chain(pools.iter()).collect();
    stats.files = all.len();
    let written = match &a.output_dir {
        Some(_) => format!("wrote {} file{}", stats.files, crate::cli::plural(stats.files)),
        None => format!("printed {} object{}", stats.files, crate::cli::plural(stats.files)),
    };
    let summary = if a.quiet { String::new() } else { stats.line(&written) };
    let fail = |e: String| Report { summary: String::new(), exit: Exit::Invalid, stdout: String::new(), stderr: format!("{stderr}error: {e}\n") };
    if let Some(dir) = &a.output_dir {
        let mut files = Vec::new();
        let per_gateway = objects.iter().flat_map(|(key, objs)| objs.iter().map(move |o| (crate::names::gateway_dir(&key.namespace, &key.name).join(crate::names::manifest_file(o.kind())), o)));
        let metallb = pools.iter().map(|o| (crate::names::metallb_file(o.meta().namespace.as_deref().unwrap_or("default"), o.kind(), &o.meta().name), o));
        for (rel, obj) in per_gateway.chain(metallb) {
            match crate::emit::yaml::to_string(obj) {
                Ok(text) => files.push((rel, text)),
                Err(e) => return fail(e),
            }
        }
        return match crate::output::write_all(dir, &files) {
            Ok(()) => Report { exit: Exit::Ok, stdout: String::new(), stderr, summary },
            Err(e) => fail(e),
        };
    }
    if a.krm {
        return match krm(&c.sources, &all) {
            Ok(stdout) => Report { exit: Exit::Ok, stdout, stderr, summary },
            Err(e) => fail(e),
        };
    }
    let generated = if all.is_empty() {
        String::new()
    } else {
        match crate::emit::yaml::to_string_multiple(&all) {
            Ok(t) => t,
            Err(e) => return fail(e),
        }
    };
    let stdout = if a.passthrough { passthrough(&c.sources, &generated) } else { generated };
    Report { exit: Exit::Ok, stdout, stderr, summary }
}

/// Every input text unchanged and in order, then the generated documents.
fn passthrough(sources: &crate::source::SourceMap, generated: &str) -> String {
    let mut out = String::new();
    for f in 0..sources.len() {
        let text = sources.text(f);
        if !out.is_empty() && !text.is_empty() {
            if !out.ends_with('\n') {
                out.push('\n');
            }
            if !text.starts_with("---") {
                out.push_str("---\n");
            }
        }
        out.push_str(text);
    }
    if !generated.is_empty() {
        if !out.is_empty() {
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("---\n");
        }
        out.push_str(generated);
    }
    out
}

/// A KRM ResourceList: the input's items (as parsed, in order) and the generated objects.
fn krm(sources: &crate::source::SourceMap, generated: &[&k8s::types::Object]) -> Result<String, String> {
    let mut items = Vec::new();
    for f in 0..sources.len() {
        let loaded = crate::source::load_str(sources.name(f), sources.text(f));
        items.extend(loaded.documents.into_iter().map(|d| d.value));
    }
    for g in generated {
        items.push(serde_json::to_value(g).map_err(|e| e.to_string())?);
    }
    let list = serde_json::json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items});
    crate::emit::yaml::to_string(&list)
}
