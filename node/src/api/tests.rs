//! The OpenAPI document and the router agree: every route the router serves is documented,
//! with the same methods and scope, and nothing else is.

use std::collections::BTreeSet;

/// (path, method) pairs of the router, read from this module's source.
fn routed() -> BTreeSet<(String, String)> {
    let source = include_str!("mod.rs");
    let mut out = BTreeSet::new();
    for (start, _) in source.match_indices(".route(") {
        // The call's text, up to its closing parenthesis.
        let mut depth = 0usize;
        let mut end = start;
        for (i, c) in source[start..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = start + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = &source[start..end];
        let Some(path) = call.split('"').nth(1) else {
            continue;
        };
        for method in ["get", "post", "put", "delete", "patch"] {
            let chained = format!(".{method}(");
            let first = format!(", {method}(");
            let multiline = format!("\n            {method}(");
            if call.contains(&chained) || call.contains(&first) || call.contains(&multiline) {
                out.insert((path.to_string(), method.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_route_is_in_the_openapi_document_and_nothing_else_is() {
    let doc: serde_json::Value = serde_json::from_str(include_str!("openapi.json")).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            documented.insert((path.clone(), method.clone()));
            let scope = op["x-signet-scope"].as_str().unwrap_or("");
            assert!(
                ["read", "sign", "admin", "public"].contains(&scope),
                "{method} {path}: x-signet-scope is {scope:?}"
            );
            // Public: a verifier's CA certificate and CRL, which relying parties fetch
            // without a token; reads only, and said so in the operation's security.
            assert!(
                scope != "public" || (method == "get" && op["security"] == serde_json::json!([])),
                "{method} {path}: only reads may be public, with an empty security list"
            );
            // Changes need sign or admin scope; reads need read scope, except the intent
            // challenge, which only a signer is offered.
            assert!(
                (method != "get") <= (scope != "read"),
                "{method} {path}: changes need sign or admin scope"
            );
            assert!(
                method != "get"
                    || scope == "read"
                    || scope == "public"
                    || path.ends_with("/intent"),
                "{method} {path}: reads need read scope"
            );
        }
    }
    let mut routed = routed();
    // Served without a token and not listed in itself.
    assert!(routed.remove(&("/openapi.json".to_string(), "get".to_string())));
    assert!(routed.len() > 20, "the route scan found {routed:?}");
    assert_eq!(routed, documented);
}

/// (path, method, handler) for every route of the router, read from this module's source;
/// the handler without its module path.
fn route_handlers() -> Vec<(String, String, String)> {
    let source = include_str!("mod.rs");
    let mut out = Vec::new();
    for (start, _) in source.match_indices(".route(") {
        let end = source[start..]
            .find("\n        .")
            .map_or(source.len(), |e| start + e);
        let call = &source[start..end];
        let Some(path) = call.split('"').nth(1) else {
            continue;
        };
        for method in ["get", "post", "put", "delete", "patch"] {
            for (at, _) in call.match_indices(&format!("{method}(")) {
                let before = call[..at].chars().last().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' {
                    continue;
                }
                let name: String = call[at + method.len() + 1..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let name = name.rsplit("::").next().unwrap_or_default().to_string();
                out.push((path.to_string(), method.to_string(), name));
            }
        }
    }
    out
}

#[test]
fn the_documented_scope_is_the_one_each_handler_demands() {
    // The handler's first argument is its extractor: `Reader`, `Signer` or `Admin`.
    let doc: serde_json::Value = serde_json::from_str(include_str!("openapi.json")).unwrap();
    let sources = [
        include_str!("mod.rs"),
        include_str!("authority.rs"),
        include_str!("documents.rs"),
        include_str!("pdf.rs"),
        include_str!("policy.rs"),
    ];
    let extractor = |handler: &str| -> Option<&'static str> {
        for source in sources {
            for head in [
                format!("async fn {handler}(\n    _: "),
                format!("async fn {handler}(_: "),
            ] {
                if let Some(at) = source.find(&head) {
                    let rest = &source[at + head.len()..];
                    return ["Reader", "Signer", "Admin"]
                        .into_iter()
                        .find(|e| rest.starts_with(e));
                }
            }
        }
        None
    };
    let mut checked = 0;
    for (path, method, handler) in route_handlers() {
        let Some(scope) = doc["paths"][&path][&method]["x-signet-scope"].as_str() else {
            continue;
        };
        let Some(found) = extractor(&handler) else {
            continue;
        };
        let expected = match scope {
            "read" => "Reader",
            "sign" => "Signer",
            _ => "Admin",
        };
        assert_eq!(found, expected, "{method} {path} ({handler})");
        checked += 1;
    }
    assert!(checked > 20, "only {checked} handlers checked");
}
