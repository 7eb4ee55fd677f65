//! Generated documentation is fresh: docs/diagnostics.md is the code table of src/diag/code.rs.
//! `UPDATE_DOCS=1 cargo test --test docs` rewrites it.

#[test]
fn diagnostics_page_is_generated_from_the_code_table() {
    let want = gatewayc::diag::reference_page();
    let path = "docs/diagnostics.md";
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &want).expect("write docs/diagnostics.md");
    }
    let have = std::fs::read_to_string(path).expect("read docs/diagnostics.md");
    assert!(have == want, "docs/diagnostics.md is stale; run UPDATE_DOCS=1 cargo test --test docs");
    for c in gatewayc::diag::Code::ALL {
        assert!(have.contains(&format!("| `{}` |", c.as_str())), "{c} missing");
        assert!(!c.doc().is_empty(), "{c} has no doc comment");
    }
}
