//! The test vectors of `spec/vectors/`: built from the reference implementation's output with
//! fixed test keys and fixed times, and checked against it as they are built.
//!
//! Each vector states the expected result (`valid` or `invalid`) as written here, by hand;
//! [`generate`] runs the vector through the conformance contract ([`crate::conformance`]) and
//! fails if the code disagrees, then records the code's exact output, wire error code and
//! flags. Nothing reads a clock or a random source, so the files are byte-identical on every
//! run: `cargo run -p signet-tests --bin signet-vectors -- spec/vectors` rewrites them, and
//! the test `tests/tests/vectors.rs` fails if the committed files differ.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use ciborium::Value as Cbor;
use signet_protocol::address::{
    ADDRESS_RECORD_CONTENT_TYPE, AddressRecord, MAX_ADDRESSES, dht_key, p2p_suffix,
};
use signet_protocol::attestation::SignedAttestation;
use signet_protocol::attestation::{
    ATTESTATION_CONTENT_TYPE, AssuranceLevel, Attestation, Claims, PdfCertificate,
    RevocationReason, RevokedEntry, SealCertification,
};
use signet_protocol::bundle::Bundle;
use signet_protocol::codec::{self, Limits};
use signet_protocol::cose::Signed;
use signet_protocol::evidence::merkle::MerkleTree;
use signet_protocol::evidence::{
    Checkpoint, EvidenceEvent, EvidenceKind, EvidenceLog, evidence_origin, witness_name,
};
use signet_protocol::keylog::{
    EcdsaP256Key, KEY_EVENT_CONTENT_TYPE, KeyChange, KeyDecl, KeyEvent, KeyLog, KeyPurpose, LogKey,
};
use signet_protocol::session::{
    INTENT_CONTENT_TYPE, MessageBody, PROPOSAL_CONTENT_TYPE, SEAL_SIGNATURE_CONTENT_TYPE,
    SESSION_MESSAGE_CONTENT_TYPE, SessionMessage,
};
use signet_protocol::sm2::Sm2SecretKey;
use signet_protocol::testkit::{CertificateHolder, DAY, TestParty, test_key};
use signet_protocol::trust::{TrustAnchor, TrustPolicy, TrustStore};
use signet_protocol::x509;
use signet_protocol::{Digest, SecretKey, Timestamp};

use signet_protocol::error::ErrorCode;
use signet_protocol::transport::doc::{ChunkRequest, ChunkResponse};
use signet_protocol::transport::gossip::encode_key_log;
use signet_protocol::transport::msg::Response;
use signet_protocol::transport::witness::{CosignRequest, Refused, WitnessMessage};

use crate::conformance;
use crate::transcript::{
    LocalAction, Played, T0, Transcript, document, three_party_session, two_party_session,
};

/// The command that regenerates the vectors, as the files state it.
pub const COMMAND: &str = "cargo run -p signet-tests --bin signet-vectors -- spec/vectors";

/// What a vector must yield, as its author intends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    Valid,
    Invalid,
}

/// One vector before generation.
#[derive(Debug)]
struct Draft {
    id: String,
    description: String,
    section: &'static str,
    op: &'static str,
    inputs: Value,
    given: Option<Value>,
    intent: Intent,
}

/// The vectors of one file.
#[derive(Debug)]
struct File {
    name: &'static str,
    title: &'static str,
    section: &'static str,
    drafts: Vec<Draft>,
}

impl File {
    fn new(name: &'static str, title: &'static str, section: &'static str) -> Self {
        Self {
            name,
            title,
            section,
            drafts: Vec::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        section: &'static str,
        op: &'static str,
        intent: Intent,
        description: impl Into<String>,
        inputs: Value,
        given: Option<Value>,
    ) {
        let id = format!(
            "{}-{:03}",
            self.name
                .split_once('-')
                .map_or(self.name, |(_, rest)| rest),
            self.drafts.len() + 1
        );
        self.drafts.push(Draft {
            id,
            description: description.into(),
            section,
            op,
            inputs,
            given,
            intent,
        });
    }

    fn valid(&mut self, section: &'static str, op: &'static str, what: &str, inputs: Value) {
        self.push(section, op, Intent::Valid, what, inputs, None);
    }

    fn invalid(&mut self, section: &'static str, op: &'static str, what: &str, inputs: Value) {
        self.push(section, op, Intent::Invalid, what, inputs, None);
    }
}

/// Every vector file, by file name, as its exact text. Fails if the code does not do what a
/// vector says it must.
pub fn generate() -> Result<BTreeMap<String, String>, String> {
    let transcript = three_party_session().map_err(|e| format!("the session failed: {e}"))?;
    let files = [
        identifiers()?,
        encoding()?,
        key_logs()?,
        mandates()?,
        attestations()?,
        trust()?,
        sessions(&transcript)?,
        document_transfer()?,
        evidence(&transcript)?,
        bundles(&transcript)?,
        transport(&transcript)?,
        address_records()?,
        electronic_seals()?,
    ];
    let mut out = BTreeMap::new();
    for file in files {
        let mut vectors = Vec::new();
        for draft in file.drafts {
            vectors.push(finish(draft)?);
        }
        let doc = json!({
            "title": file.title,
            "section": file.section,
            "generated_by": COMMAND,
            "notice": "Every secret key here is a public test key (spec/vectors/README.md). Never use one outside tests.",
            "vectors": vectors,
        });
        let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())? + "\n";
        out.insert(format!("{}.json", file.name), text);
    }
    Ok(out)
}

/// Runs a draft through the contract and records what it must yield.
fn finish(draft: Draft) -> Result<Value, String> {
    let mut request = draft.inputs.clone();
    if let Value::Object(map) = &mut request {
        map.insert("op".into(), json!(draft.op));
    }
    let response = conformance::handle(&request);
    let result = response.get("result").and_then(Value::as_str).unwrap_or("");
    let wanted = match draft.intent {
        Intent::Valid => "valid",
        Intent::Invalid => "invalid",
    };
    if result != wanted {
        return Err(format!(
            "vector {} ({}) must be {wanted}, the code says {response}",
            draft.id, draft.description
        ));
    }
    let mut expected = Map::new();
    expected.insert("result".into(), json!(result));
    for key in ["error", "output", "flags"] {
        if let Some(v) = response.get(key) {
            if key == "flags" && v.as_array().is_some_and(Vec::is_empty) {
                continue;
            }
            expected.insert(key.into(), v.clone());
        }
    }
    let mut vector = Map::new();
    vector.insert("id".into(), json!(draft.id));
    vector.insert("description".into(), json!(draft.description));
    vector.insert("section".into(), json!(draft.section));
    vector.insert("op".into(), json!(draft.op));
    vector.insert("inputs".into(), draft.inputs);
    if let Some(given) = draft.given {
        vector.insert("given".into(), given);
    }
    vector.insert("expected".into(), Value::Object(expected));
    Ok(Value::Object(vector))
}

// ----- helpers -----

fn h(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn seed(key: &SecretKey) -> String {
    hex::encode(*key.to_seed())
}

fn enc(value: &Cbor) -> Result<Vec<u8>, String> {
    codec::encode(value).map_err(|e| e.to_string())
}

fn log_hex(log: &KeyLog) -> Vec<String> {
    log.event_bytes().map(h).collect()
}

fn policy_hex(policy: &TrustPolicy) -> Result<String, String> {
    codec::encode(policy)
        .map(|b| h(&b))
        .map_err(|e| e.to_string())
}

fn cose_items(bytes: &[u8]) -> Result<Vec<Cbor>, String> {
    match codec::decode::<Cbor>(bytes, &Limits::DEFAULT).map_err(|e| e.to_string())? {
        Cbor::Array(items) => Ok(items),
        _ => Err("not an array".into()),
    }
}

/// A COSE_Sign1 with its own protected header, signed by `key` over the Sig_structure.
fn sign_with_header(protected: &Cbor, payload: &[u8], key: &SecretKey) -> Result<Vec<u8>, String> {
    let protected = enc(protected)?;
    let tbs = enc(&Cbor::Array(vec![
        Cbor::Text("Signature1".into()),
        Cbor::Bytes(protected.clone()),
        Cbor::Bytes(Vec::new()),
        Cbor::Bytes(payload.to_vec()),
    ]))?;
    let signature = key.sign(&tbs);
    enc(&Cbor::Array(vec![
        Cbor::Bytes(protected),
        Cbor::Map(Vec::new()),
        Cbor::Bytes(payload.to_vec()),
        Cbor::Bytes(signature.as_bytes().to_vec()),
    ]))
}

fn header(alg: i64, content_type: &str, key: &SecretKey) -> Cbor {
    Cbor::Map(vec![
        (Cbor::Integer(1.into()), Cbor::Integer(alg.into())),
        (Cbor::Integer(3.into()), Cbor::Text(content_type.into())),
        (
            Cbor::Integer(4.into()),
            Cbor::Bytes(key.public_key().as_bytes().to_vec()),
        ),
    ])
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = at.min(out.len().saturating_sub(1));
    out[i] ^= 0x01;
    out
}

fn store_inputs(store: &TrustStore) -> (Vec<Vec<String>>, Vec<String>) {
    let logs = store.key_logs().map(log_hex).collect();
    let attestations = store.attestations().map(|a| h(a.bytes())).collect();
    (logs, attestations)
}

// ----- section 2 -----

/// The Bech32 alphabet (BIP 173).
const BECH32_ALPHABET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
/// The checksum constants: Bech32 (BIP 173) and Bech32m (BIP 350).
const BECH32: u32 = 1;
const BECH32M: u32 = 0x2bc8_30a3;

fn bech32_polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(*v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// `hrp` + `1` + the 5-bit `groups` + the checksum of `constant`, in lower case. Written
/// here, not taken from the reference, so that the vectors can hold what the reference
/// refuses (non-zero padding bits, Bech32 checksums, other lengths).
fn bech32_text(hrp: &str, groups: &[u8], constant: u32) -> String {
    let mut values: Vec<u8> = hrp.bytes().map(|b| b >> 5).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|b| b & 31));
    values.extend(groups);
    values.extend([0; 6]);
    let checksum = bech32_polymod(&values) ^ constant;
    let mut text = format!("{hrp}1");
    for g in groups {
        text.push(char::from(BECH32_ALPHABET[usize::from(*g)]));
    }
    for i in 0..6 {
        text.push(char::from(
            BECH32_ALPHABET[((checksum >> (5 * (5 - i))) & 31) as usize],
        ));
    }
    text
}

/// `bytes` as 5-bit groups, most significant bit first, the last group padded with zeros.
fn five_bit_groups(bytes: &[u8]) -> Vec<u8> {
    let mut groups = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            groups.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        groups.push(((acc << (5 - bits)) & 31) as u8);
    }
    groups
}

fn identifiers() -> Result<File, String> {
    let mut f = File::new("02-identifiers", "Identifiers: text forms", "2");
    let example = signet_protocol::party::PartyId::from_digest(Digest::from_bytes(
        hex::decode("02077a1d9f6c5ac9fa08f0e9fcb7f2fcaebc3bf053ba07fb1a54f78351198f17")
            .map_err(|e| e.to_string())?
            .try_into()
            .map_err(|_| "32 bytes")?,
    ));
    let text = example.to_string();
    let party = |text: &str| json!({"text": text});
    f.valid(
        "2.1",
        "parse-party-id",
        "the party id of section 2.1's example",
        party(&text),
    );
    let zero = bech32_text("signet", &five_bit_groups(&[0; 32]), BECH32M);
    f.valid("2.1", "parse-party-id", "the all-zero digest", party(&zero));
    let ones = bech32_text("signet", &five_bit_groups(&[0xff; 32]), BECH32M);
    f.valid(
        "2.1",
        "parse-party-id",
        "the all-ones digest (its padding bits are still zero)",
        party(&ones),
    );
    let digest = example.digest().as_bytes().to_vec();
    f.invalid(
        "2.1",
        "parse-party-id",
        "another human-readable part (`other`), a valid Bech32m checksum: prefix",
        party(&bech32_text("other", &five_bit_groups(&digest), BECH32M)),
    );
    f.invalid(
        "2.1",
        "parse-party-id",
        "the human-readable part `signat`, one letter off: prefix",
        party(&bech32_text("signat", &five_bit_groups(&digest), BECH32M)),
    );
    let mut typo = text.clone().into_bytes();
    typo[20] = if typo[20] == b'q' { b'p' } else { b'q' };
    f.invalid(
        "2.1",
        "parse-party-id",
        "the example with one data character changed: the checksum fails (not-bech32m)",
        party(&String::from_utf8(typo).map_err(|e| e.to_string())?),
    );
    let mut swapped = text.clone().into_bytes();
    let i = (7..swapped.len() - 1)
        .find(|&i| swapped[i] != swapped[i + 1])
        .ok_or("no two different neighbours")?;
    swapped.swap(i, i + 1);
    f.invalid(
        "2.1",
        "parse-party-id",
        "the example with two neighbouring characters swapped: the checksum fails (not-bech32m)",
        party(&String::from_utf8(swapped).map_err(|e| e.to_string())?),
    );
    f.invalid(
        "2.1",
        "parse-party-id",
        "the example's digest under a Bech32 (BIP 173) checksum, not Bech32m: not-bech32m",
        party(&bech32_text("signet", &five_bit_groups(&digest), BECH32)),
    );
    let mixed = format!("{}{}", &text[..10], text[10..].to_uppercase());
    f.invalid(
        "2.1",
        "parse-party-id",
        "the example in mixed case (lower, then upper from the fourth data character): not-bech32m",
        party(&mixed),
    );
    let mut outside = text.clone().into_bytes();
    outside[12] = b'b';
    f.invalid(
        "2.1",
        "parse-party-id",
        "a character outside the Bech32 alphabet (`b`): not-bech32m",
        party(&String::from_utf8(outside).map_err(|e| e.to_string())?),
    );
    f.invalid(
        "2.1",
        "parse-party-id",
        "the 64 hex digits of the digest instead of the text form: not-bech32m",
        party(&example.digest().to_hex()),
    );
    f.invalid(
        "2.1",
        "parse-party-id",
        "the empty string: not-bech32m",
        party(""),
    );
    f.invalid(
        "2.1",
        "parse-party-id",
        "31 bytes of data (50 groups, zero padding): length",
        party(&bech32_text(
            "signet",
            &five_bit_groups(&digest[..31]),
            BECH32M,
        )),
    );
    let mut longer = digest.clone();
    longer.push(0x17);
    f.invalid(
        "2.1",
        "parse-party-id",
        "33 bytes of data (53 groups, zero padding): length",
        party(&bech32_text("signet", &five_bit_groups(&longer), BECH32M)),
    );
    for (bit, what) in [
        (1u8, "the lowest padding bit"),
        (8, "the highest padding bit"),
    ] {
        let mut groups = five_bit_groups(&digest);
        let last = groups.len() - 1;
        groups[last] ^= bit;
        f.invalid(
            "2.1",
            "parse-party-id",
            &format!(
                "the example's digest with {what} set, under a valid Bech32m checksum: padding"
            ),
            party(&bech32_text("signet", &groups, BECH32M)),
        );
    }

    let id = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";
    f.valid(
        "2.3",
        "parse-attestation-id",
        "32 lower-case hexadecimal digits",
        json!({"text": "00112233445566778899aabbccddeeff"}),
    );
    f.valid(
        "2.3",
        "parse-attestation-id",
        "sixteen bytes 0x5e",
        json!({"text": id}),
    );
    for (text, what) in [
        ("00112233445566778899aabbccddeef", "31 digits"),
        ("00112233445566778899aabbccddeeff00", "34 digits (17 bytes)"),
        (
            "00112233445566778899aabbccddeefg",
            "a character that is not a hexadecimal digit",
        ),
        ("0x112233445566778899aabbccddeeff", "a `0x` prefix"),
        ("", "the empty string"),
    ] {
        f.invalid("2.3", "parse-attestation-id", what, json!({"text": text}));
    }

    let reg = |text: &str| json!({"text": text});
    f.valid(
        "2.4",
        "parse-registration",
        "the unified social credit code of section 2.4's worked example",
        reg("cn-uscc:91350100M000100Y43"),
    );
    f.valid(
        "2.4",
        "parse-registration",
        "another scheme (`lei`), carried as given",
        reg("lei:5493001KJTIIGC8Y1R12"),
    );
    f.valid(
        "2.4",
        "parse-registration",
        "another scheme whose number holds a colon: the text is split at the first colon",
        reg("gb-crn:SC:123456"),
    );
    for (text, what) in [
        (
            "cn-uscc:91350100M000100Y44",
            "section 2.4's refused example: the check character should be `3`: check-character",
        ),
        ("cn-uscc:91350100M000100Y4", "17 characters: length"),
        ("cn-uscc:91350100M000100Y433", "19 characters: length"),
        (
            "cn-uscc:91350100m000100Y43",
            "a lower-case letter: character",
        ),
        (
            "cn-uscc:91350100I000100Y43",
            "the letter I, not in the alphabet: character",
        ),
        (
            "cn-uscc:91350100M000100Y4I",
            "a check character outside the alphabet: character",
        ),
        ("91350100M000100Y43", "no scheme (no colon): format"),
        ("lei:", "another scheme with an empty number: format"),
        (":91350100M000100Y43", "an empty scheme: format"),
        (
            "gb-crn:SC 123456",
            "another scheme whose number holds a space: format",
        ),
    ] {
        f.invalid("2.4", "parse-registration", what, reg(text));
    }
    Ok(f)
}

// ----- section 5 -----

/// Section 5.3.1: mandates that cover a use, and each check that refuses one.
fn mandates() -> Result<File, String> {
    use signet_protocol::testkit::TestNetwork;

    let mut f = File::new(
        "05-mandates",
        "Seal mandates: does a mandate cover a use?",
        "5.3.1",
    );
    let mut net = TestNetwork::new(&["Brand", "Supplier", "Other"], &["procurement"], T0);
    let brand = net.nodes[1].party.id();
    let supplier = net.nodes[2].party.id();
    let other = net.nodes[3].party.id();
    let at = T0.plus(DAY);
    let s = &mut net.nodes[2].party;
    let plain = s.delegate_contract_seal(&["procurement"], None, None, T0, 365);
    let capped = s.delegate_contract_seal(&["procurement"], Some(1_000_000), None, T0, 365);
    let to_other = s.delegate_contract_seal(&["procurement"], None, Some(vec![other]), T0, 365);
    let sales = s.delegate_contract_seal(&["sales"], None, None, T0, 365);
    let revocation = s.revoke(plain.payload().id, T0.plus(DAY / 2), T0.plus(DAY / 2));
    let (delegate, seal, company) = (
        s.delegate.public_key(),
        s.contract_seal.public_key(),
        s.company_seal.public_key(),
    );
    let brand_delegate = net.nodes[1].party.delegate.public_key();
    let brand_mandate = net.nodes[1]
        .mandate
        .clone()
        .ok_or("the brand has no mandate")?;
    let identity = net.nodes[2]
        .store
        .attestations()
        .find(|a| {
            a.payload().subject == supplier && matches!(a.payload().claims, Claims::Identity(_))
        })
        .cloned()
        .ok_or("no identity of the supplier")?;
    let (logs, attestations) = store_inputs(&net.nodes[2].store);
    let max = net.nodes[2].policy.max_delegation_validity;
    let cny = |yuan: u64| json!({"currency": "CNY", "minor_units": yuan * 100});
    let base_use = json!({
        "party": supplier.to_string(),
        "delegate": {"ed25519": delegate.to_hex()},
        "seal": seal.to_hex(),
        "purpose": "procurement",
        "value": cny(1_250_000),
        "counterparties": [brand.to_string()],
        "time": at.unix(),
    });
    let request = |mandate: &SignedAttestation,
                   changes: Value,
                   max: u64,
                   logs: &Vec<Vec<String>>,
                   attestations: &Vec<String>| {
        let mut u = base_use.clone();
        if let (Value::Object(u), Value::Object(changes)) = (&mut u, changes) {
            u.extend(changes);
        }
        json!({
            "mandate": h(mandate.bytes()),
            "use": u,
            "max_validity": max,
            "key_logs": logs,
            "attestations": attestations,
        })
    };
    let ok = |m, c| request(m, c, max, &logs, &attestations);
    f.valid(
        "5.3.1",
        "check-mandate",
        "the supplier's mandate (any value, any counterparty) covers a contract with the brand",
        ok(&plain, json!({})),
    );
    f.valid(
        "5.3.1",
        "check-mandate",
        "a party that signs alone (no counterparty) needs the same mandate",
        ok(&plain, json!({"counterparties": []})),
    );
    f.valid(
        "5.3.1",
        "check-mandate",
        "a value equal to the cap (1,000,000.00 CNY) is covered",
        ok(&capped, json!({"value": cny(1_000_000)})),
    );
    f.valid(
        "5.3.1",
        "check-mandate",
        "a mandate limited to one counterparty, used with it",
        ok(&to_other, json!({"counterparties": [other.to_string()]})),
    );
    let refusals = [
        (
            &identity,
            json!({}),
            "an identity attestation given as a mandate: NotADelegation",
        ),
        (
            &brand_mandate,
            json!({"delegate": {"ed25519": brand_delegate.to_hex()}}),
            "the brand's mandate for a use of the supplier's seal: WrongParty",
        ),
        (
            &plain,
            json!({"time": T0.unix() - 1}),
            "a use a second before the mandate's validity: NotYetValid",
        ),
        (
            &plain,
            json!({"time": T0.plus(365 * DAY).unix()}),
            "a use at the mandate's valid_until: Expired",
        ),
        (
            &plain,
            json!({"delegate": {"ed25519": brand_delegate.to_hex()}}),
            "another person's key (the brand's delegate): DelegateMismatch",
        ),
        (
            &plain,
            json!({"seal": company.to_hex()}),
            "the company seal, not the contract seal the mandate names: SealNotCovered",
        ),
        (
            &sales,
            json!({}),
            "a mandate for `sales` used for `procurement`: PurposeNotCovered",
        ),
        (
            &plain,
            json!({"purpose": "Procurement"}),
            "the purpose in another case (purposes are exact byte strings): PurposeNotCovered",
        ),
        (
            &capped,
            json!({"value": null}),
            "a capped mandate for a contract that states no value: ValueUnstated",
        ),
        (
            &capped,
            json!({"value": {"currency": "USD", "minor_units": 100}}),
            "a cap in CNY, a value in USD (no conversion): CurrencyMismatch",
        ),
        (
            &capped,
            json!({"value": cny(1_000_001)}),
            "one yuan over the cap: ValueExceedsCap",
        ),
        (
            &to_other,
            json!({}),
            "a mandate limited to another counterparty, used with the brand: CounterpartyNotAllowed",
        ),
        (
            &to_other,
            json!({"counterparties": [other.to_string(), brand.to_string()]}),
            "a three-party contract: one of the counterparties is not allowed: CounterpartyNotAllowed",
        ),
    ];
    for (mandate, changes, what) in refusals {
        f.invalid("5.3.1", "check-mandate", what, ok(mandate, changes));
    }
    f.invalid(
        "5.3.1",
        "check-mandate",
        "a verifier that accepts mandates of at most one day: WindowTooLong",
        request(&plain, json!({}), DAY, &logs, &attestations),
    );
    let without_supplier: Vec<Vec<String>> = net.nodes[2]
        .store
        .key_logs()
        .filter(|l| l.party() != supplier)
        .map(log_hex)
        .collect();
    f.invalid(
        "5.3.1",
        "check-mandate",
        "the supplier's key log unknown: UnknownParty (retry-later)",
        request(&plain, json!({}), max, &without_supplier, &attestations),
    );
    let mut revoked = attestations.clone();
    revoked.push(h(revocation.bytes()));
    f.invalid(
        "5.3.1",
        "check-mandate",
        "the mandate revoked by the supplier with effect half a day before the use: Revoked",
        request(&plain, json!({}), max, &logs, &revoked),
    );
    f.valid(
        "5.3.1",
        "check-mandate",
        "the same revocation, for a use before it takes effect",
        request(
            &plain,
            json!({"time": T0.plus(DAY / 4).unix()}),
            max,
            &logs,
            &revoked,
        ),
    );
    // The mandate's own signature by a key of the supplier that is not an `attest` key.
    let by_node = Signed::sign(
        plain.payload().clone(),
        ATTESTATION_CONTENT_TYPE,
        &net.nodes[2].party.node,
    )
    .map_err(|e| e.to_string())?
    .into_log_key();
    f.invalid(
        "5.3.1",
        "check-mandate",
        "the supplier's mandate signed by its node key, not an attest key: IssuerKey (key-not-valid)",
        ok(&by_node, json!({})),
    );
    // The seal the mandate names, retired in the supplier's log half a day before the use.
    let mut retired_seal = net.nodes[2].party.log.clone();
    retired_seal
        .retire_key(&net.nodes[2].party.root, seal, T0.plus(DAY / 2))
        .map_err(|e| e.to_string())?;
    let with_retired_seal: Vec<Vec<String>> = net.nodes[2]
        .store
        .key_logs()
        .map(|l| {
            if l.party() == supplier {
                log_hex(&retired_seal)
            } else {
                log_hex(l)
            }
        })
        .collect();
    f.invalid(
        "5.3.1",
        "check-mandate",
        "the contract seal the mandate names, retired by the supplier half a day before the use: SealKey (key-not-valid)",
        request(&plain, json!({}), max, &with_retired_seal, &attestations),
    );
    let seal_revocation = net.nodes[2]
        .party
        .revoke_key(seal, T0.plus(DAY / 2), T0.plus(DAY / 2));
    let mut seal_revoked = attestations.clone();
    seal_revoked.push(h(seal_revocation.bytes()));
    f.invalid(
        "5.3.1",
        "check-mandate",
        "the contract seal the mandate names, revoked by the supplier with effect half a day before the use (the mandate itself is not revoked): Revoked",
        request(&plain, json!({}), max, &logs, &seal_revoked),
    );
    // Appended after the family's earlier vectors, so their numbers stay.
    let sm2_person = Sm2SecretKey::from_bytes(&test_key("Supplier", "sm2-delegate").to_seed())
        .map_err(|e| e.to_string())?;
    let s = &mut net.nodes[2].party;
    let me = s.id();
    let sm2_mandate = s.attest(
        me,
        Claims::Delegation(signet_protocol::attestation::Delegation {
            delegate: signet_protocol::attestation::Delegate::with_key(
                "Supplier SM2 signatory",
                sm2_person.public_key(),
            ),
            seals: vec![seal.into()],
            purposes: vec!["procurement".into()],
            value_cap: None,
            counterparties: None,
        }),
        T0,
        365,
    );
    let sm2_delegate = json!({"delegate": {"sm2": h(sm2_person.public_key().as_bytes())}});
    f.push(
        "6.4",
        "check-mandate",
        Intent::Valid,
        "a mandate whose delegate is an SM2 person (key: the 33-byte compressed point, alg -98454) covers that person's use",
        request(&sm2_mandate, sm2_delegate, max, &logs, &attestations),
        Some(json!({"delegate_sm2_scalar": h(&*sm2_person.to_bytes())})),
    );
    f.invalid(
        "5.3.1",
        "check-mandate",
        "the SM2 person's mandate and a use by the supplier's Ed25519 delegate: another person (DelegateMismatch)",
        request(&sm2_mandate, json!({}), max, &logs, &attestations),
    );
    Ok(f)
}

// ----- section 3 -----

