//! Golden files: every case under fixtures/translate/ (and the quickstart) compiles to the
//! bootstraps, status and diagnostics in snapshots/, and every bootstrap passes a real
//! `envoy --mode validate`.

mod support;

use gatewayc::emit::envoy::EnvoyOptions;
use gatewayc::pipeline;
use gatewayc::resolve::Options;
use gatewayc::source::Input;
use std::path::{Path, PathBuf};

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("fixtures/translate")
        .expect("fixtures/translate")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    v.push(PathBuf::from("fixtures/quickstart"));
    v.sort();
    v
}

fn case_name(p: &Path) -> String {
    p.strip_prefix("fixtures").unwrap_or(p).to_string_lossy().replace('/', "__")
}

#[test]
fn fixtures_match_snapshots_and_envoy_accepts_them() {
    let envoy = support::envoy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut bootstraps = Vec::new();
    for case in cases() {
        let name = case_name(&case);
        let each = |g: &gatewayc::ir::GatewayIr| {
            let opts = EnvoyOptions::default();
            (g.namespace.clone(), g.name.clone(), pipeline::render_bootstrap(g, &opts, false), pipeline::render_bootstrap(g, &opts, true))
        };
        let emit = pipeline::Emit { select: &|_, _| true, go: &|_, _| true, each: &each };
        let c = pipeline::compile(&[Input::Path(case.clone())], &mut std::io::empty(), &Options::default(), pipeline::Want::Status, Some(&emit));
        assert!(!c.diagnostics.iter().any(|d| d.is_error()), "{name}: unexpected errors: {:#?}", c.diagnostics);
        let mut out = String::new();
        for (ns, gw, yaml, json) in &c.outputs {
            let text = yaml.as_ref().expect("render");
            out.push_str(&format!("# ---- bootstrap {ns}/{gw} ----\n{text}"));
            let path = tmp.path().join(format!("{name}-{ns}-{gw}.yaml"));
            std::fs::write(&path, text).expect("write");
            bootstraps.push(path);
            // The JSON form is the same bootstrap.
            let path = tmp.path().join(format!("{name}-{ns}-{gw}.json"));
            std::fs::write(&path, json.as_ref().expect("render json")).expect("write");
            bootstraps.push(path);
        }
        let status = gatewayc::emit::yaml::to_string_multiple(&c.status_objects).expect("status yaml");
        out.push_str("# ---- status ----\n");
        out.push_str(&status);
        out.push_str("# ---- diagnostics ----\n");
        out.push_str(&gatewayc::diag::render_json(&c.diagnostics, &c.sources));
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(name, out);
        });
    }
    if let Some(envoy) = envoy {
        // Validate in parallel: each run loads Envoy once (about half a second).
        std::thread::scope(|s| {
            for chunk in bootstraps.chunks(bootstraps.len().div_ceil(2).max(1)) {
                let envoy = &envoy;
                s.spawn(move || chunk.iter().for_each(|p| support::envoy_validate(envoy, p)));
            }
        });
    }
}
