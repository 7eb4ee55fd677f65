//! The integration examples in docs/integrations/ and .pre-commit-hooks.yaml, run for real:
//! scripts with the gatewayc binary on PATH, command lines taken from the YAML files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gatewayc")).parent().expect("bin dir").to_path_buf()
}

fn path_env() -> String {
    format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default())
}

fn quickstart() -> String {
    ["gateway.yaml", "routes.yaml", "services.yaml"]
        .iter()
        .map(|f| std::fs::read_to_string(Path::new("fixtures/quickstart").join(f)).expect("read"))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Run `program args` in `dir` with gatewayc on PATH and `stdin`; (code, stdout, stderr).
fn run(dir: &Path, program: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PATH", path_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn yaml(path: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read");
    gatewayc::source::load_str(path, &text).documents.into_iter().next().expect("document").value
}

fn kinds(text: &str) -> Vec<String> {
    gatewayc::source::load_str("out.yaml", text).documents.iter().map(|d| d.value["kind"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn helm_post_renderer() {
    let script = std::fs::canonicalize("docs/integrations/helm/gatewayc-post-renderer.sh").expect("script");
    let input = quickstart();
    let (code, out, err) = run(Path::new("."), script.to_str().expect("path"), &[], &input);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with(&input));
    let k = kinds(&out);
    assert!(k.ends_with(&["ConfigMap".into(), "Deployment".into(), "Service".into()]), "{k:?}");
}

#[test]
fn kustomize_krm_function() {
    let script = std::fs::canonicalize("docs/integrations/kustomize/gatewayc-krm.sh").expect("script");
    // What kustomize hands an exec function: a ResourceList.
    let items: Vec<serde_json::Value> = gatewayc::source::load_str("q.yaml", &quickstart()).documents.into_iter().map(|d| d.value).collect();
    let list = serde_json::json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items, "functionConfig": {"apiVersion": "gatewayc.dev/v1alpha1", "kind": "GatewayRender", "metadata": {"name": "gatewayc"}}});
    let (code, out, err) = run(Path::new("."), script.to_str().expect("path"), &[], &serde_json::to_string(&list).expect("json"));
    assert_eq!(code, 0, "{err}");
    let v = gatewayc::source::load_str("out.yaml", &out);
    // The loader expands Lists; read the raw document instead.
    let raw: serde_json::Value = {
        let l = gatewayc::source::load_str("raw.yaml", &out.replacen("kind: ResourceList", "kind: ResourceListOut", 1));
        l.documents.into_iter().next().expect("doc").value
    };
    assert_eq!(raw["apiVersion"], "config.kubernetes.io/v1");
    let out_items = raw["items"].as_array().expect("items");
    assert_eq!(out_items.len(), items.len() + 3);
    assert_eq!(&out_items[..items.len()], &items[..], "input items first, unchanged");
    assert!(v.documents.iter().any(|d| d.value["kind"] == "Deployment"));
}

#[test]
fn argocd_plugin_generate() {
    let plugin = yaml("docs/integrations/argocd/plugin.yaml");
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    let command: Vec<String> = serde_json::from_value(plugin["spec"]["generate"]["command"].clone()).expect("command");
    let args: Vec<String> = serde_json::from_value(plugin["spec"]["generate"]["args"].clone()).expect("args");
    // An application directory, as Argo CD checks it out.
    let dir = tempfile::tempdir().expect("tmp");
    for f in ["gateway.yaml", "routes.yaml", "services.yaml"] {
        std::fs::copy(Path::new("fixtures/quickstart").join(f), dir.path().join(f)).expect("copy");
    }
    let mut all: Vec<&str> = command[1..].iter().map(String::as_str).collect();
    all.extend(args.iter().map(String::as_str));
    let (code, out, err) = run(dir.path(), &command[0], &all, "");
    assert_eq!(code, 0, "{err}");
    let k = kinds(&out);
    assert!(k.contains(&"HTTPRoute".to_string()) && k.contains(&"Deployment".to_string()), "{k:?}");
}

/// The `gatewayc ...` steps of a workflow, run in a checkout-like directory.
fn workflow_steps(path: &str) -> Vec<String> {
    let wf = yaml(path);
    let mut out = Vec::new();
    for job in wf["jobs"].as_object().expect("jobs").values() {
        for step in job["steps"].as_array().expect("steps") {
            if let Some(r) = step["run"].as_str()
                && r.trim_start().starts_with("gatewayc ")
            {
                out.push(r.to_string());
            }
        }
    }
    out
}

#[test]
fn github_actions_validate_workflow() {
    let steps = workflow_steps("docs/integrations/github-actions/validate.yml");
    assert_eq!(steps.len(), 2, "{steps:?}");
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(dir.path().join("manifests")).expect("mkdir");
    std::fs::write(dir.path().join("manifests/all.yaml"), quickstart()).expect("write");
    for s in &steps {
        let (code, _, err) = run(dir.path(), "sh", &["-c", s], "");
        assert_eq!(code, 0, "{s}: {err}");
    }
    let sarif: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("gatewayc.sarif")).expect("sarif")).expect("json");
    assert_eq!(sarif["version"], "2.1.0");
    // A broken manifest fails the step with an annotation.
    std::fs::write(dir.path().join("manifests/bad.yaml"), std::fs::read_to_string("fixtures/invalid/schema-errors/input.yaml").expect("read")).expect("write");
    let (code, out, _) = run(dir.path(), "sh", &["-c", &steps[0]], "");
    assert_eq!(code, 1);
    assert!(out.contains("::error file=manifests/bad.yaml,line="), "{out}");
}

#[test]
fn flux_pre_render_workflow() {
    let steps = workflow_steps("docs/integrations/flux/pre-render.yml");
    let render = steps.iter().find(|s| s.contains("render")).expect("render step");
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(dir.path().join("gateways")).expect("mkdir");
    std::fs::write(dir.path().join("gateways/all.yaml"), quickstart()).expect("write");
    let (code, _, err) = run(dir.path(), "sh", &["-c", render], "");
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("rendered/default/web/deployment.yaml").is_file());
}

#[test]
fn pre_commit_hook() {
    // The file is a top-level sequence, which our loader (objects only) refuses: wrap it.
    let text = std::fs::read_to_string(".pre-commit-hooks.yaml").expect("read");
    let wrapped = format!("hooks:\n{}", text.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n"));
    let v = gatewayc::source::load_str("hooks.yaml", &wrapped).documents.into_iter().next().expect("doc").value;
    let hook = &v["hooks"][0];
    assert_eq!(hook["id"], "gatewayc-validate");
    assert_eq!(hook["pass_filenames"], true);
    let entry = hook["entry"].as_str().expect("entry");
    // pre-commit appends the staged file names to the entry.
    let cmd = format!("{entry} fixtures/quickstart/gateway.yaml fixtures/quickstart/routes.yaml fixtures/quickstart/services.yaml");
    let (code, _, err) = run(Path::new("."), "sh", &["-c", &cmd], "");
    assert_eq!(code, 0, "{err}");
    let cmd = format!("{entry} fixtures/invalid/schema-errors/input.yaml");
    assert_eq!(run(Path::new("."), "sh", &["-c", &cmd], "").0, 1);
}
