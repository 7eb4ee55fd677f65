//! EnvoyPatchPolicy patches on the bootstrap, as Envoy Gateway applies them to its xDS
//! resources: each patch finds its resources by type and name (gatewayc's name, else Envoy
//! Gateway's through the IR's aliases; every resource of the type when the name is empty)
//! and applies one RFC 6902 operation to each, missing objects on an `add` path created as
//! Envoy Gateway's patch library does. `add` with an empty path adds a whole Listener,
//! Cluster or Secret. The outcome of each policy (resources not found, operations that
//! failed) is its Programmed condition.

use crate::ir::GatewayIr;
use crate::resolve::epp::{Op, Operation, Outcome, Patch, Resource};
use serde_json::Value;

/// Apply every policy's patches to `doc` (a bootstrap as JSON), in order.
pub fn apply(doc: &mut Value, g: &GatewayIr) -> Vec<Outcome> {
    let mut out = Vec::new();
    for policy in &g.patches {
        let mut o = Outcome { policy: policy.key.clone(), not_found: Vec::new(), errors: Vec::new() };
        for p in &policy.patches {
            match one(doc, g, p) {
                Ok(true) => {}
                Ok(false) => o.not_found.push((p.index, format!("{}/{}", p.type_url, p.name))),
                Err(e) => o.errors.push((p.index, e)),
            }
        }
        out.push(o);
    }
    out
}

fn kind(r: Resource) -> &'static str {
    match r {
        Resource::Listener => "Listener",
        Resource::RouteConfiguration => "RouteConfiguration",
        Resource::Cluster => "Cluster",
        Resource::ClusterLoadAssignment => "ClusterLoadAssignment",
        Resource::Secret => "Secret",
    }
}

/// One patch: Ok(false) when no resource has its name.
fn one(doc: &mut Value, g: &GatewayIr, p: &Patch) -> Result<bool, String> {
    let o = &p.operation;
    let path = o.path.as_deref().unwrap_or("");
    if o.op == Op::Add && path.is_empty() {
        add_resource(doc, p)?;
        return Ok(true);
    }
    check_operation(o)?;
    let names: Vec<&str> = std::iter::once(p.name.as_str())
        .chain(g.aliases.iter().filter(|a| a.resource == p.resource && a.envoy_gateway == p.name).map(|a| a.ours.as_str()))
        .collect();
    let mut targets = resources(doc, p.resource, &names, p.name.is_empty());
    if targets.is_empty() {
        return Ok(false);
    }
    // A patch on several resources succeeds if it applies to one of them (Envoy Gateway's rule).
    let mut first_err = None;
    let mut applied = false;
    for r in &mut targets {
        let mut copy = (**r).clone();
        match operate(&mut copy, o, path) {
            Ok(()) if copy.is_object() => {
                **r = copy;
                applied = true;
            }
            Ok(()) => first_err = first_err.or(Some(format!("the patched {} is no longer an object", kind(p.resource)))),
            Err(e) => first_err = first_err.or(Some(e)),
        }
    }
    match (applied, first_err) {
        (false, Some(e)) => Err(format!("{} {}: {e}", kind(p.resource), p.name)),
        _ => Ok(true),
    }
}

/// The operation's own requirements (RFC 6902).
fn check_operation(p: &Operation) -> Result<(), String> {
    let name = p.op.name();
    match p.op {
        Op::Add | Op::Replace | Op::Test if p.value.is_none() => Err(format!("the {name} operation requires a value")),
        Op::Move | Op::Copy if p.from.is_none() => Err(format!("the {name} operation requires a from path")),
        _ if p.path.is_none() => Err(format!("the {name} operation requires a path")),
        _ => Ok(()),
    }
}

