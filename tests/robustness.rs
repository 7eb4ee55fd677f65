//! Bad input never panics: every fixture, mutated many ways (truncated, lines dropped or
//! repeated, YAML punctuation inserted), goes through the whole pipeline and both renderers.

use gatewayc::emit::envoy::EnvoyOptions;
use gatewayc::pipeline::{self, Emit, Want};
use gatewayc::resolve::Options;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

fn inputs() -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from("fixtures")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                out.push(t);
            }
        }
    }
    out.sort();
    out
}

fn mutate(text: &str, rng: &mut Rng) -> String {
    let lines: Vec<&str> = text.lines().collect();
    match rng.below(5) {
        0 => {
            let mut cut = rng.below(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_string()
        }
        1 => {
            let i = rng.below(lines.len());
            lines.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, l)| *l).collect::<Vec<_>>().join("\n")
        }
        2 => {
            let i = rng.below(lines.len());
            let mut v = lines.clone();
            if !v.is_empty() {
                v.insert(i, lines[i]);
            }
            v.join("\n")
        }
        3 => {
            let junk = [":", "- ", "[", "{", "}", "*a", "&a ", "\t", "'", "\"", "~", "!!int ", "? ", "---\n", "0", "%", "|\n"];
            let mut at = rng.below(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            format!("{}{}{}", &text[..at], junk[rng.below(junk.len())], &text[at..])
        }
        _ => {
            // Swap two values of the same line-shape: keeps YAML valid, breaks semantics.
            let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
            let mut v: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if a < lines.len() && b < lines.len() {
                let (ka, va) = lines[a].split_once(": ").unwrap_or((lines[a], ""));
                let (kb, vb) = lines[b].split_once(": ").unwrap_or((lines[b], ""));
                v[a] = format!("{ka}: {vb}");
                v[b] = format!("{kb}: {va}");
            }
            v.join("\n")
        }
    }
}

#[test]
fn mutated_inputs_never_panic() {
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    let each = |g: &gatewayc::ir::GatewayIr| pipeline::render_bootstrap(g, &EnvoyOptions::default(), false).map(|s| s.len());
    let emit = Emit { select: &|_, _| true, go: &|_, _| true, each: &each };
    let mut runs = 0;
    for text in inputs() {
        for _ in 0..40 {
            let m = mutate(&text, &mut rng);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let loaded = gatewayc::source::load_str("m.yaml", &m);
                let c = pipeline::compile_loaded(loaded, &Options::default(), Want::Status, Some(&emit));
                let _ = gatewayc::diag::render_human(&c.diagnostics, &c.sources, false);
                let _ = gatewayc::diag::render_json(&c.diagnostics, &c.sources);
                let _ = gatewayc::emit::yaml::to_string_multiple(&c.status_objects);
            }));
            assert!(result.is_ok(), "panic on input:\n{m}");
            runs += 1;
        }
    }
    assert!(runs > 500, "only {runs} mutations ran");
}
