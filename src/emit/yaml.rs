//! YAML output, one configuration for everything we write: block scalars only for multi-line
//! text, no folding of long single-line strings, `yes`/`on` quoted for YAML 1.1 readers.

use serde::Serialize;

fn options() -> serde_saphyr::SerializerOptions {
    let mut o = serde_saphyr::SerializerOptions::default();
    o.folded_wrap_chars = 1 << 20;
    o
}

pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    serde_saphyr::to_string_with_options(value, options()).map_err(|e| e.to_string())
}

pub fn to_string_multiple<T: Serialize>(values: &[T]) -> Result<String, String> {
    serde_saphyr::to_string_multiple_with_options(values, options()).map_err(|e| e.to_string())
}
