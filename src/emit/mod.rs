//! Stage 6: output formats. `envoy` turns the IR into bootstraps; `status` writes the status
//! table onto copies of the input objects.

pub mod envoy;
pub mod k8s;
pub mod status;
pub mod yaml;
