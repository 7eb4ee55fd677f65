//! Benchmark helpers for scripts/bench (not part of the product):
//!
//!   gatewayc-bench generate N FILE   write the synthetic input with N HTTPRoutes
//!   gatewayc-bench floor FILE OUT    the floor: parse FILE into a value tree, write it as JSON
//!   gatewayc-bench stream MB FILE    write about MB megabytes of small Services and EndpointSlices

use std::io::Write;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") if args.len() == 4 => {
            let Ok(n) = args[2].parse::<usize>() else {
                eprintln!("N must be a number");
                return 2.into();
            };
            if let Err(e) = std::fs::write(&args[3], gatewayc::generate::manifests(n)) {
                eprintln!("{}: {e}", args[3]);
                return 1.into();
            }
            0.into()
        }
        Some("stream") if args.len() == 4 => {
            let Ok(mb) = args[2].parse::<usize>() else {
                eprintln!("MB must be a number");
                return 2.into();
            };
            let written = std::fs::File::create(&args[3]).and_then(|mut f| gatewayc::generate::stream(mb << 20, &mut f));
            if let Err(e) = written {
                eprintln!("{}: {e}", args[3]);
                return 1.into();
            }
            0.into()
        }
        Some("floor") if args.len() == 4 => {
            // Parse every document into a value tree (the same YAML loader gatewayc uses),
            // keep them all, then write one JSON array of them.
            let loaded = gatewayc::source::load(&[gatewayc::source::Input::parse(&args[2])], &mut std::io::empty());
            let values: Vec<&serde_json::Value> = loaded.documents.iter().map(|d| &d.value).collect();
            let file = match std::fs::File::create(&args[3]) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("{}: {e}", args[3]);
                    return 1.into();
                }
            };
            let mut w = std::io::BufWriter::new(file);
            if serde_json::to_writer_pretty(&mut w, &values).is_err() || w.flush().is_err() {
                eprintln!("cannot write {}", args[3]);
                return 1.into();
            }
            0.into()
        }
        _ => {
            eprintln!("usage: gatewayc-bench generate N FILE | stream MB FILE | floor FILE OUT");
            2.into()
        }
    }
}