fn operate(r: &mut Value, p: &Operation, path: &str) -> Result<(), String> {
    let value = || p.value.clone().unwrap_or(Value::Null);
    match p.op {
        Op::Add => add(r, path, value()),
        Op::Remove => remove(r, path).map(|_| ()),
        Op::Replace => {
            let slot = get_mut(r, path).ok_or_else(|| format!("replace: nothing at {path}"))?;
            *slot = value();
            Ok(())
        }
        Op::Move => {
            let from = p.from.as_deref().unwrap_or("");
            if path.starts_with(&format!("{from}/")) {
                return Err(format!("move: {path} is inside {from}"));
            }
            let v = remove(r, from)?;
            add(r, path, v)
        }
        Op::Copy => {
            let from = p.from.as_deref().unwrap_or("");
            let v = get_mut(r, from).ok_or_else(|| format!("copy: nothing at {from}"))?.clone();
            add(r, path, v)
        }
        Op::Test => match get_mut(r, path) {
            Some(v) if *v == value() => Ok(()),
            Some(_) => Err(format!("test: the value at {path} differs")),
            None => Err(format!("test: nothing at {path}")),
        },
    }
}

/// The reference tokens of a JSON pointer (`~1` is `/`, `~0` is `~`).
fn tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else { return Err(format!("{path} is not a JSON pointer (it must start with /)")) };
    Ok(rest.split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect())
}

fn index(t: &str, len: usize) -> Option<usize> {
    let leading_zero = t.len() > 1 && t.starts_with('0');
    t.parse::<usize>().ok().filter(|i| !leading_zero && *i < len)
}

fn get_mut<'a>(r: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    walk(r, &tokens(path).ok()?)
}

/// The value at `toks` (a pointer's reference tokens).
fn walk<'a>(r: &'a mut Value, toks: &[String]) -> Option<&'a mut Value> {
    let mut at = r;
    for t in toks {
        at = match at {
            Value::Object(m) => m.get_mut(t)?,
            Value::Array(a) => {
                let i = index(t, a.len())?;
                a.get_mut(i)?
            }
            _ => return None,
        };
    }
    Some(at)
}

/// RFC 6902 add; missing parents are created (objects, or an array where the next token is
/// `0` or `-`), as Envoy Gateway's patch library does with EnsurePathExistsOnAdd.
fn add(r: &mut Value, path: &str, v: Value) -> Result<(), String> {
    let toks = tokens(path)?;
    let Some((last, parents)) = toks.split_last() else {
        *r = v;
        return Ok(());
    };
    let mut at = r;
    for (i, t) in parents.iter().enumerate() {
        let next_is_index = toks.get(i + 1).is_some_and(|n| n == "0" || n == "-");
        let fresh = || if next_is_index { Value::Array(Vec::new()) } else { Value::Object(Default::default()) };
        at = match at {
            Value::Object(m) => m.entry(t.clone()).or_insert_with(fresh),
            Value::Array(a) => {
                let len = a.len();
                if t == "-" || t.parse::<usize>().ok() == Some(len) {
                    a.push(fresh());
                    a.last_mut().ok_or("add: empty array")?
                } else {
                    let i = index(t, len).ok_or_else(|| format!("add: no element {t} on the way to {path}"))?;
                    &mut a[i]
                }
            }
            _ => return Err(format!("add: {t} on the way to {path} is inside a value that is neither an object nor an array")),
        };
    }
    match at {
        Value::Object(m) => {
            m.insert(last.clone(), v);
            Ok(())
        }
        Value::Array(a) if last == "-" => {
            a.push(v);
            Ok(())
        }
        Value::Array(a) => {
            let i = last.parse::<usize>().ok().filter(|i| *i <= a.len() && !(last.len() > 1 && last.starts_with('0')));
            let i = i.ok_or_else(|| format!("add: index {last} is out of the array at {path}"))?;
            a.insert(i, v);
            Ok(())
        }
        _ => Err(format!("add: the parent of {path} is neither an object nor an array")),
    }
}

