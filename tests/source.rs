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

fn codes(text: &str) -> Vec<String> {
    load_str("t.yaml", text).diagnostics.iter().map(|d| d.code.to_string()).collect()
}

#[test]
fn tags_are_honoured_or_refused_never_ignored() {
    let l = load_str("t.yaml", "a: !!str 123\nb: !!int 7\nc: !!float 1\nd: ! 12\ne: !!bool true\n");
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    let v = &l.documents[0].value;
    assert_eq!((v["a"].as_str(), v["b"].as_i64(), v["c"].as_f64(), v["d"].as_str(), v["e"].as_bool()), (Some("123"), Some(7), Some(1.0), Some("12"), Some(true)));
    for bad in ["a: !!binary aGk=\n", "a: !custom x\n", "a: !!int twelve\n", "a: !!map [1]\n", "a: !!timestamp 2001-12-14\n"] {
        assert_eq!(codes(bad), ["parse::tag"], "{bad}");
    }
}

#[test]
fn lists_must_hold_objects() {
    assert_eq!(codes("apiVersion: v1\nkind: List\nitems: {a: 1}\n"), ["parse::not-an-object"]);
    assert_eq!(codes("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: List, items: []}\n"), ["parse::not-an-object"]);
    assert_eq!(load_str("t.yaml", "apiVersion: v1\nkind: ServiceList\nitems: []\n").documents.len(), 0);
}

#[test]
fn positions_with_cr_only_line_endings() {
    let text = "a: 1\rkind: X\rmetadata:\r  name: n\r";
    assert_eq!(pos(text, 0, "/metadata/name", false), (4, 9));
}

#[test]
fn anchors_never_cross_documents_and_copies_count_against_the_budget() {
    assert_eq!(codes("a: &x 1\n---\nb: *x\n"), ["parse::syntax"], "an alias to another document's anchor");
    // Anchors at every level of a wide subtree: each is a copy, and together they pass the
    // budget long before memory runs out.
    let mut doc = String::from("x: ");
    for i in 0..40 {
        doc.push_str(&format!("&a{i} ["));
    }
    doc.push('{');
    for i in 0..5000 {
        doc.push_str(&format!("k{i}: {i}, "));
    }
    doc.push('}');
    doc.push_str(&"]".repeat(40));
    doc.push('\n');
    assert_eq!(codes(&doc), ["parse::alias-limit"]);
}

#[test]
fn the_document_size_limit_holds_while_reading() {
    // A document far over 3 MiB is refused once, at its start.
    let mut doc = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n");
    let line = format!("  k{{}}: {}\n", "x".repeat(1000));
    for i in 0..8000 {
        doc.push_str(&line.replace("{}", &i.to_string()));
    }
    doc.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\n");
    let l = load_str("t.yaml", &doc);
    let d: Vec<_> = l.diagnostics.iter().map(|d| (d.code.to_string(), d.span.map(|s| l.sources.line_col(s)))).collect();
    assert_eq!(d, [("parse::document-too-large".to_string(), Some((1, 1)))]);
    assert_eq!(l.documents.len(), 1, "the next document is still read");
}
