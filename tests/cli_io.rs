//! What users of a CLI expect of its input and output: special files are read, every path that
//! yields nothing is named, stdout failures fail the run, a summary line (or `-q`), and output
//! that is all or nothing even when the run is killed or the disk is full.

mod support;
use std::path::Path;
use std::process::{Command, Stdio};
use support::*;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_gatewayc")
}

fn sh(script: &str) -> (i32, String, String) {
    let out = Command::new("bash").arg("-c").arg(script).env("G", bin()).output().expect("bash");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn quickstart() -> String {
    let mut s = String::new();
    for f in ["gateway.yaml", "routes.yaml", "services.yaml"] {
        s.push_str("---\n");
        s.push_str(&std::fs::read_to_string(Path::new("fixtures/quickstart").join(f)).expect("quickstart"));
    }
    s
}

#[test]
fn pipes_fifos_dev_stdin_and_process_substitution_are_read() {
    let d = tempfile::tempdir().expect("tmp");
    let q = d.path().join("q.yaml");
    std::fs::write(&q, quickstart()).expect("write");
    let q = q.display().to_string();
    for script in [
        format!("$G validate -f <(cat {q})"),
        format!("cat {q} | $G validate -f /dev/stdin"),
        format!("mkfifo {0}/fifo && (cat {q} > {0}/fifo &) && $G validate -f {0}/fifo", d.path().display()),
    ] {
        let (code, _, err) = sh(&script);
        assert_eq!(code, 0, "{script}: {err}");
        assert!(!err.contains("input::"), "{script}: {err}");
    }
}

#[test]
fn a_path_that_yields_no_object_is_named() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(d.path().join("nothing")).expect("dir");
    std::fs::write(d.path().join("empty.yaml"), "# only a comment\n").expect("write");
    let nothing = d.path().join("nothing").display().to_string();
    let empty = d.path().join("empty.yaml").display().to_string();
    let (code, _, err) = gatewayc(&["validate", "-f", "fixtures/quickstart", "-f", &nothing, "-f", &empty], "");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("{nothing} yields no Kubernetes object")) && err.contains(&format!("{empty} yields no Kubernetes object")), "{err}");
    let (code, _, err) = gatewayc(&["validate", "-f", &nothing], "");
    assert_eq!(code, 1);
    assert!(err.contains("input::empty") && err.contains(&nothing), "{err}");
}

#[test]
fn no_gateway_says_why_in_one_line() {
    let (code, _, err) = gatewayc(&["translate", "-f", "fixtures/quickstart", "--controller-name", "example.com/other"], "");
    assert_eq!(code, 1);
    let line = err.lines().find(|l| l.contains("no GatewayClass with controllerName example.com/other")).unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains("the classes found are eg (gateway.envoyproxy.io/gatewayclass-controller)"), "{err}");
    // A class that is not accepted, and why.
    let input = format!("{}\n", EG_CLASS.replace("spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}", "spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller, parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: p, namespace: x}}"));
    let (code, _, err) = gatewayc(&["translate", "-f", "-"], &input);
    assert_eq!(code, 1);
    assert!(err.lines().any(|l| l.contains("GatewayClass eg is not accepted (InvalidParameters: EnvoyProxy x/p not found)")), "{err}");
}

#[test]
fn stdout_failures_fail_the_run() {
    for redirect in [">/dev/full", ">&-", "| true"] {
        let (code, _, err) = sh(&format!("set -o pipefail; $G translate -f fixtures/quickstart {redirect}"));
        assert_eq!(code, 1, "{redirect}: {err}");
        assert!(err.contains("output::write"), "{redirect}: {err}");
        assert!(!err.contains("printed 1 bootstrap"), "no success summary after a failed write: {err}");
    }
    let (code, _, err) = sh("$G translate -f fixtures/quickstart >/dev/null");
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_summary_line_on_success_unless_quiet() {
    let d = tempfile::tempdir().expect("tmp");
    let out = d.path().display().to_string();
    let (code, _, err) = gatewayc(&["translate", "-f", "fixtures/quickstart", "--output-dir", &out], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.trim(), "gatewayc: wrote 1 file: 1 Gateway, 1 listener, 4 routes, 4 clusters");
    let (code, _, err) = gatewayc(&["translate", "-f", "fixtures/quickstart", "--output-dir", &out, "-q"], "");
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, _, err) = gatewayc(&["render", "-f", "fixtures/quickstart"], "");
    assert_eq!(code, 0, "{err}");
    assert!(err.starts_with("gatewayc: printed ") && err.contains(" objects: 1 Gateway, 1 listener"), "{err}");
}