fn remove(r: &mut Value, path: &str) -> Result<Value, String> {
    let toks = tokens(path)?;
    let Some((last, parents)) = toks.split_last() else { return Err("remove: the whole resource cannot be removed".into()) };
    let parent = walk(r, parents).ok_or_else(|| format!("remove: nothing at {path}"))?;
    match parent {
        Value::Object(m) => m.remove(last).ok_or_else(|| format!("remove: nothing at {path}")),
        Value::Array(a) => {
            let i = index(last, a.len()).ok_or_else(|| format!("remove: nothing at {path}"))?;
            Ok(a.remove(i))
        }
        _ => Err(format!("remove: nothing at {path}")),
    }
}

/// `add` with an empty path: a whole Listener, Cluster or Secret, with a name no resource of
/// its type has. Route configurations and endpoints are written inline in gatewayc's
/// bootstrap: there is nowhere to add one.
fn add_resource(doc: &mut Value, p: &Patch) -> Result<(), String> {
    let list = match p.resource {
        Resource::Listener => "listeners",
        Resource::Cluster => "clusters",
        Resource::Secret => "secrets",
        Resource::RouteConfiguration | Resource::ClusterLoadAssignment => {
            return Err(format!("a whole {} cannot be added: gatewayc's bootstrap has them inline, in their listener or cluster", kind(p.resource)));
        }
    };
    let Some(v @ Value::Object(_)) = p.operation.value.clone() else { return Err(format!("adding a {} needs an object as its value", kind(p.resource))) };
    let Some(name) = v.get("name").and_then(Value::as_str).map(str::to_string) else { return Err(format!("an added {} needs a name", kind(p.resource))) };
    let statics = doc.get_mut("static_resources").and_then(Value::as_object_mut).ok_or("the bootstrap has no static_resources")?;
    let arr = statics.entry(list).or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(arr) = arr else { return Err(format!("static_resources.{list} is not a list")) };
    if arr.iter().any(|r| r.get("name").and_then(Value::as_str) == Some(name.as_str())) {
        return Err(format!("a {} named {name} exists already", kind(p.resource)));
    }
    arr.push(v);
    Ok(())
}

/// The resources of type `r` named one of `names` (every one of the type if `all`).
fn resources<'a>(doc: &'a mut Value, r: Resource, names: &[&str], all: bool) -> Vec<&'a mut Value> {
    let named = |v: &Value, key: &str| all || v.get(key).and_then(Value::as_str).is_some_and(|n| names.contains(&n));
    let Some(statics) = doc.get_mut("static_resources") else { return Vec::new() };
    let list = |statics: &'a mut Value, key: &str| -> Vec<&'a mut Value> {
        match statics.get_mut(key) {
            Some(Value::Array(a)) => a.iter_mut().collect(),
            _ => Vec::new(),
        }
    };
    match r {
        Resource::Listener => list(statics, "listeners").into_iter().filter(|v| named(v, "name")).collect(),
        Resource::Cluster => list(statics, "clusters").into_iter().filter(|v| named(v, "name")).collect(),
        Resource::Secret => list(statics, "secrets").into_iter().filter(|v| named(v, "name")).collect(),
        Resource::ClusterLoadAssignment => list(statics, "clusters")
            .into_iter()
            .filter_map(|c| c.get_mut("load_assignment"))
            .filter(|v| named(v, "cluster_name"))
            .collect(),
        Resource::RouteConfiguration => {
            let mut out = Vec::new();
            for l in list(statics, "listeners") {
                let Some(Value::Array(chains)) = l.get_mut("filter_chains") else { continue };
                for c in chains {
                    let Some(Value::Array(filters)) = c.get_mut("filters") else { continue };
                    for f in filters {
                        if let Some(rc) = f.get_mut("typed_config").and_then(|t| t.get_mut("route_config"))
                            && named(rc, "name")
                        {
                            out.push(rc);
                        }
                    }
                }
            }
            out
        }
    }
}

