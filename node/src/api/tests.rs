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
                ["read", "sign"].contains(&scope),
                "{method} {path}: x-signet-scope is {scope:?}"
            );
            assert_eq!(
                scope == "sign",
                method != "get",
                "{method} {path}: changes need sign scope, reads read scope"
            );
        }
    }
    let mut routed = routed();
    // Served without a token and not listed in itself.
    assert!(routed.remove(&("/openapi.json".to_string(), "get".to_string())));
    assert!(routed.len() > 20, "the route scan found {routed:?}");
    assert_eq!(routed, documented);
}