#[test]
fn render_flags_and_names_stay_within_what_the_api_server_accepts() {
    let d = tempfile::tempdir().expect("tmp");
    let out = d.path().join("out");
    let out_s = out.display().to_string();
    let (code, _, err) = gatewayc(&["render", "-f", "fixtures/quickstart", "--metallb-pool", "lan=10.0.0.0/24", "--metallb-namespace", "../../x", "--output-dir", &out_s], "");
    assert_eq!(code, 2, "{err}");
    assert!(!d.path().join("x").exists() && !out.exists(), "nothing written outside or inside --output-dir");
    // A 253-character Gateway name: every label value fits in 63 characters.
    let name = format!("{}.example", "g".repeat(245));
    let input = format!("{}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners: [{{name: http, protocol: HTTP, port: 8080}}]\n", EG_CLASS);
    let (code, yaml, err) = gatewayc(&["render", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let docs = gatewayc::source::load_str("render", &yaml);
    assert!(!docs.documents.is_empty());
    for doc in &docs.documents {
        for labels in [doc.value.pointer("/metadata/labels"), doc.value.pointer("/spec/selector/matchLabels"), doc.value.pointer("/spec/template/metadata/labels")] {
            for (k, v) in labels.and_then(|l| l.as_object()).into_iter().flatten() {
                let v = v.as_str().unwrap_or("");
                assert!(v.len() <= 63, "{k}: {v}");
            }
        }
    }
}

/// A translate killed with SIGKILL at any moment leaves the output directory as it was (only
/// temp files, which input walks skip), and the next run cleans those up.
#[test]
fn kill_9_during_a_large_translate_leaves_no_partial_output() {
    let d = tempfile::tempdir().expect("tmp");
    let input = d.path().join("big.yaml");
    std::fs::write(&input, gatewayc::generate::manifests(3000)).expect("write input");
    let out = d.path().join("out");
    let mut child = Command::new(bin())
        .args(["translate", "-q", "-f"])
        .arg(&input)
        .arg("--output-dir")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Kill as soon as a temp file is being written (or whenever the run ends first).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let tmp_seen = |out: &Path| walk(out).iter().any(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".gatewayc-tmp-")));
    while !tmp_seen(&out) && child.try_wait().ok().flatten().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let _ = child.kill();
    let status = child.wait().expect("wait");
    let files = walk(&out);
    let finished: Vec<_> = files.iter().filter(|p| p.file_name().is_some_and(|n| n == "envoy.yaml")).collect();
    if !status.success() {
        assert!(finished.is_empty(), "a killed run renamed files into place: {finished:?}");
    }
    // The next run succeeds and leaves no temp file behind.
    let (code, _, err) = gatewayc(&["translate", "-q", "-f", &input.display().to_string(), "--output-dir", &out.display().to_string()], "");
    assert_eq!(code, 0, "{err}");
    let left: Vec<_> = walk(&out).into_iter().filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".gatewayc-"))).collect();
    assert!(left.is_empty(), "stale temp files: {left:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
            out.push(p);
        } else {
            out.push(p);
        }
    }
    out
}

/// A disk that fills up mid-run: exit 1, and the output directory holds exactly what it held
/// before (an earlier bootstrap is not replaced, no new directory is left).
#[test]
fn a_full_filesystem_fails_the_run_and_changes_nothing() {
    let d = tempfile::tempdir().expect("tmp");
    let mnt = d.path().join("small");
    std::fs::create_dir(&mnt).expect("dir");
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"]).arg(&mnt).status().is_ok_and(|s| s.success());
    if !mounted {
        assert!(std::env::var_os("CI").is_none() && std::env::var_os("GATEWAYC_REQUIRE_ENVOY").is_none(), "cannot mount a tmpfs (CI runs as root)");
        eprintln!("skipping: cannot mount a tmpfs (not root)");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);
    let out = mnt.display().to_string();
    // First a small run that fits: its bootstrap must survive the failed run below.
    let (code, _, err) = gatewayc(&["translate", "-q", "-f", "fixtures/quickstart", "--output-dir", &out], "");
    assert_eq!(code, 0, "{err}");
    let before = std::fs::read(mnt.join("default/web/envoy.yaml")).expect("bootstrap");
    let listing = |p: &Path| {
        let mut v: Vec<String> = walk(p).iter().map(|x| x.display().to_string()).collect();
        v.sort();
        v
    };
    let was = listing(&mnt);
    // Then one with many Gateways that cannot fit.
    let big = d.path().join("big.yaml");
    std::fs::write(&big, format!("{}---\n{}", quickstart(), gatewayc::generate::manifests(3000))).expect("input");
    let (code, _, err) = gatewayc(&["translate", "-q", "-f", &big.display().to_string(), "--output-dir", &out], "");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("No space left") || err.contains("os error 28"), "{err}");
    assert_eq!(listing(&mnt), was, "the failed run changed the output directory");
    assert_eq!(std::fs::read(mnt.join("default/web/envoy.yaml")).expect("bootstrap"), before);
}