/// An EnvoyProxy's `bootstrap` JSON patches, in order, on the whole bootstrap.
pub fn apply_operations(doc: &mut Value, ops: &[Operation]) -> Result<(), String> {
    for (i, o) in ops.iter().enumerate() {
        check_operation(o).and_then(|()| operate(doc, o, o.path.as_deref().unwrap_or(""))).map_err(|e| format!("jsonPatches[{i}]: {e}"))?;
    }
    if doc.is_object() { Ok(()) } else { Err("the patched bootstrap is no longer an object".into()) }
}

/// An EnvoyProxy's `bootstrap` of type Merge, as protobuf merges messages (what Envoy
/// Gateway does): objects field by field, lists appended, other values replaced.
pub fn merge(doc: &mut Value, with: &Value) {
    match (doc, with) {
        (Value::Object(d), Value::Object(w)) => {
            for (k, v) in w {
                match d.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(d), Value::Array(w)) => d.extend(w.iter().cloned()),
        (d, w) => *d = w.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(op: Op, path: &str, from: Option<&str>, value: Option<Value>) -> Operation {
        Operation { op, path: Some(path.into()), from: from.map(Into::into), value }
    }

    fn run(doc: Value, p: &Operation) -> Result<Value, String> {
        let mut d = doc;
        operate(&mut d, p, p.path.as_deref().unwrap_or("")).map(|()| d)
    }

    #[test]
    fn rfc6902_operations() -> Result<(), String> {
        let doc = json!({"a": [1, 2], "b": {"c": 1}, "d/e": 1, "f~g": 2});
        assert_eq!(run(doc.clone(), &patch(Op::Add, "/a/1", None, Some(json!(9)))), Ok(json!({"a": [1, 9, 2], "b": {"c": 1}, "d/e": 1, "f~g": 2})));
        assert_eq!(run(doc.clone(), &patch(Op::Add, "/a/-", None, Some(json!(3))))?.pointer("/a/2"), Some(&json!(3)));
        assert!(run(doc.clone(), &patch(Op::Add, "/a/5", None, Some(json!(3)))).is_err(), "an index past the end");
        assert_eq!(run(doc.clone(), &patch(Op::Remove, "/d~1e", None, None))?.get("d/e"), None);
        assert_eq!(run(doc.clone(), &patch(Op::Replace, "/f~0g", None, Some(json!(5))))?.get("f~g"), Some(&json!(5)));
        assert!(run(doc.clone(), &patch(Op::Replace, "/nope", None, Some(json!(5)))).is_err(), "replace needs the target");
        let moved = run(doc.clone(), &patch(Op::Move, "/b/d", Some("/a"), None))?;
        assert_eq!((moved.get("a"), moved.pointer("/b/d")), (None, Some(&json!([1, 2]))));
        assert!(run(doc.clone(), &patch(Op::Move, "/a/x", Some("/a"), None)).is_err(), "a value moved into itself");
        assert_eq!(run(doc.clone(), &patch(Op::Copy, "/b/e", Some("/b/c"), None))?.pointer("/b/e"), Some(&json!(1)));
        assert!(run(doc.clone(), &patch(Op::Test, "/b/c", None, Some(json!(1)))).is_ok());
        assert!(run(doc.clone(), &patch(Op::Test, "/b/c", None, Some(json!(2)))).is_err());
        assert!(run(doc, &patch(Op::Add, "no-slash", None, Some(json!(1)))).is_err(), "a pointer starts with /");
        Ok(())
    }

    #[test]
    fn add_creates_missing_parents_as_envoy_gateway_does() {
        let out = run(json!({}), &patch(Op::Add, "/x/y/0/z", None, Some(json!(1)))).expect("add");
        assert_eq!(out, json!({"x": {"y": [{"z": 1}]}}));
    }

    #[test]
    fn operation_requirements() {
        assert!(check_operation(&patch(Op::Add, "/a", None, None)).is_err());
        assert!(check_operation(&patch(Op::Move, "/a", None, None)).is_err());
        assert!(check_operation(&Operation { path: None, ..patch(Op::Remove, "", None, None) }).is_err());
        assert!(check_operation(&patch(Op::Remove, "/a", None, None)).is_ok());
    }
}
