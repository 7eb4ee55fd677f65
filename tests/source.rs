//! The loader: values as YAML 1.2 reads them, and a position for every node, found again
//! after the fact (List items, later documents, JSON, non-ASCII text).

use gatewayc::source::load_str;

fn pos(text: &str, doc: usize, pointer: &str, key: bool) -> (usize, usize) {
    let l = load_str("t.yaml", text);
    assert!(l.diagnostics.iter().all(|d| !d.is_error()), "{:?}", l.diagnostics);
    let span = l.documents[doc].loc.span_of(pointer, key).expect("span");
    l.sources.line_col(span)
}

#[test]
fn positions_in_later_documents_with_non_ascii_text() {
    let text = "a: 1\n# café ☕\n---\nkind: X\nmetadata:\n  name: héllo\n  labels:\n    k: v\n";
    assert_eq!(pos(text, 1, "/metadata/labels/k", false), (8, 8));
    assert_eq!(pos(text, 1, "/metadata/labels/k", true), (8, 5));
    assert_eq!(pos(text, 1, "/metadata/name", false), (6, 9));
    // A pointer below a node that does not exist falls back to the nearest ancestor.
    assert_eq!(pos(text, 1, "/metadata/labels/missing/deeper", false).0, 8);
}

#[test]
fn positions_inside_list_items_and_json() {
    let text = "apiVersion: v1\nkind: List\nitems:\n  - kind: A\n    spec: {x: 1}\n  - kind: B\n    spec:\n      y: [1, 2]\n";
    let l = load_str("t.yaml", text);
    assert_eq!(l.documents.len(), 2);
    assert_eq!(l.documents[1].value["kind"], "B");
    let span = l.documents[1].loc.span_of("/spec/y/1", false).expect("span");
    assert_eq!(l.sources.line_col(span), (8, 14));
    let json = "{\n  \"kind\": \"A\",\n  \"spec\": {\"ports\": [80, 443]}\n}\n";
    assert_eq!(pos(json, 0, "/spec/ports/1", false), (3, 26));
}

#[test]
fn yaml_12_core_schema_scalars() {
    let l = load_str("t.yaml", "a: yes\nb: 0644\nc: 1e3\nd: ~\ne: \"true\"\nf: 0x1F\ng: TRUE\nh: 1_000\n");
    let v = &l.documents[0].value;
    assert_eq!(v["a"], "yes");
    assert_eq!(v["b"], 644);
    assert_eq!(v["c"], 1000.0);
    assert!(v["d"].is_null());
    assert_eq!(v["e"], "true");
    assert_eq!(v["f"], 31);
    assert_eq!(v["g"], true);
    assert_eq!(v["h"], "1_000");
    // `yes` and `0644` read differently in YAML 1.1 (kubectl): warned about, with a position.
    let warned: Vec<_> = l.diagnostics.iter().filter(|d| d.code.as_str() == "parse::yaml11-ambiguous").collect();
    assert_eq!(warned.len(), 2);
}

#[test]
fn anchors_expand_within_budget() {
    let l = load_str("t.yaml", "base: &b {x: 1, y: [1, 2]}\ncopy: *b\n");
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    assert_eq!(l.documents[0].value["copy"]["y"][1], 2);
}

#[test]
fn empty_documents_are_skipped() {
    let l = load_str("t.yaml", "---\n---\n# just a comment\n---\nkind: A\n---\n");
    assert_eq!(l.documents.len(), 1);
}
