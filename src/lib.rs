//! gatewayc: an offline compiler from Kubernetes Gateway API manifests to static Envoy
//! bootstraps. See `docs/architecture.md` for the pipeline.
//!
//! source → api → validate → resolve → ir → emit → output

pub mod diag;
pub mod api;
pub mod id;
pub mod source;
pub mod validate;
pub mod resolve;
pub mod ir;
pub mod names;
pub mod emit;
pub mod pipeline;
pub mod output;
pub mod cli;
pub mod render;
pub mod generate;
pub mod fuzzing;