fn encoding() -> Result<File, String> {
    let mut f = File::new(
        "03-encoding",
        "Deterministic CBOR and the COSE_Sign1 profile",
        "3",
    );
    let cbor = [
        (
            Intent::Valid,
            "a map with text keys in order",
            "a2616101616202",
        ),
        (
            Intent::Valid,
            "keys sorted bytewise on their encoding: \"b\" before \"aa\"",
            "a2616202626161 01",
        ),
        (
            Intent::Valid,
            "integer map keys (as in COSE headers) in order",
            "a201010202",
        ),
        (Intent::Valid, "24 in its shortest form", "1818"),
        (Intent::Valid, "true", "f5"),
        (Intent::Valid, "a byte string", "43010203"),
        (
            Intent::Valid,
            "nesting at the depth limit (16)",
            "818181818181818181818181818181 00",
        ),
        (
            Intent::Invalid,
            "23 with a one-byte argument: not the shortest head",
            "1817",
        ),
        (
            Intent::Invalid,
            "a 0 length with a two-byte argument",
            "590000",
        ),
        (Intent::Invalid, "an indefinite-length array", "9f01ff"),
        (
            Intent::Invalid,
            "an indefinite-length text string",
            "7f616161ff",
        ),
        (Intent::Invalid, "keys out of order", "a2616202616101"),
        (
            Intent::Invalid,
            "\"aa\" before \"b\": length-first order is not bytewise order",
            "a2626161016162 02",
        ),
        (Intent::Invalid, "a duplicate key", "a2616101616101"),
        (Intent::Invalid, "a tag (epoch time)", "c11a6b49d200"),
        (Intent::Invalid, "a half-precision float", "f93c00"),
        (Intent::Invalid, "null", "f6"),
        (Intent::Invalid, "undefined", "f7"),
        (Intent::Invalid, "text that is not UTF-8", "62c328"),
        (Intent::Invalid, "trailing bytes after the item", "0000"),
        (Intent::Invalid, "a truncated text string", "6261"),
        (
            Intent::Invalid,
            "nesting one level deeper than the limit",
            "81818181818181818181818181818181 00",
        ),
        (
            Intent::Invalid,
            "a negative integer with a non-minimal head",
            "3800",
        ),
    ];
    for (intent, what, hex) in cbor {
        let hex: String = hex.split_whitespace().collect();
        f.push("3.1", "cbor-check", intent, what, json!({"hex": hex}), None);
    }

    // COSE_Sign1 (section 3.3) over a real key event.
    let k = |role: &str| test_key("example", role);
    let mut log = KeyLog::incept(
        &k("root-0"),
        &k("root-1").public_key(),
        vec![KeyDecl::node(&k("node"), &k("root-0").public_key())],
        T0,
    )
    .map_err(|e| e.to_string())?;
    log.rotate(&k("root-1"), &k("root-2").public_key(), T0.plus(3600))
        .map_err(|e| e.to_string())?;
    let inception = log.events()[0].bytes().to_vec();
    let items = cose_items(&inception)?;
    let Some(Cbor::Bytes(payload)) = items.get(2) else {
        return Err("no payload".into());
    };
    let given = json!({
        "signer_seed": seed(&k("root-0")),
        "payload": h(payload),
        "time": T0.unix(),
    });
    f.push(
        "3.3",
        "verify-signed",
        Intent::Valid,
        "the inception event of section 4.7, signed by its root key (Ed25519, -19)",
        json!({"hex": h(&inception), "content_type": KEY_EVENT_CONTENT_TYPE}),
        Some(given.clone()),
    );
    let eddsa = sign_with_header(
        &header(-8, KEY_EVENT_CONTENT_TYPE, &k("root-0")),
        payload,
        &k("root-0"),
    )?;
    f.push(
        "3.3",
        "verify-signed",
        Intent::Valid,
        "the same payload under the deprecated alg -8 (EdDSA): accepted and read as Ed25519",
        json!({"hex": h(&eddsa), "content_type": KEY_EVENT_CONTENT_TYPE}),
        Some(given.clone()),
    );
    let es256 = sign_with_header(
        &header(-7, KEY_EVENT_CONTENT_TYPE, &k("root-0")),
        payload,
        &k("root-0"),
    )?;
    f.invalid(
        "3.3",
        "verify-signed",
        "alg -7 (ES256): not an algorithm of version 1",
        json!({"hex": h(&es256), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );
    f.invalid(
        "3.3",
        "verify-signed",
        "a key event presented as an attestation: the content type binds the type",
        json!({"hex": h(&inception), "content_type": ATTESTATION_CONTENT_TYPE}),
    );
    let last = inception.len() - 1;
    f.invalid(
        "3.3",
        "verify-signed",
        "one bit of the signature flipped",
        json!({"hex": h(&flip(&inception, last)), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );
    let mut tampered = payload.clone();
    let at = tampered.len() - 1;
    tampered[at] ^= 0x01;
    let mut changed = items.clone();
    changed[2] = Cbor::Bytes(tampered);
    f.invalid(
        "3.3",
        "verify-signed",
        "one bit of the payload flipped (still a valid key event): the signature fails",
        json!({"hex": h(&enc(&Cbor::Array(changed))?), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );
    let mut unprotected = items.clone();
    unprotected[1] = Cbor::Map(vec![(Cbor::Integer(4.into()), Cbor::Bytes(vec![0; 32]))]);
    f.invalid(
        "3.3",
        "verify-signed",
        "a parameter in the unprotected header",
        json!({"hex": h(&enc(&Cbor::Array(unprotected))?), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );
    let mut tagged = vec![0xd2];
    tagged.extend_from_slice(&inception);
    f.invalid(
        "3.3",
        "verify-signed",
        "a tagged COSE_Sign1 (tag 18): tags are not deterministic CBOR here",
        json!({"hex": h(&tagged), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );
    let mut detached = items.clone();
    detached[2] = Cbor::Null;
    f.invalid(
        "3.3",
        "verify-signed",
        "a detached (nil) payload",
        json!({"hex": h(&enc(&Cbor::Array(detached)).unwrap_or_default()), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );
    let no_kid = Cbor::Map(vec![
        (Cbor::Integer(1.into()), Cbor::Integer((-19).into())),
        (
            Cbor::Integer(3.into()),
            Cbor::Text(KEY_EVENT_CONTENT_TYPE.into()),
        ),
    ]);
    f.invalid(
        "3.3",
        "verify-signed",
        "no key id in the protected header",
        json!({"hex": h(&sign_with_header(&no_kid, payload, &k("root-0"))?), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );

    // Which failure is reported when several rules fail (section 3.1, A1 of the review).
    f.invalid(
        "3.1",
        "cbor-check",
        "an array declaring 65,537 elements with no content: the length is compared with the remaining bytes before any element is counted (Truncated, not TooManyItems)",
        json!({"hex": "9a00010001"}),
    );
    f.invalid(
        "3.5",
        "cbor-check",
        "an array of 65,536 zeros: 65,537 items with the array, one more than the limit",
        json!({"hex": format!("9a00010000{}", "00".repeat(65_536))}),
    );
    f.invalid(
        "3.1",
        "cbor-check",
        "reserved additional information 28",
        json!({"hex": "1c"}),
    );
    // The order of the profile checks (section 3.3).
    let with_iv = Cbor::Map(vec![
        (Cbor::Integer(1.into()), Cbor::Integer((-7).into())),
        (
            Cbor::Integer(3.into()),
            Cbor::Text(KEY_EVENT_CONTENT_TYPE.into()),
        ),
        (
            Cbor::Integer(4.into()),
            Cbor::Bytes(k("root-0").public_key().as_bytes().to_vec()),
        ),
        (Cbor::Integer(5.into()), Cbor::Bytes(vec![0; 12])),
    ]);
    f.invalid(
        "3.3",
        "verify-signed",
        "alg -7 and an IV parameter: the algorithm is checked first (unsupported, not bad-signed-object)",
        json!({"hex": h(&sign_with_header(&with_iv, payload, &k("root-0"))?), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );
    let not_an_event = enc(&Cbor::Map(vec![(
        Cbor::Text("x".into()),
        Cbor::Integer(1.into()),
    )]))?;
    let schema_then_signature = sign_with_header(
        &header(-19, KEY_EVENT_CONTENT_TYPE, &k("root-0")),
        &not_an_event,
        &k("root-0"),
    )?;
    f.invalid(
        "3.3",
        "verify-signed",
        "a payload that is not a key event, under a flipped signature: the payload's schema is checked before the signature (schema, not bad-signature)",
        json!({"hex": h(&flip(&schema_then_signature, schema_then_signature.len() - 1)), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );
    // Weak and non-canonical keys, and S >= L (sections 2.2, 3.3 item 6).
    let kid_header = |kid: Vec<u8>| {
        Cbor::Map(vec![
            (Cbor::Integer(1.into()), Cbor::Integer((-19).into())),
            (
                Cbor::Integer(3.into()),
                Cbor::Text(KEY_EVENT_CONTENT_TYPE.into()),
            ),
            (Cbor::Integer(4.into()), Cbor::Bytes(kid)),
        ])
    };
    let mut identity = vec![0u8; 32];
    identity[0] = 1;
    f.invalid(
        "2.2",
        "verify-signed",
        "a key id that is the identity point (small order, a weak key)",
        json!({"hex": h(&sign_with_header(&kid_header(identity), payload, &k("root-0"))?), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );
    let small_y = (2u8..19)
        .find(|y| {
            let mut canonical = [0u8; 32];
            canonical[0] = *y;
            signet_protocol::PublicKey::from_slice(&canonical).is_ok()
        })
        .ok_or("no small y on the curve")?;
    let mut non_canonical = vec![0xffu8; 32];
    non_canonical[0] = 0xed + small_y;
    non_canonical[31] = 0x7f;
    f.invalid(
        "2.2",
        "verify-signed",
        &format!(
            "a key id whose y is {small_y} + p: a curve point of large order in a non-canonical encoding"
        ),
        json!({"hex": h(&sign_with_header(&kid_header(non_canonical), payload, &k("root-0"))?), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );
    f.invalid(
        "3.3",
        "verify-signed",
        "the inception with L added to the signature's S (S >= L): the same signature modulo L, refused",
        json!({"hex": h(&with_s_plus_l(&inception)?), "content_type": KEY_EVENT_CONTENT_TYPE}),
    );
    Ok(f)
}

/// A COSE_Sign1 whose signature's S (the last 32 bytes, little-endian) has the group order L
/// added: an equivalent scalar in a non-reduced encoding.
fn with_s_plus_l(signed: &[u8]) -> Result<Vec<u8>, String> {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = signed.to_vec();
    let start = out.len() - 32;
    let mut carry = 0u16;
    for (i, l) in L.iter().enumerate() {
        let sum = u16::from(out[start + i]) + u16::from(*l) + carry;
        out[start + i] = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    if carry != 0 {
        return Err("S + L does not fit in 32 bytes".into());
    }
    Ok(out)
}

// ----- section 4 -----

fn key_logs() -> Result<File, String> {
    let mut f = File::new(
        "04-key-event-log",
        "Key event logs: replay, forks, pre-rotation",
        "4",
    );
    let k = |role: &str| test_key("keylog", role);
    let e = |r: Result<(), signet_protocol::error::UsageError>| r.map_err(|e| e.to_string());
    let mut log = KeyLog::incept(
        &k("root-0"),
        &k("root-1").public_key(),
        vec![
            KeyDecl::node(&k("node"), &k("root-0").public_key()),
            KeyDecl::attest(k("attest").public_key()),
            KeyDecl::log(k("log").public_key()),
        ],
        T0,
    )
    .map_err(|e| e.to_string())?;
    let base = log.clone();
    e(log
        .add_key(
            &k("root-0"),
            KeyDecl::node(&k("node-2"), &k("root-0").public_key()),
            T0.plus(60),
        )
        .map(|_| ()))?;
    e(log
        .rotate(&k("root-1"), &k("root-2").public_key(), T0.plus(120))
        .map(|_| ()))?;
    e(log
        .retire_key(&k("root-1"), k("node").public_key(), T0.plus(180))
        .map(|_| ()))?;
    e(log.retire_party(&k("root-1"), T0.plus(240)).map(|_| ()))?;
    let events = log_hex(&log);
    let given = json!({
        "root_seeds": [seed(&k("root-0")), seed(&k("root-1")), seed(&k("root-2"))],
        "times": [T0.unix(), T0.plus(60).unix(), T0.plus(120).unix(), T0.plus(180).unix(), T0.plus(240).unix()],
    });
    f.push(
        "4.4",
        "replay-key-log",
        Intent::Valid,
        "inception, add-key, rotation (pre-rotated key revealed), retire-key, retire-party",
        json!({"events": events}),
        Some(given),
    );
    f.valid(
        "4.4",
        "replay-key-log",
        "the inception alone",
        json!({"events": [events[0]]}),
    );
    f.invalid("4.4", "replay-key-log", "no events", json!({"events": []}));
    f.invalid(
        "4.4",
        "replay-key-log",
        "a gap: the event of sequence 1 is missing",
        json!({"events": [events[0], events[2]]}),
    );
    f.invalid(
        "4.4",
        "replay-key-log",
        "events out of order",
        json!({"events": [events[0], events[2], events[1]]}),
    );
    f.invalid(
        "4.4",
        "replay-key-log",
        "a later event first: the first event must be an inception",
        json!({"events": [events[1]]}),
    );
    // A fork: two different events at sequence 1, both signed by the root key.
    let mut other = base.clone();
    e(other
        .add_key(
            &k("root-0"),
            KeyDecl::node(&k("node-3"), &k("root-0").public_key()),
            T0.plus(60),
        )
        .map(|_| ()))?;
    let forked = log_hex(&other);
    f.invalid(
        "4.4.2",
        "replay-key-log",
        "a fork: two validly signed events at sequence 1",
        json!({"events": [events[0], events[1], forked[1]]}),
    );
    // Node keys need a proof of possession bound to the root key that signs the event
    // (4.3.1): without one, with another party's proof copied, or with a bad one, refused.
    let squatted = |decl: KeyDecl, what: &str| -> Result<(String, String), String> {
        let event = KeyEvent {
            party: Some(base.party()),
            seq: 1,
            prev: Some(base.head()),
            time: T0.plus(60),
            change: KeyChange::AddKey(decl),
        };
        let signed =
            Signed::sign(event, KEY_EVENT_CONTENT_TYPE, &k("root-0")).map_err(|e| e.to_string())?;
        Ok((h(signed.bytes()), what.to_string()))
    };
    let victim = test_key("keylog-victim", "root-0");
    let copied = KeyDecl::node(&k("node-5"), &victim.public_key());
    let no_proof = KeyDecl {
        proof: None,
        ..KeyDecl::node(&k("node-5"), &k("root-0").public_key())
    };
    let mut bad = KeyDecl::node(&k("node-5"), &k("root-0").public_key());
    bad.proof = Some(k("node-6").sign(b"something else"));
    for (decl, what) in [
        (
            no_proof,
            "a node key declared without its proof of possession",
        ),
        (
            copied,
            "another party's node key, with the proof that party made for its own root key: the proof does not bind to this log's root key (node-key squatting)",
        ),
        (
            bad,
            "a node key whose proof of possession is not its signature",
        ),
    ] {
        let (event, what) = squatted(decl, what)?;
        f.invalid(
            "4.3.1",
            "replay-key-log",
            &what,
            json!({"events": [events[0], event]}),
        );
    }
    // A rotation that reveals a key other than the committed one, signed by it.
    let rotation = KeyEvent {
        party: Some(base.party()),
        seq: 1,
        prev: Some(base.head()),
        time: T0.plus(60),
        change: KeyChange::Rotation {
            root: k("impostor").public_key(),
            next_root: Digest::of(k("root-2").public_key().as_bytes()),
        },
    };
    let impostor = Signed::sign(rotation, KEY_EVENT_CONTENT_TYPE, &k("impostor"))
        .map_err(|e| e.to_string())?;
    f.push(
        "4.3",
        "replay-key-log",
        Intent::Invalid,
        "pre-rotation mismatch: a rotation by a key whose digest is not the committed next_root (a stolen current root key cannot rotate)",
        json!({"events": [events[0], h(impostor.bytes())]}),
        Some(json!({"impostor_seed": seed(&k("impostor"))})),
    );
    // A later event signed by a key that is not the current root.
    let add = KeyEvent {
        party: Some(base.party()),
        seq: 1,
        prev: Some(base.head()),
        time: T0.plus(60),
        change: KeyChange::AddKey(KeyDecl::node(&k("node-4"), &k("root-0").public_key())),
    };
    let by_node =
        Signed::sign(add.clone(), KEY_EVENT_CONTENT_TYPE, &k("node")).map_err(|e| e.to_string())?;
    f.invalid(
        "4.2.3",
        "replay-key-log",
        "an add-key signed by a node key instead of the current root key",
        json!({"events": [events[0], h(by_node.bytes())]}),
    );
    let wrong_prev = KeyEvent {
        prev: Some(Digest::of(b"another event")),
        ..add
    };
    let wrong_prev = Signed::sign(wrong_prev, KEY_EVENT_CONTENT_TYPE, &k("root-0"))
        .map_err(|e| e.to_string())?;
    f.invalid(
        "4.4",
        "replay-key-log",
        "an event whose prev is not the digest of the previous event",
        json!({"events": [events[0], h(wrong_prev.bytes())]}),
    );
    f.invalid(
        "4.4",
        "replay-key-log",
        "an event with a flipped signature bit",
        json!({"events": [events[0], h(&flip(&hex::decode(&events[1]).map_err(|e| e.to_string())?, usize::MAX))]}),
    );
    key_algorithms(&mut f, &base)?;
    key_log_refusals(&mut f, &base)?;
    tsa_keys(&mut f, &base)?;
    sm2_keys(&mut f, &base)?;
    sm2_seal_keys(&mut f, &base)?;
    key_declaration_refusals(&mut f, &base)?;
    sm2_attest_keys(&mut f, &base)?;
    rsa_pdf_keys(&mut f, &base)?;
    Ok(f)
}

/// An `add-key` event at sequence 1 after `base`'s inception, adding `body` (any CBOR
/// map), signed by the root key "root-0" of the "keylog" test keys: hex.
fn add_key_raw(base: &KeyLog, body: Cbor) -> Result<String, String> {
    let event = Cbor::Map(vec![
        (
            Cbor::Text("party".into()),
            Cbor::Bytes(base.party().digest().as_bytes().to_vec()),
        ),
        (Cbor::Text("seq".into()), Cbor::Integer(1.into())),
        (
            Cbor::Text("prev".into()),
            Cbor::Bytes(base.head().as_bytes().to_vec()),
        ),
        (
            Cbor::Text("time".into()),
            Cbor::Integer(T0.plus(60).unix().into()),
        ),
        (Cbor::Text("kind".into()), Cbor::Integer(3.into())),
        (Cbor::Text("body".into()), body),
    ]);
    Signed::sign(event, KEY_EVENT_CONTENT_TYPE, &test_key("keylog", "root-0"))
        .map(|s| h(s.bytes()))
        .map_err(|e| e.to_string())
}

/// A `key-decl` map of `purpose` (its code), `key` and, when given, `alg`.
fn decl_map(purpose: u64, alg: Option<i64>, key: Vec<u8>) -> Cbor {
    let mut map = vec![
        (Cbor::Text("purpose".into()), Cbor::Integer(purpose.into())),
        (Cbor::Text("key".into()), Cbor::Bytes(key)),
    ];
    if let Some(alg) = alg {
        map.push((Cbor::Text("alg".into()), Cbor::Integer(alg.into())));
    }
    Cbor::Map(map)
}

/// Section 4.3.2: an SM2 `attest` key is declared; an SM2 `node` key is not (libp2p has no SM2
/// identity). `base` is a log of one inception signed by "root-0". Appended after the
/// family's earlier vectors, so their numbers stay.
fn sm2_attest_keys(f: &mut File, base: &KeyLog) -> Result<(), String> {
    let k = |role: &str| test_key("keylog", role);
    let secret = Sm2SecretKey::from_bytes(&k("sm2-attest").to_seed()).map_err(|e| e.to_string())?;
    let mut log = base.clone();
    log.add_key(
        &k("root-0"),
        KeyDecl::attest(secret.public_key()),
        T0.plus(60),
    )
    .map_err(|e| e.to_string())?;
    f.push(
        "4.3.2",
        "replay-key-log",
        Intent::Valid,
        "an SM2 attest key (purpose 4, alg -98454): it signs attestations as SM2 COSE objects (section 3.3)",
        json!({"events": log_hex(&log)}),
        Some(json!({"attest_sm2_scalar": h(&*secret.to_bytes())})),
    );
    // Declared with a proof of possession, so that the refusal is for the algorithm.
    let node = KeyEvent {
        party: Some(base.party()),
        seq: 1,
        prev: Some(base.head()),
        time: T0.plus(60),
        change: KeyChange::AddKey(KeyDecl {
            purpose: KeyPurpose::Node,
            key: secret.public_key().into(),
            seal: None,
            proof: Some(signet_protocol::Signature::from_bytes([0x11; 64])),
        }),
    };
    let node =
        Signed::sign(node, KEY_EVENT_CONTENT_TYPE, &k("root-0")).map_err(|e| e.to_string())?;
    f.invalid(
        "4.3.2",
        "replay-key-log",
        "an SM2 key declared for the node purpose: a node key is a libp2p identity, which has no SM2 form (InvalidDecl, \"a node key is Ed25519\")",
        json!({"events": [log_hex(base)[0].clone(), h(node.bytes())]}),
    );
    Ok(())
}

/// The fixed RSA key of the vectors' RSA-certified party, made once with `openssl genpkey`
/// (PKCS #8 DER).
const RSA_SUBJECT_KEY: &[u8] = include_bytes!("keys/rsa-2048-subject.der");

/// An RSA private key from PKCS #8 DER.
fn rsa_key(pkcs8: &[u8]) -> Result<rsa::RsaPrivateKey, String> {
    use rsa::pkcs8::DecodePrivateKey;
    rsa::RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(|e| e.to_string())
}

/// The `SubjectPublicKeyInfo` of an RSA key (rsaEncryption, NULL parameters).
fn rsa_spki(key: &rsa::RsaPrivateKey) -> Result<spki::SubjectPublicKeyInfoOwned, String> {
    use der::Decode;
    use rsa::pkcs8::EncodePublicKey;
    let public = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| e.to_string())?;
    spki::SubjectPublicKeyInfoOwned::from_der(public.as_bytes()).map_err(|e| e.to_string())
}

/// The `RSAPublicKey` DER of an RSA key, as a key log declares it (alg -257).
fn rsa_public_key(key: &rsa::RsaPrivateKey) -> Result<Vec<u8>, String> {
    use rsa::pkcs1::EncodeRsaPublicKey;
    key.to_public_key()
        .to_pkcs1_der()
        .map(|d| d.as_bytes().to_vec())
        .map_err(|e| e.to_string())
}

/// Section 4.3.2: a party's own CA-certified RSA key, declared as a `pdf` key (alg -257);
/// refused for another purpose and in any encoding but a DER `RSAPublicKey` of 2048 to 8192
/// bits. `base` is a log of one inception signed by "root-0". Appended after the family's
/// earlier vectors, so their numbers stay.
fn rsa_pdf_keys(f: &mut File, base: &KeyLog) -> Result<(), String> {
    let k = |role: &str| test_key("keylog", role);
    let secret = rsa_key(RSA_SUBJECT_KEY)?;
    let der = rsa_public_key(&secret)?;
    let key = signet_protocol::rsa::RsaPublicKey::from_der(&der).map_err(|e| e.to_string())?;
    let mut log = base.clone();
    log.add_key(&k("root-0"), KeyDecl::rsa_pdf(key.clone()), T0.plus(60))
        .map_err(|e| e.to_string())?;
    log.retire_key(&k("root-0"), key, T0.plus(120))
        .map_err(|e| e.to_string())?;
    f.valid(
        "4.3.2",
        "replay-key-log",
        "an RSA-2048 pdf key (alg -257, RS256, the DER RSAPublicKey), as a party declares the key its CA certified, then retired",
        json!({"events": log_hex(&log)}),
    );
    let events = log_hex(base);
    let pdf_code = KeyPurpose::Pdf.code();
    let short = rsa_public_key(&rsa_key(include_bytes!("keys/rsa-1024.der"))?)?;
    let spki = {
        use der::Encode;
        rsa_spki(&secret)?.to_der().map_err(|e| e.to_string())?
    };
    let mut trailing = der.clone();
    trailing.push(0);
    for (body, what) in [
        (
            decl_map(KeyPurpose::Seal.code(), Some(-257), der.clone()),
            "an RS256 key declared for the seal purpose: RS256 serves only pdf (InvalidDecl)",
        ),
        (
            decl_map(KeyPurpose::Attest.code(), Some(-257), der.clone()),
            "an RS256 key declared for the attest purpose: RS256 serves only pdf (InvalidDecl)",
        ),
        (
            decl_map(pdf_code, Some(-257), short),
            "an RS256 pdf key of 1024 bits: 2048 to 8192 are accepted",
        ),
        (
            decl_map(pdf_code, Some(-257), spki),
            "an RS256 pdf key as a SubjectPublicKeyInfo: only the DER RSAPublicKey",
        ),
        (
            decl_map(pdf_code, Some(-257), trailing),
            "an RS256 pdf key with a byte after its DER RSAPublicKey",
        ),
    ] {
        f.invalid(
            "4.3.2",
            "replay-key-log",
            what,
            json!({"events": [events[0].clone(), add_key_raw(base, body)?]}),
        );
    }
    Ok(())
}

/// Sections 4.4 and 4.3.1: each rule of `declare` and of the inception header that no earlier
/// vector shows, one refusal each (`InvalidDecl`, `Header`, `Gap`, `Inception`,
/// `DuplicateKey` by rotation). `base` is a log of one inception signed by "root-0".
fn key_declaration_refusals(f: &mut File, base: &KeyLog) -> Result<(), String> {
    let k = |role: &str| test_key("keylog", role);
    let events = log_hex(base);
    let signed = |event: KeyEvent, by: &str| -> Result<String, String> {
        Signed::sign(event, KEY_EVENT_CONTENT_TYPE, &k(by))
            .map(|s| h(s.bytes()))
            .map_err(|e| e.to_string())
    };
    let add_key = |decl: KeyDecl| KeyEvent {
        party: Some(base.party()),
        seq: 1,
        prev: Some(base.head()),
        time: T0.plus(60),
        change: KeyChange::AddKey(decl),
    };
    let seal_info =
        |kind: signet_protocol::seal::SealKind, name: &str| signet_protocol::seal::SealInfo {
            kind,
            name: name.into(),
            image: None,
        };
    let attest = KeyDecl::attest(k("attest-5").public_key());
    let contract = signet_protocol::seal::SealKind::Contract;
    let declarations = [
        (
            KeyDecl {
                purpose: KeyPurpose::Root,
                ..attest.clone()
            },
            "an add-key declaring a root key: root keys change only by rotation (InvalidDecl)",
        ),
        (
            KeyDecl {
                purpose: KeyPurpose::Unknown(9),
                ..attest.clone()
            },
            "an add-key declaring a key of purpose 9, which this version does not know (InvalidDecl)",
        ),
        (
            KeyDecl {
                purpose: KeyPurpose::Seal,
                ..attest.clone()
            },
            "a seal key without its seal description (InvalidDecl)",
        ),
        (
            KeyDecl {
                seal: Some(seal_info(contract, "合同专用章")),
                ..attest.clone()
            },
            "an attest key carrying a seal description: only seal keys carry one (InvalidDecl)",
        ),
        (
            KeyDecl::seal(
                k("seal-5").public_key(),
                seal_info(signet_protocol::seal::SealKind::Unknown(9), "合同专用章"),
            ),
            "a seal key of seal kind 9, which this version does not know (InvalidDecl)",
        ),
        (
            KeyDecl::seal(k("seal-5").public_key(), seal_info(contract, "")),
            "a seal key whose seal name is empty: a name is 1 to 512 bytes (InvalidDecl)",
        ),
        (
            KeyDecl {
                proof: Some(k("attest-5").sign(b"a proof on an attest key")),
                ..attest.clone()
            },
            "an attest key carrying a proof of possession: only node keys carry one (InvalidDecl)",
        ),
    ];
    for (decl, what) in declarations {
        f.invalid(
            "4.4",
            "replay-key-log",
            what,
            json!({"events": [events[0], signed(add_key(decl), "root-0")?]}),
        );
    }
    let inception = KeyEvent {
        party: None,
        seq: 0,
        prev: None,
        time: T0,
        change: KeyChange::Inception {
            root: k("root-0").public_key(),
            next_root: Digest::of(k("root-1").public_key().as_bytes()),
            keys: Vec::new(),
        },
    };
    let first_events = [
        (
            KeyEvent {
                prev: Some(Digest::of(b"an earlier event")),
                ..inception.clone()
            },
            "an inception carrying a prev field: the first event has no party and no prev (Header, not schema)",
        ),
        (
            KeyEvent {
                seq: 1,
                ..inception.clone()
            },
            "an inception of sequence 1 as the first event: the log starts at 0 (Gap, not schema)",
        ),
    ];
    for (event, what) in first_events {
        f.invalid(
            "4.4",
            "replay-key-log",
            what,
            json!({"events": [signed(event, "root-0")?]}),
        );
    }
    let second_inception = KeyEvent {
        party: Some(base.party()),
        seq: 1,
        prev: Some(base.head()),
        time: T0.plus(60),
        change: inception.change.clone(),
    };
    f.invalid(
        "4.4",
        "replay-key-log",
        "a second inception at sequence 1, with the party and prev of a later event (Inception)",
        json!({"events": [events[0], signed(second_inception, "root-0")?]}),
    );
    // The committed next root key, declared first as an attest key, cannot then become root.
    let mut declared = base.clone();
    declared
        .add_key(
            &k("root-0"),
            KeyDecl::attest(k("root-1").public_key()),
            T0.plus(60),
        )
        .map_err(|e| e.to_string())?;
    let rotation = KeyEvent {
        party: Some(base.party()),
        seq: 2,
        prev: Some(declared.head()),
        time: T0.plus(120),
        change: KeyChange::Rotation {
            root: k("root-1").public_key(),
            next_root: Digest::of(k("root-2").public_key().as_bytes()),
        },
    };
    let mut all = log_hex(&declared);
    all.push(signed(rotation, "root-1")?);
    f.invalid(
        "4.4",
        "replay-key-log",
        "a rotation revealing the committed key, which the log had already declared as an attest key: a key is declared once (DuplicateKey)",
        json!({"events": all}),
    );
    Ok(())
}

/// Section 4.3.2: an SM2 seal key (alg -98454) declared with its seal, then retired.
fn sm2_seal_keys(f: &mut File, base: &KeyLog) -> Result<(), String> {
    let k = |role: &str| test_key("keylog", role);
    let secret = Sm2SecretKey::from_bytes(&k("sm2-seal").to_seed()).map_err(|e| e.to_string())?;
    let mut log = base.clone();
    log.add_key(
        &k("root-0"),
        KeyDecl::seal(
            secret.public_key(),
            signet_protocol::seal::SealInfo {
                kind: signet_protocol::seal::SealKind::Contract,
                name: "合同专用章 (SM2)".into(),
                image: None,
            },
        ),
        T0.plus(60),
    )
    .map_err(|e| e.to_string())?;
    log.retire_key(&k("root-0"), secret.public_key(), T0.plus(120))
        .map_err(|e| e.to_string())?;
    f.push(
        "4.3.2",
        "replay-key-log",
        Intent::Valid,
        "an SM2 contract seal (purpose 3, alg -98454, with its seal description) declared, then retired",
        json!({"events": log_hex(&log)}),
        Some(json!({"seal_sm2_scalar": h(&*secret.to_bytes())})),
    );
    Ok(())
}

/// Section 4.3.2: SM2 keys (alg -98454, private use): `pdf` only, compressed point only.
/// `base` is a log of one inception signed by "root-0".
fn sm2_keys(f: &mut File, base: &KeyLog) -> Result<(), String> {
    use signet_protocol::keylog::ALG_SM2_SM3;
    use signet_protocol::sm2::Sm2SecretKey;
    let k = |role: &str| test_key("keylog", role);
    let sm2_secret = Sm2SecretKey::from_bytes(&k("sm2").to_seed()).map_err(|e| e.to_string())?;
    let sm2 = sm2_secret.public_key();
    let events = log_hex(base);
    let mut log = base.clone();
    log.add_key(&k("root-0"), KeyDecl::sm2_pdf(sm2), T0.plus(60))
        .map_err(|e| e.to_string())?;
    log.retire_key(&k("root-0"), sm2, T0.plus(120))
        .map_err(|e| e.to_string())?;
    f.push(
        "4.3.2",
        "replay-key-log",
        Intent::Valid,
        "an SM2 pdf key (alg -98454, compressed point on the SM2 curve) declared, then retired (the retire-key body names alg too)",
        json!({"events": log_hex(&log)}),
        Some(json!({"pdf_sm2_scalar": h(&*sm2_secret.to_bytes())})),
    );
    let add = |purpose: KeyPurpose, key: Vec<u8>, seal: bool| -> Result<String, String> {
        let mut body = vec![
            (
                Cbor::Text("purpose".into()),
                Cbor::Integer(purpose.code().into()),
            ),
            (Cbor::Text("key".into()), Cbor::Bytes(key)),
            (Cbor::Text("alg".into()), Cbor::Integer(ALG_SM2_SM3.into())),
        ];
        if seal {
            body.push((
                Cbor::Text("seal".into()),
                Cbor::Map(vec![
                    (Cbor::Text("kind".into()), Cbor::Integer(2.into())),
                    (Cbor::Text("name".into()), Cbor::Text("合同专用章".into())),
                ]),
            ));
        }
        add_key_raw(base, Cbor::Map(body))
    };
    let compressed = sm2.as_bytes().to_vec();
    // x = 2^256 - 1 exceeds the field's prime: no point has it.
    let mut off_curve = compressed.clone();
    off_curve[1..].fill(0xff);
    for (purpose, key, seal, what) in [
        (
            KeyPurpose::Log,
            compressed.clone(),
            false,
            "an SM2 key declared for the log purpose: checkpoints and cosignatures are Ed25519, so an SM2 log key could sign nothing",
        ),
        (
            KeyPurpose::Tsa,
            compressed.clone(),
            false,
            "an SM2 key declared for the tsa purpose: SM2 serves only seal, attest and pdf",
        ),
        (
            KeyPurpose::Pdf,
            sm2.to_uncompressed().to_vec(),
            false,
            "an SM2 pdf key in uncompressed SEC1 form (65 bytes): only the 33-byte compressed point",
        ),
        (
            KeyPurpose::Pdf,
            off_curve,
            false,
            "an SM2 pdf key whose x coordinate exceeds the field: not a point on the SM2 curve",
        ),
    ] {
        f.invalid(
            "4.3.2",
            "replay-key-log",
            what,
            json!({"events": [events[0].clone(), add(purpose, key, seal)?]}),
        );
    }
    Ok(())
}

/// Section 4.3.2: a witness's time-stamping key (purpose `tsa`, ESP256). `base` is a log of
/// one inception signed by "root-0".
fn tsa_keys(f: &mut File, base: &KeyLog) -> Result<(), String> {
    let k = |role: &str| test_key("keylog", role);
    let tsa_secret =
        p256::ecdsa::SigningKey::from_slice(&*k("tsa").to_seed()).map_err(|e| e.to_string())?;
    let tsa = EcdsaP256Key::from_verifying_key(tsa_secret.verifying_key());
    let mut log = base.clone();
    log.add_key(&k("root-0"), KeyDecl::tsa(tsa), T0.plus(60))
        .map_err(|e| e.to_string())?;
    f.push(
        "4.3.2",
        "replay-key-log",
        Intent::Valid,
        "a tsa key (purpose 7, alg -9 ESP256): a witness's time-stamping key",
        json!({"events": log_hex(&log)}),
        Some(json!({"tsa_p256_scalar": h(&*k("tsa").to_seed())})),
    );
    Ok(())
}

/// Section 4.4: the replay refusals not shown above, each by one event after `base` (a log
/// of one inception signed by "root-0", declaring node, attest and log keys).
fn key_log_refusals(f: &mut File, base: &KeyLog) -> Result<(), String> {
    let k = |role: &str| test_key("keylog", role);
    let events = log_hex(base);
    let signed = |event: KeyEvent| -> Result<String, String> {
        Signed::sign(event, KEY_EVENT_CONTENT_TYPE, &k("root-0"))
            .map(|s| h(s.bytes()))
            .map_err(|e| e.to_string())
    };
    let after_inception = |change: KeyChange| KeyEvent {
        party: Some(base.party()),
        seq: 1,
        prev: Some(base.head()),
        time: T0.plus(60),
        change,
    };
    let cases = [
        (
            after_inception(KeyChange::AddKey(KeyDecl::attest(k("attest").public_key()))),
            "an add-key declaring the attest key the inception declared: a key is declared once (DuplicateKey)",
        ),
        (
            after_inception(KeyChange::RetireKey {
                key: k("never-declared").public_key().into(),
            }),
            "a retire-key naming a key the log never declared (UnknownKey)",
        ),
        (
            KeyEvent {
                time: Timestamp::from_unix(T0.unix() - 1),
                ..after_inception(KeyChange::AddKey(KeyDecl::attest(
                    k("attest-2").public_key(),
                )))
            },
            "an add-key dated one second before the inception (TimeRegression)",
        ),
        (
            KeyEvent {
                party: None,
                ..after_inception(KeyChange::AddKey(KeyDecl::attest(
                    k("attest-2").public_key(),
                )))
            },
            "a later event without its party field (Header)",
        ),
        (
            KeyEvent {
                party: Some(signet_protocol::party::PartyId::from_digest(Digest::of(
                    b"another party",
                ))),
                ..after_inception(KeyChange::AddKey(KeyDecl::attest(
                    k("attest-2").public_key(),
                )))
            },
            "a later event naming another party (WrongParty)",
        ),
    ];
    for (event, what) in cases {
        f.invalid(
            "4.4",
            "replay-key-log",
            what,
            json!({"events": [events[0], signed(event)?]}),
        );
    }
    let mut retired = base.clone();
    retired
        .retire_party(&k("root-0"), T0.plus(60))
        .map_err(|e| e.to_string())?;
    let after_retirement = KeyEvent {
        party: Some(base.party()),
        seq: 2,
        prev: Some(retired.head()),
        time: T0.plus(120),
        change: KeyChange::AddKey(KeyDecl::attest(k("attest-2").public_key())),
    };
    let mut all = log_hex(&retired);
    all.push(signed(after_retirement)?);
    f.invalid(
        "4.4",
        "replay-key-log",
        "an add-key after the party retired (AfterRetirement)",
        json!({"events": all}),
    );
    // A conflicting event that would not have been valid at its position is no fork.
    let mut extended = base.clone();
    extended
        .add_key(
            &k("root-0"),
            KeyDecl::attest(k("attest-3").public_key()),
            T0.plus(60),
        )
        .map_err(|e| e.to_string())?;
    let by_node = Signed::sign(
        after_inception(KeyChange::AddKey(KeyDecl::attest(
            k("attest-4").public_key(),
        ))),
        KEY_EVENT_CONTENT_TYPE,
        &k("node"),
    )
    .map_err(|e| e.to_string())?;
    let mut conflicting = log_hex(&extended);
    conflicting.push(h(by_node.bytes()));
    f.invalid(
        "4.4.2",
        "replay-key-log",
        "a second event at sequence 1 signed by a node key: it would not have been valid there, so it is WrongSigner, not a fork",
        json!({"events": conflicting}),
    );
    Ok(())
}

/// Section 4.3.2: key algorithms. `base` is a log of one inception signed by "root-0".
fn key_algorithms(f: &mut File, base: &KeyLog) -> Result<(), String> {
    let k = |role: &str| test_key("keylog", role);
    let pdf_secret =
        p256::ecdsa::SigningKey::from_slice(&*k("pdf").to_seed()).map_err(|e| e.to_string())?;
    let pdf = EcdsaP256Key::from_verifying_key(pdf_secret.verifying_key());
    let events = log_hex(base);
    let mut log = base.clone();
    log.add_key(&k("root-0"), KeyDecl::pdf(pdf), T0.plus(60))
        .map_err(|e| e.to_string())?;
    log.retire_key(&k("root-0"), pdf, T0.plus(120))
        .map_err(|e| e.to_string())?;
    f.push(
        "4.3.2",
        "replay-key-log",
        Intent::Valid,
        "a pdf key (alg -9, ESP256, compressed P-256 point) declared, then retired (the retire-key body names alg too)",
        json!({"events": log_hex(&log)}),
        Some(json!({"pdf_p256_scalar": h(&*k("pdf").to_seed())})),
    );
    let add_raw = |body| add_key_raw(base, body);
    let decl = decl_map;
    let pdf_code = KeyPurpose::Pdf.code();
    let log_code = KeyPurpose::Log.code();
    let ed = k("other").public_key().as_bytes().to_vec();
    let compressed = pdf.as_bytes().to_vec();
    let uncompressed = pdf_secret
        .verifying_key()
        .to_sec1_point(false)
        .as_bytes()
        .to_vec();
    let future = LogKey::Unsupported {
        alg: -50,
        key: vec![0x5a; 48],
    };
    f.valid(
        "4.3.2",
        "replay-key-log",
        "a key of an algorithm this version does not know (alg -50, 48 bytes) is kept: the log stays valid",
        json!({"events": [events[0].clone(), add_raw(decl(pdf_code, future.wire_alg(), future.wire_bytes().to_vec()))?]}),
    );
    for (body, what) in [
        (
            decl(pdf_code, None, ed.clone()),
            "a pdf key that is Ed25519 (no alg): a pdf key is ESP256",
        ),
        (
            decl(log_code, Some(-9), compressed.clone()),
            "an ESP256 key declared for the log purpose: ESP256 serves only pdf",
        ),
        (
            decl(log_code, Some(-19), ed),
            "Ed25519 written as alg -19: it is implied and never written",
        ),
        (
            decl(pdf_code, Some(-9), uncompressed),
            "an ESP256 key in uncompressed SEC1 form (65 bytes): only the 33-byte compressed point",
        ),
        (
            decl(pdf_code, Some(-9), {
                let mut off = compressed;
                off[1..].fill(0xff);
                off
            }),
            "an ESP256 key whose x coordinate exceeds the field: not a point on P-256",
        ),
        (
            decl(pdf_code, Some(-50), vec![0; 1025]),
            "a key of an unknown algorithm longer than 1024 bytes",
        ),
    ] {
        f.invalid(
            "4.3.2",
            "replay-key-log",
            what,
            json!({"events": [events[0].clone(), add_raw(body)?]}),
        );
    }
    Ok(())
}

// ----- section 6 -----

fn attestations() -> Result<File, String> {
    let mut f = File::new(
        "06-attestations",
        "Attestations of every kind, valid and invalid",
        "6",
    );
    let mut ca = TestParty::new("Vector CA", T0);
    let mut supplier = TestParty::new("Vector Supplier", T0);
    let mut brand = TestParty::new("Vector Brand", T0);
    let identity = ca.verify_identity(&supplier, AssuranceLevel::High, T0);
    let seal = ca.attest(
        supplier.id(),
        Claims::SealCertification(SealCertification {
            seal: supplier.contract_seal.public_key().into(),
            kind: signet_protocol::seal::SealKind::Contract,
            name: "合同专用章".into(),
            image: Some(Digest::of(b"seal image")),
        }),
        T0,
        365,
    );
    let mandate = supplier.delegate_contract_seal(
        &["procurement"],
        Some(10_000),
        Some(vec![brand.id()]),
        T0,
        365,
    );
    let endorsement = brand.endorse(&supplier, T0);
    let revocation = ca.revoke(identity.payload().id, T0.plus(DAY), T0.plus(DAY));
    let key_revocation = supplier.revoke_key(supplier.node.public_key(), T0, T0);
    let accreditation = ca.accredit(brand.id(), false, T0);
    let list = ca.revocation_list(
        vec![RevokedEntry {
            id: identity.payload().id,
            effective: T0.plus(DAY),
            reason: RevocationReason::PrivilegeWithdrawn,
        }],
        T0.plus(DAY),
    );
    let logs = json!([
        log_hex(&ca.log),
        log_hex(&supplier.log),
        log_hex(&brand.log)
    ]);
    for (what, signed, issuer) in [
        ("identity (kind 1) by a CA", &identity, &ca),
        (
            "seal certification (kind 2) with an image digest",
            &seal,
            &ca,
        ),
        (
            "delegation (kind 3): a seal mandate with a value cap and counterparties",
            &mandate,
            &supplier,
        ),
        ("endorsement (kind 4)", &endorsement, &brand),
        ("revocation (kind 5) of an attestation", &revocation, &ca),
        ("revocation (kind 5) of a key", &key_revocation, &supplier),
        ("accreditation (kind 6)", &accreditation, &ca),
        ("revocation list (kind 7)", &list, &ca),
    ] {
        f.push(
            "6",
            "verify-attestation",
            Intent::Valid,
            what,
            json!({"hex": h(signed.bytes()), "key_logs": logs}),
            Some(json!({"issuer_attest_seed": seed(&issuer.attest), "issued_at": signed.payload().issued_at.unix()})),
        );
    }
    for (what, signed, issuer) in [
        ("identity", &identity, &ca),
        ("seal certification", &seal, &ca),
        ("delegation", &mandate, &supplier),
        ("endorsement", &endorsement, &brand),
        ("revocation", &revocation, &ca),
        ("accreditation", &accreditation, &ca),
        ("revocation list", &list, &ca),
    ] {
        let by_node = Signed::sign(
            signed.payload().clone(),
            ATTESTATION_CONTENT_TYPE,
            &issuer.node,
        )
        .map_err(|e| e.to_string())?;
        f.push(
            "6.9",
            "verify-attestation",
            Intent::Invalid,
            format!("{what}, signed by the issuer's node key instead of an attest key"),
            json!({"hex": h(by_node.bytes()), "key_logs": logs}),
            Some(json!({"issuer_node_seed": seed(&issuer.node)})),
        );
    }
    f.invalid(
        "6.9",
        "verify-attestation",
        "the issuer's key log is not known",
        json!({"hex": h(identity.bytes()), "key_logs": [log_hex(&supplier.log)]}),
    );
    let mut wrong_subject = mandate.payload().clone();
    wrong_subject.subject = brand.id();
    let wrong_subject = Signed::sign(wrong_subject, ATTESTATION_CONTENT_TYPE, &supplier.attest)
        .map_err(|e| e.to_string())?;
    f.invalid(
        "6.4",
        "verify-attestation",
        "a delegation whose subject is not its issuer",
        json!({"hex": h(wrong_subject.bytes()), "key_logs": logs}),
    );
    let mut window = identity.payload().clone();
    window.valid_until = window.valid_from;
    let window =
        Signed::sign(window, ATTESTATION_CONTENT_TYPE, &ca.attest).map_err(|e| e.to_string())?;
    f.invalid(
        "6.1",
        "verify-attestation",
        "an empty validity window (valid_until = valid_from)",
        json!({"hex": h(window.bytes()), "key_logs": logs}),
    );
    f.invalid(
        "6",
        "verify-attestation",
        "one bit of the signature flipped",
        json!({"hex": h(&flip(identity.bytes(), usize::MAX)), "key_logs": logs}),
    );
    let (mut pdf_ca, mut pdf_supplier, pdf_identity) = pdf_certificates(&mut f)?;
    sm2_key_revocations(&mut f)?;
    ca_identities(&mut f)?;
    sm2_pdf_certificate(&mut f, &mut pdf_ca, &mut pdf_supplier, &pdf_identity)?;
    sm2_attestations(&mut f)?;
    rsa_ca_identities(&mut f)?;
    Ok(f)
}

/// Sections 3.3 and 6.9: attestations signed by an SM2 `attest` key, and the key id read with
/// its algorithm. Appended after the family's earlier vectors, so their numbers stay.
fn sm2_attestations(f: &mut File) -> Result<(), String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let mut ca = TestParty::new("SM2 CA", T0);
    let supplier = TestParty::new("SM2 Attested Supplier", T0);
    let attest =
        Sm2SecretKey::from_bytes(&test_key("SM2 CA", "sm2-attest").to_seed()).map_err(|x| e(&x))?;
    let seal =
        Sm2SecretKey::from_bytes(&test_key("SM2 CA", "sm2-seal").to_seed()).map_err(|x| e(&x))?;
    ca.log
        .add_key(&ca.root, KeyDecl::attest(attest.public_key()), T0.plus(60))
        .map_err(|x| e(&x))?;
    ca.log
        .add_key(
            &ca.root,
            KeyDecl::seal(
                seal.public_key(),
                signet_protocol::seal::SealInfo {
                    kind: signet_protocol::seal::SealKind::Company,
                    name: "公章 (SM2)".into(),
                    image: None,
                },
            ),
            T0.plus(60),
        )
        .map_err(|x| e(&x))?;
    let logs = json!([log_hex(&ca.log), log_hex(&supplier.log)]);
    let statement = ca
        .verify_identity(&supplier, AssuranceLevel::High, T0.plus(120))
        .payload()
        .clone();
    let signed = statement
        .clone()
        .issue(&attest, &ca.log)
        .map_err(|x| e(&x))?;
    f.push(
        "6.9",
        "verify-attestation",
        Intent::Valid,
        "an identity attestation signed by the issuer's SM2 attest key (alg -98454, kid the 33-byte compressed key)",
        json!({"hex": h(signed.bytes()), "key_logs": logs}),
        Some(json!({"issuer_attest_sm2_scalar": h(&*attest.to_bytes())})),
    );
    let by_seal =
        Signed::sign(statement.clone(), ATTESTATION_CONTENT_TYPE, &seal).map_err(|x| e(&x))?;
    f.push(
        "6.9",
        "verify-attestation",
        Intent::Invalid,
        "an identity attestation signed by the issuer's SM2 seal key, not an attest key: a valid SM2 signature without authority",
        json!({"hex": h(by_seal.bytes()), "key_logs": logs}),
        Some(json!({"issuer_seal_sm2_scalar": h(&*seal.to_bytes())})),
    );
    // The Ed25519 attest key's 32 bytes named under -98454: no SM2 point.
    let payload = codec::encode(&statement).map_err(|x| e(&x))?;
    let ed_as_sm2 = sign_with_header(
        &header(
            signet_protocol::keylog::ALG_SM2_SM3,
            ATTESTATION_CONTENT_TYPE,
            &ca.attest,
        ),
        &payload,
        &ca.attest,
    )?;
    f.invalid(
        "3.3",
        "verify-attestation",
        "an attestation whose header names SM2 (-98454) and, as kid, the issuer's 32-byte Ed25519 attest key: the kid is no SM2 point (Sm2KeyId)",
        json!({"hex": h(&ed_as_sm2), "key_logs": logs}),
    );
    // The SM2 attest key's 33 bytes named under Ed25519 (-19).
    let sm2_as_ed = enc(&Cbor::Array(vec![
        Cbor::Bytes(enc(&Cbor::Map(vec![
            (Cbor::Integer(1.into()), Cbor::Integer((-19).into())),
            (
                Cbor::Integer(3.into()),
                Cbor::Text(ATTESTATION_CONTENT_TYPE.into()),
            ),
            (
                Cbor::Integer(4.into()),
                Cbor::Bytes(attest.public_key().as_bytes().to_vec()),
            ),
        ]))?),
        Cbor::Map(Vec::new()),
        Cbor::Bytes(payload.clone()),
        Cbor::Bytes(
            cose_items(signed.bytes())?[3]
                .as_bytes()
                .cloned()
                .unwrap_or_default(),
        ),
    ]))?;
    f.invalid(
        "3.3",
        "verify-attestation",
        "an attestation whose header names Ed25519 (-19) and, as kid, the issuer's 33-byte SM2 attest key: the kid is no Ed25519 key (KeyId)",
        json!({"hex": h(&sm2_as_ed), "key_logs": logs}),
    );
    let mut flipped = signed.bytes().to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    f.invalid(
        "6",
        "verify-attestation",
        "an SM2-signed identity attestation with one bit of its signature flipped",
        json!({"hex": h(&flipped), "key_logs": logs}),
    );
    // A mandate of the CA's own, signed with its SM2 attest key, for an SM2 person.
    let person = Sm2SecretKey::from_bytes(&test_key("SM2 CA", "sm2-delegate").to_seed())
        .map_err(|x| e(&x))?;
    let mut mandate = statement;
    mandate.id = signet_protocol::party::AttestationId::from_bytes([0x6d; 16]);
    mandate.subject = ca.id();
    mandate.claims = Claims::Delegation(signet_protocol::attestation::Delegation {
        delegate: signet_protocol::attestation::Delegate::with_key(
            "SM2 CA signatory",
            person.public_key(),
        ),
        seals: vec![seal.public_key().into()],
        purposes: vec!["procurement".into()],
        value_cap: None,
        counterparties: None,
    });
    let sm2_mandate = mandate.clone().issue(&attest, &ca.log).map_err(|x| e(&x))?;
    f.push(
        "6.4",
        "verify-attestation",
        Intent::Valid,
        "a delegation whose delegate is an SM2 person ({name, key: 33-byte compressed point, alg: -98454}), signed by the issuer's SM2 attest key",
        json!({"hex": h(sm2_mandate.bytes()), "key_logs": logs}),
        Some(json!({"delegate_sm2_scalar": h(&*person.to_bytes())})),
    );
    // The same delegation naming an ESP256 key: no person's key (Delegate).
    let esp256 = p256::ecdsa::SigningKey::from_slice(&*test_key("SM2 CA", "esp256").to_seed())
        .map_err(|x| e(&x))?;
    if let Claims::Delegation(d) = &mut mandate.claims {
        d.delegate.key = Some(LogKey::EcdsaP256(EcdsaP256Key::from_verifying_key(
            esp256.verifying_key(),
        )));
    }
    let esp256_mandate =
        Signed::sign(mandate, ATTESTATION_CONTENT_TYPE, &attest).map_err(|x| e(&x))?;
    f.invalid(
        "6.4",
        "verify-attestation",
        "a delegation whose delegate's key is ESP256 (alg -9): a person's software key is Ed25519 or SM2 (Delegate)",
        json!({"hex": h(esp256_mandate.bytes()), "key_logs": logs}),
    );
    Ok(())
}

/// Section 6.6: a revocation of an SM2 seal key names it `[alg, key]`; an Ed25519 key has
/// one form only, its bytes.
fn sm2_key_revocations(f: &mut File) -> Result<(), String> {
    let mut supplier = TestParty::new("SM2 Supplier", T0);
    let secret = Sm2SecretKey::from_bytes(&test_key("SM2 Supplier", "sm2-seal").to_seed())
        .map_err(|e| e.to_string())?;
    supplier
        .log
        .add_key(
            &supplier.root,
            KeyDecl::seal(
                secret.public_key(),
                signet_protocol::seal::SealInfo {
                    kind: signet_protocol::seal::SealKind::Contract,
                    name: "合同专用章 (SM2)".into(),
                    image: None,
                },
            ),
            T0,
        )
        .map_err(|e| e.to_string())?;
    let logs = vec![log_hex(&supplier.log)];
    let revocation = supplier.revoke_key(secret.public_key(), T0.plus(DAY), T0.plus(DAY));
    f.push(
        "6.6",
        "verify-attestation",
        Intent::Valid,
        "revocation (kind 5) of an SM2 seal key, named [-98454, compressed key]",
        json!({"hex": h(revocation.bytes()), "key_logs": logs}),
        Some(
            json!({"issuer_attest_seed": seed(&supplier.attest), "issued_at": T0.plus(DAY).unix()}),
        ),
    );
    // The same revocation naming an Ed25519 key as [-19, key]: refused, Ed25519 is bytes.
    let ed = supplier.node.public_key();
    let ed_revocation = supplier.revoke_key(ed, T0.plus(DAY), T0.plus(DAY));
    let mut payload: Cbor = ciborium::from_reader(
        codec::encode(ed_revocation.payload())
            .map_err(|e| e.to_string())?
            .as_slice(),
    )
    .map_err(|e| e.to_string())?;
    let replaced = replace_bytes(
        &mut payload,
        ed.as_bytes(),
        Cbor::Array(vec![
            Cbor::Integer((-19).into()),
            Cbor::Bytes(ed.as_bytes().to_vec()),
        ]),
    );
    if !replaced {
        return Err("the key revocation names no key".into());
    }
    let re_signed = Signed::sign(payload, ATTESTATION_CONTENT_TYPE, &supplier.attest)
        .map_err(|e| e.to_string())?;
    f.invalid(
        "6.6",
        "verify-attestation",
        "a key revocation naming an Ed25519 key as [-19, key]: an Ed25519 key is named by its 32 bytes only",
        json!({"hex": h(re_signed.bytes()), "key_logs": logs}),
    );
    Ok(())
}

/// Section 6.11: `ca-identity` attestations: both SM2 key forms and P-256, and the content
/// rules (the possession proof, the certificate's USCC, the proof's binding to the party).
fn ca_identities(f: &mut File) -> Result<(), String> {
    use signet_protocol::testkit::TestCertificateAuthority;
    use signet_protocol::x509::sm2::Sm2KeyForm;
    const USCC: &str = "91350100M000100Y43";
    for (label, sm2, form, what) in [
        (
            "CFCA SM2 Party",
            true,
            Sm2KeyForm::EcPublicKey,
            "an SM2 key as id-ecPublicKey with the SM2 curve",
        ),
        (
            "CFCA SM2 Party 2",
            true,
            Sm2KeyForm::Sm2Algorithm,
            "an SM2 key as the SM2 algorithm OID",
        ),
        (
            "CFCA P-256 Party",
            false,
            Sm2KeyForm::EcPublicKey,
            "a P-256 key, the CA signing with ECDSA-SHA256",
        ),
    ] {
        let ca = TestCertificateAuthority::new("Vector CA", sm2, T0);
        let mut party = TestParty::new(label, T0);
        let (leaf, holder) = ca.certify(&mut party, USCC, 77, sm2, form, T0);
        let signed = party.ca_identity(vec![leaf], &holder, T0, 365);
        f.valid(
            "6.11",
            "verify-attestation",
            &format!("a ca-identity attestation: a CFCA-style certificate with {what}, its possession proof by the certified key"),
            json!({"hex": h(signed.bytes()), "key_logs": [log_hex(&party.log)]}),
        );
    }
    let ca = TestCertificateAuthority::new("Vector CA", true, T0);
    let mut party = TestParty::new("CFCA SM2 Party", T0);
    let (leaf, holder) = ca.certify(&mut party, USCC, 77, true, Sm2KeyForm::EcPublicKey, T0);
    let logs = json!([log_hex(&party.log)]);
    let good = party.ca_identity(vec![leaf.clone()], &holder, T0, 365);
    // The same attestation with a proof by another key, signed again by the attest key.
    let stranger =
        signet_protocol::sm2::Sm2SecretKey::from_bytes(&[0x42; 32]).map_err(|e| e.to_string())?;
    let other = with_possession_by(&good, &leaf, &party, |m| stranger.sign(m).to_der())?;
    f.invalid(
        "6.11.1",
        "verify-attestation",
        "CaIdentity: the possession proof is signed by a key other than the certificate's",
        json!({"hex": h(other.bytes()), "key_logs": logs}),
    );
    // Another party copies the certificate and proof into its own attestation.
    let squatter = TestParty::new("CFCA Squatter", T0);
    let mut copied = good.payload().clone();
    copied.issuer = squatter.id();
    copied.subject = squatter.id();
    let copied = Signed::sign(copied, ATTESTATION_CONTENT_TYPE, &squatter.attest)
        .map_err(|e| e.to_string())?;
    f.invalid(
        "6.11.1",
        "verify-attestation",
        "CaIdentity: another party's attestation carrying the victim's certificate and possession proof (the proof names the victim's party id)",
        json!({"hex": h(copied.bytes()), "key_logs": [log_hex(&squatter.log)]}),
    );
    // A certificate whose USCC's check character is wrong, with a proof that verifies.
    let mut bad = TestParty::new("CFCA Bad Code", T0);
    let (bad_leaf, bad_holder) = ca.certify(
        &mut bad,
        "91350100M000100Y44",
        78,
        true,
        Sm2KeyForm::EcPublicKey,
        T0,
    );
    let unsigned = signet_protocol::attestation::CertificateIdentity::attestation(
        signet_protocol::party::AttestationId::from_bytes([0x0b; 16]),
        bad.id(),
        T0,
        T0.plus(365 * DAY),
        vec![bad_leaf],
        |m| bad_holder.sign(m),
    );
    let bad_signed =
        Signed::sign(unsigned, ATTESTATION_CONTENT_TYPE, &bad.attest).map_err(|e| e.to_string())?;
    f.invalid(
        "6.11.1",
        "verify-attestation",
        "CaIdentity: the certificate's USCC 91350100M000100Y44 has a wrong check character (3 expected)",
        json!({"hex": h(bad_signed.bytes()), "key_logs": [log_hex(&bad.log)]}),
    );
    Ok(())
}

/// `good`, a ca-identity attestation of `party` for the certificate `leaf`, with its
/// possession proof made by `sign` instead, signed again by `party`'s attest key.
fn with_possession_by(
    good: &SignedAttestation,
    leaf: &[u8],
    party: &TestParty,
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> Result<Signed<signet_protocol::attestation::Attestation>, String> {
    let mut other = good.payload().clone();
    let forged = sign(&signet_protocol::attestation::possession_message(
        &other, leaf,
    ));
    if let Claims::CaIdentity(c) = &mut other.claims {
        c.possession = forged;
    }
    Signed::sign(other, ATTESTATION_CONTENT_TYPE, &party.attest).map_err(|e| e.to_string())
}

/// A party's RSA key that a CA certified, signing possession proofs with PKCS #1 v1.5 and
/// SHA-256 (deterministic, so the vectors are too).
struct RsaSubjectKey(rsa::RsaPrivateKey);

impl signet_protocol::testkit::ExternalSubjectKey for RsaSubjectKey {
    fn spki(&self) -> spki::SubjectPublicKeyInfoOwned {
        rsa_spki(&self.0).unwrap_or_else(|e| unreachable!("a fixed test key encodes: {e}"))
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        use rsa::signature::{SignatureEncoding, Signer};
        rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(self.0.clone())
            .sign(message)
            .to_vec()
    }
}

/// Section 6.11: a `ca-identity` attestation whose certificate certifies an RSA key, and its
/// possession proof by another RSA key. Appended after the family's earlier vectors, so
/// their numbers stay.
fn rsa_ca_identities(f: &mut File) -> Result<(), String> {
    let ca = rsa_ca("Vector RSA CA", include_bytes!("keys/rsa-2048.der"))?;
    let mut party = TestParty::new("CFCA RSA Party", T0);
    let (leaf, holder) = ca.certify_external(
        &mut party,
        "91350100M000100Y43",
        79,
        Box::new(RsaSubjectKey(rsa_key(RSA_SUBJECT_KEY)?)),
        T0,
    );
    let logs = json!([log_hex(&party.log)]);
    let good = party.ca_identity(vec![leaf.clone()], &holder, T0, 365);
    f.valid(
        "6.11",
        "verify-attestation",
        "a ca-identity attestation: a CFCA-style certificate of an RSA-2048 key (issued by an RSA CA), its possession proof RSASSA-PKCS1-v1_5 with SHA-256",
        json!({"hex": h(good.bytes()), "key_logs": logs}),
    );
    // The same attestation with a proof by the CA's RSA key, signed again by the attest key.
    let stranger = RsaSubjectKey(rsa_key(include_bytes!("keys/rsa-2048.der"))?);
    let other = with_possession_by(&good, &leaf, &party, |m| {
        signet_protocol::testkit::ExternalSubjectKey::sign(&stranger, m)
    })?;
    f.invalid(
        "6.11.1",
        "verify-attestation",
        "CaIdentity: the RSA possession proof is signed by another RSA key than the certificate's",
        json!({"hex": h(other.bytes()), "key_logs": logs}),
    );
    Ok(())
}

/// Replaces the first byte string equal to `bytes` in `value` by `with`.
fn replace_bytes(value: &mut Cbor, bytes: &[u8], with: Cbor) -> bool {
    match value {
        Cbor::Bytes(b) if b.as_slice() == bytes => {
            *value = with;
            true
        }
        Cbor::Array(items) => {
            let mut with = Some(with);
            for item in items {
                if let Some(w) = with.take() {
                    if replace_bytes(item, bytes, w.clone()) {
                        return true;
                    }
                    with = Some(w);
                }
            }
            false
        }
        Cbor::Map(entries) => {
            for (_, item) in entries {
                if replace_bytes(item, bytes, with.clone()) {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

/// Section 6.10: PDF certificate attestations, their content rules and when one is in effect.
/// Returns the CA, the supplier and its identity attestation, for the SM2 vectors appended
/// after the other families of this file ([`sm2_pdf_certificate`]).
fn pdf_certificates(f: &mut File) -> Result<(TestParty, TestParty, SignedAttestation), String> {
    let mut ca = TestParty::new("PDF CA", T0);
    let mut supplier = TestParty::new("PDF Supplier", T0);
    ca.declare_pdf_key(T0);
    supplier.declare_pdf_key(T0);
    let identity = ca.verify_identity(&supplier, AssuranceLevel::High, T0);
    let certificate = ca.certify_pdf_key(&supplier, &identity, T0, 365);
    let logs = json!([log_hex(&ca.log), log_hex(&supplier.log)]);
    let given = json!({
        "ca_p256_scalar": h(&ca.pdf_key().to_bytes()),
        "supplier_p256_scalar": h(&supplier.pdf_key().to_bytes()),
        "issuer_attest_seed": seed(&ca.attest),
    });
    f.push(
        "6.10",
        "verify-attestation",
        Intent::Valid,
        "a PDF certificate (kind 8): the supplier's P-256 pdf key certified by the CA, the certificate's serial the attestation id and its validity the attestation's window",
        json!({"hex": h(certificate.bytes()), "key_logs": logs}),
        Some(given),
    );
    // Content rules 1-5: the same attestation edited, re-signed by the CA's attest key.
    let edit = |change: &dyn Fn(&mut Attestation)| -> Result<String, String> {
        let mut a = certificate.payload().clone();
        change(&mut a);
        Signed::sign(a, ATTESTATION_CONTENT_TYPE, &ca.attest)
            .map(|s| h(s.bytes()))
            .map_err(|e| e.to_string())
    };
    let other_key = EcdsaP256Key::from_verifying_key(ca.pdf_key().verifying_key());
    fn claims(a: &mut Attestation) -> Option<&mut PdfCertificate> {
        match &mut a.claims {
            Claims::PdfCertificate(c) => Some(c),
            _ => None,
        }
    }
    type Edit<'a> = &'a dyn Fn(&mut Attestation);
    let cases: [(&str, Edit<'_>); 6] = [
        (
            "rule 1: no identity although the subject is not the issuer",
            &|a| {
                if let Some(c) = claims(a) {
                    c.identity = None;
                }
            },
        ),
        ("rule 2: a certificate that is not DER X.509", &|a| {
            if let Some(c) = claims(a) {
                c.certificate = vec![0x30, 0x03, 0x02, 0x01, 0x01];
            }
        }),
        ("rule 2: a byte after the certificate's DER", &|a| {
            if let Some(c) = claims(a) {
                c.certificate.push(0);
            }
        }),
        ("rule 3: the claimed key is not the certificate's", &|a| {
            if let Some(c) = claims(a) {
                c.key = other_key.into();
            }
        }),
        (
            "rule 4: the attestation id is not the certificate's serial",
            &|a| {
                a.id = signet_protocol::party::AttestationId::from_bytes([0x44; 16]);
            },
        ),
        (
            "rule 5: the window ends a second after the certificate's notAfter",
            &|a| {
                a.valid_until = a.valid_until.plus(1);
            },
        ),
    ];
    for (what, change) in cases {
        f.invalid(
            "6.10",
            "verify-attestation",
            what,
            json!({"hex": edit(change)?, "key_logs": logs}),
        );
    }
    // In effect (6.10): each rule that can fail, in order.
    let at = T0.plus(DAY);
    let base = |atts: Vec<&SignedAttestation>, logs: &Value, time: Timestamp| {
        json!({
            "hex": h(certificate.bytes()),
            "key_logs": logs,
            "attestations": atts.iter().map(|a| h(a.bytes())).collect::<Vec<_>>(),
            "time": time.unix(),
        })
    };
    f.valid(
        "6.10",
        "pdf-certificate-in-effect",
        "in effect: authority, window, its identity attestation held and in effect, the key declared",
        base(vec![&identity], &logs, at),
    );
    f.invalid(
        "6.10",
        "pdf-certificate-in-effect",
        "OutsideWindow: a day after it ends",
        base(vec![&identity], &logs, T0.plus(366 * DAY)),
    );
    let revoked_itself = ca.revoke(certificate.payload().id, at, at);
    f.invalid(
        "6.10",
        "pdf-certificate-in-effect",
        "Revoked: the CA revoked the certificate",
        base(vec![&identity, &revoked_itself], &logs, at.plus(1)),
    );
    f.invalid(
        "6.10",
        "pdf-certificate-in-effect",
        "IdentityMissing: the identity attestation it rests on is not given",
        base(vec![], &logs, at),
    );
    let revoked_identity = ca.revoke(identity.payload().id, at, at);
    f.invalid(
        "6.10",
        "pdf-certificate-in-effect",
        "IdentityNotInEffect: the identity attestation it rests on is revoked (so the certificate is)",
        base(vec![&identity, &revoked_identity], &logs, at.plus(1)),
    );
    let undeclared = TestParty::new("PDF Supplier", T0);
    f.invalid(
        "6.10",
        "pdf-certificate-in-effect",
        "KeyNotDeclared: the subject's key log does not declare the key",
        base(
            vec![&identity],
            &json!([log_hex(&ca.log), log_hex(&undeclared.log)]),
            at,
        ),
    );
    f.invalid(
        "6.10",
        "pdf-certificate-in-effect",
        "NoAuthority: the issuer's key log is not given",
        base(vec![&identity], &json!([log_hex(&supplier.log)]), at),
    );
    tsa_certificates(f, &mut ca, &mut supplier, &identity)?;
    Ok((ca, supplier, identity))
}

/// Section 6.10, TSA profile: the CA certifies the supplier's `tsa` key with a TSA
/// certificate; a TSA certificate for its `pdf` key is of the wrong profile.
fn tsa_certificates(
    f: &mut File,
    ca: &mut TestParty,
    supplier: &mut TestParty,
    identity: &SignedAttestation,
) -> Result<(), String> {
    supplier.declare_tsa_key(T0);
    let tsa = ca.certify_tsa_key(supplier, identity, T0, 365);
    let logs = json!([log_hex(&ca.log), log_hex(&supplier.log)]);
    let at = T0.plus(DAY);
    let in_effect = |certificate: &SignedAttestation| {
        json!({
            "hex": h(certificate.bytes()),
            "key_logs": logs,
            "attestations": [h(identity.bytes())],
            "time": at.unix(),
        })
    };
    f.push(
        "6.10",
        "pdf-certificate-in-effect",
        Intent::Valid,
        "in effect, TSA profile: a TSA certificate (extendedKeyUsage id-kp-timeStamping only, critical) for the subject's tsa key",
        in_effect(&tsa),
        Some(json!({
            "ca_p256_scalar": h(&ca.pdf_key().to_bytes()),
            "supplier_tsa_p256_scalar": h(&supplier.tsa_key().to_bytes()),
        })),
    );
    // A TSA certificate over the supplier's pdf key, otherwise well made.
    let id = signet_protocol::party::AttestationId::from_bytes([0x7a; 16]);
    let ca_key = ca.pdf_key();
    let ca_der = ca.ca_certificate(T0);
    let signer = x509::CertifiedKey::new(&ca_key, &ca_der).map_err(|e| e.to_string())?;
    let certificate = x509::tsa_certificate(
        &signer,
        &supplier.label,
        supplier.pdf_key().verifying_key(),
        &x509::Issuance {
            serial: x509::Issuance::serial_of_id(&id),
            not_before: T0,
            not_after: T0.plus(365 * DAY),
        },
    )
    .map_err(|e| e.to_string())?;
    let claims = Claims::PdfCertificate(PdfCertificate {
        key: EcdsaP256Key::from_verifying_key(supplier.pdf_key().verifying_key()).into(),
        identity: Some(identity.payload().id),
        certificate,
        seal: None,
    });
    let wrong = ca.attest_with_id(id, supplier.id(), claims, T0, 365);
    f.invalid(
        "6.10",
        "pdf-certificate-in-effect",
        "WrongProfile: a TSA certificate for a key the subject declares as pdf",
        in_effect(&wrong),
    );
    Ok(())
}

/// Section 6.10, national algorithms (appended after the ESP256 vectors): the CA certifies
/// the supplier's SM2 `pdf` key with an SM2 certificate (alg -98454) and an electronic seal
/// listing it; the same attestation with a seal listing another certificate is refused.
fn sm2_pdf_certificate(
    f: &mut File,
    ca: &mut TestParty,
    supplier: &mut TestParty,
    identity: &SignedAttestation,
) -> Result<(), String> {
    use signet_protocol::sm2::Sm2SecretKey;
    use signet_protocol::x509::sm2::{Sm2KeyForm, sm2_certificate};
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let ca_sm2 = Sm2SecretKey::from_bytes(&[0x5c; 32]).map_err(|x| e(&x))?;
    let subject_sm2 = Sm2SecretKey::from_bytes(&[0x5d; 32]).map_err(|x| e(&x))?;
    supplier
        .log
        .add_key(
            &supplier.root,
            KeyDecl::sm2_pdf(subject_sm2.public_key()),
            T0,
        )
        .map_err(|x| e(&x))?;
    let id = signet_protocol::party::AttestationId::from_bytes([0x7b; 16]);
    let issuance = x509::Issuance {
        serial: x509::Issuance::serial_of_id(&id),
        not_before: T0,
        not_after: T0.plus(365 * DAY),
    };
    let ca_certificate =
        x509::sm2::sm2_ca_certificate("PDF CA", None, &ca_sm2, &issuance).map_err(|x| e(&x))?;
    let name = |n: &str| -> Result<x509_cert::name::Name, String> {
        n.parse().map_err(|x: der::Error| e(&x))
    };
    let certificate = sm2_certificate(
        &ca_sm2,
        name("CN=PDF CA")?,
        name("CN=PDF Supplier")?,
        &subject_sm2.public_key(),
        Sm2KeyForm::EcPublicKey,
        &issuance,
        false,
    )
    .map_err(|x| e(&x))?;
    let seal_listing = |listed: Vec<u8>| {
        signet_protocol::ses::make_seal(
            &signet_protocol::ses::SealSpec {
                vid: "signet".into(),
                es_id: "pdf-supplier".into(),
                seal_type: 1,
                name: "PDF Supplier".into(),
                signer_certificates: vec![listed],
                created: T0,
                valid_from: T0,
                valid_until: T0.plus(365 * DAY),
                picture: signet_protocol::ses::Picture {
                    format: "SVG".into(),
                    data: b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
                    width_mm: 40,
                    height_mm: 40,
                },
            },
            &ca_sm2,
            &ca_certificate,
        )
        .map_err(|x| e(&x))
    };
    let logs = json!([log_hex(&ca.log), log_hex(&supplier.log)]);
    let at = T0.plus(DAY);
    let claims = |seal: Vec<u8>| {
        Claims::PdfCertificate(PdfCertificate {
            key: subject_sm2.public_key().into(),
            identity: Some(identity.payload().id),
            certificate: certificate.clone(),
            seal: Some(seal),
        })
    };
    let good = ca.attest_with_id(
        id,
        supplier.id(),
        claims(seal_listing(certificate.clone())?),
        T0,
        365,
    );
    f.push(
        "6.10",
        "pdf-certificate-in-effect",
        Intent::Valid,
        "in effect, national algorithms: an SM2 certificate for the subject's SM2 pdf key (alg -98454), with the issuer's electronic seal (SESeal) listing it",
        json!({
            "hex": h(good.bytes()),
            "key_logs": logs,
            "attestations": [h(identity.bytes())],
            "time": at.unix(),
        }),
        Some(json!({
            "ca_sm2_scalar": h(&[0x5c; 32]),
            "supplier_sm2_scalar": h(&[0x5d; 32]),
        })),
    );
    // Signed as the CA would, bypassing `issue`, which refuses what the content rules refuse.
    let mut refused = good.payload().clone();
    refused.claims = claims(seal_listing(ca_certificate.clone())?);
    let bad = Signed::sign(refused, ATTESTATION_CONTENT_TYPE, &ca.attest).map_err(|x| e(&x))?;
    f.invalid(
        "6.10",
        "verify-attestation",
        "schema: an SM2 certificate's electronic seal does not list the certificate (content rule 8)",
        json!({"hex": h(bad.bytes()), "key_logs": logs}),
    );
    Ok(())
}

// ----- section 7 -----

fn trust() -> Result<File, String> {
    let mut f = File::new("07-trust-evaluation", "Trust verdicts", "7");
    let mut ca = TestParty::new("Trust CA", T0);
    let supplier = TestParty::new("Trust Supplier", T0);
    let stranger = TestParty::new("Trust Stranger", T0);
    let identity = ca.verify_identity(&supplier, AssuranceLevel::High, T0);
    let low = ca.verify_identity(&stranger, AssuranceLevel::Low, T0);
    let list = ca.revocation_list(vec![], T0);
    let policy = TrustPolicy {
        revocation_freshness: None,
        ..TrustPolicy::with_anchors(vec![TrustAnchor {
            party: ca.id(),
            name: "Trust CA".into(),
        }])
    };
    let p = policy_hex(&policy)?;
    let logs = json!([
        log_hex(&ca.log),
        log_hex(&supplier.log),
        log_hex(&stranger.log)
    ]);
    let base = |subject: &TestParty, attestations: Vec<String>, time: Timestamp| {
        json!({
            "policy": p,
            "key_logs": logs,
            "attestations": attestations,
            "subject": subject.id().to_string(),
            "time": time.unix(),
        })
    };
    f.valid(
        "7.3",
        "evaluate-trust",
        "identity attested by an anchor at assurance high",
        base(
            &supplier,
            vec![h(identity.bytes()), h(list.bytes())],
            T0.plus(DAY),
        ),
    );
    f.invalid(
        "7.4",
        "evaluate-trust",
        "assurance low, below the policy's minimum (substantial): AssuranceTooLow",
        base(&stranger, vec![h(low.bytes())], T0.plus(DAY)),
    );
    f.invalid(
        "7.4",
        "evaluate-trust",
        "no identity attestation about the subject: IdentityEvidence",
        base(&stranger, vec![h(identity.bytes())], T0.plus(DAY)),
    );
    f.invalid(
        "7.3",
        "evaluate-trust",
        "evaluated before the attestation's validity starts",
        base(
            &supplier,
            vec![h(identity.bytes())],
            Timestamp::from_unix(T0.unix() - 1),
        ),
    );
    let revocation = ca.revoke(identity.payload().id, T0.plus(DAY), T0.plus(DAY));
    f.invalid(
        "7.3",
        "evaluate-trust",
        "the identity attestation was revoked with effect before the evaluation time",
        base(
            &supplier,
            vec![h(identity.bytes()), h(revocation.bytes())],
            T0.plus(2 * DAY),
        ),
    );
    f.valid(
        "7.3",
        "evaluate-trust",
        "the same revocation, evaluated before it takes effect",
        base(
            &supplier,
            vec![h(identity.bytes()), h(revocation.bytes())],
            T0.plus(DAY - 1),
        ),
    );

    // A revocation counts by its effect alone, whatever its own issue time (section 6.6).
    let late_revocation = ca.revoke(identity.payload().id, T0.plus(DAY), T0.plus(3 * DAY));
    f.invalid(
        "6.6",
        "evaluate-trust",
        "a revocation issued on day 3 with effect from day 1, evaluated on day 2: it applies (its issued_at is not compared with the evaluation time)",
        base(
            &supplier,
            vec![h(identity.bytes()), h(late_revocation.bytes())],
            T0.plus(2 * DAY),
        ),
    );

    // Accreditation chains, endorsements and freshness (section 7.5).
    let mut verifier = TestParty::new("Trust Verifier", T0);
    let mut sub = TestParty::new("Trust Sub-verifier", T0);
    let subject = TestParty::new("Trust Subject", T0);
    let accredited = ca.accredit(verifier.id(), false, T0);
    let accredited_further = ca.accredit(verifier.id(), true, T0);
    let by_verifier = verifier.verify_identity(&subject, AssuranceLevel::High, T0);
    let sub_accredited = verifier.accredit(sub.id(), false, T0);
    let by_sub = sub.verify_identity(&subject, AssuranceLevel::High, T0);
    let all_logs = json!([
        log_hex(&ca.log),
        log_hex(&verifier.log),
        log_hex(&sub.log),
        log_hex(&subject.log),
    ]);
    let with = |policy: &TrustPolicy,
                attestations: Vec<&SignedAttestation>,
                time: Timestamp|
     -> Result<Value, String> {
        Ok(json!({
            "policy": policy_hex(policy)?,
            "key_logs": all_logs,
            "attestations": attestations.iter().map(|a| h(a.bytes())).collect::<Vec<_>>(),
            "subject": subject.id().to_string(),
            "time": time.unix(),
        }))
    };
    f.valid(
        "7.3",
        "evaluate-trust",
        "a chain of 2: the CA accredits a verifier (which may not accredit), the verifier attests the subject",
        with(&policy, vec![&accredited, &by_verifier], T0.plus(DAY))?,
    );
    let depth_one = TrustPolicy {
        max_chain_depth: 1,
        ..policy.clone()
    };
    f.invalid(
        "7.3",
        "evaluate-trust",
        "the same chain under max_chain_depth 1: the verifier is not accredited within the depth (NotAccredited)",
        with(&depth_one, vec![&accredited, &by_verifier], T0.plus(DAY))?,
    );
    let depth_three = TrustPolicy {
        max_chain_depth: 3,
        ..policy.clone()
    };
    f.invalid(
        "7.3",
        "evaluate-trust",
        "depth 3: the CA accredits the verifier without may_accredit, the verifier accredits a sub-verifier, which attests the subject (CannotAccredit)",
        with(&depth_three, vec![&accredited, &sub_accredited, &by_sub], T0.plus(DAY))?,
    );
    f.valid(
        "7.3",
        "evaluate-trust",
        "the same once the CA accredits the verifier with may_accredit: a chain of 3",
        with(
            &depth_three,
            vec![&accredited_further, &sub_accredited, &by_sub],
            T0.plus(DAY),
        )?,
    );
    let mut brand = TestParty::new("Trust Brand", T0);
    let mut brand2 = TestParty::new("Trust Brand 2", T0);
    let brand3 = TestParty::new("Trust Brand 3", T0);
    let endorsing = TrustPolicy {
        endorsements: Some(signet_protocol::trust::EndorsementRule {
            endorsers: vec![brand.id(), brand2.id(), brand3.id()],
            threshold: 2,
        }),
        ..policy.clone()
    };
    let endorsement = brand.endorse(&subject, T0);
    let endorsement2 = brand2.endorse(&subject, T0);
    let endorser_logs = json!([
        log_hex(&ca.log),
        log_hex(&brand.log),
        log_hex(&brand2.log),
        log_hex(&brand3.log),
        log_hex(&subject.log),
    ]);
    let endorsed = |attestations: Vec<&SignedAttestation>| -> Result<Value, String> {
        Ok(json!({
            "policy": policy_hex(&endorsing)?,
            "key_logs": endorser_logs,
            "attestations": attestations.iter().map(|a| h(a.bytes())).collect::<Vec<_>>(),
            "subject": subject.id().to_string(),
            "time": T0.plus(DAY).unix(),
        }))
    };
    f.invalid(
        "7.3",
        "evaluate-trust",
        "an endorsement rule of 2 of 3 endorsers, one endorsement: EndorsementQuorum",
        endorsed(vec![&endorsement])?,
    );
    f.valid(
        "7.3",
        "evaluate-trust",
        "the same with a second endorser's endorsement: trusted on two endorsements",
        endorsed(vec![&endorsement, &endorsement2])?,
    );
    let fresh = TrustPolicy {
        revocation_freshness: Some(7 * DAY),
        ..policy.clone()
    };
    let day_one_list = ca.revocation_list(vec![], T0.plus(DAY));
    let chain_one = ca.verify_identity(&subject, AssuranceLevel::High, T0);
    f.valid(
        "7.2",
        "evaluate-trust",
        "revocation freshness 7 days, the CA's only list from day 1, evaluated on day 5",
        with(&fresh, vec![&chain_one, &day_one_list], T0.plus(5 * DAY))?,
    );
    f.invalid(
        "7.2",
        "evaluate-trust",
        "the same evaluated on day 10: the list is too old (indeterminate, FreshRevocationList)",
        with(&fresh, vec![&chain_one, &day_one_list], T0.plus(10 * DAY))?,
    );
    trust_refusals(
        &mut f,
        &mut TrustWorld {
            policy,
            ca,
            brand,
            brand2,
            subject,
            endorsing,
            endorser_logs,
        },
    )?;
    sm2_attested_trust(&mut f)?;
    rsa_certificate_identity(&mut f)?;
    Ok(f)
}

/// Section 7.3: an anchor whose attest key is SM2 attests the subject, which is trusted; the
/// same statement signed by the anchor's SM2 key of another purpose is not. Appended after the
/// family's earlier vectors, so their numbers stay.
fn sm2_attested_trust(f: &mut File) -> Result<(), String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let mut ca = TestParty::new("SM2 Trust CA", T0);
    let supplier = TestParty::new("SM2 Trust Supplier", T0);
    let attest = Sm2SecretKey::from_bytes(&test_key("SM2 Trust CA", "sm2-attest").to_seed())
        .map_err(|x| e(&x))?;
    let pdf = Sm2SecretKey::from_bytes(&test_key("SM2 Trust CA", "sm2-pdf").to_seed())
        .map_err(|x| e(&x))?;
    ca.log
        .add_key(&ca.root, KeyDecl::attest(attest.public_key()), T0)
        .map_err(|x| e(&x))?;
    ca.log
        .add_key(&ca.root, KeyDecl::sm2_pdf(pdf.public_key()), T0)
        .map_err(|x| e(&x))?;
    let statement = ca
        .verify_identity(&supplier, AssuranceLevel::High, T0)
        .payload()
        .clone();
    let by_attest = statement
        .clone()
        .issue(&attest, &ca.log)
        .map_err(|x| e(&x))?;
    let by_pdf = Signed::sign(statement, ATTESTATION_CONTENT_TYPE, &pdf).map_err(|x| e(&x))?;
    let policy = TrustPolicy {
        revocation_freshness: None,
        ..TrustPolicy::with_anchors(vec![TrustAnchor {
            party: ca.id(),
            name: "SM2 Trust CA".into(),
        }])
    };
    let base = |attestation: &[u8]| -> Result<Value, String> {
        Ok(json!({
            "policy": policy_hex(&policy)?,
            "key_logs": [log_hex(&ca.log), log_hex(&supplier.log)],
            "attestations": [h(attestation)],
            "subject": supplier.id().to_string(),
            "time": T0.plus(DAY).unix(),
        }))
    };
    f.push(
        "7.3",
        "evaluate-trust",
        Intent::Valid,
        "identity attested by an anchor's SM2 attest key (alg -98454): trusted like an Ed25519 attestation",
        base(by_attest.bytes())?,
        Some(json!({"anchor_attest_sm2_scalar": h(&*attest.to_bytes())})),
    );
    f.push(
        "7.3",
        "evaluate-trust",
        Intent::Invalid,
        "the same identity signed by the anchor's SM2 pdf key: a valid SM2 signature by a key that is no attest key, so the attestation is not taken and the verdict is indeterminate (no identity evidence)",
        base(by_pdf.bytes())?,
        Some(json!({"anchor_pdf_sm2_scalar": h(&*pdf.to_bytes())})),
    );
    Ok(())
}

/// The parties and policies of section 7's vectors that [`trust_refusals`] builds on.
struct TrustWorld {
    policy: TrustPolicy,
    ca: TestParty,
    brand: TestParty,
    brand2: TestParty,
    subject: TestParty,
    endorsing: TrustPolicy,
    endorser_logs: Value,
}

/// An `evaluate-trust` negative vector, written only if the reference's verdict is the one
/// `wanted` (and so fails for that reason alone).
fn refused_verdict(
    f: &mut File,
    section: &'static str,
    inputs: &Value,
    wanted: &dyn Fn(&signet_protocol::trust::Verdict) -> bool,
    what: &str,
) -> Result<(), String> {
    let verdict = conformance::trust_verdict(inputs)?;
    if !wanted(&verdict) {
        return Err(format!("{what}: unexpected verdict {verdict:?}"));
    }
    f.invalid(section, "evaluate-trust", what, inputs.clone());
    Ok(())
}

/// Section 7: one vector per remaining refusal of the evaluation, each checked to fail for
/// that reason alone (the op reports only the verdict).
fn trust_refusals(f: &mut File, w: &mut TrustWorld) -> Result<(), String> {
    use signet_protocol::trust::{Finding, Missing, PolicyError, Problem, Verdict};
    let subject = w.subject.id();
    let mut refused =
        |section: &'static str, inputs: &Value, wanted: &dyn Fn(&Verdict) -> bool, what: &str| {
            refused_verdict(f, section, inputs, wanted, what)
        };
    let request = |policy: &TrustPolicy,
                   logs: &Value,
                   attestations: &[&SignedAttestation],
                   time: Timestamp|
     -> Result<Value, String> {
        Ok(json!({
            "policy": policy_hex(policy)?,
            "key_logs": logs,
            "attestations": attestations.iter().map(|a| h(a.bytes())).collect::<Vec<_>>(),
            "subject": subject.to_string(),
            "time": time.unix(),
        }))
    };
    let ca_logs = json!([log_hex(&w.ca.log), log_hex(&w.subject.log)]);
    let identity = w.ca.verify_identity(&w.subject, AssuranceLevel::High, T0);

    // Section 7.2: an incoherent policy is refused before anything else (7.3).
    let zero_depth = TrustPolicy {
        max_chain_depth: 0,
        ..w.policy.clone()
    };
    let inputs = request(&zero_depth, &ca_logs, &[&identity], T0.plus(DAY))?;
    refused(
        "7.2",
        &inputs,
        &|v| matches!(v, Verdict::Untrusted { reasons } if reasons == &[Finding::Policy(PolicyError::ZeroDepth)]),
        "an anchor's identity attestation under a policy whose max_chain_depth is 0: the policy is incoherent (ZeroDepth), untrusted",
    )?;
    let over_threshold = TrustPolicy {
        endorsements: w.endorsing.endorsements.clone().map(|mut rule| {
            rule.threshold = 4;
            rule
        }),
        ..w.endorsing.clone()
    };
    let inputs = request(&over_threshold, &ca_logs, &[&identity], T0.plus(DAY))?;
    refused(
        "7.2",
        &inputs,
        &|v| matches!(v, Verdict::Untrusted { reasons } if reasons == &[Finding::Policy(PolicyError::Threshold)]),
        "an anchor's identity attestation under a policy whose endorsement threshold (4) exceeds its 3 endorsers: the policy is incoherent (Threshold), untrusted",
    )?;

    // Section 7.3, path 3: two counted endorsements name different registration numbers.
    let endorsement = w.brand.endorse(&w.subject, T0);
    let other = Claims::Endorsement(signet_protocol::attestation::Endorsement {
        legal_name: w.subject.label.clone(),
        registration: signet_protocol::testkit::test_uscc("Trust Subject's namesake"),
        relationship: format!("customer of {}", w.subject.label),
    });
    let disagreeing = w.brand2.attest(subject, other, T0, 365);
    let inputs = request(
        &w.endorsing,
        &w.endorser_logs,
        &[&endorsement, &disagreeing],
        T0.plus(DAY),
    )?;
    refused(
        "7.3",
        &inputs,
        &|v| matches!(v, Verdict::Untrusted { reasons } if reasons == &[Finding::EndorsementsDisagree]),
        "an endorsement rule of 2 of 3, two endorsements by accepted endorsers naming different registration numbers: EndorsementsDisagree",
    )?;

    // Section 7.3, check: the issuer revoked its signing key with effect before the issue.
    let day = |n: u64| T0.plus(n * DAY);
    let late =
        w.ca.verify_identity(&w.subject, AssuranceLevel::High, day(5));
    let key_revoked = w.ca.revoke_key(w.ca.attest.public_key(), day(4), day(7));
    let inputs = request(&w.policy, &ca_logs, &[&late, &key_revoked], day(8))?;
    refused(
        "7.3",
        &inputs,
        &|v| {
            matches!(v, Verdict::Untrusted { reasons } if matches!(reasons.as_slice(),
            [Finding::Attestation { problem: Problem::IssuerKeyRevoked(at), .. }] if *at == day(4)))
        },
        "an identity attestation issued on day 5 by an anchor that revoked its attest key on day 7 with effect from day 4, evaluated on day 8: IssuerKeyRevoked",
    )?;

    // Section 7.1: a revocation between the reliance (`at`) and its proof (`proven_by`).
    let revoked = w.ca.revoke(identity.payload().id, day(2), day(2));
    let mut inputs = request(&w.policy, &ca_logs, &[&identity, &revoked], day(3))?;
    inputs["at"] = json!(day(1).unix());
    inputs["proven_by"] = json!(day(3).unix());
    refused(
        "7.1",
        &inputs,
        &|v| {
            matches!(v, Verdict::Indeterminate { missing, reasons } if reasons.is_empty()
            && matches!(missing.as_slice(), [Missing::ProofBeforeRevocation { revoked, .. }] if *revoked == day(2)))
        },
        "an identity relied on at day 1, proven only by day 3, its attestation revoked with effect from day 2: indeterminate (ProofBeforeRevocation)",
    )?;
    inputs["proven_by"] = json!((day(2).unix()) - 1);
    f.valid(
        "7.1",
        "evaluate-trust",
        "the same reliance proven a second before the revocation takes effect: trusted",
        inputs,
    );
    certificate_paths(f)?;
    Ok(())
}

/// Section 7.3, path 3: a party trusted on its CA-issued certificate alone, and each reason
/// it is not.
fn certificate_paths(f: &mut File) -> Result<(), String> {
    use signet_protocol::testkit::TestCertificateAuthority;
    use signet_protocol::trust::{CaRoot, CertificateProblem, Finding, Missing, Verdict};
    use signet_protocol::x509::chain::ChainError;
    use signet_protocol::x509::sm2::Sm2KeyForm;
    let day = |n: u64| T0.plus(n * DAY);
    let ca = TestCertificateAuthority::new("Trust SM2 CA", true, T0);
    let mut party = TestParty::new("Trust Certified", T0);
    let (leaf, holder) = ca.certify(
        &mut party,
        "91350100M000100Y43",
        77,
        true,
        Sm2KeyForm::EcPublicKey,
        T0,
    );
    let signed = party.ca_identity(vec![leaf], &holder, day(1), 730);
    let policy = TrustPolicy {
        revocation_freshness: None,
        ca_roots: vec![CaRoot {
            name: "Trust SM2 CA".into(),
            certificate: ca.root().to_vec(),
        }],
        ..TrustPolicy::with_anchors(vec![])
    };
    let request = |policy: &TrustPolicy,
                   logs: &KeyLog,
                   crls: &[Vec<u8>],
                   time: Timestamp|
     -> Result<Value, String> {
        Ok(json!({
            "policy": policy_hex(policy)?,
            "key_logs": [log_hex(logs)],
            "attestations": [h(signed.bytes())],
            "crls": crls.iter().map(|c| h(c)).collect::<Vec<_>>(),
            "subject": party.id().to_string(),
            "time": time.unix(),
        }))
    };
    let current = ca.crl(&[], day(9));
    f.valid(
        "7.3",
        "evaluate-trust",
        "a ca-identity attestation whose certificate path ends at a CA root of the policy, with the CA's current CRL: trusted with no verifier's attestation",
        request(&policy, &party.log, std::slice::from_ref(&current), day(10))?,
    );
    let certificate = |v: &Verdict, want: &dyn Fn(&CertificateProblem) -> bool| {
        matches!(v, Verdict::Untrusted { reasons } if matches!(reasons.as_slice(),
            [Finding::Certificate { problem, .. }] if want(problem)))
    };
    for (other, why) in [
        (
            TestCertificateAuthority::new("Trust SM2 CA", false, T0),
            "the policy's CA root has the issuer's name but another key: BadSignature",
        ),
        (
            TestCertificateAuthority::new("Another CA", true, T0),
            "the policy's only CA root is another CA's: NoTrustedRoot",
        ),
    ] {
        let wrong_root = TrustPolicy {
            ca_roots: vec![CaRoot {
                name: "Trust SM2 CA".into(),
                certificate: other.root().to_vec(),
            }],
            ..policy.clone()
        };
        refused_verdict(
            f,
            "7.3",
            &request(
                &wrong_root,
                &party.log,
                std::slice::from_ref(&current),
                day(10),
            )?,
            &|v| {
                certificate(v, &|p| {
                    matches!(
                        p,
                        CertificateProblem::Chain(
                            ChainError::BadSignature { depth: 0 }
                                | ChainError::NoTrustedRoot { depth: 0 }
                        )
                    )
                })
            },
            why,
        )?;
    }
    refused_verdict(
        f,
        "7.3",
        &request(&policy, &party.log, &[ca.crl(&[], day(366))], day(367))?,
        &|v| {
            certificate(v, &|p| {
                matches!(p, CertificateProblem::Chain(ChainError::Expired { .. }))
            })
        },
        "the same, evaluated after the certificate's notAfter (the attestation is still in its window): Expired",
    )?;
    refused_verdict(
        f,
        "7.3",
        &request(
            &policy,
            &party.log,
            &[ca.crl(&[(77, day(8))], day(9))],
            day(10),
        )?,
        &|v| {
            certificate(
                v,
                &|p| matches!(p, CertificateProblem::Revoked { depth: 0, at } if *at == day(8)),
            )
        },
        "the CA's CRL lists the certificate revoked from day 8, evaluated on day 10: Revoked",
    )?;
    refused_verdict(
        f,
        "7.3",
        &request(&policy, &party.log, &[ca.crl(&[], day(1))], day(10))?,
        &|v| matches!(v, Verdict::Indeterminate { missing, .. } if matches!(missing.as_slice(), [Missing::FreshCrl { newest: Some(t), .. }] if *t == day(1))),
        "the CA's only CRL is of day 1, its nextUpdate day 8, evaluated on day 10: indeterminate (FreshCrl), never trusted",
    )?;
    let undeclared = TestParty::new("Trust Certified", T0);
    refused_verdict(
        f,
        "7.3",
        &request(
            &policy,
            &undeclared.log,
            std::slice::from_ref(&current),
            day(10),
        )?,
        &|v| certificate(v, &|p| matches!(p, CertificateProblem::KeyNotDeclared(_))),
        "the party's key log does not declare the certified key: KeyNotDeclared",
    )?;
    certificate_path_refusals(f, &ca, &policy, &current)?;
    certificate_path_algorithms(f)
}

/// A fixed RSA key of the vectors' RSA CAs, made once with `openssl genpkey` (PKCS #8 DER),
/// signing sha256WithRSAEncryption: PKCS #1 v1.5 is deterministic, so the vectors are too.
#[derive(Debug)]
struct RsaCaKey(rsa::pkcs1v15::SigningKey<rsa::sha2::Sha256>);

impl signet_protocol::x509::chain::ExternalCaKey for RsaCaKey {
    fn algorithm(&self) -> spki::AlgorithmIdentifierOwned {
        spki::AlgorithmIdentifierOwned {
            oid: signet_protocol::x509::issuer_key::SHA256_WITH_RSA,
            parameters: Some(der::Any::null()),
        }
    }

    fn sign(&self, tbs: &[u8]) -> Vec<u8> {
        use rsa::signature::{SignatureEncoding, Signer};
        self.0.sign(tbs).to_vec()
    }
}

/// A test CA named `label` whose root and CRLs are signed by the RSA key `pkcs8` (DER).
fn rsa_ca(
    label: &str,
    pkcs8: &[u8],
) -> Result<signet_protocol::testkit::TestCertificateAuthority, String> {
    let key = rsa_key(pkcs8)?;
    let spki = rsa_spki(&key)?;
    Ok(
        signet_protocol::testkit::TestCertificateAuthority::external(
            label,
            Box::new(RsaCaKey(rsa::pkcs1v15::SigningKey::new(key))),
            spki,
            T0,
        ),
    )
}

/// Section 7.3, path 3 (spec §6.11.3): certificate paths under CAs whose keys are RSA or
/// P-384, the subject's own key SM2.
fn certificate_path_algorithms(f: &mut File) -> Result<(), String> {
    use signet_protocol::testkit::TestCertificateAuthority;
    use signet_protocol::trust::{CertificateProblem, Finding, Verdict};
    use signet_protocol::x509::chain::ChainError;
    use signet_protocol::x509::sm2::Sm2KeyForm;
    let day = |n: u64| T0.plus(n * DAY);
    let cases: [(&str, TestCertificateAuthority, bool, &str); 3] = [
        (
            "Trust RSA-2048 CA",
            rsa_ca("Trust RSA-2048 CA", include_bytes!("keys/rsa-2048.der"))?,
            true,
            "a ca-identity attestation (SM2 key) whose path ends at an RSA-2048 root of the policy (sha256WithRSAEncryption), with the CA's current CRL, also RSA-signed: trusted",
        ),
        (
            "Trust RSA-1024 CA",
            rsa_ca("Trust RSA-1024 CA", include_bytes!("keys/rsa-1024.der"))?,
            false,
            "the same under an RSA-1024 root (sha256WithRSAEncryption, correctly signed): RsaKeySize at depth 0, 1024 bits",
        ),
        (
            "Trust P-384 CA",
            TestCertificateAuthority::p384("Trust P-384 CA", T0),
            true,
            "a ca-identity attestation (SM2 key) whose path ends at an ECDSA P-384 root of the policy (ecdsa-with-SHA384), with the CA's current CRL: trusted",
        ),
    ];
    for (label, ca, trusted, what) in cases {
        let mut party = TestParty::new(&format!("{label} Certified"), T0);
        let (leaf, holder) = ca.certify(
            &mut party,
            "91350100M000100Y43",
            81,
            true,
            Sm2KeyForm::EcPublicKey,
            T0,
        );
        let signed = party.ca_identity(vec![leaf], &holder, day(1), 730);
        let inputs = ca_root_inputs(label, &ca, &party, &signed)?;
        if trusted {
            let verdict = conformance::trust_verdict(&inputs)?;
            if !matches!(verdict, Verdict::Trusted { .. }) {
                return Err(format!("{what}: unexpected verdict {verdict:?}"));
            }
            f.valid("7.3", "evaluate-trust", what, inputs);
        } else {
            refused_verdict(
                f,
                "7.3",
                &inputs,
                &|v| {
                    matches!(v, Verdict::Untrusted { reasons } if matches!(reasons.as_slice(),
                        [Finding::Certificate { problem: CertificateProblem::Chain(e), .. }]
                            if *e == ChainError::RsaKeySize { depth: 0, bits: 1024 }))
                },
                what,
            )?;
        }
    }
    Ok(())
}

/// The inputs of `evaluate-trust` for `party`'s `signed` ca-identity attestation under the
/// one CA root `ca` (named `label`) of a policy, with the CA's CRL of day 9, judged on day 10.
fn ca_root_inputs(
    label: &str,
    ca: &signet_protocol::testkit::TestCertificateAuthority,
    party: &TestParty,
    signed: &SignedAttestation,
) -> Result<Value, String> {
    let day = |n: u64| T0.plus(n * DAY);
    let policy = TrustPolicy {
        revocation_freshness: None,
        ca_roots: vec![signet_protocol::trust::CaRoot {
            name: label.into(),
            certificate: ca.root().to_vec(),
        }],
        ..TrustPolicy::with_anchors(vec![])
    };
    Ok(json!({
        "policy": policy_hex(&policy)?,
        "key_logs": [log_hex(&party.log)],
        "attestations": [h(signed.bytes())],
        "crls": [h(&ca.crl(&[], day(9)))],
        "subject": party.id().to_string(),
        "time": day(10).unix(),
    }))
}

/// Section 7.3, path 3: a party whose own certified key is RSA, under an RSA CA root of the
/// policy with its current CRL: trusted. Appended after the family's earlier vectors.
fn rsa_certificate_identity(f: &mut File) -> Result<(), String> {
    use signet_protocol::trust::Verdict;
    let ca = rsa_ca("Trust RSA Subject CA", include_bytes!("keys/rsa-2048.der"))?;
    let mut party = TestParty::new("Trust RSA Certified", T0);
    let (leaf, holder) = ca.certify_external(
        &mut party,
        "91350100M000100Y43",
        82,
        Box::new(RsaSubjectKey(rsa_key(RSA_SUBJECT_KEY)?)),
        T0,
    );
    let signed = party.ca_identity(vec![leaf], &holder, T0.plus(DAY), 730);
    let inputs = ca_root_inputs("Trust RSA Subject CA", &ca, &party, &signed)?;
    let what = "a ca-identity attestation whose certificate certifies the party's RSA-2048 key (declared as its pdf key, alg -257), under an RSA root of the policy with the CA's current CRL: trusted";
    let verdict = conformance::trust_verdict(&inputs)?;
    if !matches!(verdict, Verdict::Trusted { .. }) {
        return Err(format!("{what}: unexpected verdict {verdict:?}"));
    }
    f.valid("7.3", "evaluate-trust", what, inputs);
    Ok(())
}

/// Certifies a party's key: its certificate path and the key.
type Certify<'a> = dyn Fn(&mut TestParty) -> (Vec<Vec<u8>>, CertificateHolder) + 'a;

/// Section 7.3, path 3 (spec §6.11.3): certificate paths no CA should issue, each refused for
/// one reason, with the CA's current CRL held.
fn certificate_path_refusals(
    f: &mut File,
    ca: &signet_protocol::testkit::TestCertificateAuthority,
    policy: &TrustPolicy,
    current: &[u8],
) -> Result<(), String> {
    use signet_protocol::trust::{CertificateProblem, Finding, Verdict};
    use signet_protocol::x509::chain::ChainError;
    use signet_protocol::x509::sm2::Sm2KeyForm;
    const USCC: &str = "91350100M000100Y43";
    let day = |n: u64| T0.plus(n * DAY);
    let mut refused = |label: &str,
                       certify: &Certify<'_>,
                       wanted: &dyn Fn(&ChainError) -> bool,
                       what: &str|
     -> Result<(), String> {
        let mut party = TestParty::new(label, T0);
        let (chain, holder) = certify(&mut party);
        let signed = party.ca_identity(chain, &holder, day(1), 730);
        let inputs = json!({
            "policy": policy_hex(policy)?,
            "key_logs": [log_hex(&party.log)],
            "attestations": [h(signed.bytes())],
            "crls": [h(current)],
            "subject": party.id().to_string(),
            "time": day(10).unix(),
        });
        refused_verdict(
            f,
            "7.3",
            &inputs,
            &|v| {
                matches!(v, Verdict::Untrusted { reasons } if matches!(reasons.as_slice(),
                    [Finding::Certificate { problem: CertificateProblem::Chain(e), .. }] if wanted(e)))
            },
            what,
        )
    };
    let end_entity = ca.subordinate("Trust End Entity", true, None, 90, T0);
    refused(
        "Trust Under An End Entity",
        &|party| {
            let (leaf, holder) =
                end_entity.certify(party, USCC, 78, true, Sm2KeyForm::EcPublicKey, T0);
            (vec![leaf, end_entity.root().to_vec()], holder)
        },
        &|e| *e == ChainError::NotACa { depth: 1 },
        "the party's certificate is issued by an end-entity certificate of the policy's CA (no basicConstraints cA) given as its path's second certificate: NotACa at depth 1",
    )?;
    let subordinate = ca.subordinate("Trust Subordinate CA", true, Some(0), 91, T0);
    refused(
        "Trust Under A Subordinate",
        &|party| {
            let (leaf, holder) =
                subordinate.certify(party, USCC, 79, true, Sm2KeyForm::EcPublicKey, T0);
            (vec![leaf, subordinate.root().to_vec()], holder)
        },
        &|e| *e == ChainError::PathLength { depth: 2 },
        "the party's certificate is issued by a subordinate CA of the policy's root, whose pathLenConstraint 0 allows no CA below it: PathLength at the root (depth 2)",
    )?;
    let unknown = der::oid::ObjectIdentifier::new_unwrap("1.2.3.4");
    let extension = x509_cert::ext::Extension {
        extn_id: unknown,
        critical: true,
        extn_value: der::asn1::OctetString::new(vec![0x05, 0x00]).map_err(|e| e.to_string())?,
    };
    refused(
        "Trust Critical Extension",
        &|party| {
            let (leaf, holder) = ca.certify_with(
                party,
                USCC,
                80,
                true,
                Sm2KeyForm::EcPublicKey,
                T0,
                vec![extension.clone()],
            );
            (vec![leaf], holder)
        },
        &|e| {
            *e == ChainError::CriticalExtension {
                depth: 0,
                oid: unknown,
            }
        },
        "the party's certificate carries the critical extension 1.2.3.4, which no implementation understands: CriticalExtension at depth 0",
    )?;
    Ok(())
}

// ----- section 8 -----

fn message_of(bytes: &[u8]) -> Result<SessionMessage, String> {
    Signed::<SessionMessage>::decode(bytes, SESSION_MESSAGE_CONTENT_TYPE, &Limits::DEFAULT)
        .map(|m| m.payload().clone())
        .map_err(|e| e.to_string())
}

/// Section 8.4.1: intent proofs in both forms, and what each shows.
fn intent_proofs(f: &mut File) -> Result<(), String> {
    use signet_protocol::session::{INTENT_CONTENT_TYPE, IntentChallenge, IntentMethod};
    use signet_protocol::testkit::{FLAG_BE, FLAG_UP, FLAG_UV, TestAuthenticator};
    let op = "verify-intent-proof";
    let signer = TestParty::new("Intent Signer", T0);
    let challenge = |method| IntentChallenge {
        session: signet_protocol::session::SessionId::from_bytes([0x84; 32]),
        proposal: Digest::of(b"the proposal"),
        documents: vec![Digest::of(b"the contract")],
        signer: signer.id(),
        seal: signer.contract_seal.public_key().into(),
        method,
        time: T0,
    };
    let e = |e: signet_protocol::codec::EncodeError| e.to_string();
    let soft = Signed::sign(
        challenge(IntentMethod::SoftwareKey),
        INTENT_CONTENT_TYPE,
        &signer.delegate,
    )
    .map_err(e)?;
    f.push(
        "8.4.1",
        op,
        Intent::Valid,
        "a COSE proof by the person's key file: method software-key",
        json!({"hex": h(soft.bytes())}),
        Some(json!({"person_seed": seed(&signer.delegate)})),
    );
    let claimed = Signed::sign(
        challenge(IntentMethod::HardwareToken),
        INTENT_CONTENT_TYPE,
        &signer.delegate,
    )
    .map_err(e)?;
    f.invalid(
        "8.4.1",
        op,
        "a COSE proof claiming hardware-token: a key file shows no hardware",
        json!({"hex": h(claimed.bytes())}),
    );
    let rp = "sign.example.com";
    let origin = "https://sign.example.com";
    let passkey = TestAuthenticator::new("Intent Signer", rp);
    let given = json!({"authenticator": "ES256 key of test_key(\"Intent Signer\", \"passkey\")", "rp_id": rp});
    let cases: Vec<(Intent, &str, Vec<u8>)> = vec![
        (
            Intent::Valid,
            "a WebAuthn proof by a synced passkey (UP, UV, BE): method passkey",
            passkey.assert(
                &challenge(IntentMethod::Passkey),
                FLAG_UP | FLAG_UV | FLAG_BE,
                origin,
            ),
        ),
        (
            Intent::Valid,
            "a WebAuthn proof by a device-bound credential (UP, UV, BE clear): method hardware-token",
            passkey.assert(
                &challenge(IntentMethod::HardwareToken),
                FLAG_UP | FLAG_UV,
                origin,
            ),
        ),
        (
            Intent::Valid,
            "a WebAuthn proof from a subdomain of the relying party",
            passkey.assert(
                &challenge(IntentMethod::Passkey),
                FLAG_UP | FLAG_UV,
                "https://eu.sign.example.com:8443",
            ),
        ),
        (
            Intent::Invalid,
            "a synced passkey claiming hardware-token (BE set)",
            passkey.assert(
                &challenge(IntentMethod::HardwareToken),
                FLAG_UP | FLAG_UV | FLAG_BE,
                origin,
            ),
        ),
        (
            Intent::Invalid,
            "user presence without user verification (UV clear)",
            passkey.assert(&challenge(IntentMethod::Passkey), FLAG_UP, origin),
        ),
        (
            Intent::Invalid,
            "a WebAuthn proof claiming biometric: the signature does not show how the person was verified",
            passkey.assert(
                &challenge(IntentMethod::Biometric),
                FLAG_UP | FLAG_UV,
                origin,
            ),
        ),
        (
            Intent::Invalid,
            "client data from another origin",
            passkey.assert(
                &challenge(IntentMethod::Passkey),
                FLAG_UP | FLAG_UV,
                "https://evil.example",
            ),
        ),
        (
            Intent::Invalid,
            "http off localhost",
            passkey.assert(
                &challenge(IntentMethod::Passkey),
                FLAG_UP | FLAG_UV,
                "http://sign.example.com",
            ),
        ),
    ];
    for (intent, what, bytes) in cases {
        f.push(
            "8.4.1",
            op,
            intent,
            what,
            json!({"hex": h(&bytes)}),
            Some(given.clone()),
        );
    }
    let good = passkey.assert(&challenge(IntentMethod::Passkey), FLAG_UP | FLAG_UV, origin);
    let wire: signet_protocol::session::WebAuthnAssertion =
        codec::decode(&good, &Limits::DEFAULT).map_err(|e| e.to_string())?;
    let mut tampered = wire.clone();
    let last = tampered.signature.len() - 1;
    tampered.signature[last] ^= 1;
    f.invalid(
        "8.4.1",
        op,
        "a WebAuthn proof whose signature does not verify",
        json!({"hex": h(&codec::encode(&tampered).map_err(e)?)}),
    );
    let mut other_rp = wire.clone();
    other_rp.credential.rp_id = "other.example.com".into();
    f.invalid(
        "8.4.1",
        op,
        "authenticator data of another relying party than the credential's",
        json!({"hex": h(&codec::encode(&other_rp).map_err(e)?)}),
    );
    let bytes = challenge(IntentMethod::Passkey).encode().map_err(e)?;
    let other_challenge = passkey.assert_raw(
        bytes,
        FLAG_UP | FLAG_UV,
        format!(
            r#"{{"type":"webauthn.get","challenge":"{}","origin":"{origin}"}}"#,
            "A".repeat(43)
        )
        .into_bytes(),
    );
    f.invalid(
        "8.4.1",
        op,
        "client data asserting another challenge",
        json!({"hex": h(&other_challenge)}),
    );
    Ok(())
}

fn sessions(t: &Transcript) -> Result<File, String> {
    let mut f = File::new(
        "08-sessions",
        "Sessions: a complete three-party transcript and the state machine",
        "8",
    );
    intent_proofs(&mut f)?;
    let names = |p: &signet_protocol::party::PartyId| {
        if *p == t.brand {
            "brand"
        } else if *p == t.supplier {
            "supplier"
        } else if *p == t.auditor {
            "auditor"
        } else {
            "observer"
        }
    };
    let brand = t.net.node(&t.brand);
    // Every message of the transcript, as sent.
    for d in &t.deliveries {
        let m = message_of(&d.bytes)?;
        let session = if m.session == t.completed {
            "completed"
        } else if m.session == t.declined {
            "declined"
        } else {
            "cancelled"
        };
        f.push(
            "8.3",
            "verify-signed",
            Intent::Valid,
            format!(
                "transcript: {} from {} to {} ({} session)",
                m.body.kind(),
                names(&m.from),
                names(&d.to),
                session
            ),
            json!({"hex": h(&d.bytes), "content_type": SESSION_MESSAGE_CONTENT_TYPE}),
            Some(json!({
                "from": m.from.to_string(),
                "to": d.to.to_string(),
                "time": d.at.unix(),
                "kind": m.body.kind().name(),
                "sender_node_seed": seed(&t.net.node(&m.from).party.node),
            })),
        );
    }
    // The objects inside: proposal, intent proof and seal signature of the supplier's sign.
    let mut seen_proposal = false;
    let mut seen_record = false;
    for d in &t.deliveries {
        match message_of(&d.bytes)?.body {
            MessageBody::Propose { proposal } if !seen_proposal => {
                seen_proposal = true;
                f.push(
                    "8.2",
                    "verify-signed",
                    Intent::Valid,
                    "the completed session's signed proposal (revision 0)",
                    json!({"hex": h(&proposal), "content_type": PROPOSAL_CONTENT_TYPE}),
                    Some(json!({"initiator_node_seed": seed(&brand.party.node), "document": h(&document(1))})),
                );
            }
            MessageBody::Sign(record) if !seen_record => {
                seen_record = true;
                let supplier = t.net.node(&t.supplier);
                f.push(
                    "8.4.1",
                    "verify-signed",
                    Intent::Valid,
                    "the supplier's intent proof, signed by its delegate's own key",
                    json!({"hex": h(&record.intent), "content_type": INTENT_CONTENT_TYPE}),
                    Some(json!({"delegate_seed": seed(&supplier.party.delegate)})),
                );
                f.push(
                    "8.4.2",
                    "verify-signed",
                    Intent::Valid,
                    "the supplier's seal signature, signed by its contract seal",
                    json!({"hex": h(&record.seal_signature), "content_type": SEAL_SIGNATURE_CONTENT_TYPE}),
                    Some(json!({"seal_seed": seed(&supplier.party.contract_seal)})),
                );
                f.invalid(
                    "8.4",
                    "verify-signed",
                    "an intent proof presented as a seal signature",
                    json!({"hex": h(&record.intent), "content_type": SEAL_SIGNATURE_CONTENT_TYPE}),
                );
            }
            _ => {}
        }
    }

    // The state machine: what each participant received, replayed.
    let (logs, attestations) = store_inputs(&brand.store);
    let p = policy_hex(&brand.policy)?;
    let received = |who: &signet_protocol::party::PartyId,
                    session|
     -> Result<Vec<(Vec<u8>, Timestamp)>, String> {
        let mut out = Vec::new();
        for d in t.deliveries.iter().filter(|d| d.to == *who) {
            if message_of(&d.bytes)?.session == session {
                out.push((d.bytes.clone(), d.at));
            }
        }
        Ok(out)
    };
    let request = |who: &signet_protocol::party::PartyId, messages: &[(Vec<u8>, Timestamp)]| {
        json!({
            "me": who.to_string(),
            "policy": p,
            "key_logs": logs,
            "attestations": attestations,
            "messages": messages.iter().map(|(b, at)| json!({"hex": h(b), "time": at.unix()})).collect::<Vec<_>>(),
        })
    };
    let supplier_msgs = received(&t.observer, t.completed)?;
    f.valid(
        "8.5.3",
        "session-receive",
        "the observer (copy) receives the completed session's messages: every action re-verified, completed",
        request(&t.observer, &supplier_msgs),
    );
    let mut twice = supplier_msgs.clone();
    twice.insert(1, supplier_msgs[0].clone());
    twice.insert(2, supplier_msgs[1].clone());
    f.valid(
        "8.5.1",
        "session-receive",
        "duplicates (the first two messages delivered twice) change nothing",
        request(&t.observer, &twice),
    );
    let declined = received(&t.supplier, t.declined)?;
    let auditor_declined = received(&t.auditor, t.declined)?;
    f.valid(
        "8.5.3",
        "session-receive",
        "the supplier's view of the declined session (it received the proposal only)",
        request(&t.supplier, &declined),
    );
    f.valid(
        "8.7",
        "session-receive",
        "the auditor's view of the declined session: the supplier's decline reaches it relayed by the initiator",
        request(&t.auditor, &auditor_declined),
    );
    let cancelled = received(&t.supplier, t.cancelled)?;
    f.valid(
        "8.8",
        "session-receive",
        "a revision while nobody acted, then a cancellation",
        request(&t.supplier, &cancelled),
    );
    let mut revision_first = cancelled.clone();
    revision_first.swap(0, 1);
    f.invalid(
        "8.5.3",
        "session-receive",
        "revision 1 arrives before revision 0: the session starts from revision 1, the older revision is refused (ProposalFrozen), the cancellation applies",
        request(&t.supplier, &revision_first),
    );
    // Replays and timing.
    let mut replay = declined.clone();
    replay.push(supplier_msgs[2].clone());
    f.invalid(
        "8.3.1",
        "session-receive",
        "a message of another session replayed (a relay of the completed session, into the declined session)",
        request(&t.supplier, &replay),
    );
    let deadline = Timestamp::from_unix(t.net.now.unix() + 40 * DAY);
    let mut late = supplier_msgs.clone();
    for m in late.iter_mut().skip(1) {
        m.1 = deadline;
    }
    f.invalid(
        "8.5.5",
        "session-receive",
        "every message after the proposal received after the deadline",
        request(&t.observer, &late),
    );
    // Routing: the auditor's approval relayed before the supplier's signature (the first relay
    // left out).
    let relays: Vec<usize> = supplier_msgs
        .iter()
        .enumerate()
        .filter(|(_, (b, _))| {
            matches!(message_of(b).map(|m| m.body), Ok(MessageBody::Relay { .. }))
        })
        .map(|(i, _)| i)
        .collect();
    if relays.len() >= 2 {
        let mut out_of_order: Vec<_> = supplier_msgs[..relays[0]].to_vec();
        out_of_order.push(supplier_msgs[relays[1]].clone());
        f.invalid(
            "8.6",
            "session-receive",
            "the auditor's approval (order 1) relayed before the supplier's signature (order 0)",
            request(&t.observer, &out_of_order),
        );
    }
    // A completion that lacks the auditor's approval, signed by the brand's node key.
    let complete = supplier_msgs
        .iter()
        .find(|(b, _)| {
            matches!(
                message_of(b).map(|m| m.body),
                Ok(MessageBody::Complete { .. })
            )
        })
        .ok_or("no complete message")?;
    let mut m = message_of(&complete.0)?;
    if let MessageBody::Complete { actions } = &mut m.body {
        actions.remove(1);
    }
    let forged = Signed::sign(m, SESSION_MESSAGE_CONTENT_TYPE, &brand.party.node)
        .map_err(|e| e.to_string())?;
    f.push(
        "8.5.3",
        "session-receive",
        Intent::Invalid,
        "a completion without the auditor's approval (signed by the brand's node key): refused",
        request(
            &t.observer,
            &[
                supplier_msgs[0].clone(),
                (forged.bytes().to_vec(), complete.1),
            ],
        ),
        Some(json!({"initiator_node_seed": seed(&brand.party.node)})),
    );
    // A proposal signed by a key that is not the initiator's node key.
    let propose = message_of(&supplier_msgs[0].0)?;
    let supplier_node = &t.net.node(&t.supplier).party.node;
    let forged = Signed::sign(propose, SESSION_MESSAGE_CONTENT_TYPE, supplier_node)
        .map_err(|e| e.to_string())?;
    f.invalid(
        "8.5.3",
        "session-receive",
        "a propose message signed by another party's node key",
        request(
            &t.observer,
            &[(forged.bytes().to_vec(), supplier_msgs[0].1)],
        ),
    );
    session_refusal_codes(&mut f, t, &supplier_msgs, complete)?;
    session_play(&mut f)?;
    record_refusals(&mut f, t, &supplier_msgs)?;
    pdf_sealed_sessions(&mut f)?;
    proposal_refusals(&mut f)?;
    observer_refusals(&mut f, t, &supplier_msgs)?;
    assembly_refusals(&mut f)?;
    national_sessions(&mut f)?;
    sm2_intent_proofs(&mut f)?;
    Ok(f)
}

/// Section 8.4.1: intent proofs by a person's SM2 key. Appended after the family's earlier
/// vectors, so their numbers stay.
fn sm2_intent_proofs(f: &mut File) -> Result<(), String> {
    use signet_protocol::session::{INTENT_CONTENT_TYPE, IntentChallenge, IntentMethod};
    let op = "verify-intent-proof";
    let signer = TestParty::new("SM2 Intent Signer", T0);
    let person = Sm2SecretKey::from_bytes(&test_key("SM2 Intent Signer", "sm2-delegate").to_seed())
        .map_err(|e| e.to_string())?;
    let challenge = |method| IntentChallenge {
        session: signet_protocol::session::SessionId::from_bytes([0x85; 32]),
        proposal: Digest::of(b"the proposal"),
        documents: vec![Digest::of(b"the contract")],
        signer: signer.id(),
        seal: signer.contract_seal.public_key().into(),
        method,
        time: T0,
    };
    let e = |e: signet_protocol::codec::EncodeError| e.to_string();
    let soft = Signed::sign(
        challenge(IntentMethod::SoftwareKey),
        INTENT_CONTENT_TYPE,
        &person,
    )
    .map_err(e)?;
    f.push(
        "8.4.1",
        op,
        Intent::Valid,
        "a COSE proof by the person's SM2 key file (alg -98454, kid the 33-byte compressed key): method software-key",
        json!({"hex": h(soft.bytes())}),
        Some(json!({"person_sm2_scalar": h(&*person.to_bytes())})),
    );
    let claimed = Signed::sign(
        challenge(IntentMethod::Passkey),
        INTENT_CONTENT_TYPE,
        &person,
    )
    .map_err(e)?;
    f.invalid(
        "8.4.1",
        op,
        "an SM2 COSE proof claiming passkey: a key file is no passkey (IntentMethod)",
        json!({"hex": h(claimed.bytes())}),
    );
    let mut flipped = soft.bytes().to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    f.invalid(
        "8.4.1",
        op,
        "the SM2 COSE proof with one bit of its signature flipped",
        json!({"hex": h(&flipped)}),
    );
    // The person's Ed25519 key file named under -98454.
    let payload =
        codec::encode(&challenge(IntentMethod::SoftwareKey)).map_err(|x| x.to_string())?;
    let ed_as_sm2 = sign_with_header(
        &header(
            signet_protocol::keylog::ALG_SM2_SM3,
            INTENT_CONTENT_TYPE,
            &signer.delegate,
        ),
        &payload,
        &signer.delegate,
    )?;
    f.invalid(
        "3.3",
        op,
        "a COSE proof whose header names SM2 (-98454) and, as kid, the person's 32-byte Ed25519 key: the kid is no SM2 point (Sm2KeyId)",
        json!({"hex": h(&ed_as_sm2)}),
    );
    Ok(())
}

/// Sections 8.5.1 to 8.10: refusals the observer of the completed session reaches on messages
/// changed in one place (each checked to fail for that reason alone), with wire codes.
fn observer_refusals(
    f: &mut File,
    t: &Transcript,
    observed: &[(Vec<u8>, Timestamp)],
) -> Result<(), String> {
    use signet_protocol::session::SessionError;
    let e = |e: signet_protocol::codec::EncodeError| e.to_string();
    let brand = t.net.node(&t.brand);
    let supplier = t.net.node(&t.supplier);
    let (logs, attestations) = store_inputs(&brand.store);
    let policy = policy_hex(&brand.policy)?;
    let request = |messages: &[(Vec<u8>, Timestamp)]| {
        json!({
            "me": t.observer.to_string(),
            "policy": policy,
            "key_logs": logs,
            "attestations": attestations,
            "messages": messages.iter().map(|(b, at)| json!({"hex": h(b), "time": at.unix()})).collect::<Vec<_>>(),
            "codes": true,
        })
    };
    let refused_last = |inputs: &Value, wanted: &dyn Fn(&SessionError) -> bool| {
        let refusals = conformance::session_refusals(inputs)?;
        match refusals.split_last() {
            Some((Some(last), before)) if wanted(last) && before.iter().all(Option::is_none) => {
                Ok(())
            }
            _ => Err(format!("unexpected refusals {refusals:?}")),
        }
    };

    // Section 8.5.3 step 2: the proposal inside the propose message does not verify (its
    // signature's last byte changed); the message names that proposal's digest and is signed
    // by the initiator's node key.
    let (propose, at) = &observed[0];
    let mut m = message_of(propose)?;
    let MessageBody::Propose { proposal } = &m.body else {
        return Err("the first message is not a propose".into());
    };
    let tampered = flip(proposal, usize::MAX);
    m.proposal = Digest::of(&tampered);
    m.body = MessageBody::Propose { proposal: tampered };
    let forged = Signed::sign(m, SESSION_MESSAGE_CONTENT_TYPE, &brand.party.node).map_err(e)?;
    let inputs = request(&[(forged.bytes().to_vec(), *at)]);
    refused_last(&inputs, &|r| matches!(r, SessionError::ProposalObject(_)))?;
    f.push(
        "8.5.3",
        "session-receive",
        Intent::Invalid,
        "a propose message whose proposal's signature does not verify (its last byte changed; the message names that proposal's digest): ProposalObject",
        inputs,
        Some(json!({"initiator_node_seed": seed(&brand.party.node)})),
    );

    // Section 8.5.3: after the relay of the supplier's signature, a relay of a decline by the
    // supplier (signed by its node key).
    let relay_of_sign = observed
        .iter()
        .position(|(b, _)| {
            let Ok(MessageBody::Relay { message }) = message_of(b).map(|m| m.body) else {
                return false;
            };
            message_of(&message)
                .is_ok_and(|i| i.from == t.supplier && matches!(i.body, MessageBody::Sign(_)))
        })
        .ok_or("no relay of the supplier's signature")?;
    let (relay, at) = &observed[relay_of_sign];
    let outer = message_of(relay)?;
    let MessageBody::Relay { message: sign } = &outer.body else {
        return Err("not a relay".into());
    };
    let sign = message_of(sign)?;
    let decline = SessionMessage {
        body: MessageBody::Decline {
            reason: "We no longer agree.".into(),
        },
        ..sign
    };
    let decline =
        Signed::sign(decline, SESSION_MESSAGE_CONTENT_TYPE, &supplier.party.node).map_err(e)?;
    let relayed = SessionMessage {
        body: MessageBody::Relay {
            message: decline.bytes().to_vec(),
        },
        ..outer
    };
    let relayed =
        Signed::sign(relayed, SESSION_MESSAGE_CONTENT_TYPE, &brand.party.node).map_err(e)?;
    let mut messages = observed[..=relay_of_sign].to_vec();
    messages.push((relayed.bytes().to_vec(), *at));
    let inputs = request(&messages);
    refused_last(
        &inputs,
        &|r| matches!(r, SessionError::AlreadyActed(p) if *p == t.supplier),
    )?;
    f.push(
        "8.5.3",
        "session-receive",
        Intent::Invalid,
        "after the relay of the supplier's signature, a relay of a decline by the supplier (signed by its node key, relayed by the brand's): AlreadyActed, not-allowed",
        inputs,
        Some(json!({
            "initiator_node_seed": seed(&brand.party.node),
            "supplier_node_seed": seed(&supplier.party.node),
        })),
    );

    // Section 8.10 check 4: once the session completed, the supplier's evidence with its log's
    // entries about the declined session besides those about this one (a checkpoint signed
    // by its log key, every proof valid).
    let mut indices = Vec::new();
    for sid in [t.completed, t.declined] {
        indices.extend(
            supplier
                .log_entries
                .get(&sid)
                .ok_or("no entries of the supplier about a session")?,
        );
    }
    let checkpoint = supplier
        .log
        .checkpoint(&t.supplier, &supplier.party.log_key);
    let evidence = signet_protocol::evidence::PartyEvidence::from_log(
        t.supplier,
        &supplier.log,
        &indices,
        &checkpoint,
    )
    .map_err(|e| e.to_string())?;
    let (last, _) = observed.last().ok_or("no message observed")?;
    let now = t.net.now;
    let shared = SessionMessage {
        from: t.supplier,
        time: now,
        body: MessageBody::Evidence(evidence),
        ..message_of(last)?
    };
    let shared =
        Signed::sign(shared, SESSION_MESSAGE_CONTENT_TYPE, &supplier.party.node).map_err(e)?;
    let mut messages = observed.to_vec();
    messages.push((shared.bytes().to_vec(), now));
    let inputs = request(&messages);
    refused_last(&inputs, &|r| matches!(r, SessionError::EvidenceScope))?;
    f.push(
        "8.10",
        "session-receive",
        Intent::Invalid,
        "the completed session's observer receives the supplier's evidence holding, besides its entries about this session, those about the declined session: EvidenceScope, not-allowed",
        inputs,
        Some(json!({
            "supplier_node_seed": seed(&supplier.party.node),
            "supplier_log_seed": seed(&supplier.party.log_key),
        })),
    );
    Ok(())
}

/// Section 11.2 (`{"do": "assemble"}` of `session-play`): the participant of the two-party
/// session assembles its bundle once the session completed; it refuses while the session is
/// open (`NotCompleted`) and when it lacks the witness's key log (`MissingKeyLog`).
fn assembly_refusals(f: &mut File) -> Result<(), String> {
    let two = two_party_session().map_err(|e| format!("the two-party session failed: {e}"))?;
    let node = two.net.node(&two.supplier);
    let (logs, attestations) = store_inputs(&node.store);
    let mandate = node.mandate.as_ref().ok_or("a party without a mandate")?;
    let policy = policy_hex(&node.policy)?;
    let script: Vec<Value> = two.script(&two.supplier).iter().map(play_step).collect();
    let request = |logs: &Vec<Vec<String>>, steps: &[Value]| {
        let last = steps.last().map_or(json!(0), |s| s["time"].clone());
        let mut steps = steps.to_vec();
        steps.push(json!({"time": last, "do": "assemble"}));
        json!({
            "me": two.supplier.to_string(),
            "node_seed": seed(&node.party.node),
            "seal_seed": seed(&node.party.contract_seal),
            "mandate": h(mandate.bytes()),
            "policy": policy,
            "key_logs": logs,
            "attestations": attestations,
            "steps": steps,
        })
    };
    // Every step before the assembly is accepted or done; the assembly is refused with `flag`
    // alone, or done when `flag` is None.
    let only = |inputs: &Value, flag: Option<&str>| -> Result<(), String> {
        let mut request = inputs.clone();
        request["op"] = json!("session-play");
        let response = conformance::handle(&request);
        let steps = response["output"]["steps"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let (last, before) = steps.split_last().ok_or("no steps")?;
        let before_ok = before
            .iter()
            .all(|s| s["outcome"] != "refused" && s.get("code").is_none());
        let wanted = match flag {
            Some(flag) => last["outcome"] == "refused" && response["flags"] == json!([flag]),
            None => last["outcome"] == "done" && response["result"] == "valid",
        };
        if before_ok && wanted && last["sent"] == json!([]) {
            Ok(())
        } else {
            Err(format!("assemble, {flag:?}: {response}"))
        }
    };
    let inputs = request(&logs, &script);
    only(&inputs, None)?;
    f.valid(
        "11.2",
        "session-play",
        "the participant of the two-party session plays it to the end, then assembles its bundle: done, nothing sent",
        inputs,
    );
    let inputs = request(&logs, &script[..1]);
    only(&inputs, Some("NotCompleted"))?;
    f.invalid(
        "11.2",
        "session-play",
        "the participant assembles its bundle right after it received the proposal: refused while the session is open (NotCompleted)",
        inputs,
    );
    let witness = two.net.witness.id();
    let without_witness: Vec<Vec<String>> = node
        .store
        .key_logs()
        .filter(|l| l.party() != witness)
        .map(log_hex)
        .collect();
    let inputs = request(&without_witness, &script);
    only(&inputs, Some("MissingKeyLog"))?;
    f.invalid(
        "11.2",
        "session-play",
        "the same session played to the end by a participant that lacks the witness's key log (every step accepted, the witness's cosignature is not a session check): assembling is refused (MissingKeyLog)",
        inputs,
    );
    Ok(())
}

/// Sections 8.2.4 and 8.4.2: a session whose document every signer seals as a PDF. Two
/// signers of one routing group seal in listed order, each naming the revision it sealed
/// over and the one it made; a copy participant receives everything. The protocol sees
/// only digests: the revisions here are stand-ins (SHA-256 of the base and the signer).
fn pdf_sealed_sessions(f: &mut File) -> Result<(), String> {
    use signet_protocol::session::{Role, SealPlacement};
    use signet_protocol::testkit::TestNetwork;
    let now = Timestamp::from_unix(1_800_000_000);
    let mut net = TestNetwork::new(
        &[
            "Sealing Brand",
            "Sealing Supplier A",
            "Sealing Supplier B",
            "Sealing Observer",
        ],
        &["procurement"],
        now,
    );
    let ids: Vec<signet_protocol::party::PartyId> =
        net.nodes.iter().map(|n| n.party.id()).collect();
    let (brand, first, second, observer) = (ids[1], ids[2], ids[3], ids[4]);
    let mut proposal = net.proposal(
        &brand,
        &[
            (first, Role::Signer, 0),
            (second, Role::Signer, 0),
            (observer, Role::Copy, 0),
        ],
        "procurement",
        0x51,
    );
    proposal.documents[0].pdf_seals = Some(vec![SealPlacement {
        signer: second,
        page: Some(1),
        x: 400,
        y: 60,
        width: 120,
        height: 120,
    }]);
    let sid = net.propose(proposal).map_err(|e| e.to_string())?;
    let mut to_observer: Vec<(Vec<u8>, Timestamp)> = Vec::new();
    deliver_recording(&mut net, &observer, &mut to_observer);
    for signer in [first, second] {
        net.now = net.now.plus(60);
        net.sign(&signer, sid).map_err(|e| e.to_string())?;
        deliver_recording(&mut net, &observer, &mut to_observer);
    }
    let node = net.node(&observer);
    if !matches!(
        node.sessions.get(&sid).map(|s| s.status()),
        Some(signet_protocol::session::Status::Completed { .. })
    ) {
        return Err(format!(
            "the sealed session did not complete: {:?}",
            node.refused
        ));
    }
    let (logs, attestations) = store_inputs(&node.store);
    let policy = policy_hex(&node.policy)?;
    let request = |messages: &[(Vec<u8>, Timestamp)]| {
        json!({
            "me": observer.to_string(),
            "policy": policy,
            "key_logs": logs,
            "attestations": attestations,
            "messages": messages.iter().map(|(b, at)| json!({"hex": h(b), "time": at.unix()})).collect::<Vec<_>>(),
            "codes": true,
        })
    };
    f.valid(
        "8.2.4",
        "session-receive",
        "a session whose PDF both signers of one routing group seal (the second's seal placed on page 1): the copy participant receives the proposal, the two relayed signatures in sealing order (the second seals the revision the first made) and the completion: completed",
        request(&to_observer),
    );
    // The second signer's relayed signature without the first's before it.
    let relays: Vec<usize> = to_observer
        .iter()
        .enumerate()
        .filter(|(_, (b, _))| {
            matches!(message_of(b).map(|m| m.body), Ok(MessageBody::Relay { .. }))
        })
        .map(|(i, _)| i)
        .collect();
    let [one, two] = relays[..] else {
        return Err(format!("{} relays to the observer, not 2", relays.len()));
    };
    let mut skipped = to_observer[..one].to_vec();
    skipped.push(to_observer[two].clone());
    f.invalid(
        "8.6",
        "session-receive",
        "the second signer of a routing group relayed before the first, in a session that seals its PDF (signers of a group seal in listed order): RoutingOrder, routing-order",
        request(&skipped),
    );
    Ok(())
}

/// The parts of the supplier's signature record, decoded, to be changed and signed again.
#[derive(Clone)]
struct RecordParts<'a> {
    seal_signature: signet_protocol::session::SealSignature,
    challenge: signet_protocol::session::IntentChallenge,
    /// The key that signs the seal signature.
    seal_key: &'a SecretKey,
    /// The key that signs the intent challenge (a COSE proof).
    person_key: &'a SecretKey,
    /// The intent proof as given, instead of a COSE proof of `challenge` by `person_key`.
    intent: Option<Vec<u8>>,
    /// The mandate's bytes.
    delegation: Vec<u8>,
    /// Whether the seal signature's `intent` and `delegation` are set to the digests of the
    /// proof and mandate carried (else they are left as the change made them).
    bind_digests: bool,
    /// Whether the last byte of the seal signature's signature is flipped once signed.
    tamper_seal_signature: bool,
}

/// Section 8.4.3 inside `session-receive`: one vector per record check the vectors above do
/// not show. Each changes one thing in the supplier's signature record, signs every object
/// again with the public test keys (the seal, the delegate person's key, the supplier's node
/// key for its `sign` message, the brand's node key for the relay), and gives the observer
/// the proposal and that relay.
fn record_refusals(
    f: &mut File,
    t: &Transcript,
    observed: &[(Vec<u8>, Timestamp)],
) -> Result<(), String> {
    use signet_protocol::attestation::{Amount, Delegate, Delegation};
    use signet_protocol::session::{
        IntentChallenge, IntentMethod, SealSignature, SignatureRecordBytes,
    };
    use signet_protocol::testkit::{FLAG_UP, FLAG_UV, TestAuthenticator};
    let e = |e: signet_protocol::codec::EncodeError| e.to_string();
    let first = f.drafts.len();
    let brand = t.net.node(&t.brand);
    let supplier = &t.net.node(&t.supplier).party;
    let auditor = &t.net.node(&t.auditor).party;
    let policy = policy_hex(&brand.policy)?;
    let (logs, attestations) = store_inputs(&brand.store);
    // The relay of the supplier's signature, and the signature inside it.
    let mut found = None;
    for (bytes, at) in observed {
        let relay = message_of(bytes)?;
        if let MessageBody::Relay { message } = &relay.body {
            let inner = message_of(message)?;
            if let MessageBody::Sign(record) = &inner.body
                && inner.from == t.supplier
            {
                found = Some((
                    bytes.clone(),
                    relay.clone(),
                    *at,
                    inner.clone(),
                    record.clone(),
                ));
            }
        }
    }
    let (relay_bytes, relay, relay_at, sign, record) =
        found.ok_or("no relay of the supplier's signature")?;
    let seal_signature = Signed::<SealSignature>::decode(
        &record.seal_signature,
        SEAL_SIGNATURE_CONTENT_TYPE,
        &Limits::DEFAULT,
    )
    .map_err(|e| e.to_string())?;
    let intent =
        Signed::<IntentChallenge>::decode(&record.intent, INTENT_CONTENT_TYPE, &Limits::DEFAULT)
            .map_err(|e| e.to_string())?;
    let mandate = SignedAttestation::decode(
        &record.delegation,
        ATTESTATION_CONTENT_TYPE,
        &Limits::DEFAULT,
    )
    .map_err(|e| e.to_string())?;
    let base = RecordParts {
        seal_signature: seal_signature.payload().clone(),
        challenge: intent.payload().clone(),
        seal_key: &supplier.contract_seal,
        person_key: &supplier.delegate,
        intent: None,
        delegation: record.delegation.clone(),
        bind_digests: true,
        tamper_seal_signature: false,
    };
    // The relay of a `sign` message carrying the record made of `parts`.
    let relayed = |parts: RecordParts<'_>| -> Result<Vec<(Vec<u8>, Timestamp)>, String> {
        let intent = match parts.intent {
            Some(bytes) => bytes,
            None => Signed::sign(parts.challenge, INTENT_CONTENT_TYPE, parts.person_key)
                .map_err(e)?
                .bytes()
                .to_vec(),
        };
        let mut ss = parts.seal_signature;
        if parts.bind_digests {
            ss.intent = Digest::of(&intent);
            ss.delegation = Digest::of(&parts.delegation);
        }
        let ss = Signed::sign(ss, SEAL_SIGNATURE_CONTENT_TYPE, parts.seal_key).map_err(e)?;
        let mut seal_signature = ss.bytes().to_vec();
        if parts.tamper_seal_signature {
            seal_signature = flip(&seal_signature, seal_signature.len() - 1);
        }
        let mut m = sign.clone();
        m.body = MessageBody::Sign(SignatureRecordBytes {
            seal_signature,
            intent,
            delegation: parts.delegation,
        });
        let m = Signed::sign(m, SESSION_MESSAGE_CONTENT_TYPE, &supplier.node).map_err(e)?;
        let mut r = relay.clone();
        r.body = MessageBody::Relay {
            message: m.bytes().to_vec(),
        };
        let r = Signed::sign(r, SESSION_MESSAGE_CONTENT_TYPE, &brand.party.node).map_err(e)?;
        Ok(vec![observed[0].clone(), (r.bytes().to_vec(), relay_at)])
    };
    let request = |policy: &str,
                   logs: &Vec<Vec<String>>,
                   attestations: &Vec<String>,
                   messages: Vec<(Vec<u8>, Timestamp)>| {
        json!({
            "me": t.observer.to_string(),
            "policy": policy,
            "key_logs": logs,
            "attestations": attestations,
            "messages": messages.iter().map(|(b, at)| json!({"hex": h(b), "time": at.unix()})).collect::<Vec<_>>(),
            "codes": true,
        })
    };
    let given = json!({
        "supplier_node_seed": seed(&supplier.node),
        "supplier_contract_seal_seed": seed(&supplier.contract_seal),
        "supplier_delegate_seed": seed(&supplier.delegate),
        "supplier_attest_seed": seed(&supplier.attest),
        "initiator_node_seed": seed(&brand.party.node),
    });
    macro_rules! case {
        ($what:expr, $parts:expr) => {
            f.push(
                "8.4.3",
                "session-receive",
                Intent::Invalid,
                $what,
                request(&policy, &logs, &attestations, relayed($parts)?),
                Some(given.clone()),
            )
        };
    }
    // A mandate of the supplier (or of `issuer`) like its own, changed by `edit`, under a
    // fresh id.
    let mut next_id = 0x60u8;
    let mut issue = |issuer: &signet_protocol::testkit::TestParty,
                     edit: &dyn Fn(&mut Attestation, &mut Delegation)|
     -> Result<Vec<u8>, String> {
        next_id += 1;
        let mut a = mandate.payload().clone();
        a.id = signet_protocol::party::AttestationId::from_bytes([next_id; 16]);
        a.issuer = issuer.id();
        a.subject = issuer.id();
        let Claims::Delegation(mut d) = a.claims.clone() else {
            return Err("the supplier's mandate is not a delegation".into());
        };
        edit(&mut a, &mut d);
        a.claims = Claims::Delegation(d);
        Ok(a.issue(&issuer.attest, &issuer.log)
            .map_err(|e| e.to_string())?
            .bytes()
            .to_vec())
    };
    let other_session = signet_protocol::session::SessionId::from_bytes([0x93; 32]);
    let other_proposal = Digest::of(b"another proposal");
    let other_documents = vec![Digest::of(b"another document")];

    // The three objects (8.4): each must verify.
    let mut p = base.clone();
    p.tamper_seal_signature = true;
    case!(
        "a seal signature whose signature does not verify (its last byte flipped): Record(SealSignatureObject(BadSignature)), bad-signature",
        p
    );
    let mut p = base.clone();
    p.delegation = flip(&base.delegation, base.delegation.len() - 1);
    case!(
        "a mandate whose signature does not verify (its last byte flipped; the seal signature names the bytes carried): Record(DelegationObject(BadSignature)), bad-signature",
        p
    );

    // 1. binding: the seal signature, with the intent proof consistent with it.
    let mut p = base.clone();
    p.seal_signature.session = other_session;
    p.challenge.session = other_session;
    case!(
        "a signature record made for another session (its seal signature and intent proof both name it): Record(Binding(\"seal signature\")), invalid-signature",
        p
    );
    let mut p = base.clone();
    p.seal_signature.proposal = other_proposal;
    p.challenge.proposal = other_proposal;
    case!(
        "a signature record made for another proposal digest (its seal signature and intent proof both name it): Record(Binding(\"seal signature\")), invalid-signature",
        p
    );
    let mut p = base.clone();
    p.seal_signature.documents = other_documents.clone();
    case!(
        "a seal signature over other document digests than the proposal's (the intent proof names the proposal's): Record(Binding(\"seal signature\")), invalid-signature",
        p
    );
    let mut p = base.clone();
    p.seal_signature.signer = t.auditor;
    case!(
        "a seal signature naming another signer (the auditor) than the supplier whose sign message carries it: Record(Binding(\"seal signature\")), invalid-signature",
        p
    );
    // 1. binding: the intent proof, with the seal signature right.
    let mut p = base.clone();
    p.challenge.session = other_session;
    case!(
        "an intent proof bound to another session than its seal signature's: Record(Binding(\"intent proof\")), invalid-signature",
        p
    );
    let mut p = base.clone();
    p.challenge.proposal = other_proposal;
    case!(
        "an intent proof bound to another proposal digest than its seal signature's: Record(Binding(\"intent proof\")), invalid-signature",
        p
    );
    let mut p = base.clone();
    p.challenge.documents = other_documents;
    case!(
        "an intent proof over other document digests than the proposal's: Record(Binding(\"intent proof\")), invalid-signature",
        p
    );
    let mut p = base.clone();
    p.challenge.signer = t.auditor;
    case!(
        "an intent proof naming another signer (the auditor): Record(Binding(\"intent proof\")), invalid-signature",
        p
    );
    let mut p = base.clone();
    p.challenge.seal = supplier.company_seal.public_key().into();
    case!(
        "an intent proof naming another seal (the supplier's company seal) than the key that signed the seal signature: Record(Binding(\"intent proof\")), invalid-signature",
        p
    );
    let mut p = base.clone();
    p.bind_digests = false;
    let mut earlier = base.challenge.clone();
    earlier.time = Timestamp::from_unix(earlier.time.unix() - 1);
    p.seal_signature.intent = Signed::sign(earlier, INTENT_CONTENT_TYPE, &supplier.delegate)
        .map_err(e)?
        .digest();
    case!(
        "a seal signature whose `intent` is the digest of another intent proof (the delegate's proof made a second earlier) than the one carried: Record(Binding(\"intent proof\")), invalid-signature",
        p
    );
    let mut p = base.clone();
    p.bind_digests = false;
    p.seal_signature.intent =
        Signed::sign(p.challenge.clone(), INTENT_CONTENT_TYPE, &supplier.delegate)
            .map_err(e)?
            .digest();
    p.seal_signature.delegation = Digest::of(b"another mandate");
    case!(
        "a seal signature whose `delegation` is not the digest of the mandate carried: Record(Binding(\"delegation\")), invalid-signature",
        p
    );

    // 2. intent: the method, and the time.
    let mut p = base.clone();
    p.challenge.method = IntentMethod::HardwareToken;
    case!(
        "a COSE intent proof (a key file) claiming the method hardware-token: Record(IntentMethod(HardwareToken)), invalid-signature",
        p
    );
    let passkey = TestAuthenticator::new("Supplier", "sign.example.com");
    let by_passkey = issue(supplier, &|_, d| {
        d.delegate = Delegate::with_credential(d.delegate.name.clone(), passkey.credential.clone());
    })?;
    let mut claimed = base.challenge.clone();
    claimed.method = IntentMethod::Passkey;
    let mut p = base.clone();
    p.intent = Some(passkey.assert(&claimed, FLAG_UP, "https://sign.example.com"));
    p.delegation = by_passkey.clone();
    case!(
        "a WebAuthn intent proof claiming passkey whose authenticator data show user presence without user verification (UV clear), under a mandate that names the passkey: Record(IntentMethod(Passkey)), invalid-signature",
        p
    );
    let mut p = base.clone();
    p.intent = Some(
        passkey.assert_raw(
            claimed.encode().map_err(e)?,
            FLAG_UP | FLAG_UV,
            format!(
                r#"{{"type":"webauthn.get","challenge":"{}","origin":"https://sign.example.com"}}"#,
                "A".repeat(43)
            )
            .into_bytes(),
        ),
    );
    p.delegation = by_passkey;
    case!(
        "a WebAuthn intent proof whose client data assert another challenge than the SHA-256 of the intent challenge it carries, under a mandate that names the passkey: Record(IntentObject(ClientData)), bad-signed-object",
        p
    );
    let mut p = base.clone();
    p.challenge.time = Timestamp::from_unix(base.seal_signature.time.unix() - 601);
    case!(
        "an intent proof made 601 seconds before the seal signature (at most 600): Record(IntentTime), invalid-signature",
        p
    );
    let mut p = base.clone();
    p.challenge.time = Timestamp::from_unix(base.seal_signature.time.unix() + 1);
    case!(
        "an intent proof made a second after the seal signature: Record(IntentTime), invalid-signature",
        p
    );
    let another_person = test_key("Supplier", "another delegate");
    let mut p = base.clone();
    p.person_key = &another_person;
    case!(
        "an intent proof signed by a person's key that the mandate does not name (it names the supplier's delegate): Record(Mandate(DelegateMismatch)), outside-mandate",
        p
    );

    // 3. seal key.
    let undeclared = test_key("Supplier", "undeclared seal");
    let mut p = base.clone();
    p.challenge.seal = undeclared.public_key().into();
    p.seal_key = &undeclared;
    p.delegation = issue(supplier, &|_, d| {
        d.seals = vec![undeclared.public_key().into()]
    })?;
    case!(
        "a seal signature by a key the supplier's key log does not declare (the intent proof and the mandate name it; the mandate check, which looks at the seal key too (5.3.1), would fail as well): Record(SealKey(UnknownKey)), key-not-valid",
        p
    );
    let mut p = base.clone();
    p.challenge.seal = supplier.attest.public_key().into();
    p.seal_key = &supplier.attest;
    p.delegation = issue(supplier, &|_, d| {
        d.seals = vec![supplier.attest.public_key().into()]
    })?;
    case!(
        "a seal signature by the supplier's attest key, declared for another purpose than seal (the intent proof and the mandate name it; the mandate check, which looks at the seal key too (5.3.1), would fail as well): Record(SealKey(WrongPurpose)), key-not-valid",
        p
    );
    let mut p = base.clone();
    p.challenge.seal = supplier.company_seal.public_key().into();
    p.seal_key = &supplier.company_seal;
    p.delegation = issue(supplier, &|_, d| {
        d.seals = vec![supplier.company_seal.public_key().into()]
    })?;
    case!(
        "a seal signature by the supplier's company seal where the proposal requires a contract seal (the intent proof and the mandate name it): Record(SealKind), invalid-signature",
        p
    );
    // The contract seal retired (by the supplier's root key) before the signing time.
    let mut retired_log = supplier.log.clone();
    let retired_at = Timestamp::from_unix(base.seal_signature.time.unix() - 30);
    retired_log
        .retire_key(
            &supplier.root,
            supplier.contract_seal.public_key(),
            retired_at,
        )
        .map_err(|e| e.to_string())?;
    let retired_logs: Vec<Vec<String>> = brand
        .store
        .key_logs()
        .map(|l| {
            if l.party() == t.supplier {
                log_hex(&retired_log)
            } else {
                log_hex(l)
            }
        })
        .collect();
    f.push(
        "8.4.3",
        "session-receive",
        Intent::Invalid,
        "the supplier's key log retires its contract seal 30 seconds before the seal signature's time (the record is otherwise the supplier's own; the mandate check, which looks at the seal key too (5.3.1), would fail as well): Record(SealKey(Retired)), key-not-valid",
        request(&policy, &retired_logs, &attestations, relayed(base.clone())?),
        Some(json!({"supplier_root_seed": seed(&supplier.root)})),
    );
    // A policy that wants revocation status at most a day old, without the supplier's list.
    let fresh = TrustPolicy {
        revocation_freshness: Some(DAY),
        ..brand.policy.clone()
    };
    let without_supplier_list: Vec<String> = brand
        .store
        .attestations()
        .filter(|a| {
            let a = a.payload();
            !(a.issuer == t.supplier && matches!(a.claims, Claims::RevocationList(_)))
        })
        .map(|a| h(a.bytes()))
        .collect();
    f.invalid(
        "8.4.3",
        "session-receive",
        "the completed session's supplier signature under a policy that wants revocation status at most a day old, without the supplier's revocation list: Record(StaleRevocationStatus), indeterminate",
        request(
            &policy_hex(&fresh)?,
            &logs,
            &without_supplier_list,
            vec![observed[0].clone(), (relay_bytes.clone(), relay_at)],
        ),
    );

    // 4. mandate.
    let mut p = base.clone();
    p.delegation = issue(auditor, &|_, _| {})?;
    case!(
        "a mandate issued by another party (the auditor) that names the supplier's delegate and contract seal: Record(Mandate(WrongParty)), outside-mandate",
        p
    );
    let mut p = base.clone();
    p.delegation = issue(supplier, &|_, d| d.purposes = vec!["logistics".into()])?;
    case!(
        "a mandate for the purpose logistics only, the proposal's purpose being procurement: Record(Mandate(PurposeNotCovered)), outside-mandate",
        p
    );
    let mut p = base.clone();
    p.delegation = issue(supplier, &|_, d| {
        d.seals = vec![supplier.company_seal.public_key().into()]
    })?;
    case!(
        "a mandate that covers the supplier's company seal only, the record sealed with its contract seal: Record(Mandate(SealNotCovered)), outside-mandate",
        p
    );
    let mut p = base.clone();
    p.delegation = issue(supplier, &|_, d| {
        d.value_cap = Some(Amount {
            currency: "CNY".into(),
            minor_units: 100_000_000,
        })
    })?;
    case!(
        "a mandate capped at CNY 1,000,000.00 for a contract of CNY 1,250,000.00: Record(Mandate(ValueExceedsCap)), outside-mandate",
        p
    );
    let mut p = base.clone();
    let brand_only = t.brand;
    p.delegation = issue(supplier, &|_, d| d.counterparties = Some(vec![brand_only]))?;
    case!(
        "a mandate for contracts with the brand only, the session's other parties being the auditor and the observer too: Record(Mandate(CounterpartyNotAllowed)), outside-mandate",
        p
    );
    let mut p = base.clone();
    let ends = Timestamp::from_unix(base.seal_signature.time.unix() - 60);
    p.delegation = issue(supplier, &|a, _| a.valid_until = ends)?;
    case!(
        "a mandate that ended 60 seconds before the seal signature's time: Record(Mandate(Expired)), outside-mandate",
        p
    );
    let mut p = base.clone();
    let revocation_list = brand
        .store
        .attestations()
        .find(|a| {
            let a = a.payload();
            a.issuer == t.supplier && matches!(a.claims, Claims::RevocationList(_))
        })
        .ok_or("no revocation list of the supplier")?;
    p.delegation = revocation_list.bytes().to_vec();
    case!(
        "a record whose delegation is the supplier's revocation list, not a seal mandate: Record(Mandate(NotADelegation)), outside-mandate",
        p
    );

    // 6. routing.
    let mut p = base.clone();
    p.seal_signature.prior = vec![Digest::of(b"an action of no earlier group")];
    case!(
        "a seal signature of the first routing group that commits to a prior action: Record(Prior), invalid-signature",
        p
    );

    // 1 again (added later, so listed last): a PDF revision where no document is sealed.
    let mut p = base.clone();
    let document = p.seal_signature.documents[0];
    p.seal_signature.pdf = vec![signet_protocol::session::PdfRevision {
        document: 0,
        base: document,
        sealed: Digest::of(b"a sealed revision"),
        size: 4096,
    }];
    case!(
        "a seal signature naming a PDF revision in a session that seals no document as a PDF: Record(Binding(\"PDF revision chain\")), invalid-signature",
        p
    );
    for draft in &f.drafts[first..] {
        refused_as_described(draft)?;
        fails_one_check(draft, t)?;
    }
    Ok(())
}

/// Checks that the record of a `record_refusals` vector fails one check of 8.4.3 only: each
/// check is run on its own, as a participant receiving it live would judge it. The one
/// overlap the checks allow is the seal key, which the mandate check looks at too (5.3.1);
/// a record whose objects do not decode fails before any check.
fn fails_one_check(draft: &Draft, t: &Transcript) -> Result<(), String> {
    use signet_protocol::session::{
        Judged, Proposal, RecordCheck, RecordCheckKind, RecordError, SignatureRecord,
    };
    let what = &draft.description;
    let (store, policy) = conformance::knowledge(&draft.inputs)?;
    let message = |i: usize| -> Result<(SessionMessage, Timestamp), String> {
        let m = &draft.inputs["messages"][i];
        let bytes =
            hex::decode(m["hex"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
        let at = Timestamp::from_unix(m["time"].as_u64().unwrap_or_default());
        Ok((message_of(&bytes)?, at))
    };
    let MessageBody::Propose { proposal } = message(0)?.0.body else {
        return Err(format!("{what}: the first message is no proposal"));
    };
    let proposal = Signed::<Proposal>::decode(&proposal, PROPOSAL_CONTENT_TYPE, &Limits::DEFAULT)
        .map_err(|e| e.to_string())?;
    let (relay, now) = message(1)?;
    let MessageBody::Relay { message: inner } = relay.body else {
        return Err(format!("{what}: the second message is no relay"));
    };
    let MessageBody::Sign(bytes) = message_of(&inner)?.body else {
        return Err(format!("{what}: the relay holds no signature"));
    };
    let record = match SignatureRecord::from_bytes(&bytes) {
        Ok(record) => record,
        Err(_) if what.contains("Object(") => return Ok(()),
        Err(e) => return Err(format!("{what}: the record does not decode: {e}")),
    };
    let participant = proposal
        .payload()
        .participant(&t.supplier)
        .ok_or("the supplier is no participant")?
        .clone();
    let check = RecordCheck {
        proposal: &proposal,
        participant: &participant,
        prior: &[],
        pdf_bases: Some(&[]),
        store: &store,
        policy: &policy,
        viewer: Some(t.observer),
        judged: Judged::Live { now },
    };
    let failing: Vec<(RecordCheckKind, RecordError)> = RecordCheckKind::ALL
        .into_iter()
        .filter_map(|kind| record.check(kind, &check).err().map(|e| (kind, e)))
        .collect();
    let overlap = |(kind, error): &(RecordCheckKind, RecordError)| {
        *kind == RecordCheckKind::Mandate
            && matches!(
                error,
                RecordError::Mandate(signet_protocol::attestation::MandateError::SealKey(_))
            )
    };
    match failing.split_first() {
        Some((_, rest)) if rest.iter().all(overlap) => Ok(()),
        _ => Err(format!("{what}: fails the checks {failing:?}")),
    }
}

/// Checks that a `record_refusals` vector refuses its last message, and only that one, with
/// the record error and wire code its description ends with (`…: Record(Error(Inner)), code`):
/// the op reports only the wire code and the outer variants.
fn refused_as_described(draft: &Draft) -> Result<(), String> {
    use signet_protocol::error::WireError;
    let what = &draft.description;
    let (_, named) = what
        .rsplit_once(": Record(")
        .ok_or_else(|| format!("{what}: no record error named"))?;
    let (error, code) = named
        .rsplit_once("), ")
        .ok_or_else(|| format!("{what}: no wire code named"))?;
    let pattern = format!("error: {}", error.trim_end_matches(')'));
    let refusals = conformance::session_refusals(&draft.inputs)?;
    let Some((Some(last), earlier)) = refusals.split_last() else {
        return Err(format!("{what}: the last message is not refused"));
    };
    if earlier.iter().any(Option::is_some) {
        return Err(format!("{what}: an earlier message is refused"));
    }
    let debug = format!("{last:?}");
    if !debug.contains(&pattern) || last.code().name() != code {
        return Err(format!(
            "{what}: refused with {debug} ({})",
            last.code().name()
        ));
    }
    Ok(())
}

/// One step of a `session-play` script, as the vector gives it.
fn play_step(played: &Played) -> Value {
    match played {
        Played::Received(d) => json!({"time": d.at.unix(), "receive": h(&d.bytes)}),
        Played::Acted { at, action, .. } => {
            let mut step = match action {
                LocalAction::Propose(p) => json!({"do": "propose", "proposal": h(p)}),
                LocalAction::Acknowledge => json!({"do": "acknowledge"}),
                LocalAction::Sign(intent) => json!({"do": "sign", "intent": h(intent)}),
                LocalAction::ShareEvidence(e) => json!({"do": "share-evidence", "evidence": h(e)}),
            };
            step["time"] = json!(at.unix());
            step
        }
    }
}

/// Sections 8.5 to 8.10 played whole (`session-play`): the implementation is the participant
/// of a two-party session, then its initiator; each view's bundle verifies VALID.
fn session_play(f: &mut File) -> Result<(), String> {
    let two = two_party_session().map_err(|e| format!("the two-party session failed: {e}"))?;
    let inputs =
        |party: &signet_protocol::party::PartyId, steps: &[Played]| -> Result<Value, String> {
            let node = two.net.node(party);
            let (logs, attestations) = store_inputs(&node.store);
            let mandate = node.mandate.as_ref().ok_or("a party without a mandate")?;
            Ok(json!({
                "me": party.to_string(),
                "node_seed": seed(&node.party.node),
                "seal_seed": seed(&node.party.contract_seal),
                "mandate": h(mandate.bytes()),
                "policy": policy_hex(&node.policy)?,
                "key_logs": logs,
                "attestations": attestations,
                "steps": steps.iter().map(play_step).collect::<Vec<_>>(),
            }))
        };
    // What the op says a party sent must be what it sent in the network.
    let sent_in_network =
        |party: &signet_protocol::party::PartyId| -> Result<Vec<(String, String)>, String> {
            let mut sent = Vec::new();
            for p in &two.played {
                if let Played::Received(d) = p
                    && message_of(&d.bytes)?.from == *party
                {
                    sent.push((d.to.to_string(), h(&d.bytes)));
                }
            }
            sent.sort();
            Ok(sent)
        };
    let sent_by_op = |inputs: &Value| -> Vec<(String, String)> {
        let mut request = inputs.clone();
        request["op"] = json!("session-play");
        let response = conformance::handle(&request);
        let mut sent = Vec::new();
        for step in response["output"]["steps"].as_array().into_iter().flatten() {
            for out in step["sent"].as_array().into_iter().flatten() {
                for to in out["to"].as_array().into_iter().flatten() {
                    sent.push((
                        to.as_str().unwrap_or_default().to_string(),
                        out["hex"].as_str().unwrap_or_default().to_string(),
                    ));
                }
            }
        }
        sent.sort();
        sent
    };
    for (party, role) in [(two.supplier, "participant"), (two.brand, "initiator")] {
        let script = two.script(&party);
        let request = inputs(&party, &script)?;
        if sent_by_op(&request) != sent_in_network(&party)? {
            return Err(format!(
                "session-play: the {role} sends other messages than in the network"
            ));
        }
        let what = if role == "participant" {
            "the implementation is the participant (supplier, signer, order 0) of a two-party session: it receives the proposal, acknowledges, signs with the given intent proof, receives the brand's relayed signature and the completion, shares its evidence and receives the brand's"
        } else {
            "the implementation is the initiator (brand, signer, order 1) of a two-party session: it proposes, receives the supplier's acknowledgement and signature, signs (its relayed signature and the completion are sent at once), shares its evidence and receives the supplier's"
        };
        f.push(
            "8.5",
            "session-play",
            Intent::Valid,
            what,
            request,
            Some(json!({"bundle": h(&two.bundle(&party).map_err(|e| e.to_string())?)})),
        );
    }
    // Each view's bundle (the `given` of the vectors above) verifies VALID.
    for (party, role) in [(two.supplier, "participant"), (two.brand, "initiator")] {
        let node = two.net.node(&party);
        f.valid(
            "11.3",
            "verify-bundle",
            &format!("the bundle of the {role}'s view of the two-party session played above, with its document"),
            json!({
                "hex": h(&two.bundle(&party).map_err(|e| e.to_string())?),
                "documents": [h(&document(7))],
                "policy": policy_hex(&node.policy)?,
                "time": two.net.now.plus(DAY).unix(),
            }),
        );
    }
    // The completion overtakes the relay of the brand's signature: the completion is accepted
    // (it holds every action, each re-verified), the late relay is refused (session-ended).
    let mut script = two.script(&two.supplier);
    let relay = script
        .iter()
        .position(|p| matches!(p, Played::Received(d) if message_of(&d.bytes).is_ok_and(|m| matches!(m.body, MessageBody::Relay { .. }))))
        .ok_or("no relay to the supplier")?;
    script.swap(relay, relay + 1);
    f.invalid(
        "8.5.3",
        "session-play",
        "the participant receives the completion before the relay of the brand's signature: the completion completes the session, the relay that follows is refused (session-ended)",
        inputs(&two.supplier, &script)?,
    );
    // The initiator is asked to sign before the supplier has: refused, nothing sent; the
    // session then goes on as before.
    let mut script = two.script(&two.brand);
    let sign = script
        .iter()
        .position(|p| {
            matches!(
                p,
                Played::Acted {
                    action: LocalAction::Sign(_),
                    ..
                }
            )
        })
        .ok_or("no signature of the brand")?;
    let Played::Acted { party, action, .. } = script[sign].clone() else {
        return Err("no signature of the brand".into());
    };
    let Played::Received(ack) = &script[1] else {
        return Err("the brand's second step is not the acknowledgement".into());
    };
    let early = Played::Acted {
        party,
        at: ack.at,
        action,
    };
    script.insert(2, early);
    f.invalid(
        "8.5.2",
        "session-play",
        "the initiator is asked to sign before the supplier (order 0) has signed: the action is refused and nothing is sent; the session then completes as before",
        inputs(&two.brand, &script)?,
    );
    Ok(())
}

/// Section 12.5.1: the wire code of each refusal (`"codes": true`). The session-receive
/// vectors that refuse a message are repeated with their codes, then the refusals they do
/// not show: an unknown key log, an untrusted or indeterminate initiator, an incomplete
/// completion.
fn session_refusal_codes(
    f: &mut File,
    t: &Transcript,
    observed: &[(Vec<u8>, Timestamp)],
    complete: &(Vec<u8>, Timestamp),
) -> Result<(), String> {
    let refusing: Vec<(String, Value)> = f
        .drafts
        .iter()
        .filter(|d| d.op == "session-receive" && d.intent == Intent::Invalid)
        .map(|d| (d.description.clone(), d.inputs.clone()))
        .collect();
    for (description, mut inputs) in refusing {
        inputs["codes"] = json!(true);
        f.invalid(
            "12.5.1",
            "session-receive",
            &format!("{description}; with the wire code of each refusal"),
            inputs,
        );
    }
    let brand = t.net.node(&t.brand);
    let policy = policy_hex(&brand.policy)?;
    let (logs, attestations) = store_inputs(&brand.store);
    let with = |policy: &str,
                logs: &Vec<Vec<String>>,
                attestations: &Vec<String>,
                messages: &[(Vec<u8>, Timestamp)]| {
        json!({
            "me": t.observer.to_string(),
            "policy": policy,
            "key_logs": logs,
            "attestations": attestations,
            "messages": messages.iter().map(|(b, at)| json!({"hex": h(b), "time": at.unix()})).collect::<Vec<_>>(),
            "codes": true,
        })
    };
    let first = std::slice::from_ref(&observed[0]);
    let without_initiator: Vec<Vec<String>> = brand
        .store
        .key_logs()
        .filter(|l| l.party() != t.brand)
        .map(log_hex)
        .collect();
    f.invalid(
        "8.5.3",
        "session-receive",
        "the proposal of an initiator whose key log the receiver lacks: retry-later",
        with(&policy, &without_initiator, &attestations, first),
    );
    let no_anchors = TrustPolicy {
        anchors: Vec::new(),
        ..brand.policy.clone()
    };
    f.invalid(
        "8.5.3",
        "session-receive",
        "the proposal under a policy with no anchors: the initiator is untrusted",
        with(&policy_hex(&no_anchors)?, &logs, &attestations, first),
    );
    f.invalid(
        "8.5.3",
        "session-receive",
        "the proposal with no attestation known: the initiator is indeterminate",
        with(&policy, &logs, &Vec::new(), first),
    );
    let mut m = message_of(&complete.0)?;
    if let MessageBody::Complete { actions } = &mut m.body {
        actions.pop();
    }
    let lacking = Signed::sign(m, SESSION_MESSAGE_CONTENT_TYPE, &brand.party.node)
        .map_err(|e| e.to_string())?;
    f.push(
        "8.5.3",
        "session-receive",
        Intent::Invalid,
        "a completion without the brand's own signature, the last action (signed by the brand's node key): invalid-completion",
        with(
            &policy,
            &logs,
            &attestations,
            &[observed[0].clone(), (lacking.bytes().to_vec(), complete.1)],
        ),
        Some(json!({"initiator_node_seed": seed(&brand.party.node)})),
    );
    // Record failures (section 8.4.3): a mandate longer than the receiver allows, and a seal
    // key its party revoked before it signed.
    let strict = TrustPolicy {
        max_delegation_validity: DAY,
        ..brand.policy.clone()
    };
    f.invalid(
        "8.4.3",
        "session-receive",
        "the completed session under a policy that accepts mandates of at most one day: the supplier's signature is outside its mandate",
        with(&policy_hex(&strict)?, &logs, &attestations, observed),
    );
    let supplier = &t.net.node(&t.supplier).party;
    let revocation = signet_protocol::attestation::Attestation {
        id: signet_protocol::party::AttestationId::from_bytes([0x5e; 16]),
        issuer: t.supplier,
        subject: t.supplier,
        issued_at: T0.plus(DAY),
        valid_from: T0.plus(DAY),
        valid_until: T0.plus(3650 * DAY),
        claims: Claims::Revocation(signet_protocol::attestation::Revocation {
            target: signet_protocol::attestation::RevocationTarget::Key(
                supplier.contract_seal.public_key().into(),
            ),
            effective: T0,
            reason: RevocationReason::KeyCompromise,
        }),
    }
    .issue(&supplier.attest, &supplier.log)
    .map_err(|e| e.to_string())?;
    let mut with_revocation = attestations.clone();
    with_revocation.push(h(revocation.bytes()));
    f.push(
        "8.4.3",
        "session-receive",
        Intent::Invalid,
        "the completed session with the supplier's revocation of its contract seal key, effective from before it signed: revoked",
        with(&policy, &logs, &with_revocation, observed),
        Some(json!({"supplier_attest_seed": seed(&supplier.attest)})),
    );
    let without_supplier_identity: Vec<String> = brand
        .store
        .attestations()
        .filter(|a| {
            let a = a.payload();
            !(a.subject == t.supplier && matches!(a.claims, Claims::Identity(_)))
        })
        .map(|a| h(a.bytes()))
        .collect();
    f.invalid(
        "8.4.3",
        "session-receive",
        "the completed session without the supplier's identity attestation: the signer's identity is indeterminate",
        with(&policy, &logs, &without_supplier_identity, observed),
    );
    Ok(())
}

// ----- section 9 -----

/// Section 9.4: a fetcher's checks of the holder's answers to its chunk requests
/// (`fetch-document`), one vector per outcome of section 9.7 that needs no network.
fn document_transfer() -> Result<File, String> {
    let mut f = File::new(
        "09-document-transfer",
        "Document transfer: a fetcher's checks of the chunks it is given",
        "9",
    );
    const C: usize = signet_protocol::transport::doc::CHUNK_SIZE;
    let chunk = |document_len: usize, bytes: &[u8]| {
        h(&ChunkResponse::Chunk {
            document_len: document_len as u64,
            bytes: bytes.to_vec(),
        }
        .encode())
    };
    // The document of `len` bytes: byte `i` is `i mod 251`, so that no two chunks are alike.
    let document = |len: usize| (0..len).map(|i| (i % 251) as u8).collect::<Vec<u8>>();
    let request = |size: usize, digest: Digest, responses: Vec<String>| json!({"size": size, "digest": digest.to_hex(), "responses": responses});
    let op = "fetch-document";
    let small = document(10);
    let small_digest = Digest::of(&small);
    f.valid(
        "9.4",
        op,
        "a 10-byte document in one chunk: its length and digest are the document-ref's, stored",
        request(10, small_digest, vec![chunk(10, &small)]),
    );
    let two = document(C + 10);
    let two_digest = Digest::of(&two);
    f.valid(
        "9.4",
        op,
        "a document of 262,154 bytes in two chunks (262,144 bytes, then 10), stored",
        request(
            C + 10,
            two_digest,
            vec![chunk(C + 10, &two[..C]), chunk(C + 10, &two[C..])],
        ),
    );
    f.valid(
        "9.2",
        op,
        "the empty document: chunk 0 holds no bytes, the digest is SHA-256 of the empty string, stored",
        request(0, Digest::of(b""), vec![chunk(0, b"")]),
    );
    let mut longer = small.clone();
    longer.push(10);
    f.invalid(
        "9.4",
        op,
        "chunk 0 states a length of 11 bytes, the document-ref a size of 10: size-mismatch",
        request(10, small_digest, vec![chunk(11, &longer)]),
    );
    let huge = 4096 * C + 1;
    f.invalid(
        "9.2",
        op,
        "a document-ref of 4,096 × 262,144 + 1 bytes (4,097 chunks), chunk 0 stating that length: too-large",
        request(huge, Digest::of(b"a document too large to fetch"), vec![chunk(huge, &document(C))]),
    );
    f.invalid(
        "9.4",
        op,
        "chunk 1 states another document length (262,155) than chunk 0 (262,154): holder-misbehaved",
        request(
            C + 10,
            two_digest,
            vec![chunk(C + 10, &two[..C]), chunk(C + 11, &two[C..])],
        ),
    );
    f.invalid(
        "9.4",
        op,
        "the only chunk of a 10-byte document holds 9 bytes: holder-misbehaved",
        request(10, small_digest, vec![chunk(10, &small[..9])]),
    );
    f.invalid(
        "9.4",
        op,
        "the only chunk of a 10-byte document holds 11 bytes: holder-misbehaved",
        request(10, small_digest, vec![chunk(10, &longer)]),
    );
    f.invalid(
        "9.4",
        op,
        "the chunk of the empty document holds a byte: holder-misbehaved",
        request(0, Digest::of(b""), vec![chunk(0, &[0])]),
    );
    f.invalid(
        "9.4",
        op,
        "the 10 bytes served differ from the document in their last byte: digest-mismatch",
        request(10, small_digest, vec![chunk(10, &flip(&small, 9))]),
    );
    f.invalid(
        "9.4",
        op,
        "the holder refuses chunk 0 with retry-later (606): refused, with the code",
        request(
            10,
            small_digest,
            vec![h(&ChunkResponse::Refused(ErrorCode::RetryLater).encode())],
        ),
    );
    f.invalid(
        "9.4",
        op,
        "the holder answers not found (02): not-found",
        request(10, small_digest, vec![h(&ChunkResponse::NotFound.encode())]),
    );
    f.invalid(
        "9.3.2",
        op,
        "a not-found answer of two bytes (02 00) is malformed, no answer at all: delivery-failure",
        request(10, small_digest, vec!["0200".into()]),
    );
    f.invalid(
        "9.4",
        op,
        "no answer to the request for chunk 0: delivery-failure",
        request(10, small_digest, Vec::new()),
    );
    Ok(f)
}

// ----- section 10 -----

fn evidence(t: &Transcript) -> Result<File, String> {
    let mut f = File::new(
        "10-evidence-log",
        "Evidence events, Merkle proofs, checkpoints, cosignatures, witnesses, equivocation",
        "10",
    );
    let event = EvidenceEvent {
        kind: EvidenceKind::SignatureReceived,
        time: T0,
        session: Some(Digest::from_bytes([0x11; 32])),
        objects: vec![Digest::from_bytes([0x22; 32])],
        note: Some("ok".into()),
    };
    let bytes = event.encode().map_err(|e| e.to_string())?;
    f.valid(
        "10.1",
        "decode-evidence-event",
        "the example event of section 10.1",
        json!({"hex": h(&bytes)}),
    );
    let mut unknown = event.clone();
    unknown.kind = EvidenceKind::Unknown(99);
    f.valid(
        "10.1",
        "decode-evidence-event",
        "an unknown kind decodes (the registry is open)",
        json!({"hex": h(&unknown.encode().map_err(|e| e.to_string())?)}),
    );
    let mut with_null = Vec::new();
    for (k, v) in [
        ("kind", Cbor::Integer(1.into())),
        ("note", Cbor::Null),
        ("time", Cbor::Integer(5.into())),
        ("objects", Cbor::Array(vec![])),
    ] {
        with_null.push((Cbor::Text(k.into()), v));
    }
    f.invalid(
        "10.1",
        "decode-evidence-event",
        "an absent note spelled as null",
        json!({"hex": h(&enc(&Cbor::Map(with_null)).unwrap_or_else(|_| vec![0xa4, 0x64, 0x6b, 0x69, 0x6e, 0x64, 0x01, 0x64, 0x6e, 0x6f, 0x74, 0x65, 0xf6, 0x64, 0x74, 0x69, 0x6d, 0x65, 0x05, 0x67, 0x6f, 0x62, 0x6a, 0x65, 0x63, 0x74, 0x73, 0x80]))}),
    );
    let mut many = event.clone();
    many.objects = vec![Digest::from_bytes([0; 32]); 65];
    f.invalid(
        "10.1",
        "decode-evidence-event",
        "65 objects, above the limit of 64",
        json!({"hex": h(&codec::encode(&many).map_err(|e| e.to_string())?)}),
    );
    let mut long = event.clone();
    long.note = Some("x".repeat(1025));
    f.invalid(
        "10.1",
        "decode-evidence-event",
        "a note of 1,025 bytes",
        json!({"hex": h(&codec::encode(&long).map_err(|e| e.to_string())?)}),
    );

    // Merkle proofs over seven entries.
    let mut log = EvidenceLog::new();
    for i in 0..7u64 {
        let mut e = EvidenceEvent::new(EvidenceKind::KNOWN[(i % 14) as usize], T0.plus(i));
        e.objects = vec![Digest::of(&i.to_be_bytes())];
        log.append(&e).map_err(|e| e.to_string())?;
    }
    let entry = |i: u64| log.entry(i).map(h).unwrap_or_default();
    let root_at = |n: u64| {
        log.tree()
            .root_at(n)
            .map(|r| r.to_hex())
            .map_err(|e| e.to_string())
    };
    let path = |i: u64, n: u64| -> Result<Vec<String>, String> {
        Ok(log
            .inclusion_proof(i, n)
            .map_err(|e| e.to_string())?
            .path
            .iter()
            .map(Digest::to_hex)
            .collect())
    };
    let incl = |leaf: String, i: u64, n: u64, path: Vec<String>, root: String| json!({"leaf": leaf, "index": i, "size": n, "path": path, "root": root});
    f.valid(
        "10.2",
        "verify-inclusion",
        "the empty tree's root is SHA-256 of nothing (a one-leaf tree's root is its leaf hash)",
        incl(entry(0), 0, 1, vec![], root_at(1)?),
    );
    for (i, n) in [(0, 7), (3, 7), (6, 7), (4, 5)] {
        f.valid(
            "10.3",
            "verify-inclusion",
            &format!("entry {i} in the log of size {n}"),
            incl(entry(i), i, n, path(i, n)?, root_at(n)?),
        );
    }
    f.invalid(
        "10.3",
        "verify-inclusion",
        "another entry at index 3",
        incl(entry(2), 3, 7, path(3, 7)?, root_at(7)?),
    );
    let mut short = path(3, 7)?;
    short.pop();
    f.invalid(
        "10.3",
        "verify-inclusion",
        "a path one hash short",
        incl(entry(3), 3, 7, short, root_at(7)?),
    );
    f.invalid(
        "10.3",
        "verify-inclusion",
        "an index not below the size",
        incl(entry(6), 7, 7, path(6, 7)?, root_at(7)?),
    );
    f.invalid(
        "10.3",
        "verify-inclusion",
        "the right path against the root of size 6",
        incl(entry(3), 3, 7, path(3, 7)?, root_at(6)?),
    );
    let tree = log.tree();
    let cons = |m: u64, n: u64| -> Result<Vec<String>, String> {
        Ok(tree
            .consistency_proof(m, n)
            .map_err(|e| e.to_string())?
            .iter()
            .map(Digest::to_hex)
            .collect())
    };
    let cq = |m: u64, n: u64, old: String, new: String, path: Vec<String>| json!({"old_size": m, "new_size": n, "old_root": old, "new_root": new, "path": path});
    for (m, n) in [(3, 7), (4, 7), (1, 7), (6, 7)] {
        f.valid(
            "10.3",
            "verify-consistency",
            &format!("size {m} to size {n}"),
            cq(m, n, root_at(m)?, root_at(n)?, cons(m, n)?),
        );
    }
    let empty = MerkleTree::new().root().to_hex();
    f.valid(
        "10.3",
        "verify-consistency",
        "size 0 (the empty tree) to size 7, empty path",
        cq(0, 7, empty.clone(), root_at(7)?, vec![]),
    );
    f.valid(
        "10.3",
        "verify-consistency",
        "equal sizes, equal roots, empty path",
        cq(7, 7, root_at(7)?, root_at(7)?, vec![]),
    );
    f.invalid(
        "10.3",
        "verify-consistency",
        "size 3 to 7 against the root of size 2",
        cq(3, 7, root_at(2)?, root_at(7)?, cons(3, 7)?),
    );
    f.invalid(
        "10.3",
        "verify-consistency",
        "size 3 to 7 against the root of size 6",
        cq(3, 7, root_at(3)?, root_at(6)?, cons(3, 7)?),
    );
    f.invalid(
        "10.3",
        "verify-consistency",
        "old size larger than new size",
        cq(7, 3, root_at(7)?, root_at(3)?, vec![]),
    );
    f.invalid(
        "10.3",
        "verify-consistency",
        "a path from 4 to 7 with an extra hash",
        {
            let mut p = cons(4, 7)?;
            p.push(root_at(1)?);
            cq(4, 7, root_at(4)?, root_at(7)?, p)
        },
    );
    f.invalid(
        "10.3",
        "verify-consistency",
        "size 0 with a non-empty root",
        cq(0, 7, root_at(1)?, root_at(7)?, vec![]),
    );

    // Checkpoints and cosignatures.
    let party = TestParty::new("Vector Log", T0);
    let origin = evidence_origin(&party.id());
    let key = party.log_key.public_key().to_hex();
    let note = String::from_utf8(log.checkpoint(&party.id(), &party.log_key).to_bytes())
        .map_err(|e| e.to_string())?;
    let cp =
        |note: &str, origin: &str, key: &str| json!({"note": note, "origin": origin, "key": key});
    f.push(
        "10.4.2",
        "verify-checkpoint",
        Intent::Valid,
        "a checkpoint of size 7 signed by the party's log key",
        cp(&note, &origin, &key),
        Some(json!({"log_seed": seed(&party.log_key)})),
    );
    f.invalid(
        "10.4.2",
        "verify-checkpoint",
        "expected for another origin",
        cp(&note, "signet.evidence/another", &key),
    );
    f.invalid(
        "10.4.2",
        "verify-checkpoint",
        "verified with another key",
        cp(&note, &origin, &party.attest.public_key().to_hex()),
    );
    f.invalid(
        "10.4.2",
        "verify-checkpoint",
        "the size line changed",
        cp(&note.replacen("\n7\n", "\n8\n", 1), &origin, &key),
    );
    f.invalid(
        "10.4.2",
        "verify-checkpoint",
        "a leading zero in the size",
        cp(&note.replacen("\n7\n", "\n07\n", 1), &origin, &key),
    );
    f.invalid(
        "10.4.1",
        "verify-checkpoint",
        "no blank line before the signature",
        cp(&note.replacen("\n\n", "\n", 1), &origin, &key),
    );
    f.invalid(
        "10.4.1",
        "verify-checkpoint",
        "a carriage return in the text",
        cp(&note.replacen('\n', "\r\n", 1), &origin, &key),
    );
    let alien = Checkpoint::new("example.com/log", 7, log.root())
        .map_err(|e| e.to_string())?
        .sign(&party.log_key);
    f.invalid(
        "10.4.2",
        "verify-checkpoint",
        "a foreign origin signed with the party's key, checked as the party's log",
        cp(
            &String::from_utf8(alien.to_bytes()).map_err(|e| e.to_string())?,
            &origin,
            &key,
        ),
    );

    // The witness protocol.
    let wseed = test_key("Vector Witness", "log");
    let wname = "witness.example.org";
    let at = |n: u64| -> Result<String, String> {
        let c = log
            .checkpoint_at(n, &party.id(), &party.log_key)
            .map_err(|e| e.to_string())?;
        String::from_utf8(c.to_bytes()).map_err(|e| e.to_string())
    };
    let offer = |note: String, proof: Vec<String>, time: Timestamp| json!({"note": note, "proof": proof, "time": time.unix()});
    let witness = |offers: Vec<Value>| json!({"witness_name": wname, "witness_seed": seed(&wseed), "log_key": key, "offers": offers});
    f.valid(
        "10.5.2",
        "witness",
        "first checkpoint (size 3, empty proof), then size 7 with the consistency proof",
        witness(vec![
            offer(at(3)?, vec![], T0.plus(100)),
            offer(at(7)?, cons(3, 7)?, T0.plus(200)),
            offer(at(7)?, vec![], T0.plus(300)),
        ]),
    );
    f.invalid(
        "10.5.2",
        "witness",
        "a first checkpoint with a non-empty proof",
        witness(vec![offer(at(3)?, cons(1, 3)?, T0)]),
    );
    f.invalid(
        "10.5.2",
        "witness",
        "size 7 after 3 with a wrong proof: bad-proof",
        witness(vec![
            offer(at(3)?, vec![], T0),
            offer(at(7)?, cons(4, 7)?, T0.plus(1)),
        ]),
    );
    f.invalid(
        "10.5.2",
        "witness",
        "size 3 after 7: a rollback, accusing nobody",
        witness(vec![
            offer(at(7)?, vec![], T0),
            offer(at(3)?, vec![], T0.plus(1)),
        ]),
    );
    // A fork at size 7 and the evidence it yields.
    let mut fork = EvidenceLog::new();
    for i in 0..7u64 {
        let mut e = EvidenceEvent::new(EvidenceKind::KNOWN[(i % 14) as usize], T0.plus(i));
        e.objects = vec![Digest::of(&i.to_be_bytes())];
        if i >= 5 {
            e.note = Some("rewritten".into());
        }
        fork.append(&e).map_err(|e| e.to_string())?;
    }
    let fork_at = |n: u64| -> Result<String, String> {
        let c = fork
            .checkpoint_at(n, &party.id(), &party.log_key)
            .map_err(|e| e.to_string())?;
        String::from_utf8(c.to_bytes()).map_err(|e| e.to_string())
    };
    f.invalid(
        "10.5.2",
        "witness",
        "two checkpoints of size 7 with different roots: equivocation",
        witness(vec![
            offer(at(7)?, vec![], T0),
            offer(fork_at(7)?, vec![], T0.plus(1)),
        ]),
    );
    let fork_cons: Vec<String> = fork
        .tree()
        .consistency_proof(6, 7)
        .map_err(|e| e.to_string())?
        .iter()
        .map(Digest::to_hex)
        .collect();
    f.invalid(
        "10.5.2",
        "witness",
        "size 7 of a fork after size 6 of the honest log, with the fork's path: equivocation",
        witness(vec![
            offer(at(6)?, vec![], T0),
            offer(fork_at(7)?, fork_cons, T0.plus(1)),
        ]),
    );
    let response = conformance::handle(&{
        let mut r = witness(vec![
            offer(at(7)?, vec![], T0),
            offer(fork_at(7)?, vec![], T0.plus(1)),
        ]);
        r["op"] = json!("witness");
        r
    });
    let evidence_hex = response["output"]["equivocations"][0]
        .as_str()
        .ok_or("no evidence")?
        .to_string();
    let eq = |hex: &str, keys: Vec<String>| json!({"hex": hex, "origin": origin, "log_keys": keys});
    f.valid(
        "10.5.3",
        "verify-equivocation",
        "same size, different roots, both signed by the log key",
        eq(&evidence_hex, vec![key.clone()]),
    );
    f.invalid(
        "10.5.3",
        "verify-equivocation",
        "checked against another key",
        eq(&evidence_hex, vec![party.node.public_key().to_hex()]),
    );
    let same = signet_protocol::evidence::Equivocation {
        first: at(7)?,
        second: at(7)?,
        proof: vec![],
    };
    f.invalid(
        "10.5.3",
        "verify-equivocation",
        "the same checkpoint twice: no conflict",
        eq(
            &h(&same.encode().map_err(|e| e.to_string())?),
            vec![key.clone()],
        ),
    );
    let honest = signet_protocol::evidence::Equivocation {
        first: at(3)?,
        second: at(7)?,
        proof: {
            let mut p = vec![log.tree().root_at(3).map_err(|e| e.to_string())?];
            p.extend(tree.consistency_proof(3, 7).map_err(|e| e.to_string())?);
            p.remove(0);
            p
        },
    };
    f.invalid(
        "10.5.3",
        "verify-equivocation",
        "an honest consistency path: no conflict",
        eq(
            &h(&honest.encode().map_err(|e| e.to_string())?),
            vec![key.clone()],
        ),
    );

    // Cosignatures and party evidence from the session.
    let bundle = Bundle::decode(&t.bundle).map_err(|e| e.to_string())?;
    let witness_party = &t.net.witness;
    let wkey = witness_party.log_key.public_key().to_hex();
    let wname = witness_name(&witness_party.id());
    for ev in &bundle.evidence {
        let node = t.net.node(&ev.party);
        let note = String::from_utf8(ev.checkpoint.clone()).map_err(|e| e.to_string())?;
        let origin = evidence_origin(&ev.party);
        let lk = node.party.log_key.public_key().to_hex();
        let cq = |note: &str, name: &str, k: &str| json!({"note": note, "origin": origin, "log_key": lk, "witness_name": name, "witness_key": k});
        if ev.party == t.brand {
            f.push(
                "10.5.1",
                "verify-cosignature",
                Intent::Valid,
                "the brand's checkpoint, cosigned by the session's witness",
                cq(&note, &wname, &wkey),
                Some(json!({"witness_log_seed": seed(&witness_party.log_key)})),
            );
            f.invalid(
                "10.5.1",
                "verify-cosignature",
                "checked for another witness key",
                cq(&note, &wname, &lk),
            );
            f.invalid(
                "10.5.1",
                "verify-cosignature",
                "checked under another witness name",
                cq(&note, "witness.example.org", &wkey),
            );
            let lines: Vec<&str> = note.lines().collect();
            let last = lines.last().copied().unwrap_or_default();
            let no_cosig = note.replacen(&format!("{last}\n"), "", 1);
            f.invalid(
                "10.5.1",
                "verify-cosignature",
                "the cosignature line removed",
                cq(&no_cosig, &wname, &wkey),
            );
        }
        let log = json!(log_hex(&node.party.log));
        let bytes = codec::encode(ev).map_err(|e| e.to_string())?;
        f.valid(
            "10.6",
            "verify-party-evidence",
            "a party's evidence from the completed session's bundle",
            json!({"hex": h(&bytes), "key_log": log}),
        );
        if ev.party == t.supplier {
            let mut bad = ev.clone();
            if let Some(first) = bad.entries.first_mut() {
                first.entry = flip(&first.entry, usize::MAX);
            }
            f.invalid(
                "10.6",
                "verify-party-evidence",
                "an entry changed after the fact",
                json!({"hex": h(&codec::encode(&bad).map_err(|e| e.to_string())?), "key_log": log}),
            );
            let mut other = ev.clone();
            other.entries.reverse();
            if let (Some(a), Some(b)) = (other.entries.first().cloned(), ev.entries.first()) {
                other.entries[0].proof = b.proof.clone();
                other.entries[0].entry = a.entry;
            }
            if other.entries.len() > 1 {
                f.invalid("10.6", "verify-party-evidence", "an entry with another entry's proof", json!({"hex": h(&codec::encode(&other).map_err(|e| e.to_string())?), "key_log": log}));
            }
            f.invalid(
                "10.6",
                "verify-party-evidence",
                "checked against another party's key log",
                json!({"hex": h(&bytes), "key_log": log_hex(&t.net.node(&t.brand).party.log)}),
            );
        }
    }

    // The order of a note's checks (section 10.4.1): size first, then the lines in order.
    let own_line = note
        .lines()
        .last()
        .ok_or("the checkpoint has no signature line")?;
    let blob = own_line
        .rsplit_once(' ')
        .map(|(_, b)| b)
        .ok_or("a signature line without a blob")?;
    let others: String = (0..64)
        .map(|i| format!("\u{2014} other-{i} {blob}\n"))
        .collect();
    f.invalid(
        "10.4.1",
        "verify-checkpoint",
        "65 signature lines (64 of other keys after the log's): too-large",
        cp(&format!("{note}{others}"), &origin, &key),
    );
    let malformed_second = others.replacen(&format!("other-0 {blob}"), "other-0", 1);
    f.invalid(
        "10.4.1",
        "verify-checkpoint",
        "65 signature lines whose second has no blob: the lines are checked in order, so malformed, not too-large",
        cp(&format!("{note}{malformed_second}"), &origin, &key),
    );
    let long = note.replacen("\n", &format!("\n{}\n", "a".repeat(16_384)), 1);
    f.invalid(
        "10.4.1",
        "verify-checkpoint",
        "a note of more than 16,384 bytes whose text also has four lines: the size is checked first (too-large, not malformed)",
        cp(&long, &origin, &key),
    );
    // The checkpoint text's own rules (10.4.2), one each, in the order they are checked;
    // the signature is not reached.
    let lines: Vec<&str> = note.split('\n').collect();
    let with_line = |i: usize, line: &str| {
        let mut changed = lines.clone();
        changed[i] = line;
        changed.join("\n")
    };
    for (what, changed) in [
        (
            "a text that starts with an empty line: InvalidBody",
            format!("\n{note}"),
        ),
        (
            "a fourth line in the text (extension lines are not allowed): LineCount",
            note.replacen("\n7\n", "\n7\nextension\n", 1),
        ),
        (
            "a root that is not 32 bytes of base64 (3 bytes): InvalidRoot",
            with_line(2, "AAAA"),
        ),
        (
            "an origin that is not a valid key name (a space in it): InvalidOrigin",
            with_line(0, "signet.evidence/not a name"),
        ),
        (
            "the log's signature line twice (same key name and key id): DuplicateSignature",
            format!(
                "{note}{}\n",
                lines
                    .iter()
                    .rev()
                    .find(|l| l.starts_with('\u{2014}'))
                    .unwrap_or(&"")
            ),
        ),
    ] {
        f.invalid(
            "10.4.2",
            "verify-checkpoint",
            what,
            cp(&changed, &origin, &key),
        );
    }
    party_evidence_refusals(&mut f, t)?;
    // Section 3.1's precedence: an input over the byte limit is refused before it is read.
    let mut over_limit = vec![0xff];
    over_limit.resize(4_097, 0);
    f.invalid(
        "3.1",
        "decode-evidence-event",
        "4,097 bytes (one over the evidence event's limit) starting with a stray break byte: too-large, checked before anything is read (not malformed)",
        json!({"hex": h(&over_limit)}),
    );
    Ok(f)
}

/// Section 10.6: the supplier's evidence from the completed session's bundle, checked against
/// a key log that retired the checkpoint's log key when the newest entry was logged.
fn party_evidence_refusals(f: &mut File, t: &Transcript) -> Result<(), String> {
    use signet_protocol::evidence::{PartyEvidence, PartyEvidenceError};
    let bundle = Bundle::decode(&t.bundle).map_err(|e| e.to_string())?;
    let ev = bundle
        .evidence
        .iter()
        .find(|e| e.party == t.supplier)
        .ok_or("no evidence of the supplier in the bundle")?;
    let latest = ev
        .entries
        .iter()
        .map(|p| EvidenceEvent::decode(&p.entry).map(|e| e.time))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?
        .into_iter()
        .max()
        .ok_or("the supplier's evidence has no entry")?;
    let supplier = &t.net.node(&t.supplier).party;
    let mut log = supplier.log.clone();
    log.retire_key(&supplier.root, supplier.log_key.public_key(), latest)
        .map_err(|e| e.to_string())?;
    let checked = PartyEvidence::verify(ev, &log);
    if !matches!(checked, Err(PartyEvidenceError::LogKeyRetired { retired, latest: l }) if retired == latest && l == latest)
    {
        return Err(format!("the retired log key: {:?}", checked.err()));
    }
    f.invalid(
        "10.6",
        "verify-party-evidence",
        "the supplier's evidence from the bundle, checked against its key log once it retired the checkpoint's log key at the newest entry's time: LogKeyRetired",
        json!({
            "hex": h(&codec::encode(ev).map_err(|e| e.to_string())?),
            "key_log": log_hex(&log),
        }),
    );
    Ok(())
}

// ----- section 11 -----

fn bundles(t: &Transcript) -> Result<File, String> {
    let mut f = File::new("11-bundles", "Bundles: valid and tampered", "11");
    let p = policy_hex(&t.policy)?;
    let later = t.net.now.plus(DAY);
    let req = |bytes: &[u8], docs: Vec<Vec<u8>>, time: Timestamp| json!({"hex": h(bytes), "documents": docs.iter().map(|d| h(d)).collect::<Vec<_>>(), "policy": p, "time": time.unix()});
    f.push(
        "11.3",
        "verify-bundle",
        Intent::Valid,
        "the completed session's bundle (four parties: brand, supplier, auditor, observer), with its document",
        req(&t.bundle, vec![document(1)], later),
        Some(json!({"document_digest": t.document_digest().to_hex()})),
    );
    f.valid(
        "11.5",
        "verify-bundle",
        "without documents: VALID, the document condition INDETERMINATE",
        req(&t.bundle, vec![], later),
    );
    f.invalid(
        "11.3",
        "verify-bundle",
        "a document that is not the contract's",
        req(&t.bundle, vec![document(2)], later),
    );
    f.invalid(
        "11.3",
        "verify-bundle",
        "verified a day before the completion (more than the 300 s of skew)",
        req(&t.bundle, vec![], Timestamp::from_unix(T0.unix() - DAY)),
    );
    let bundle = Bundle::decode(&t.bundle).map_err(|e| e.to_string())?;
    let encode = |b: &Bundle| b.encode().map_err(|e| e.to_string());
    let mut b = bundle.clone();
    b.completion = flip(&b.completion, usize::MAX);
    f.invalid(
        "11.3",
        "verify-bundle",
        "one bit of the completion's signature flipped",
        req(&encode(&b)?, vec![], later),
    );
    let mut b = bundle.clone();
    b.evidence.clear();
    f.invalid(
        "11.3.1",
        "verify-bundle",
        "no evidence: INDETERMINATE (a witness cosignature is required)",
        req(&encode(&b)?, vec![], later),
    );
    let mut b = bundle.clone();
    b.version = 2;
    f.invalid(
        "11.1",
        "verify-bundle",
        "bundle format version 2",
        req(&encode(&b)?, vec![], later),
    );
    let mut b = bundle.clone();
    let mut m = message_of(&b.completion)?;
    if let MessageBody::Complete { actions } = &mut m.body {
        actions.swap(0, 1);
    }
    let brand = t.net.node(&t.brand);
    b.completion = Signed::sign(m, SESSION_MESSAGE_CONTENT_TYPE, &brand.party.node)
        .map_err(|e| e.to_string())?
        .bytes()
        .to_vec();
    f.invalid("11.3", "verify-bundle", "a completion re-signed by the initiator listing the approval before the signature it follows: an action listed after one of a later routing group (action.envelope), and not the completion the initiator logged (evidence.coverage)", req(&encode(&b)?, vec![], later));
    let mut b = bundle.clone();
    b.key_logs.retain(|l| {
        KeyLog::replay(&l.events)
            .map(|log| log.party() != t.net.nodes[0].party.id())
            .unwrap_or(true)
    });
    f.invalid(
        "11.3",
        "verify-bundle",
        "the certificate authority's key log left out: identities INDETERMINATE",
        req(&encode(&b)?, vec![], later),
    );
    let mut b = bundle.clone();
    b.attestations.clear();
    f.invalid(
        "11.3",
        "verify-bundle",
        "the attestations left out",
        req(&encode(&b)?, vec![], later),
    );
    let mut extra = codec::decode::<Cbor>(&t.bundle, &codec_limits()).map_err(|e| e.to_string())?;
    if let Cbor::Map(entries) = &mut extra {
        entries.push((Cbor::Text("signature".into()), Cbor::Bytes(vec![0; 64])));
    }
    let extra = codec::encode(&extra).map_err(|e| e.to_string())?;
    f.invalid(
        "11.1",
        "verify-bundle",
        "an unknown field",
        req(&extra, vec![], later),
    );
    // A mandate the verifier's policy does not accept (section 8.4.3 check 4, 5.3.1).
    let strict = TrustPolicy {
        max_delegation_validity: DAY,
        ..t.policy.clone()
    };
    f.invalid(
        "11.3",
        "verify-bundle",
        "verified under a policy that accepts mandates of at most one day: signature.mandate INVALID for each signer",
        json!({"hex": h(&t.bundle), "documents": [], "policy": policy_hex(&strict)?, "time": later.unix()}),
    );
    // The entries of the evidence checks (section 11.3.1 steps 2 and 4).
    let decoded = Bundle::decode(&t.bundle).map_err(|e| e.to_string())?;
    let mut twice = decoded.clone();
    let first = twice.evidence.first().cloned().ok_or("no evidence")?;
    twice.evidence.push(first);
    f.invalid(
        "11.3.1",
        "verify-bundle",
        "a party's evidence included twice: one evidence.checkpoint INVALID entry, then the first evidence checked with its own entries",
        req(&twice.encode().map_err(|e| e.to_string())?, vec![], later),
    );
    let mut changed = decoded;
    let entry = changed
        .evidence
        .first_mut()
        .and_then(|e| e.entries.first_mut())
        .ok_or("no evidence entry")?;
    entry.entry = flip(&entry.entry, usize::MAX);
    f.invalid(
        "11.3.1",
        "verify-bundle",
        "an evidence entry changed after the fact: evidence.inclusion INVALID, with no evidence.checkpoint entry for that party",
        req(&changed.encode().map_err(|e| e.to_string())?, vec![], later),
    );
    unproven_seal_keys(&mut f, t, later)?;
    sm2_sealed_bundle(&mut f)?;
    national_bundles(&mut f)?;
    Ok(f)
}

/// Sections 3.3, 8.4.2 and 11.3: a two-party session in which the supplier seals with SM2.
/// Verification only: SM2 signing draws a nonce, so only a signature's verification can be
/// a vector (an implementation need not sign SM2 deterministically).
fn sm2_sealed_bundle(f: &mut File) -> Result<(), String> {
    let secret = Sm2SecretKey::from_bytes(&test_key("Supplier", "sm2-seal").to_seed())
        .map_err(|e| e.to_string())?;
    let two = crate::transcript::two_party_session_sealed(Some(secret))
        .map_err(|e| format!("the SM2-sealed session failed: {e}"))?;
    let node = two.net.node(&two.supplier);
    let bundle = two.bundle(&two.supplier).map_err(|e| e.to_string())?;
    let req = |hex: &[u8]| -> Result<Value, String> {
        Ok(json!({
            "hex": h(hex),
            "documents": [h(&document(7))],
            "policy": policy_hex(&node.policy)?,
            "time": two.net.now.plus(DAY).unix(),
        }))
    };
    f.valid(
        "11.3",
        "verify-bundle",
        "a two-party session's bundle in which the supplier's seal signature is SM2 with SM3 (alg -98454, key id the compressed key), with its document",
        req(&bundle)?,
    );
    let record = node.sessions[&two.session]
        .actions()
        .iter()
        .find_map(|a| {
            a.record
                .as_ref()
                .filter(|r| r.seal_signature.payload().signer == two.supplier)
        })
        .ok_or("no supplier signature")?;
    let seal_signature = record.seal_signature.bytes();
    f.push(
        "3.3",
        "verify-signed",
        Intent::Valid,
        "an SM2 seal signature: alg -98454 in the protected header, key id the 33-byte compressed SM2 key, signature r ‖ s over the Sig_structure with SM3 and the default distinguishing identifier",
        json!({"hex": h(seal_signature), "content_type": SEAL_SIGNATURE_CONTENT_TYPE}),
        None,
    );
    f.invalid(
        "3.3",
        "verify-signed",
        "an SM2 seal signature with one bit of s flipped",
        json!({"hex": h(&flip(seal_signature, usize::MAX)), "content_type": SEAL_SIGNATURE_CONTENT_TYPE}),
    );
    // An intent challenge may not be SM2-signed: only a seal signature may.
    let intent = Signed::sign(
        record.intent.challenge().clone(),
        INTENT_CONTENT_TYPE,
        &Sm2SecretKey::from_bytes(&[0x11; 32]).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    f.invalid(
        "3.3",
        "verify-signed",
        "an intent challenge signed with SM2 (alg -98454): only a seal signature may name SM2",
        json!({"hex": h(intent.bytes()), "content_type": INTENT_CONTENT_TYPE}),
    );
    // A key id that is no point of the SM2 curve: the last byte of x changed until it is not.
    let LogKey::Sm2(key) = record.seal_signature.signer() else {
        return Err("the supplier's seal is not SM2".into());
    };
    let at = seal_signature
        .windows(33)
        .position(|w| w == key.as_bytes())
        .ok_or("the seal signature names its key")?;
    let off_curve = (1..=255u8)
        .map(|delta| {
            let mut bytes = seal_signature.to_vec();
            bytes[at + 32] = bytes[at + 32].wrapping_add(delta);
            bytes
        })
        .find(|bytes| {
            matches!(
                Signed::<signet_protocol::session::SealSignature, LogKey>::decode(
                    bytes,
                    SEAL_SIGNATURE_CONTENT_TYPE,
                    &Limits::DEFAULT
                ),
                Err(signet_protocol::cose::CoseError::Sm2KeyId(_))
            )
        })
        .ok_or("every x is on the curve")?;
    f.invalid(
        "3.3",
        "verify-signed",
        "an SM2 seal signature whose key id is no point of the SM2 curve (x changed)",
        json!({"hex": h(&off_curve), "content_type": SEAL_SIGNATURE_CONTENT_TYPE}),
    );
    Ok(())
}

/// Section 8.4.3 check 3 offline (11.3.1): the supplier's seal key retired, or revoked, a
/// second after it signed, before the witness's cosignature proves the signature existed.
/// Each bundle is the completed session's with that one change; the one check it fails is
/// checked here, since the op reports checks by name and outcome only.
fn unproven_seal_keys(f: &mut File, t: &Transcript, later: Timestamp) -> Result<(), String> {
    use signet_protocol::bundle::{Outcome, verify_bundle};
    use signet_protocol::session::SignatureRecord;
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let bundle = Bundle::decode(&t.bundle).map_err(|e| err(&e))?;
    let completion = message_of(&bundle.completion)?;
    let MessageBody::Complete { actions } = &completion.body else {
        return Err("the bundle's completion is not a complete message".into());
    };
    let mut signed_at = None;
    for action in actions {
        let m = message_of(action)?;
        if let (true, MessageBody::Sign(record)) = (m.from == t.supplier, &m.body) {
            let record = SignatureRecord::from_bytes(record).map_err(|e| err(&e))?;
            signed_at = Some(record.seal_signature.payload().time);
        }
    }
    let signed_at = signed_at.ok_or("no signature of the supplier in the completion")?;
    let after = Timestamp::from_unix(signed_at.unix() + 1);
    let supplier = &t.net.node(&t.supplier).party;
    let seal = supplier.contract_seal.public_key();
    let p = policy_hex(&t.policy)?;
    let only_seal_key_unproven = |bytes: &[u8], reason: &str| -> Result<Value, String> {
        let report = verify_bundle(bytes, &[], &t.policy, later);
        let failures: Vec<_> = report.failures().collect();
        match failures.as_slice() {
            [c] if c.name == "signature.seal-key"
                && c.subject == t.supplier.to_string()
                && c.outcome == Outcome::Indeterminate
                && c.detail.starts_with(reason) => {}
            _ => return Err(format!("{reason}: unexpected checks {failures:?}")),
        }
        Ok(json!({"hex": h(bytes), "documents": [], "policy": p, "time": later.unix()}))
    };

    let mut retired = bundle.clone();
    let logs = retired
        .key_logs
        .iter_mut()
        .find(|l| KeyLog::replay(&l.events).is_ok_and(|log| log.party() == t.supplier))
        .ok_or("no key log of the supplier in the bundle")?;
    let mut log = KeyLog::replay(&logs.events).map_err(|e| err(&e))?;
    log.retire_key(&supplier.root, seal, after)
        .map_err(|e| err(&e))?;
    logs.events = log.event_bytes().map(<[u8]>::to_vec).collect();
    let bytes = retired.encode().map_err(|e| err(&e))?;
    let inputs = only_seal_key_unproven(&bytes, "seal key retired at")?;
    f.push(
        "11.3.1",
        "verify-bundle",
        Intent::Invalid,
        "the completed session's bundle, the supplier's key log retiring its contract seal a second after it signed, before the witness cosigned: signature.seal-key INDETERMINATE (NoProofBeforeRetirement)",
        inputs,
        Some(json!({"supplier_root_seed": seed(&supplier.root)})),
    );

    let revocation = signet_protocol::attestation::Attestation {
        id: signet_protocol::party::AttestationId::from_bytes([0x5f; 16]),
        issuer: t.supplier,
        subject: t.supplier,
        issued_at: later,
        valid_from: later,
        valid_until: later.plus(3650 * DAY),
        claims: Claims::Revocation(signet_protocol::attestation::Revocation {
            target: signet_protocol::attestation::RevocationTarget::Key(seal.into()),
            effective: after,
            reason: RevocationReason::KeyCompromise,
        }),
    }
    .issue(&supplier.attest, &supplier.log)
    .map_err(|e| err(&e))?;
    let mut revoked = bundle;
    revoked.attestations.push(revocation.bytes().to_vec());
    let bytes = revoked.encode().map_err(|e| err(&e))?;
    let inputs = only_seal_key_unproven(&bytes, "revoked at")?;
    f.push(
        "11.3.1",
        "verify-bundle",
        Intent::Invalid,
        "the completed session's bundle with the supplier's revocation of its contract seal, effective a second after it signed, before the witness cosigned: signature.seal-key INDETERMINATE (NoProofBeforeRevocation)",
        inputs,
        Some(json!({"supplier_attest_seed": seed(&supplier.attest)})),
    );
    Ok(())
}

fn transport(t: &Transcript) -> Result<File, String> {
    let mut f = File::new(
        "12-transport",
        "Transport framings: /signet/msg/1 responses, /signet/doc/1 chunks, the key-log gossip payload, the witness protocol",
        "12",
    );
    let err = |e: &dyn std::fmt::Display| e.to_string();

    // Section 12.5: /signet/msg/1 responses.
    let response = |hex: String| json!({"hex": hex});
    f.valid(
        "12.5",
        "decode-msg-response",
        "accepted: the one byte 00",
        response(h(&Response::Accepted.encode())),
    );
    for code in [
        ErrorCode::RetryLater,
        ErrorCode::UnauthenticatedPeer,
        ErrorCode::SenderMismatch,
    ] {
        f.valid(
            "12.5",
            "decode-msg-response",
            &format!("refused with {} ({})", code.name(), code.code()),
            response(h(&Response::Refused(code).encode())),
        );
    }
    f.valid(
        "12.5",
        "decode-msg-response",
        "refused with a code this implementation does not know (9999): still a refusal",
        response(h(&Response::Refused(ErrorCode::Unknown(9999)).encode())),
    );
    for (what, bytes) in [
        ("empty: no answer", vec![]),
        ("accepted with a trailing byte", vec![0, 0]),
        ("a refusal with a 2-byte code", vec![1, 0x02, 0x5e]),
        ("a refusal with a trailing byte", {
            let mut b = Response::Refused(ErrorCode::RetryLater).encode();
            b.push(0);
            b
        }),
        (
            "status byte 02, which /signet/msg/1 does not define",
            vec![2],
        ),
    ] {
        f.invalid("12.5", "decode-msg-response", what, response(h(&bytes)));
    }

    // Section 9.3: /signet/doc/1.
    let chunk_request = ChunkRequest {
        session: t.completed,
        document: Digest::of(&document(1)),
        index: 0,
    };
    let bytes = chunk_request.encode();
    f.valid(
        "9.3.1",
        "decode-chunk-request",
        "chunk 0 of the completed session's document",
        json!({"hex": h(&bytes)}),
    );
    let later = ChunkRequest {
        index: 4096,
        ..chunk_request
    };
    f.valid(
        "9.3.1",
        "decode-chunk-request",
        "chunk 4096 (the index is u32 big-endian)",
        json!({"hex": h(&later.encode())}),
    );
    f.invalid(
        "9.3.1",
        "decode-chunk-request",
        "67 bytes: the index truncated",
        json!({"hex": h(&bytes[..67])}),
    );
    let mut longer = bytes.clone();
    longer.push(0);
    f.invalid(
        "9.3.1",
        "decode-chunk-request",
        "69 bytes: a trailing byte",
        json!({"hex": h(&longer)}),
    );
    f.invalid("9.3.1", "decode-chunk-request", "empty", json!({"hex": ""}));
    let doc_bytes = document(1);
    let chunk = ChunkResponse::Chunk {
        document_len: doc_bytes.len() as u64,
        bytes: doc_bytes.clone(),
    };
    f.valid(
        "9.3.2",
        "decode-chunk-response",
        "the whole 1,234-byte document as chunk 0",
        json!({"hex": h(&chunk.encode())}),
    );
    let empty_doc = ChunkResponse::Chunk {
        document_len: 0,
        bytes: vec![],
    };
    f.valid(
        "9.3.2",
        "decode-chunk-response",
        "chunk 0 of an empty document: the header alone",
        json!({"hex": h(&empty_doc.encode())}),
    );
    f.valid(
        "9.3.2",
        "decode-chunk-response",
        "refused: unauthenticated-peer",
        json!({"hex": h(&ChunkResponse::Refused(ErrorCode::UnauthenticatedPeer).encode())}),
    );
    f.valid(
        "9.3.2",
        "decode-chunk-response",
        "not found: the one byte 02",
        json!({"hex": h(&ChunkResponse::NotFound.encode())}),
    );
    for (what, bytes) in [
        ("empty: no answer", vec![]),
        ("a chunk status with a 4-byte length", vec![0, 0, 0, 0, 0]),
        ("not found with a trailing byte", vec![2, 0]),
        ("a refusal with a 4-byte code", vec![1, 0, 0, 0, 0xcb]),
        (
            "status byte 03, which /signet/doc/1 does not define",
            vec![3],
        ),
    ] {
        f.invalid(
            "9.3.2",
            "decode-chunk-response",
            what,
            json!({"hex": h(&bytes)}),
        );
    }

    // Section 12.7: the signet/keylogs/1 payload.
    let party = TestParty::new("Transport Log", T0);
    let events: Vec<Vec<u8>> = party.log.event_bytes().map(<[u8]>::to_vec).collect();
    let payload = encode_key_log(&events).map_err(|e| err(&e))?;
    let kl = |bytes: &[u8]| json!({"hex": h(bytes)});
    f.valid(
        "12.7",
        "decode-keylog-payload",
        "a party's key log: every event framed with a u32 length",
        kl(&payload),
    );
    f.valid(
        "12.7",
        "decode-keylog-payload",
        "one frame of length 0 (the framing is valid; the log will not replay)",
        kl(&[0, 0, 0, 0]),
    );
    f.invalid("12.7", "decode-keylog-payload", "empty: no frame", kl(&[]));
    f.invalid(
        "12.7",
        "decode-keylog-payload",
        "the last frame truncated by one byte",
        kl(&payload[..payload.len() - 1]),
    );
    f.invalid(
        "12.7",
        "decode-keylog-payload",
        "a length prefix cut after 2 bytes",
        kl(&payload[..2]),
    );
    let mut trailing = payload.clone();
    trailing.extend_from_slice(&[0, 0, 1]);
    f.invalid(
        "12.7",
        "decode-keylog-payload",
        "3 trailing bytes after the last frame",
        kl(&trailing),
    );
    f.invalid(
        "12.7",
        "decode-keylog-payload",
        "a frame length of 2^32 - 1",
        kl(&[0xff, 0xff, 0xff, 0xff, 0]),
    );

    // Section 10.5.4: the witness protocol.
    let mut log = EvidenceLog::new();
    for i in 0..7u64 {
        let mut e = EvidenceEvent::new(EvidenceKind::KNOWN[(i % 14) as usize], T0.plus(i));
        e.objects = vec![Digest::of(&i.to_be_bytes())];
        log.append(&e).map_err(|e| err(&e))?;
    }
    let checkpoint_at = |n: u64| {
        log.checkpoint_at(n, &party.id(), &party.log_key)
            .map_err(|e| err(&e))
    };
    let request = |n: u64, from: u64| -> Result<Vec<u8>, String> {
        let proof = log.consistency_proof(from, n).map_err(|e| err(&e))?;
        WitnessMessage::CosignRequest(CosignRequest::new(&checkpoint_at(n)?, proof))
            .encode()
            .map_err(|e| err(&e))
    };
    let wm = |bytes: &[u8]| json!({"hex": h(bytes)});
    let first = request(3, 0)?;
    f.push(
        "10.5.4",
        "decode-witness-message",
        Intent::Valid,
        "a cosign request: the checkpoint of size 3 and an empty proof (the witness holds nothing yet)",
        wm(&first),
        Some(json!({"log_seed": seed(&party.log_key)})),
    );
    let second = request(7, 3)?;
    f.valid(
        "10.5.4",
        "decode-witness-message",
        "a cosign request for size 7 with the consistency proof from size 3",
        wm(&second),
    );
    // The witness.
    let wparty = TestParty::new("Transport Witness", T0);
    let wname = witness_name(&wparty.id());
    let answers = |requests: Vec<(Vec<u8>, Timestamp)>, requester: &TestParty| {
        json!({
            "witness_name": wname,
            "witness_seed": seed(&wparty.log_key),
            "requester": requester.id().to_string(),
            "log_keys": [party.log_key.public_key().to_hex()],
            "requests": requests.iter().map(|(b, at)| json!({"hex": h(b), "time": at.unix()})).collect::<Vec<_>>(),
        })
    };
    f.valid(
        "10.5.4",
        "witness-answer",
        "size 3 from nothing, size 7 from 3, then size 7 again (a resent request is cosigned again)",
        answers(
            vec![
                (first.clone(), T0.plus(100)),
                (second.clone(), T0.plus(200)),
                (request(7, 7)?, T0.plus(300)),
            ],
            &party,
        ),
    );
    f.invalid(
        "10.5.4",
        "witness-answer",
        "size 7 with a proof from 4 after size 3: bad-proof, with the witness's size 3",
        answers(
            vec![(first.clone(), T0), (request(7, 4)?, T0.plus(1))],
            &party,
        ),
    );
    f.invalid(
        "10.5.4",
        "witness-answer",
        "size 3 after size 7: stale-checkpoint",
        answers(
            vec![(request(7, 0)?, T0), (first.clone(), T0.plus(1))],
            &party,
        ),
    );
    let other = TestParty::new("Transport Other", T0);
    f.invalid(
        "10.5.4",
        "witness-answer",
        "the party's checkpoint sent by a node authenticated as another party: sender-mismatch",
        answers(vec![(first.clone(), T0)], &other),
    );
    let tampered = {
        let note = String::from_utf8(checkpoint_at(3)?.to_bytes()).map_err(|e| err(&e))?;
        let forged = note.replacen("\n3\n", "\n4\n", 1);
        WitnessMessage::CosignRequest(CosignRequest {
            note: forged,
            proof: vec![],
        })
        .encode()
        .map_err(|e| err(&e))?
    };
    f.invalid(
        "10.5.4",
        "witness-answer",
        "a tampered request: the checkpoint's size changed after the log signed it: bad-signature",
        answers(vec![(tampered, T0)], &party),
    );
    let mut fork = EvidenceLog::new();
    for i in 0..7u64 {
        let mut e = EvidenceEvent::new(EvidenceKind::KNOWN[(i % 14) as usize], T0.plus(i));
        e.objects = vec![Digest::of(&i.to_be_bytes())];
        if i >= 5 {
            e.note = Some("rewritten".into());
        }
        fork.append(&e).map_err(|e| err(&e))?;
    }
    let forked = WitnessMessage::CosignRequest(CosignRequest::new(
        &fork
            .checkpoint_at(7, &party.id(), &party.log_key)
            .map_err(|e| err(&e))?,
        vec![],
    ))
    .encode()
    .map_err(|e| err(&e))?;
    f.invalid(
        "10.5.4",
        "witness-answer",
        "two checkpoints of size 7 with different roots: refused with the equivocation evidence",
        answers(vec![(request(7, 0)?, T0), (forked, T0.plus(1))], &party),
    );
    f.invalid(
        "10.5.4",
        "witness-answer",
        "a request that does not decode is refused on the wire; nothing is answered",
        answers(vec![(first[..first.len() - 1].to_vec(), T0)], &party),
    );

    // The witness's answers as messages, as the witness sends them (a refusal's reason
    // included; the witness-answer op leaves it out of what it compares).
    let run = |requests: Vec<(Vec<u8>, Timestamp)>| -> Result<Vec<String>, String> {
        let mut witness = signet_protocol::evidence::Witness::new(
            &wname,
            SecretKey::from_seed(&wparty.log_key.to_seed()),
        )
        .map_err(|e| err(&e))?;
        let mut out = Vec::new();
        for (bytes, at) in requests {
            let Ok(WitnessMessage::CosignRequest(received)) = WitnessMessage::decode(&bytes) else {
                return Err("not a cosign request".into());
            };
            let answer = signet_protocol::transport::witness::answer(
                &mut witness,
                &party.id(),
                &[party.log_key.public_key()],
                &received,
                at,
            );
            out.push(h(&answer.encode().map_err(|e| err(&e))?));
        }
        Ok(out)
    };
    let answered = run(vec![
        (first.clone(), T0.plus(100)),
        (request(7, 4)?, T0.plus(101)),
    ])?;
    let cosigned = answered[0].clone();
    let refused = answered[1].clone();
    f.valid(
        "10.5.4",
        "decode-witness-message",
        "the witness's answer: cosigned, with its cosignature line",
        json!({"hex": cosigned}),
    );
    f.valid(
        "10.5.4",
        "decode-witness-message",
        "the witness's answer: refused (bad-proof) with the size it holds",
        json!({"hex": refused}),
    );
    let equivocated = run(vec![
        (request(7, 0)?, T0),
        (
            WitnessMessage::CosignRequest(CosignRequest::new(
                &fork
                    .checkpoint_at(7, &party.id(), &party.log_key)
                    .map_err(|e| err(&e))?,
                vec![],
            ))
            .encode()
            .map_err(|e| err(&e))?,
            T0.plus(1),
        ),
    ])?;
    let eq_hex = equivocated[1].clone();
    f.valid(
        "10.5.4",
        "decode-witness-message",
        "the witness's answer: refused (equivocation) with the evidence",
        json!({"hex": eq_hex}),
    );

    // Malformed witness messages.
    let entry = |k: &str, v: Cbor| (Cbor::Text(k.into()), v);
    let digest = Cbor::Bytes(vec![0x11; 32]);
    let note_text = String::from_utf8(checkpoint_at(3)?.to_bytes()).map_err(|e| err(&e))?;
    let map = |entries: Vec<(Cbor, Cbor)>| enc(&Cbor::Map(entries));
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "kind 9, which the registry does not define: unsupported",
        wm(&map(vec![
            entry("kind", Cbor::Integer(9.into())),
            entry("checkpoint", digest.clone()),
        ])?),
    );
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "kind 2 (cosigned) with the fields of a request",
        wm(&map(vec![
            entry("kind", Cbor::Integer(2.into())),
            entry("note", Cbor::Text(note_text.clone())),
            entry("proof", Cbor::Array(vec![])),
        ])?),
    );
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a request without its proof",
        wm(&map(vec![
            entry("kind", Cbor::Integer(1.into())),
            entry("note", Cbor::Text(note_text.clone())),
        ])?),
    );
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a request with a field no kind has",
        wm(&map(vec![
            entry("kind", Cbor::Integer(1.into())),
            entry("note", Cbor::Text(note_text.clone())),
            entry("proof", Cbor::Array(vec![])),
            entry("version", Cbor::Integer(1.into())),
        ])?),
    );
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a refusal whose absent last_size is spelled null",
        wm(&{
            // The encoder refuses null; the bytes are written by hand, keys in their order:
            // {"code": 700, "kind": 3, "last_size": null, "checkpoint": h'11…11'}.
            let mut b = vec![0xa4, 0x64];
            b.extend_from_slice(b"code");
            b.extend_from_slice(&[0x19, 0x02, 0xbc, 0x64]);
            b.extend_from_slice(b"kind");
            b.extend_from_slice(&[0x03, 0x69]);
            b.extend_from_slice(b"last_size");
            b.extend_from_slice(&[0xf6, 0x6a]);
            b.extend_from_slice(b"checkpoint");
            b.extend_from_slice(&[0x58, 0x20]);
            b.extend_from_slice(&[0x11; 32]);
            b
        }),
    );
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a refusal with code equivocation but no evidence",
        wm(&map(vec![
            entry("kind", Cbor::Integer(3.into())),
            entry("checkpoint", digest.clone()),
            entry("code", Cbor::Integer(702.into())),
        ])?),
    );
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a cosigned answer whose line is not a cosignature (a 5-byte blob)",
        wm(&map(vec![
            entry("kind", Cbor::Integer(2.into())),
            entry("checkpoint", digest.clone()),
            entry("cosignature", Cbor::Text("\u{2014} w AAAAAAA=\n".into())),
        ])?),
    );
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a request truncated by one byte",
        wm(&first[..first.len() - 1]),
    );
    let mut with_trailing = first.clone();
    with_trailing.push(0);
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a request with a trailing byte",
        wm(&with_trailing),
    );
    let session_message = &t.deliveries.first().ok_or("no delivery")?.bytes;
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a signed session message is not a witness message (an untagged COSE_Sign1, a CBOR array: it starts with 0x84)",
        wm(session_message),
    );
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a proof of 66 hashes: too-large",
        wm(&map(vec![
            entry("kind", Cbor::Integer(1.into())),
            entry("note", Cbor::Text(note_text.clone())),
            entry("proof", Cbor::Array(vec![digest.clone(); 66])),
        ])?),
    );
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a note of 16,385 bytes: too-large",
        wm(&map(vec![
            entry("kind", Cbor::Integer(1.into())),
            entry("note", Cbor::Text("a".repeat(16_385))),
            entry("proof", Cbor::Array(vec![])),
        ])?),
    );
    let refusal = WitnessMessage::Refused(Refused {
        checkpoint: Digest::from_bytes([0x11; 32]),
        code: ErrorCode::BadProof,
        last_size: Some(3),
        reason: Some("r".repeat(1025)),
        equivocation: None,
    });
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a refusal with a reason of 1,025 bytes: too-large",
        wm(&refusal.encode().map_err(|e| err(&e))?),
    );
    // Section 9.3.2: the size is checked before the status byte.
    let mut oversized = vec![3u8];
    oversized.resize(262_154, 0);
    f.invalid(
        "9.3.2",
        "decode-chunk-response",
        "262,154 bytes (one more than the largest chunk response) with status byte 03: too-large, checked before the status",
        json!({"hex": h(&oversized)}),
    );
    // Section 10.5.4: the order of a witness message's refusal rules decides the code.
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "kind 9 with a field no kind has: the fields' schema is checked before the kind (schema, not unsupported)",
        wm(&map(vec![
            entry("kind", Cbor::Integer(9.into())),
            entry("version", Cbor::Integer(1.into())),
        ])?),
    );
    f.invalid(
        "10.5.4",
        "decode-witness-message",
        "a cosigned answer without its checkpoint, whose line is not a cosignature: the kind's fields are checked before the line (schema, not malformed)",
        wm(&map(vec![
            entry("kind", Cbor::Integer(2.into())),
            entry("cosignature", Cbor::Text("\u{2014} w AAAAAAA=\n".into())),
        ])?),
    );
    Ok(f)
}

// ----- section 12.8 -----

/// A binary multiaddr `/ip4/127.0.0.1/tcp/<port>/p2p/<peer id of node>`.
fn tcp_address(port: u16, node: &signet_protocol::PublicKey) -> Vec<u8> {
    let mut a = vec![0x04, 127, 0, 0, 1, 0x06];
    a.extend_from_slice(&port.to_be_bytes());
    a.extend_from_slice(&p2p_suffix(node));
    a
}

/// A binary multiaddr `/ip4/127.0.0.1/udp/<port>/quic-v1/p2p/<peer id of node>`.
fn quic_address(port: u16, node: &signet_protocol::PublicKey) -> Vec<u8> {
    let mut a = vec![0x04, 127, 0, 0, 1, 0x91, 0x02];
    a.extend_from_slice(&port.to_be_bytes());
    // quic-v1 is multicodec 0x01cd (0x01cc is the draft-29 /quic, which nodes do not use).
    a.extend_from_slice(&[0xcd, 0x03]);
    a.extend_from_slice(&p2p_suffix(node));
    a
}

fn address_records() -> Result<File, String> {
    let mut f = File::new(
        "12-address-records",
        "Signed DHT address records: as storers and lookers check them",
        "12.8",
    );
    let op = "verify-address-record";
    let mut holder = TestParty::new("Vector Holder", T0);
    let other = TestParty::new("Vector Other", T0);
    let second = test_key("address-record", "second node");
    holder
        .log
        .add_key(
            &holder.root,
            KeyDecl::node(&second, &holder.root.public_key()),
            T0.plus(60),
        )
        .map_err(|e| e.to_string())?;
    let node = holder.node.public_key();
    let at = T0.plus(DAY);
    let record = |node: signet_protocol::PublicKey, party, addresses: Vec<Vec<u8>>| AddressRecord {
        party,
        node,
        seq: 1_800_086_400_000,
        issued_at: at,
        addresses,
    };
    let logs = log_hex(&holder.log);
    let inputs = |bytes: &[u8], key: &signet_protocol::PublicKey| {
        json!({
            "hex": h(bytes),
            "dht_key": h(&dht_key(key)),
            "party": holder.id().to_string(),
            "key_log": logs,
            "time": at.unix(),
        })
    };
    let sign = |r: AddressRecord, key: &SecretKey| r.sign(key).map_err(|e| e.to_string());
    let raw = |r: AddressRecord, key: &SecretKey| {
        Signed::sign(r, ADDRESS_RECORD_CONTENT_TYPE, key).map_err(|e| e.to_string())
    };

    let one = sign(
        record(node, holder.id(), vec![tcp_address(4001, &node)]),
        &holder.node,
    )?;
    f.valid(
        "12.8",
        op,
        "one TCP address, /ip4/127.0.0.1/tcp/4001",
        inputs(one.bytes(), &node),
    );
    let two = sign(
        record(
            node,
            holder.id(),
            vec![tcp_address(4001, &node), quic_address(4001, &node)],
        ),
        &holder.node,
    )?;
    f.valid(
        "12.8",
        op,
        "a TCP and a QUIC address: /ip4/127.0.0.1/udp/4001/quic-v1",
        inputs(two.bytes(), &node),
    );
    let none = sign(record(node, holder.id(), vec![]), &holder.node)?;
    f.valid("12.8", op, "no address at all", inputs(none.bytes(), &node));
    let sixteen = sign(
        record(
            node,
            holder.id(),
            (0..MAX_ADDRESSES as u16)
                .map(|i| tcp_address(4001 + i, &node))
                .collect(),
        ),
        &holder.node,
    )?;
    f.valid(
        "12.8",
        op,
        "sixteen addresses, the most allowed",
        inputs(sixteen.bytes(), &node),
    );
    let k2 = second.public_key();
    let by_second = sign(
        record(k2, holder.id(), vec![tcp_address(4002, &k2)]),
        &second,
    )?;
    f.valid(
        "12.8",
        op,
        "the party's second node, under its own key",
        inputs(by_second.bytes(), &k2),
    );

    f.invalid(
        "12.8",
        op,
        "one bit of the signature flipped",
        inputs(&flip(one.bytes(), usize::MAX), &node),
    );
    f.invalid(
        "12.8",
        op,
        "one bit of the payload flipped (the port)",
        inputs(&flip(one.bytes(), one.bytes().len() - 64 - 60), &node),
    );
    let other_node = other.node.public_key();
    let wrong_party = sign(
        record(other_node, other.id(), vec![tcp_address(4001, &other_node)]),
        &other.node,
    )?;
    f.invalid(
        "12.8.1",
        op,
        "another party's genuine record, looked up as this party",
        inputs(wrong_party.bytes(), &other_node),
    );
    let claims_holder = sign(
        record(
            other_node,
            holder.id(),
            vec![tcp_address(4001, &other_node)],
        ),
        &other.node,
    )?;
    f.invalid(
        "12.8.1",
        op,
        "another party's node claims to be this party's",
        inputs(claims_holder.bytes(), &other_node),
    );
    let names_other = sign(
        record(node, other.id(), vec![tcp_address(4001, &node)]),
        &holder.node,
    )?;
    f.invalid(
        "12.8",
        op,
        "this party's node key names another party",
        inputs(names_other.bytes(), &node),
    );
    let seal = holder.contract_seal.public_key();
    let by_seal = sign(
        record(seal, holder.id(), vec![tcp_address(4001, &seal)]),
        &holder.contract_seal,
    )?;
    f.invalid(
        "12.8.1",
        op,
        "signed by the party's seal key, which is no node key",
        inputs(by_seal.bytes(), &seal),
    );
    let early = {
        let mut i = inputs(by_second.bytes(), &k2);
        i["time"] = json!(T0.plus(30).unix());
        i
    };
    f.invalid(
        "12.8",
        op,
        "a node key looked up before it was added to the log",
        early,
    );
    f.invalid(
        "12.8",
        op,
        "a genuine record stored under another node's DHT key",
        inputs(one.bytes(), &k2),
    );
    let kid_mismatch = raw(
        record(node, holder.id(), vec![tcp_address(4001, &node)]),
        &second,
    )?;
    f.invalid(
        "12.8",
        op,
        "signed by another key than the node key it names",
        inputs(kid_mismatch.bytes(), &node),
    );
    let foreign = raw(
        record(node, holder.id(), vec![tcp_address(4001, &k2)]),
        &holder.node,
    )?;
    f.invalid(
        "12.8",
        op,
        "an address ending in another node's peer id",
        inputs(foreign.bytes(), &node),
    );
    let bare = raw(
        record(node, holder.id(), vec![p2p_suffix(&node).to_vec()]),
        &holder.node,
    )?;
    f.invalid(
        "12.8",
        op,
        "an address that is only the /p2p/ suffix",
        inputs(bare.bytes(), &node),
    );
    let seventeen = raw(
        record(
            node,
            holder.id(),
            (0..=MAX_ADDRESSES as u16)
                .map(|i| tcp_address(4001 + i, &node))
                .collect(),
        ),
        &holder.node,
    )?;
    f.invalid(
        "12.8",
        op,
        "seventeen addresses",
        inputs(seventeen.bytes(), &node),
    );
    // The payload's map keys in declaration order, not the order of section 3.1.
    let payload = enc(&Cbor::Map(vec![
        (
            Cbor::Text("party".into()),
            Cbor::Bytes(holder.id().digest().as_bytes().to_vec()),
        ),
        (
            Cbor::Text("node".into()),
            Cbor::Bytes(node.as_bytes().to_vec()),
        ),
        (
            Cbor::Text("seq".into()),
            Cbor::Integer(1_800_086_400_000u64.into()),
        ),
        (
            Cbor::Text("issued_at".into()),
            Cbor::Integer(at.unix().into()),
        ),
        (
            Cbor::Text("addresses".into()),
            Cbor::Array(vec![Cbor::Bytes(tcp_address(4001, &node))]),
        ),
    ]))
    .map_err(|e| e.to_string())?;
    let unsorted = sign_with_header(
        &header(-19, ADDRESS_RECORD_CONTENT_TYPE, &holder.node),
        &payload_unsorted(&payload)?,
        &holder.node,
    )?;
    f.invalid(
        "12.8",
        op,
        "payload map keys not in deterministic order",
        inputs(&unsorted, &node),
    );
    let as_attestation = sign_with_header(
        &header(-19, ATTESTATION_CONTENT_TYPE, &holder.node),
        &codec::encode(one.payload()).map_err(|e| e.to_string())?,
        &holder.node,
    )?;
    f.invalid(
        "12.8",
        op,
        "a valid payload signed under the attestation content type",
        inputs(&as_attestation, &node),
    );
    // The order of the checks (section 12.8): the address count before the DHT key, the
    // signer before the addresses, the DHT key before the party.
    f.invalid(
        "12.8",
        op,
        "seventeen addresses stored under another node's DHT key: the count is checked first (too-large)",
        inputs(seventeen.bytes(), &k2),
    );
    let kid_mismatch_seventeen = raw(
        record(
            node,
            holder.id(),
            (0..=MAX_ADDRESSES as u16)
                .map(|i| tcp_address(4001 + i, &node))
                .collect(),
        ),
        &second,
    )?;
    f.invalid(
        "12.8",
        op,
        "seventeen addresses signed by another key than the node key: the signer is checked before the addresses (bad-signed-object)",
        inputs(kid_mismatch_seventeen.bytes(), &node),
    );
    f.invalid(
        "12.8",
        op,
        "another party's genuine record under another node's DHT key: the DHT key is checked before the party (bad-signed-object)",
        inputs(wrong_party.bytes(), &k2),
    );
    Ok(f)
}

/// Re-encodes a CBOR map with its entries in the given order (`enc` sorts them): the map
/// header, then each key and value as encoded alone.
fn payload_unsorted(sorted: &[u8]) -> Result<Vec<u8>, String> {
    let Cbor::Map(entries) =
        codec::decode::<Cbor>(sorted, &Limits::DEFAULT).map_err(|e| e.to_string())?
    else {
        return Err("not a map".into());
    };
    let mut order = entries;
    // Declaration order: party, node, seq, issued_at, addresses.
    let rank = |k: &Cbor| match k.as_text() {
        Some("party") => 0,
        Some("node") => 1,
        Some("seq") => 2,
        Some("issued_at") => 3,
        _ => 4,
    };
    order.sort_by_key(|(k, _)| rank(k));
    let mut out = vec![0xa0 | u8::try_from(order.len()).map_err(|e| e.to_string())?];
    for (k, v) in &order {
        out.extend(enc(k)?);
        out.extend(enc(v)?);
    }
    Ok(out)
}

fn codec_limits() -> Limits {
    signet_protocol::bundle::BUNDLE_LIMITS
}

/// Section 8.2's proposal rules, one vector each (`session-receive`): a participant receives
/// a `propose` message whose proposal fails exactly one rule, signed by the initiator's node
/// key: refused with `invalid-proposal` (605) and nothing kept. (Listed after the others, in
/// the order of the rules.)
fn proposal_refusals(f: &mut File) -> Result<(), String> {
    use signet_protocol::session::{Proposal, ProposalError, Role, SealPlacement};
    use signet_protocol::testkit::TestNetwork;
    let now = Timestamp::from_unix(1_800_000_000);
    let net = TestNetwork::new(
        &["Proposing Brand", "Receiving Supplier", "Third Party"],
        &["procurement"],
        now,
    );
    let ids: Vec<signet_protocol::party::PartyId> =
        net.nodes.iter().map(|n| n.party.id()).collect();
    let (brand, supplier, third) = (ids[1], ids[2], ids[3]);
    let base = net.proposal(&brand, &[(supplier, Role::Signer, 0)], "procurement", 0x61);
    let node_key = &net.node(&brand).party.node;
    let receiver = net.node(&supplier);
    let (logs, attestations) = store_inputs(&receiver.store);
    let policy = policy_hex(&receiver.policy)?;
    let e = |e: signet_protocol::codec::EncodeError| e.to_string();
    let propose = |p: &Proposal| -> Result<Vec<u8>, String> {
        let signed = Signed::sign(p.clone(), PROPOSAL_CONTENT_TYPE, node_key).map_err(e)?;
        let m = SessionMessage {
            session: p.session,
            proposal: signed.digest(),
            from: brand,
            time: now,
            body: MessageBody::Propose {
                proposal: signed.bytes().to_vec(),
            },
        };
        Ok(Signed::sign(m, SESSION_MESSAGE_CONTENT_TYPE, node_key)
            .map_err(e)?
            .bytes()
            .to_vec())
    };
    let place = |signer| SealPlacement {
        signer,
        page: None,
        x: 40,
        y: 40,
        width: 120,
        height: 120,
    };
    let with = |edit: &dyn Fn(&mut Proposal)| {
        let mut p = base.clone();
        edit(&mut p);
        p
    };
    let cases: Vec<(&str, Proposal, ProposalError)> = vec![
        (
            "a session id not derived from the initiator and the nonce",
            with(&|p| p.session = signet_protocol::session::SessionId::from_bytes([7; 32])),
            ProposalError::SessionId,
        ),
        (
            "an empty title",
            with(&|p| p.title.clear()),
            ProposalError::Text("title"),
        ),
        (
            "no document",
            with(&|p| p.documents.clear()),
            ProposalError::Documents,
        ),
        (
            "the same document listed twice",
            with(&|p| {
                let mut again = p.documents[0].clone();
                again.name = "copy.pdf".into();
                p.documents.push(again);
            }),
            ProposalError::DuplicateDocument(base.documents[0].digest),
        ),
        (
            "a participant list without a signer",
            with(&|p| {
                p.participants[0].role = Role::Copy;
                p.participants[0].seal_kind = None;
            }),
            ProposalError::Participants,
        ),
        (
            "the supplier listed twice",
            with(&|p| {
                let again = p.participants[0].clone();
                p.participants.push(again);
            }),
            ProposalError::DuplicateParticipant(supplier),
        ),
        (
            "a signer without a seal kind",
            with(&|p| p.participants[0].seal_kind = None),
            ProposalError::SealKind(supplier),
        ),
        (
            "a deadline at the creation time",
            with(&|p| p.deadline = p.created_at),
            ProposalError::Deadline,
        ),
        (
            "two cosignatures required of one witness",
            with(&|p| p.evidence.min_cosignatures = 2),
            ProposalError::Witnesses,
        ),
        (
            "the witness named twice",
            with(&|p| {
                let w = p.evidence.witnesses[0];
                p.evidence.witnesses.push(w);
            }),
            ProposalError::DuplicateWitness(net.witness.id()),
        ),
        (
            "the supplier named as a witness of its own contract",
            with(&|p| p.evidence.witnesses.push(supplier)),
            ProposalError::WitnessIsParty(supplier),
        ),
        (
            "a PDF seal placed for a party that is not a signer",
            with(&|p| p.documents[0].pdf_seals = Some(vec![place(third)])),
            ProposalError::SealPlacement {
                document: 0,
                reason: "a placement for a party that is not a signer",
            },
        ),
        (
            "PDF seals asked of a document that is not application/pdf",
            with(&|p| {
                p.documents[0].media_type = "text/plain".into();
                p.documents[0].pdf_seals = Some(vec![]);
            }),
            ProposalError::SealPlacement {
                document: 0,
                reason: "PDF seals on a document that is not application/pdf",
            },
        ),
        (
            "a participant whose role is an unknown code point",
            with(&|p| {
                let mut other = p.participants[0].clone();
                other.party = third;
                other.role = Role::Unknown(9);
                other.seal_kind = None;
                p.participants.push(other);
            }),
            ProposalError::UnknownCode(third),
        ),
        (
            "a signer whose seal kind is an unknown code point",
            with(&|p| {
                p.participants[0].seal_kind = Some(signet_protocol::seal::SealKind::Unknown(9))
            }),
            ProposalError::UnknownCode(supplier),
        ),
    ];
    for (what, proposal, expected) in cases {
        if proposal.check() != Err(expected.clone()) {
            return Err(format!(
                "{what}: the proposal fails {:?}, not {expected:?}",
                proposal.check()
            ));
        }
        let inputs = json!({
            "me": supplier.to_string(),
            "policy": policy,
            "key_logs": logs,
            "attestations": attestations,
            "messages": [{"hex": h(&propose(&proposal)?), "time": now.unix()}],
            "codes": true,
        });
        let refusals = conformance::session_refusals(&inputs)?;
        let shown = format!("{:?}", refusals.first());
        if !shown.contains(&format!("Proposal({expected:?})")) {
            return Err(format!("{what}: refused with {shown}"));
        }
        f.push(
            "8.2",
            "session-receive",
            Intent::Invalid,
            format!("a proposal with {what}: Proposal({expected:?}), invalid-proposal"),
            inputs,
            Some(json!({"initiator_node_seed": seed(node_key)})),
        );
    }
    // Section 8.5.1, envelope check 2: after a valid proposal, a message of that session
    // naming another revision of the proposal.
    let remind = SessionMessage {
        session: base.session,
        proposal: signet_protocol::Digest::of(b"another revision of the proposal"),
        from: brand,
        time: now,
        body: MessageBody::Remind {
            note: "please sign".into(),
        },
    };
    let remind = Signed::sign(remind, SESSION_MESSAGE_CONTENT_TYPE, node_key).map_err(e)?;
    let inputs = json!({
        "me": supplier.to_string(),
        "policy": policy,
        "key_logs": logs,
        "attestations": attestations,
        "messages": [
            {"hex": h(&propose(&base)?), "time": now.unix()},
            {"hex": h(remind.bytes()), "time": now.unix()},
        ],
        "codes": true,
    });
    let refusals = conformance::session_refusals(&inputs)?;
    if !matches!(
        refusals.as_slice(),
        [
            None,
            Some(signet_protocol::session::SessionError::WrongRevision)
        ]
    ) {
        return Err(format!("a remind about another revision: {refusals:?}"));
    }
    f.push(
        "8.5.1",
        "session-receive",
        Intent::Invalid,
        "a remind naming another revision of the held proposal: WrongRevision, wrong-session"
            .to_string(),
        inputs,
        Some(json!({"initiator_node_seed": seed(node_key)})),
    );
    Ok(())
}

/// Section 11.6: GB/T 38540 seal signatures (SM2, SM3), verified over their data.
fn electronic_seals() -> Result<File, String> {
    use der::{Decode, Encode};
    use signet_protocol::ses::{self, Picture, SealSpec, asn1::SeSeal, asn1::SesSignature};
    use signet_protocol::sm2::Sm2SecretKey;
    use signet_protocol::x509::Issuance;
    use signet_protocol::x509::sm2::{Sm2KeyForm, sm2_certificate};
    let mut f = File::new(
        "11-electronic-seals",
        "GB/T 38540 electronic seal signatures (SM2 with SM3)",
        "11.6",
    );
    let op = "verify-ses-signature";
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let sm2 = |role: &str| Sm2SecretKey::from_bytes(&test_key("ses", role).to_seed());
    let maker = sm2("maker").map_err(|x| e(&x))?;
    let signer = sm2("signer").map_err(|x| e(&x))?;
    let other = sm2("other holder").map_err(|x| e(&x))?;
    let stranger = sm2("stranger").map_err(|x| e(&x))?;
    let name = |text: &str| -> Result<x509_cert::name::Name, String> {
        text.parse().map_err(|x: der::Error| e(&x))
    };
    let issuance = |serial: u128| Issuance {
        serial,
        not_before: T0,
        not_after: T0.plus(365 * DAY),
    };
    let maker_name = "C=CN,O=Vector Seal Maker,CN=Vector Seal Maker";
    let cert = |serial, subject: &str, key: &Sm2SecretKey, ca| {
        sm2_certificate(
            &maker,
            name(maker_name)?,
            name(subject)?,
            &key.public_key(),
            Sm2KeyForm::EcPublicKey,
            &issuance(serial),
            ca,
        )
        .map_err(|x| e(&x))
    };
    let maker_cert = cert(1, maker_name, &maker, true)?;
    let signer_cert = cert(
        2,
        "C=CN,O=Vector Supplier,CN=Vector Supplier",
        &signer,
        false,
    )?;
    let other_cert = cert(3, "C=CN,O=Vector Supplier,CN=Second Holder", &other, false)?;
    let stranger_cert = cert(
        4,
        "C=CN,O=Vector Stranger,CN=Vector Stranger",
        &stranger,
        false,
    )?;
    let spec = SealSpec {
        vid: "signet-vectors".into(),
        es_id: "33010000000001".into(),
        seal_type: 1,
        name: "合同专用章".into(),
        signer_certificates: vec![signer_cert.clone(), other_cert.clone()],
        created: T0,
        valid_from: T0,
        valid_until: T0.plus(30 * DAY),
        picture: Picture {
            format: "PNG".into(),
            data: b"\x89PNG\r\n\x1a\n(a seal image)".to_vec(),
            width_mm: 40,
            height_mm: 40,
        },
    };
    let seal = ses::make_seal(&spec, &maker, &maker_cert).map_err(|x| e(&x))?;
    let data = b"%PDF-1.7 (the contract)".to_vec();
    let at = T0.plus(DAY);
    let sign = |seal: &[u8], key: &Sm2SecretKey, cert: &[u8], time| {
        ses::sign(seal, key, cert, &data, time, "contract.pdf").map_err(|x| e(&x))
    };
    let good = sign(&seal, &signer, &signer_cert, at)?;
    f.push(
        "11.6",
        op,
        Intent::Valid,
        "a seal signature: the maker's seal (two holders listed), applied by the first holder a day after it was made",
        json!({"hex": h(&good), "data": h(&data)}),
        Some(json!({
            "maker_sm2_scalar": h(&*maker.to_bytes()),
            "signer_sm2_scalar": h(&*signer.to_bytes()),
        })),
    );
    let edit = |der: &[u8], change: &dyn Fn(&mut SesSignature)| -> Result<Vec<u8>, String> {
        let mut decoded = SesSignature::from_der(der).map_err(|x| e(&x))?;
        change(&mut decoded);
        decoded.to_der().map_err(|x| e(&x))
    };
    let mut cases: Vec<(Vec<u8>, Vec<u8>, &str)> = Vec::new();
    let tampered_seal = {
        let mut decoded = SeSeal::from_der(&seal).map_err(|x| e(&x))?;
        let mut picture = decoded.e_seal_info.picture.data.as_bytes().to_vec();
        picture[9] ^= 1;
        decoded.e_seal_info.picture.data =
            der::asn1::OctetString::new(picture).map_err(|x| e(&x))?;
        decoded.to_der().map_err(|x| e(&x))?
    };
    cases.push((
        sign(&tampered_seal, &signer, &signer_cert, at)?,
        data.clone(),
        "SealSignature: one bit of the seal's picture changed after the maker signed it (the signer's own signature is good)",
    ));
    cases.push((
        good.clone(),
        b"%PDF-1.7 (another contract)".to_vec(),
        "DataHash: the signature verified over other data",
    ));
    cases.push((
        sign(&seal, &stranger, &stranger_cert, at)?,
        data.clone(),
        "SignerNotInSeal: signed by a certified SM2 key whose certificate the seal does not list",
    ));
    cases.push((
        edit(&good, &|s| {
            s.cert =
                der::asn1::OctetString::new(other_cert.clone()).unwrap_or_else(|_| s.cert.clone())
        })?,
        data.clone(),
        "Signature: the signer's certificate swapped for the other listed holder's",
    ));
    cases.push((
        edit(&good, &|s| {
            s.signature_alg_id = signet_protocol::x509::asn1::ECDSA_WITH_SHA256
        })?,
        data.clone(),
        "Algorithm: signatureAlgID is ecdsa-with-SHA256, not SM2-with-SM3",
    ));
    cases.push((
        edit(&good, &|s| s.to_sign.version = 3)?,
        data.clone(),
        "Version: TBS_Sign version 3",
    ));
    cases.push((
        sign(&seal, &signer, &signer_cert, T0.plus(31 * DAY))?,
        data.clone(),
        "SealNotValidAt: applied a day after the seal's validity ended",
    ));
    let long_seal = {
        let mut long = spec.clone();
        long.valid_until = T0.plus(400 * DAY);
        ses::make_seal(&long, &maker, &maker_cert).map_err(|x| e(&x))?
    };
    cases.push((
        sign(&long_seal, &signer, &signer_cert, T0.plus(366 * DAY))?,
        data.clone(),
        "CertificateNotValidAt: applied within the seal's validity but after the signer's certificate expired",
    ));
    let mut trailing = good.clone();
    trailing.push(0);
    cases.push((
        trailing,
        data.clone(),
        "Malformed: a byte after the DER SES_Signature",
    ));
    for (signature, data, what) in cases {
        f.invalid(
            "11.6",
            op,
            what,
            json!({"hex": h(&signature), "data": h(&data)}),
        );
    }
    Ok(f)
}

/// A session that requires national algorithms (section 8.2.5), as the vectors use it: the
/// National Brand proposes to the National Supplier (signing first) and signs second, both
/// with SM2 contract seals; the National Observer has a copy. The proposal's SM3 digest is
/// that of `sm3_of` (the document's own bytes, `document(0x81)`, when right).
struct NationalRun {
    net: signet_protocol::testkit::TestNetwork,
    brand: signet_protocol::party::PartyId,
    supplier: signet_protocol::party::PartyId,
    observer: signet_protocol::party::PartyId,
    /// What the observer received up to the completion, with when.
    to_observer: Vec<(Vec<u8>, Timestamp)>,
    /// The session's bundle, as the brand assembles it once both parties shared evidence.
    bundle: Vec<u8>,
}

fn national_run(sm3_of: &[u8]) -> Result<NationalRun, String> {
    use signet_protocol::session::Role;
    use signet_protocol::testkit::{TestNetwork, require_national};
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let now = Timestamp::from_unix(1_800_000_000);
    let labels = ["National Brand", "National Supplier", "National Observer"];
    let mut net = TestNetwork::new(&labels, &["procurement"], now);
    let ids: Vec<signet_protocol::party::PartyId> =
        net.nodes.iter().map(|n| n.party.id()).collect();
    let (brand, supplier, observer) = (ids[1], ids[2], ids[3]);
    for (party, label) in [(brand, labels[0]), (supplier, labels[1])] {
        let key = Sm2SecretKey::from_bytes(&test_key(label, "sm2-seal").to_seed())
            .map_err(|e| err(&e))?;
        net.use_sm2_contract_seal(&party, key, &["procurement"]);
    }
    let proposal = net.proposal(
        &brand,
        &[
            (supplier, Role::Signer, 0),
            (brand, Role::Signer, 1),
            (observer, Role::Copy, 0),
        ],
        "procurement",
        0x81,
    );
    let session = net
        .propose(require_national(proposal, &[sm3_of]))
        .map_err(|e| err(&e))?;
    let mut to_observer = Vec::new();
    deliver_recording(&mut net, &observer, &mut to_observer);
    for signer in [supplier, brand] {
        net.now = net.now.plus(60);
        net.sign(&signer, session).map_err(|e| err(&e))?;
        deliver_recording(&mut net, &observer, &mut to_observer);
    }
    if !matches!(
        net.node(&observer)
            .sessions
            .get(&session)
            .map(|s| s.status()),
        Some(signet_protocol::session::Status::Completed { .. })
    ) {
        return Err(format!(
            "the national session did not complete: {:?}",
            net.node(&observer).refused
        ));
    }
    net.now = net.now.plus(60);
    for party in [brand, supplier, observer] {
        net.share_evidence(&party, session).map_err(|e| err(&e))?;
    }
    let mut ignored = Vec::new();
    deliver_recording(&mut net, &observer, &mut ignored);
    let node = net.node(&brand);
    let bundle =
        signet_protocol::bundle::assemble(&node.sessions[&session], &node.store, &node.policy)
            .map_err(|e| err(&e))?
            .encode()
            .map_err(|e| err(&e))?;
    Ok(NationalRun {
        net,
        brand,
        supplier,
        observer,
        to_observer,
        bundle,
    })
}

impl NationalRun {
    /// The supplier's `sign` message made again with its record sealed by its Ed25519
    /// contract seal (still declared beside the SM2 one) instead of SM2: the intent challenge
    /// names that seal and is signed again by the delegate, the seal signature is the same
    /// but for its `intent` digest. Returns the new `sign` message and the observer's relay
    /// of it (signed again by the brand), with the relay's index in `to_observer`.
    fn ed25519_sealed(&self) -> Result<(Vec<u8>, Vec<u8>, usize), String> {
        use signet_protocol::session::{IntentChallenge, SealSignature, SignatureRecordBytes};
        let err = |e: &dyn std::fmt::Display| e.to_string();
        let supplier = &self.net.node(&self.supplier).party;
        let brand = &self.net.node(&self.brand).party;
        for (i, (bytes, _)) in self.to_observer.iter().enumerate() {
            let relay = message_of(bytes)?;
            let MessageBody::Relay { message } = &relay.body else {
                continue;
            };
            let mut sign = message_of(message)?;
            let MessageBody::Sign(record) = &sign.body else {
                continue;
            };
            if sign.from != self.supplier {
                continue;
            }
            let mut ss = Signed::<SealSignature, LogKey>::decode(
                &record.seal_signature,
                SEAL_SIGNATURE_CONTENT_TYPE,
                &Limits::DEFAULT,
            )
            .map_err(|e| err(&e))?
            .payload()
            .clone();
            let mut challenge = Signed::<IntentChallenge>::decode(
                &record.intent,
                INTENT_CONTENT_TYPE,
                &Limits::DEFAULT,
            )
            .map_err(|e| err(&e))?
            .payload()
            .clone();
            challenge.seal = supplier.contract_seal.public_key().into();
            let intent = Signed::sign(challenge, INTENT_CONTENT_TYPE, &supplier.delegate)
                .map_err(|e| err(&e))?;
            ss.intent = Digest::of(intent.bytes());
            let ss = Signed::sign(ss, SEAL_SIGNATURE_CONTENT_TYPE, &supplier.contract_seal)
                .map_err(|e| err(&e))?;
            sign.body = MessageBody::Sign(SignatureRecordBytes {
                seal_signature: ss.bytes().to_vec(),
                intent: intent.bytes().to_vec(),
                delegation: record.delegation.clone(),
            });
            let sign = Signed::sign(sign, SESSION_MESSAGE_CONTENT_TYPE, &supplier.node)
                .map_err(|e| err(&e))?
                .bytes()
                .to_vec();
            let mut relay = relay.clone();
            relay.body = MessageBody::Relay {
                message: sign.clone(),
            };
            let relay = Signed::sign(relay, SESSION_MESSAGE_CONTENT_TYPE, &brand.node)
                .map_err(|e| err(&e))?
                .bytes()
                .to_vec();
            return Ok((sign, relay, i));
        }
        Err("no relay of the supplier's signature".into())
    }
}

/// Section 8.2.5 in `session-receive`: a session that requires national algorithms, sealed
/// with SM2 (completed) and with an Ed25519 seal (refused), and national proposals that
/// break rule 8 of 8.2. Appended at the end of the family.
fn national_sessions(f: &mut File) -> Result<(), String> {
    use signet_protocol::session::{
        Algorithms, Proposal, ProposalError, RecordError, SessionError,
    };
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let run = national_run(&document(0x81))?;
    let observer = run.net.node(&run.observer);
    let (logs, attestations) = store_inputs(&observer.store);
    let policy = policy_hex(&observer.policy)?;
    let request = |me: &signet_protocol::party::PartyId, messages: &[(Vec<u8>, Timestamp)]| {
        json!({
            "me": me.to_string(),
            "policy": policy,
            "key_logs": logs,
            "attestations": attestations,
            "messages": messages.iter().map(|(b, at)| json!({"hex": h(b), "time": at.unix()})).collect::<Vec<_>>(),
            "codes": true,
        })
    };
    f.valid(
        "8.2.5",
        "session-receive",
        "a session that requires national algorithms (algorithms 1, the document's sm3 digest given), both signers sealing with SM2: the copy participant receives the proposal, the two relayed signatures and the completion: completed",
        request(&run.observer, &run.to_observer),
    );
    let (_, relay, at) = run.ed25519_sealed()?;
    let messages = vec![run.to_observer[0].clone(), (relay, run.to_observer[at].1)];
    let inputs = request(&run.observer, &messages);
    let refusals = conformance::session_refusals(&inputs)?;
    if !matches!(
        refusals.as_slice(),
        [
            None,
            Some(SessionError::Record {
                error: RecordError::SealAlgorithm(Algorithms::National),
                ..
            })
        ]
    ) {
        return Err(format!(
            "an Ed25519 seal in a national session: {refusals:?}"
        ));
    }
    f.push(
        "8.2.5",
        "session-receive",
        Intent::Invalid,
        "the same session, the supplier's relayed signature sealed by its Ed25519 contract seal (declared, valid; the intent proof names it; the mandate, which names the SM2 seal, would fail too): Record(SealAlgorithm), invalid-signature",
        inputs,
        Some(json!({
            "seal_seed": seed(&run.net.node(&run.supplier).party.contract_seal),
            "initiator_node_seed": seed(&run.net.node(&run.brand).party.node),
        })),
    );
    // Rule 8 of 8.2, at the supplier: the national proposal with one thing changed.
    let supplier = run.net.node(&run.supplier);
    let node_key = &run.net.node(&run.brand).party.node;
    let propose = message_of(&run.to_observer[0].0)?;
    let MessageBody::Propose { proposal } = &propose.body else {
        return Err("the observer's first message is not the proposal".into());
    };
    let base = Signed::<Proposal>::decode(proposal, PROPOSAL_CONTENT_TYPE, &Limits::DEFAULT)
        .map_err(|e| err(&e))?
        .payload()
        .clone();
    let (logs, attestations) = store_inputs(&supplier.store);
    let policy = policy_hex(&supplier.policy)?;
    let mut missing = base.clone();
    missing.documents[0].sm3 = None;
    let mut unknown = base.clone();
    unknown.algorithms = Some(Algorithms::Unknown(9));
    let cases = [
        (
            "that requires national algorithms without the document's sm3 digest",
            missing,
            ProposalError::MissingSm3(0),
        ),
        (
            "that requires algorithms of an unregistered code point (9)",
            unknown,
            ProposalError::UnknownAlgorithms(Algorithms::Unknown(9)),
        ),
    ];
    for (what, p, expected) in cases {
        let signed =
            Signed::sign(p.clone(), PROPOSAL_CONTENT_TYPE, node_key).map_err(|e| err(&e))?;
        let m = SessionMessage {
            session: p.session,
            proposal: signed.digest(),
            from: run.brand,
            time: propose.time,
            body: MessageBody::Propose {
                proposal: signed.bytes().to_vec(),
            },
        };
        let m = Signed::sign(m, SESSION_MESSAGE_CONTENT_TYPE, node_key).map_err(|e| err(&e))?;
        let inputs = json!({
            "me": run.supplier.to_string(),
            "policy": policy,
            "key_logs": logs,
            "attestations": attestations,
            "messages": [{"hex": h(m.bytes()), "time": run.to_observer[0].1.unix()}],
            "codes": true,
        });
        let refusals = conformance::session_refusals(&inputs)?;
        let shown = format!("{:?}", refusals.first());
        if !shown.contains(&format!("Proposal({expected:?})")) {
            return Err(format!("a proposal {what}: refused with {shown}"));
        }
        let name = match expected {
            ProposalError::MissingSm3(_) => "MissingSm3",
            _ => "UnknownAlgorithms",
        };
        f.push(
            "8.2.5",
            "session-receive",
            Intent::Invalid,
            format!("a proposal {what}: Proposal({name}), invalid-proposal"),
            inputs,
            Some(json!({"initiator_node_seed": seed(node_key)})),
        );
    }
    Ok(())
}

/// Sections 8.2.5 and 11.3: bundles of sessions that require national algorithms. Appended
/// at the end of the family.
fn national_bundles(f: &mut File) -> Result<(), String> {
    use signet_protocol::bundle::{Outcome, verify_bundle};
    let run = national_run(&document(0x81))?;
    let node = run.net.node(&run.brand);
    let later = run.net.now.plus(DAY);
    let req = |bundle: &[u8], policy: &TrustPolicy| -> Result<Value, String> {
        Ok(json!({
            "hex": h(bundle),
            "documents": [h(&document(0x81))],
            "policy": policy_hex(policy)?,
            "time": later.unix(),
        }))
    };
    f.valid(
        "8.2.5",
        "verify-bundle",
        "the bundle of a session that requires national algorithms, both signers sealing with SM2, with its document (SHA-256 and SM3 digests match): signature.algorithms VALID for each signer",
        req(&run.bundle, &node.policy)?,
    );
    // The proposal states the SM3 digest of other bytes.
    let wrong = national_run(&document(0x82))?;
    let report = verify_bundle(
        &wrong.bundle,
        &[&document(0x81)],
        &wrong.net.node(&wrong.brand).policy,
        later,
    );
    let failures: Vec<_> = report.failures().map(|c| c.name).collect();
    if failures != ["document.digest"] {
        return Err(format!("a wrong SM3 digest: {failures:?}"));
    }
    f.invalid(
        "11.3",
        "verify-bundle",
        "the bundle of a national session whose proposal states the SM3 digest of other bytes than the document's (the SHA-256 digest is right; the parties signed it, never having compared), with the document: document.digest INVALID",
        req(&wrong.bundle, &wrong.net.node(&wrong.brand).policy)?,
    );
    // The completion re-signed by the brand with the supplier's Ed25519-sealed sign message.
    let (sign, _, _) = run.ed25519_sealed()?;
    let mut bundle = Bundle::decode(&run.bundle).map_err(|e| e.to_string())?;
    let mut m = message_of(&bundle.completion)?;
    if let MessageBody::Complete { actions } = &mut m.body {
        let supplier_action = actions
            .iter_mut()
            .find(|a| message_of(a).is_ok_and(|s| s.from == run.supplier))
            .ok_or("no action of the supplier")?;
        *supplier_action = sign;
    }
    bundle.completion = Signed::sign(m, SESSION_MESSAGE_CONTENT_TYPE, &node.party.node)
        .map_err(|e| e.to_string())?
        .bytes()
        .to_vec();
    let bytes = bundle.encode().map_err(|e| e.to_string())?;
    let report = verify_bundle(&bytes, &[&document(0x81)], &node.policy, later);
    if !report
        .failures()
        .any(|c| c.name == "signature.algorithms" && c.outcome == Outcome::Invalid)
    {
        return Err(format!(
            "an Ed25519 seal in a national bundle: {:?}",
            report.failures().collect::<Vec<_>>()
        ));
    }
    f.invalid(
        "11.3",
        "verify-bundle",
        "the national session's bundle, its completion re-signed by the brand listing the supplier's signature sealed by its Ed25519 contract seal: signature.algorithms INVALID for the supplier (also its signature.mandate, the mandate naming the SM2 seal; the brand's signature.routing, its prior commitment naming the supplier's original action; and evidence.coverage, the completion not being the one logged)",
        req(&bytes, &node.policy)?,
    );
    Ok(())
}

/// Delivers every queued message, keeping those for `observer` (with the time) in `out`.
fn deliver_recording(
    net: &mut signet_protocol::testkit::TestNetwork,
    observer: &signet_protocol::party::PartyId,
    out: &mut Vec<(Vec<u8>, Timestamp)>,
) {
    while let Some((to, bytes)) = net.queue.pop_front() {
        if &to == observer {
            out.push((bytes.clone(), net.now));
        }
        net.deliver(&to, &bytes);
    }
}
