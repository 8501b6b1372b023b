//! The console's parts that need no browser: its words, its templates, its people.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use signet_protocol::Timestamp;

use super::i18n::{EN, Lang};
use super::people::{People, PeopleError, Role};
use super::{TEMPLATES, default_origin, templates};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

/// The keys a template names literally: `t.key` and `t["key"]` (not `t["prefix_" ~ x]`).
fn keys_used(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in source.match_indices("t.") {
        let before = source[..i].chars().last();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let key = ident(&source[i + 2..]);
        if !key.is_empty() {
            out.insert(key);
        }
    }
    for (i, _) in source.match_indices("t[\"") {
        let rest = &source[i + 3..];
        if let Some(end) = rest.find('"')
            && !rest[end..].starts_with("\" ~")
        {
            out.insert(rest[..end].to_string());
        }
    }
    out
}

#[test]
fn every_word_a_template_uses_is_in_the_catalogue() {
    let known: BTreeSet<&str> = EN.iter().map(|(k, _)| *k).collect();
    for (name, source) in TEMPLATES {
        for key in keys_used(source) {
            assert!(
                known.contains(key.as_str()),
                "{name} uses t.{key}, which no catalogue has"
            );
        }
    }
    // The keys templates build from data: every value the data can take has its word.
    for prefix_values in [
        (
            "status_",
            &["open", "completed", "declined", "cancelled", "expired"][..],
        ),
        ("role_", &["reader", "signer", "admin"]),
        ("role_", &["signer_p", "approver_p", "copy_p"]),
        (
            "basis_",
            &[
                "anchor",
                "verified",
                "endorsed",
                "this-party",
                "certificate",
            ],
        ),
        (
            "state_",
            &["signed", "approved", "waiting", "later", "none"],
        ),
        ("state_", &["active", "revoked", "expired", "not-yet-valid"]),
        (
            "event_",
            &[
                "proposed",
                "signed",
                "approved",
                "completed",
                "declined",
                "cancelled",
                "expired",
            ],
        ),
    ] {
        for v in prefix_values.1 {
            let key = format!("{}{v}", prefix_values.0);
            assert!(known.contains(key.as_str()), "no word for {key}");
        }
    }
}

#[test]
fn every_template_parses() {
    let env = templates();
    for (name, _) in TEMPLATES {
        env.get_template(name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn pages_render_in_both_languages_and_escape_what_they_show() {
    let env = templates();
    for lang in [Lang::En, Lang::Zh] {
        let context = serde_json::json!({
            "t": lang.words(),
            "lang": lang.tag(),
            "other_lang": "en",
            "party_name": "Supplier <Co>",
            "me": {"name": "Li <b>Wei</b>", "role": "admin", "admin": true, "signer": true},
            "csrf": "token",
            "flash": {"kind": "error", "text": "<script>alert(1)</script>"},
            "title": "Oops",
            "page": "",
            "text": "<img src=x onerror=alert(1)>",
        });
        let html = env
            .get_template("message.html")
            .unwrap()
            .render(&context)
            .unwrap();
        assert!(!html.contains("<script>alert"), "flash text is escaped");
        assert!(!html.contains("<img src=x"), "message text is escaped");
        assert!(
            html.contains("Li &lt;b&gt;Wei") && !html.contains("<b>Wei"),
            "names are escaped"
        );
        assert!(html.contains(&format!("lang=\"{}\"", lang.tag())));
        let words = lang.words();
        assert!(
            html.contains(words["nav_inbox"]),
            "the navigation is in {lang:?}"
        );
    }
}

#[test]
fn the_default_origin_is_localhost_on_loopback_only() {
    let local: std::net::SocketAddr = "127.0.0.1:7400".parse().unwrap();
    assert_eq!(
        default_origin(local, false).as_deref(),
        Some("http://localhost:7400")
    );
    assert_eq!(
        default_origin(local, true).as_deref(),
        Some("https://localhost:7400")
    );
    let public: std::net::SocketAddr = "0.0.0.0:7400".parse().unwrap();
    assert_eq!(default_origin(public, true), None, "a domain must be named");
}

#[test]
fn invitations_are_single_use_expire_and_names_are_unique() {
    let dir = tempfile::tempdir().unwrap();
    let people = People::open(dir.path()).unwrap();
    let token = people.invite("Li Wei", Role::Admin, T0).unwrap();
    assert_eq!(
        people.invitation(&token, T0),
        Some(("Li Wei".to_string(), Role::Admin))
    );
    assert_eq!(
        people.invitation(&token, T0.plus(super::people::INVITATION_LIFETIME)),
        None,
        "expired after three days"
    );
    assert_eq!(people.invitation("guessed", T0), None);
    assert!(matches!(
        people.invite("  ", Role::Signer, T0),
        Err(PeopleError::Name(_))
    ));
    assert!(matches!(
        people.invite("a\u{7}b", Role::Signer, T0),
        Err(PeopleError::Name(_))
    ));
    // Only the token's hash is kept.
    let file = std::fs::read_to_string(super::people_file(dir.path())).unwrap();
    assert!(!file.contains(&token));
    // A new invitation for the same name replaces the old one.
    let again = people.invite("li wei", Role::Signer, T0).unwrap();
    assert_eq!(people.invitation(&token, T0), None);
    assert!(people.invitation(&again, T0).is_some());
    // It survives a restart.
    let reopened = People::open(dir.path()).unwrap();
    assert!(reopened.invitation(&again, T0).is_some());
}

#[test]
fn the_ca_roots_show_their_intermediate_cas_crls() {
    let env = templates();
    let lang = Lang::En;
    let context = serde_json::json!({
        "t": lang.words(),
        "lang": lang.tag(),
        "me": {"name": "Li Wei", "role": "admin", "admin": true, "signer": true},
        "csrf": "token",
        "page": "attestations",
        "party_name": "Supplier",
        "other_lang": "zh",
        "flash": null,
        "attestations": [],
        "me_party": "",
        "names": {},
        "ca_roots": [{
            "name": "Test CA",
            "subject": "CN=Test CA",
            "crl": {"next_update": 1_800_000_000u64},
            "crl_until": "2027-01-15 08:00 UTC",
            "intermediates": [{
                "subject": "CN=Test Intermediate CA",
                "root": "Test CA",
                "crl": {"last_error": "http://ca.example/sub.crl: cannot connect"},
            }],
        }],
    });
    let html = env
        .get_template("attestations.html")
        .unwrap()
        .render(&context)
        .unwrap();
    let below = &html[html
        .find("class=\"intermediates\"")
        .expect("the intermediates")..];
    assert!(below.contains("intermediate CA"), "{below}");
    assert!(below.contains("CN=Test Intermediate CA"), "{below}");
    assert!(below.contains(lang.words()["crl_none"]), "{below}");
    assert!(below.contains("cannot connect"), "{below}");
}
