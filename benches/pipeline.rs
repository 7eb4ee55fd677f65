//! In-process benchmarks (`cargo bench`): the floor (parse into a value tree, write JSON)
//! against the whole translate pipeline, on generated inputs. Whole-process figures, with
//! peak memory, come from scripts/bench; see docs/performance.md.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gatewayc::emit::envoy::EnvoyOptions;
use gatewayc::pipeline::{self, Emit, Want};
use gatewayc::resolve::Options;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10);
    for n in [1_000usize, 5_000] {
        let text = gatewayc::generate::manifests(n);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("floor", n), &text, |b, text| {
            b.iter(|| {
                let loaded = gatewayc::source::load_str("bench.yaml", text);
                let values: Vec<&serde_json::Value> = loaded.documents.iter().map(|d| &d.value).collect();
                black_box(serde_json::to_vec_pretty(&values).map(|v| v.len()).unwrap_or(0))
            })
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bench.yaml");
        std::fs::write(&path, &text).expect("write input");
        g.bench_with_input(BenchmarkId::new("translate", n), &path, |b, path| {
            b.iter(|| {
                let each = |g: &gatewayc::ir::GatewayIr| pipeline::render_bootstrap(g, &EnvoyOptions::default(), false).map(|s| s.len());
                let emit = Emit { select: &|_, _| true, go: &|_, _| true, each: &each };
                let c = pipeline::compile(
                    &[gatewayc::source::Input::Path(path.clone())],
                    &mut std::io::empty(),
                    &Options::default(),
                    Want::Translate,
                    Some(&emit),
                );
                black_box(c.outputs.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
