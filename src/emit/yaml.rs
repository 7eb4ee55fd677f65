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

/// `std::fmt::Write` over an `io::Write`, keeping the first I/O error.
struct FmtIo<'w> {
    w: &'w mut dyn std::io::Write,
    err: Option<std::io::Error>,
}

impl std::fmt::Write for FmtIo<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.w.write_all(s.as_bytes()).map_err(|e| {
            self.err = Some(e);
            std::fmt::Error
        })
    }
}

pub fn to_writer<T: Serialize>(value: &T, w: &mut dyn std::io::Write) -> Result<(), String> {
    let mut f = FmtIo { w, err: None };
    let r = serde_saphyr::to_fmt_writer_with_options(&mut f, value, options());
    match (r, f.err) {
        (_, Some(e)) => Err(e.to_string()),
        (Err(e), None) => Err(e.to_string()),
        (Ok(()), None) => Ok(()),
    }
}
