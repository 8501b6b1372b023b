//! The reference implementation's side of the conformance contract (spec/conformance.md):
//! one JSON request in, one JSON response out.
//!
//! A request is an object with an `op` and the op's inputs; the response has `result`
//! (`"valid"` or `"invalid"`), and where the op defines them `error` (a wire error code name,
//! spec section 13.6), `output` (op-specific values) and `flags` (the reference
//! implementation's names for why, informative). An op this implementation does not know, or
//! inputs it cannot read, yield `{"result": "unsupported", "detail": …}`.

use serde_json::{Value, json};

use signet_protocol::address::{ADDRESS_RECORD_CONTENT_TYPE, AddressRecord};
use signet_protocol::attestation::Attestation;
use signet_protocol::bundle::{assemble, verify_bundle};
use signet_protocol::codec::{self, Limits, check_deterministic};
use signet_protocol::cose::Signed;
use signet_protocol::error::ErrorCode;
use signet_protocol::error::WireError;
use signet_protocol::evidence::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use signet_protocol::evidence::{
    Equivocation, EvidenceEvent, PartyEvidence, SignedCheckpoint, Witness, WitnessError,
    verify_equivocation,
};
use signet_protocol::keylog::{KEY_EVENT_CONTENT_TYPE, KeyEvent, KeyLog, LogKey, LogSecretKey};
use signet_protocol::party::{AttestationId, IdError, PartyId};
use signet_protocol::registration::{Registration, RegistrationError};
use signet_protocol::session::{
    ActionError, Context, INTENT_CONTENT_TYPE, IntentChallenge, IntentProof, PROPOSAL_CONTENT_TYPE,
    PdfRevision, Proposal, SEAL_SIGNATURE_CONTENT_TYPE, SESSION_MESSAGE_CONTENT_TYPE,
    SealSignature, Session, SessionError, SessionMessage, Step,
};
use signet_protocol::sm2::Sm2SecretKey;
use signet_protocol::transport::witness::{self as witness_protocol, WitnessMessage};
use signet_protocol::transport::{doc, gossip, msg};
use signet_protocol::trust::{Moment, TrustPolicy, TrustStore, Verdict, evaluate_at};
use signet_protocol::{Digest, PublicKey, SecretKey, Timestamp};

/// Every op of the contract, in the order spec/conformance.md lists them.
pub const OPS: &[&str] = &[
    "parse-party-id",
    "parse-attestation-id",
    "parse-registration",
    "cbor-check",
    "verify-signed",
    "replay-key-log",
    "check-mandate",
    "verify-attestation",
    "pdf-certificate-in-effect",
    "evaluate-trust",
    "session-receive",
    "session-play",
    "decode-evidence-event",
    "verify-inclusion",
    "verify-consistency",
    "verify-checkpoint",
    "verify-cosignature",
    "witness",
    "verify-equivocation",
    "verify-party-evidence",
    "verify-bundle",
    "decode-chunk-request",
    "decode-chunk-response",
    "fetch-document",
    "decode-witness-message",
    "witness-answer",
    "decode-msg-response",
    "decode-keylog-payload",
    "verify-address-record",
    "verify-ses-signature",
];

/// Inputs the implementation could not read: the request is malformed, not the object.
#[derive(Debug)]
struct BadRequest(String);

type Answer = Result<Value, BadRequest>;

/// Handles one request.
pub fn handle(request: &Value) -> Value {
    let op = request
        .get("op")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let answer = match op {
        "cbor-check" => cbor_check(request),
        "verify-signed" => verify_signed(request),
        "replay-key-log" => replay_key_log(request),
        "verify-attestation" => verify_attestation(request),
        "pdf-certificate-in-effect" => pdf_certificate_in_effect(request),
        "evaluate-trust" => evaluate_trust(request),
        "session-receive" => session_receive(request),
        "decode-evidence-event" => decode_evidence_event(request),
        "verify-inclusion" => inclusion(request),
        "verify-consistency" => consistency(request),
        "verify-checkpoint" => checkpoint(request),
        "verify-cosignature" => cosignature(request),
        "witness" => witness(request),
        "verify-equivocation" => equivocation(request),
        "verify-party-evidence" => party_evidence(request),
        "verify-bundle" => bundle(request),
        "decode-chunk-request" => chunk_request(request),
        "decode-chunk-response" => chunk_response(request),
        "fetch-document" => fetch_document(request),
        "decode-witness-message" => witness_message(request),
        "witness-answer" => witness_answer(request),
        "decode-msg-response" => msg_response(request),
        "decode-keylog-payload" => keylog_payload(request),
        "verify-address-record" => address_record(request),
        "verify-ses-signature" => ses_signature(request),
        "verify-intent-proof" => intent_proof(request),
        "parse-party-id" => parse_party_id(request),
        "parse-attestation-id" => parse_attestation_id(request),
        "parse-registration" => parse_registration(request),
        "session-play" => session_play(request),
        "check-mandate" => check_mandate(request),
        other => Err(BadRequest(format!("unknown op {other:?}"))),
    };
    answer.unwrap_or_else(|BadRequest(detail)| json!({"result": "unsupported", "detail": detail}))
}

// ----- reading inputs -----

fn field<'a>(request: &'a Value, name: &str) -> Result<&'a Value, BadRequest> {
    request
        .get(name)
        .ok_or_else(|| BadRequest(format!("missing {name}")))
}

fn text<'a>(request: &'a Value, name: &str) -> Result<&'a str, BadRequest> {
    field(request, name)?
        .as_str()
        .ok_or_else(|| BadRequest(format!("{name} is not a string")))
}

fn number(request: &Value, name: &str) -> Result<u64, BadRequest> {
    field(request, name)?
        .as_u64()
        .ok_or_else(|| BadRequest(format!("{name} is not an unsigned integer")))
}

fn bytes_of(value: &Value, name: &str) -> Result<Vec<u8>, BadRequest> {
    let text = value
        .as_str()
        .ok_or_else(|| BadRequest(format!("{name} is not a hex string")))?;
    hex::decode(text).map_err(|e| BadRequest(format!("{name}: {e}")))
}

fn bytes(request: &Value, name: &str) -> Result<Vec<u8>, BadRequest> {
    bytes_of(field(request, name)?, name)
}

fn list<'a>(request: &'a Value, name: &str) -> Result<&'a Vec<Value>, BadRequest> {
    field(request, name)?
        .as_array()
        .ok_or_else(|| BadRequest(format!("{name} is not an array")))
}

fn bytes_list(request: &Value, name: &str) -> Result<Vec<Vec<u8>>, BadRequest> {
    list(request, name)?
        .iter()
        .map(|v| bytes_of(v, name))
        .collect()
}

fn digest_of(value: &Value, name: &str) -> Result<Digest, BadRequest> {
    Digest::from_slice(&bytes_of(value, name)?).map_err(|e| BadRequest(format!("{name}: {e}")))
}

fn digests(request: &Value, name: &str) -> Result<Vec<Digest>, BadRequest> {
    list(request, name)?
        .iter()
        .map(|v| digest_of(v, name))
        .collect()
}

/// A `sign` step's optional `pdf`: the PDF revisions sealed (spec §8.4.2), each
/// `{document, base, sealed, size}` with hex digests.
fn pdf_revisions(step: &Value) -> Result<Vec<PdfRevision>, BadRequest> {
    let Some(items) = step.get("pdf") else {
        return Ok(Vec::new());
    };
    let items = items
        .as_array()
        .ok_or_else(|| BadRequest("pdf is not an array".into()))?;
    items
        .iter()
        .map(|r| {
            Ok(PdfRevision {
                document: u32::try_from(number(r, "document")?)
                    .map_err(|_| BadRequest("pdf.document is too large".into()))?,
                base: digest_of(field(r, "base")?, "pdf.base")?,
                sealed: digest_of(field(r, "sealed")?, "pdf.sealed")?,
                size: number(r, "size")?,
            })
        })
        .collect()
}

fn public_key(request: &Value, name: &str) -> Result<PublicKey, BadRequest> {
    PublicKey::from_slice(&bytes(request, name)?).map_err(|e| BadRequest(format!("{name}: {e}")))
}

fn party(request: &Value, name: &str) -> Result<PartyId, BadRequest> {
    text(request, name)?
        .parse()
        .map_err(|e| BadRequest(format!("{name}: {e}")))
}

/// A seal key: `name` (hex) under the COSE algorithm `<name>_alg` (absent: Ed25519), as a key
/// declaration gives it (4.3.2).
fn seal_key(request: &Value, name: &str) -> Result<LogKey, BadRequest> {
    let alg = match request.get(format!("{name}_alg")) {
        None => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| BadRequest(format!("{name}_alg is not an integer")))?,
        ),
    };
    LogKey::from_wire(alg, &bytes(request, name)?).map_err(|e| BadRequest(format!("{name}: {e}")))
}

/// The seal's secret key of a `sign` step: `seal_sm2` (an SM2 scalar, hex) if given, else
/// `seal_seed` (an Ed25519 seed); test-only keys.
fn seal_secret(request: &Value) -> Result<LogSecretKey, BadRequest> {
    if request.get("seal_sm2").is_none() {
        return secret_key(request, "seal_seed").map(LogSecretKey::Ed25519);
    }
    let scalar: [u8; 32] = bytes(request, "seal_sm2")?
        .try_into()
        .map_err(|_| BadRequest("seal_sm2 is not 32 bytes".into()))?;
    Sm2SecretKey::from_bytes(&scalar)
        .map(LogSecretKey::Sm2)
        .map_err(|e| BadRequest(format!("seal_sm2: {e}")))
}

/// A test-only Ed25519 secret key, given as its 32-byte seed.
fn secret_key(request: &Value, name: &str) -> Result<SecretKey, BadRequest> {
    let seed: [u8; 32] = bytes(request, name)?
        .try_into()
        .map_err(|_| BadRequest(format!("{name} is not 32 bytes")))?;
    Ok(SecretKey::from_seed(&seed))
}

fn time(request: &Value, name: &str) -> Result<Timestamp, BadRequest> {
    number(request, name).map(Timestamp::from_unix)
}

fn policy(request: &Value) -> Result<TrustPolicy, BadRequest> {
    let policy: TrustPolicy = codec::decode(&bytes(request, "policy")?, &Limits::DEFAULT)
        .map_err(|e| BadRequest(format!("policy: {e}")))?;
    policy
        .check()
        .map_err(|e| BadRequest(format!("policy: {e}")))?;
    Ok(policy)
}

/// A store of the key logs (`key_logs`: arrays of signed events) and attestations given.
/// Inputs that do not replay or decode are skipped, as a node skips what it cannot check.
fn store(request: &Value) -> Result<TrustStore, BadRequest> {
    let mut store = TrustStore::new();
    if let Some(logs) = request.get("key_logs").and_then(Value::as_array) {
        for log in logs {
            let events: Vec<Vec<u8>> = log
                .as_array()
                .ok_or_else(|| BadRequest("key_logs holds a non-array".into()))?
                .iter()
                .map(|e| bytes_of(e, "key_logs"))
                .collect::<Result<_, _>>()?;
            if let Ok(log) = KeyLog::replay(&events) {
                store.add_key_log(log);
            }
        }
    }
    if request.get("attestations").is_some() {
        for a in bytes_list(request, "attestations")? {
            if let Ok(signed) = Attestation::decode(&a) {
                store.add_attestation(signed);
            }
        }
    }
    // X.509 CRLs for certificate-backed identities (section 6.11.3); one that does not
    // parse is not held, as a node would not hold it.
    if request.get("crls").is_some() {
        for crl in bytes_list(request, "crls")? {
            let _ = store.add_crl(&crl);
        }
    }
    Ok(store)
}

// ----- answers -----

fn valid(output: Value) -> Answer {
    Ok(json!({"result": "valid", "output": output}))
}

/// An invalid result with the wire code of `error` and its variant as the flag.
fn invalid<E: WireError + std::fmt::Debug>(error: &E) -> Answer {
    Ok(json!({
        "result": "invalid",
        "error": error.code().name(),
        "flags": [variant(error)],
    }))
}

/// An invalid result without a wire code.
fn invalid_flag(flag: &str) -> Answer {
    Ok(json!({"result": "invalid", "flags": [flag]}))
}

/// The name of an error's variant (and, for wrapped errors, the inner variant after a `/`).
pub fn variant<E: std::fmt::Debug>(error: &E) -> String {
    let debug = format!("{error:?}");
    let head = leading_ident(&debug);
    // Wrappers whose variant alone says little: name the inner variant too.
    let inner = match head.as_str() {
        "Record" | "Mandate" | "Checkpoint" | "Note" | "Evidence" | "Decode" | "Inclusion"
        | "Entry" | "Payload" | "Encoding" | "Message" | "ProposalObject" | "Proposal"
        | "Claims" | "Signed" => {
            let rest = &debug[head.len()..];
            let rest = rest
                .rsplit_once("error: ")
                .map(|(_, r)| r)
                .unwrap_or_else(|| rest.trim_start_matches(['(', ' ', '{']));
            let inner = leading_ident(rest);
            (!inner.is_empty()).then_some(inner)
        }
        _ => None,
    };
    match inner {
        Some(inner) => format!("{head}/{inner}"),
        None => head,
    }
}

fn leading_ident(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

// ----- ops -----

/// Section 8.4.1: an intent proof (COSE, or WebAuthn) that verifies and shows its method.
fn intent_proof(request: &Value) -> Answer {
    let proof = match signet_protocol::session::IntentProof::decode(&bytes(request, "hex")?) {
        Ok(p) => p,
        Err(e) => return invalid(&e),
    };
    let person = match proof.person() {
        signet_protocol::person::PersonKey::Ed25519(key) => json!({"ed25519": key.to_hex()}),
        signet_protocol::person::PersonKey::Sm2(key) => json!({"sm2": key.to_string()}),
        signet_protocol::person::PersonKey::WebAuthn(c) => json!({
            "webauthn": {"id": hex::encode(&c.id), "alg": c.alg.name(), "public_key": hex::encode(&c.public_key), "rp_id": c.rp_id},
        }),
    };
    let output = json!({
        "method": proof.challenge().method.name(),
        "person": person,
        "digest": proof.digest().to_hex(),
    });
    if proof.check_method() {
        valid(output)
    } else {
        Ok(json!({
            "result": "invalid",
            "error": ErrorCode::InvalidSignature.name(),
            "flags": ["IntentMethod"],
        }))
    }
}

/// Section 3.1 and 3.5: deterministic CBOR within the limits.
fn cbor_check(request: &Value) -> Answer {
    match check_deterministic(&bytes(request, "hex")?, &Limits::DEFAULT) {
        Ok(()) => valid(json!({})),
        Err(e) => invalid(&e),
    }
}

/// Section 3.3: a COSE_Sign1 of a content type whose payload has that type's schema and whose
/// signature verifies. Attestations also pass their content rules (section 6.1).
fn verify_signed(request: &Value) -> Answer {
    let bytes = bytes(request, "hex")?;
    let content_type = text(request, "content_type")?;
    let limits = Limits::DEFAULT;
    let parts = match content_type {
        KEY_EVENT_CONTENT_TYPE => {
            Signed::<KeyEvent>::decode(&bytes, KEY_EVENT_CONTENT_TYPE, &limits)
                .map(|s| (s.signer().to_string(), s.digest()))
        }
        signet_protocol::attestation::ATTESTATION_CONTENT_TYPE => {
            Attestation::decode(&bytes).map(|s| (s.signer().to_string(), s.digest()))
        }
        PROPOSAL_CONTENT_TYPE => Signed::<Proposal>::decode(&bytes, PROPOSAL_CONTENT_TYPE, &limits)
            .map(|s| (s.signer().to_string(), s.digest())),
        SESSION_MESSAGE_CONTENT_TYPE => {
            Signed::<SessionMessage>::decode(&bytes, SESSION_MESSAGE_CONTENT_TYPE, &limits)
                .map(|s| (s.signer().to_string(), s.digest()))
        }
        INTENT_CONTENT_TYPE => {
            Signed::<IntentChallenge>::decode(&bytes, INTENT_CONTENT_TYPE, &limits)
                .map(|s| (s.signer().to_string(), s.digest()))
        }
        SEAL_SIGNATURE_CONTENT_TYPE => {
            // A seal may be SM2: its signer reads as `sm2:` and the key (LogKey's text).
            Signed::<SealSignature, LogKey>::decode(&bytes, SEAL_SIGNATURE_CONTENT_TYPE, &limits)
                .map(|s| (s.signer().to_string(), s.digest()))
        }
        ADDRESS_RECORD_CONTENT_TYPE => {
            Signed::<AddressRecord>::decode(&bytes, ADDRESS_RECORD_CONTENT_TYPE, &limits)
                .map(|s| (s.signer().to_string(), s.digest()))
        }
        other => return Err(BadRequest(format!("unknown content type {other}"))),
    };
    match parts {
        Ok((signer, digest)) => valid(json!({
            "signer": signer,
            "digest": digest.to_hex(),
        })),
        Err(e) => invalid(&e),
    }
}

/// Section 11.6: a GB/T 38540 seal signature (`hex`, DER `SES_Signature`) over `data`.
fn ses_signature(request: &Value) -> Answer {
    use signet_protocol::ses::{self, SesError};
    let signature = bytes(request, "hex")?;
    let data = bytes(request, "data")?;
    match ses::verify_signature(&signature, &data) {
        Ok(v) => valid(json!({
            "signer_key": hex::encode(v.signer_key.as_bytes()),
            "maker_key": hex::encode(v.seal.maker_key.as_bytes()),
            "es_id": v.seal.es_id,
            "seal_name": v.seal.name,
            "signed_at": v.signed_at.unix(),
        })),
        Err(e) => {
            let refusal = match &e {
                SesError::Malformed(_) => "malformed",
                SesError::Version => "version",
                SesError::Algorithm(_) => "algorithm",
                SesError::MakerCertificate => "maker-certificate",
                SesError::SignerCertificate => "signer-certificate",
                SesError::SealSignature => "seal-signature",
                SesError::Signature => "signature",
                SesError::SignerNotInSeal => "signer-not-in-seal",
                SesError::CertListType(_) => "cert-list-type",
                SesError::DataHash => "data-hash",
                SesError::SealNotValidAt => "seal-not-valid-at",
                SesError::CertificateNotValidAt => "certificate-not-valid-at",
                other => return Err(BadRequest(format!("unexpected refusal {other:?}"))),
            };
            Ok(json!({
                "result": "invalid",
                "output": {"refusal": refusal},
                "flags": [variant(&e)],
            }))
        }
    }
}

/// Section 12.8: a record as a storer checks it (under its DHT key) and as a looker for
/// `party` checks it (with the party's key log, at `time`).
fn address_record(request: &Value) -> Answer {
    let log = KeyLog::replay(bytes_list(request, "key_log")?)
        .map_err(|e| BadRequest(format!("key_log: {e}")))?;
    let expected = party(request, "party")?;
    if log.party() != expected {
        return Err(BadRequest("key_log is not the party's".into()));
    }
    let (dht_key, at) = (bytes(request, "dht_key")?, time(request, "time")?);
    let checked = AddressRecord::decode(&bytes(request, "hex")?).and_then(|signed| {
        signed.payload().check_dht_key(&dht_key)?;
        signed.payload().check(&log, at)?;
        Ok(signed)
    });
    match checked {
        Ok(signed) => {
            let record = signed.payload();
            valid(json!({
                "node": record.node.to_hex(),
                "seq": record.seq,
                "addresses": record.addresses.iter().map(hex::encode).collect::<Vec<_>>(),
            }))
        }
        Err(e) => invalid(&e),
    }
}

/// Section 4.4.
fn replay_key_log(request: &Value) -> Answer {
    match KeyLog::replay(bytes_list(request, "events")?) {
        Ok(log) => valid(json!({
            "party": log.party().to_string(),
            "length": log.len(),
            "head": log.head().to_hex(),
        })),
        Err(e) => invalid(&e),
    }
}

/// Sections 6 and 6.9: an attestation that decodes, passes its content rules and was signed
/// by an `attest` key of its issuer at its issue time, not revoked by then.
fn verify_attestation(request: &Value) -> Answer {
    let store = store(request)?;
    match Attestation::decode(&bytes(request, "hex")?) {
        Ok(signed) if store.has_authority(&signed) => valid(json!({
            "id": signed.payload().id.to_string(),
            "kind": signed.payload().claims.kind().name(),
        })),
        Ok(signed) if store.key_log(&signed.payload().issuer).is_none() => {
            invalid_flag("UnknownIssuer")
        }
        Ok(_) => Ok(json!({
            "result": "invalid",
            "error": signet_protocol::error::ErrorCode::InvalidAttestation.name(),
            "flags": ["NoAuthority"],
        })),
        Err(e) => invalid(&e),
    }
}

/// Section 6.10: whether a PDF certificate attestation (`hex`) is in effect at `time`, given
/// key logs and attestations; the first failing rule as the flag.
fn pdf_certificate_in_effect(request: &Value) -> Answer {
    let store = store(request)?;
    let signed = match Attestation::decode(&bytes(request, "hex")?) {
        Ok(signed) => signed,
        Err(e) => return invalid(&e),
    };
    match store.pdf_certificate_in_effect(&signed, time(request, "time")?) {
        Ok(()) => valid(json!({
            "id": signed.payload().id.to_string(),
            "subject": signed.payload().subject.to_string(),
        })),
        Err(e) => invalid_flag(&variant(&e)),
    }
}

/// Section 7.3, at the moment of section 7.1: `at` and `proven_by` when given, `time` as
/// `now`.
fn evaluate_trust(request: &Value) -> Answer {
    let verdict = trust_verdict_of(request)?;
    let name = match &verdict {
        Verdict::Trusted { .. } => "trusted",
        Verdict::Untrusted { .. } => "untrusted",
        Verdict::Indeterminate { .. } => "indeterminate",
    };
    Ok(json!({
        "result": if verdict.is_trusted() { "valid" } else { "invalid" },
        "output": {"verdict": name},
        "flags": [name],
    }))
}

/// The verdict of an `evaluate-trust` request. Its policy is decoded but not checked first:
/// an incoherent policy is the evaluation's own first refusal (section 7.3).
fn trust_verdict_of(request: &Value) -> Result<Verdict, BadRequest> {
    let policy: TrustPolicy = codec::decode(&bytes(request, "policy")?, &Limits::DEFAULT)
        .map_err(|e| BadRequest(format!("policy: {e}")))?;
    let store = store(request)?;
    let now = time(request, "time")?;
    let at = match request.get("at") {
        Some(_) => time(request, "at")?,
        None => now,
    };
    let proven_by = match request.get("proven_by") {
        Some(_) => time(request, "proven_by")?,
        None => at,
    };
    if proven_by < at || now < at {
        return Err(BadRequest(
            "proven_by and time must not be before at".into(),
        ));
    }
    Ok(evaluate_at(
        &policy,
        &store,
        &party(request, "subject")?,
        Moment { at, proven_by, now },
    ))
}

/// The verdict of an `evaluate-trust` request in full, for the vector generator to check
/// that a vector fails for the reason its description names: the op reports only the
/// verdict's name.
pub fn trust_verdict(request: &Value) -> Result<Verdict, String> {
    trust_verdict_of(request).map_err(|e| e.0)
}

/// Section 8.5.3: a participant `me` receives `messages` in order, each at its `time`. With
/// `"codes": true`, also the wire code of each refusal (section 12.5.1).
fn session_receive(request: &Value) -> Answer {
    let report_codes = match request.get("codes") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| BadRequest("codes is not a boolean".into()))?,
    };
    let (outcomes, status) = receive_all(request)?;
    let mut codes = Vec::new();
    let mut steps = Vec::new();
    let mut flags = Vec::new();
    for outcome in outcomes {
        steps.push(match outcome {
            Ok(true) => {
                codes.push(Value::Null);
                "duplicate".to_string()
            }
            Ok(false) => {
                codes.push(Value::Null);
                "accepted".to_string()
            }
            Err(e) => {
                flags.push(variant(&e));
                codes.push(json!(e.code().name()));
                "refused".to_string()
            }
        });
    }
    let all = steps.iter().all(|s| s != "refused");
    let output = if report_codes {
        json!({"steps": steps, "status": status, "codes": codes})
    } else {
        json!({"steps": steps, "status": status})
    };
    Ok(json!({
        "result": if all { "valid" } else { "invalid" },
        "output": output,
        "flags": flags,
    }))
}

/// Per message of a `session-receive` request: whether it was a duplicate, or the refusal.
type Outcomes = Vec<Result<bool, SessionError>>;

/// The participant `me` of a `session-receive` request handles each message in order: per
/// message, whether it was a duplicate, or the refusal; then the view's status name.
fn receive_all(request: &Value) -> Result<(Outcomes, &'static str), BadRequest> {
    let policy = policy(request)?;
    let store = store(request)?;
    let me = party(request, "me")?;
    // A participant that only receives never signs; the key is never used.
    let node_key = SecretKey::from_seed(&[0; 32]);
    let mut session: Option<Session> = None;
    let mut outcomes = Vec::new();
    for m in list(request, "messages")? {
        let bytes = bytes(m, "hex")?;
        let ctx = Context {
            store: &store,
            policy: &policy,
            now: time(m, "time")?,
            node_key: &node_key,
        };
        outcomes.push(match session.as_mut() {
            Some(s) => s.handle(&bytes, &ctx).map(|step| step.duplicate),
            None => Session::receive(&bytes, me, &ctx).map(|(s, _)| {
                session = Some(s);
                false
            }),
        });
    }
    let status = session.as_ref().map_or("none", |s| s.status().name());
    Ok((outcomes, status))
}

/// The trust store and policy a request gives (`key_logs`, `attestations`, `policy`), for
/// the vector generator.
pub fn knowledge(request: &Value) -> Result<(TrustStore, TrustPolicy), String> {
    Ok((
        store(request).map_err(|e| e.0)?,
        policy(request).map_err(|e| e.0)?,
    ))
}

/// The refusals of a `session-receive` request in full (`None` for a message accepted or a
/// duplicate), for the vector generator to check that a vector fails for the reason its
/// description names: the op itself reports only the wire code and the outer variants.
pub fn session_refusals(request: &Value) -> Result<Vec<Option<SessionError>>, String> {
    let (outcomes, _) = receive_all(request).map_err(|e| e.0)?;
    Ok(outcomes.into_iter().map(Result::err).collect())
}

/// Section 2.1: a party id's text form, parsed. A refusal names the rule of 2.1 that failed
/// first, in the order the section lists them.
fn parse_party_id(request: &Value) -> Answer {
    match text(request, "text")?.parse::<PartyId>() {
        Ok(id) => valid(json!({"digest": id.digest().to_hex()})),
        Err(e) => {
            let refusal = match &e {
                IdError::Checksum(_) => "not-bech32m",
                IdError::Prefix { .. } => "prefix",
                IdError::Length(_) => "length",
                IdError::NonCanonical => "padding",
                other => return Err(BadRequest(format!("unexpected refusal {other:?}"))),
            };
            Ok(json!({
                "result": "invalid",
                "output": {"refusal": refusal},
                "flags": [variant(&e)],
            }))
        }
    }
}

/// Section 2.3: an attestation id's text form, parsed.
fn parse_attestation_id(request: &Value) -> Answer {
    match text(request, "text")?.parse::<AttestationId>() {
        Ok(id) => valid(json!({"id": hex::encode(id.as_bytes())})),
        Err(e) => invalid_flag(&variant(&e)),
    }
}

/// Section 2.4: a registration number's text form `scheme:number`, split at the first colon.
/// A refusal names the rule of 2.4 that failed first.
fn parse_registration(request: &Value) -> Answer {
    let refused = |refusal: &str, flag: String| {
        Ok(json!({
            "result": "invalid",
            "output": {"refusal": refusal},
            "flags": [flag],
        }))
    };
    let Some((scheme, number)) = text(request, "text")?.split_once(':') else {
        return refused("format", "NoColon".into());
    };
    match Registration::new(scheme, number) {
        Ok(r) => valid(json!({"scheme": r.scheme(), "number": r.number()})),
        Err(e) => {
            let refusal = match &e {
                RegistrationError::Length(_) => "length",
                RegistrationError::Character(_) => "character",
                RegistrationError::CheckCharacter { .. } => "check-character",
                RegistrationError::Format => "format",
                other => return Err(BadRequest(format!("unexpected refusal {other:?}"))),
            };
            refused(refusal, variant(&e))
        }
    }
}

/// Sections 8.5 to 8.10: the implementation plays one party `me` of a whole session, step by
/// step: it receives each `receive` message and takes each local action (`do`) at the step's
/// `time`, signing with its test keys (`node_seed`; for `sign` also `seal_seed` and
/// `mandate`). Each step reports its outcome and the messages it sent, exactly.
fn session_play(request: &Value) -> Answer {
    let policy = policy(request)?;
    let store = store(request)?;
    let me = party(request, "me")?;
    let node_key = secret_key(request, "node_seed")?;
    let mut session: Option<Session> = None;
    let mut steps = Vec::new();
    let mut flags = Vec::new();
    let mut all = true;
    for step in list(request, "steps")? {
        let ctx = Context {
            store: &store,
            policy: &policy,
            now: time(step, "time")?,
            node_key: &node_key,
        };
        let (outcome, code, sent) = if step.get("receive").is_some() {
            let bytes = bytes(step, "receive")?;
            let handled = match session.as_mut() {
                Some(s) => s.handle(&bytes, &ctx),
                None => Session::receive(&bytes, me, &ctx).map(|(s, step)| {
                    session = Some(s);
                    step
                }),
            };
            match handled {
                Ok(s) if s.duplicate => ("duplicate", None, s.outbound),
                Ok(s) => ("accepted", None, s.outbound),
                Err(e) => {
                    flags.push(variant(&e));
                    ("refused", Some(e.code().name()), Vec::new())
                }
            }
        } else if text(step, "do")? == "assemble" {
            match assemble_view(session.as_ref(), &ctx) {
                Ok(()) => ("done", None, Vec::new()),
                Err(flag) => {
                    flags.push(flag);
                    ("refused", None, Vec::new())
                }
            }
        } else {
            match act(request, step, &mut session, &ctx)? {
                Ok(s) => ("done", None, s.outbound),
                Err(e) => {
                    flags.push(variant(&e));
                    ("refused", None, Vec::new())
                }
            }
        };
        all &= outcome != "refused";
        let sent: Vec<Value> = sent
            .iter()
            .map(|out| {
                let mut to: Vec<String> = out.to.iter().map(ToString::to_string).collect();
                to.sort();
                json!({"to": to, "hex": hex::encode(out.message.bytes())})
            })
            .collect();
        let mut entry = json!({"outcome": outcome, "sent": sent});
        if let Some(code) = code {
            entry["code"] = json!(code);
        }
        steps.push(entry);
    }
    let status = session.as_ref().map_or("none", |s| s.status().name());
    Ok(json!({
        "result": if all { "valid" } else { "invalid" },
        "output": {"steps": steps, "status": status},
        "flags": flags,
    }))
}

/// `{"do": "assemble"}` of `session-play`: the party assembles its view's bundle under its
/// knowledge and policy (section 11.2) and sends nothing. The bundle is not compared (its
/// choice of attestations and key logs is the assembler's); a refusal is named by its flag.
fn assemble_view(session: Option<&Session>, ctx: &Context<'_>) -> Result<(), String> {
    let Some(s) = session else {
        return Err(variant(&ActionError::NotAllowed("act without a session")));
    };
    assemble(s, ctx.store, ctx.policy)
        .map(drop)
        .map_err(|e| variant(&e))
}

/// One local action of `session-play` (its `do`), on the party's view.
fn act(
    request: &Value,
    step: &Value,
    session: &mut Option<Session>,
    ctx: &Context<'_>,
) -> Result<Result<Step, ActionError>, BadRequest> {
    let action = text(step, "do")?;
    if action == "propose" {
        let proposal: Proposal = codec::decode(&bytes(step, "proposal")?, &Limits::DEFAULT)
            .map_err(|e| BadRequest(format!("proposal: {e}")))?;
        if session.is_some() {
            return Ok(Err(ActionError::NotAllowed("propose again")));
        }
        return Ok(Session::propose(proposal, ctx).map(|(s, step)| {
            *session = Some(s);
            step
        }));
    }
    let Some(s) = session.as_mut() else {
        return Ok(Err(ActionError::NotAllowed("act without a session")));
    };
    Ok(match action {
        "acknowledge" => s.acknowledge(ctx),
        "approve" => s.approve(ctx),
        "decline" => s.decline(text(step, "reason")?, ctx),
        "cancel" => s.cancel(text(step, "reason")?, ctx),
        "remind" => s.remind(text(step, "note")?, ctx),
        "sign" => {
            let intent = IntentProof::decode(&bytes(step, "intent")?)
                .map_err(|e| BadRequest(format!("intent: {e}")))?;
            let mandate = Attestation::decode(&bytes(request, "mandate")?)
                .map_err(|e| BadRequest(format!("mandate: {e}")))?;
            s.sign(
                intent,
                mandate,
                &seal_secret(request)?,
                pdf_revisions(step)?,
                ctx,
            )
        }
        "share-evidence" => {
            let evidence: PartyEvidence =
                codec::decode(&bytes(step, "evidence")?, &Limits::DEFAULT)
                    .map_err(|e| BadRequest(format!("evidence: {e}")))?;
            s.share_evidence(evidence, ctx)
        }
        other => return Err(BadRequest(format!("unknown action {other:?}"))),
    })
}

/// Section 5.3.1: whether a seal mandate covers one use, with the party's key log and the
/// revocations known.
fn check_mandate(request: &Value) -> Answer {
    use signet_protocol::attestation::{Amount, MandateUse};
    use signet_protocol::person::PersonKey;

    let store = store(request)?;
    let mandate = match Attestation::decode(&bytes(request, "mandate")?) {
        Ok(m) => m,
        Err(e) => return invalid(&e),
    };
    let u = field(request, "use")?;
    let delegate = field(u, "delegate")?;
    let delegate = match delegate.get("sm2") {
        Some(_) => PersonKey::Sm2(
            signet_protocol::sm2::Sm2PublicKey::from_compressed(&bytes(delegate, "sm2")?)
                .map_err(|e| BadRequest(format!("delegate.sm2: {e}")))?,
        ),
        None => PersonKey::Ed25519(public_key(delegate, "ed25519")?),
    };
    let value = match field(u, "value")? {
        Value::Null => None,
        v => Some(Amount {
            currency: text(v, "currency")?.to_string(),
            minor_units: number(v, "minor_units")?,
        }),
    };
    let counterparties = list(u, "counterparties")?
        .iter()
        .map(|p| {
            p.as_str()
                .ok_or_else(|| BadRequest("counterparties holds a non-string".into()))?
                .parse()
                .map_err(|e| BadRequest(format!("counterparties: {e}")))
        })
        .collect::<Result<Vec<PartyId>, _>>()?;
    let use_ = MandateUse {
        party: party(u, "party")?,
        delegate,
        seal: seal_key(u, "seal")?,
        purpose: text(u, "purpose")?,
        value: value.as_ref(),
        counterparties: &counterparties,
        time: time(u, "time")?,
    };
    match store.check_mandate(&mandate, &use_, number(request, "max_validity")?) {
        Ok(_) => valid(json!({})),
        Err(e) => invalid(&e),
    }
}

/// Section 10.1.
fn decode_evidence_event(request: &Value) -> Answer {
    match EvidenceEvent::decode(&bytes(request, "hex")?) {
        Ok(event) => valid(json!({
            "kind": event.kind.code(),
            "time": event.time.unix(),
            "objects": event.objects.len(),
        })),
        Err(e) => invalid(&e),
    }
}

/// Section 10.3.
fn inclusion(request: &Value) -> Answer {
    let result = verify_inclusion(
        &leaf_hash(&bytes(request, "leaf")?),
        number(request, "index")?,
        number(request, "size")?,
        &digests(request, "path")?,
        &digest_of(field(request, "root")?, "root")?,
    );
    match result {
        Ok(()) => valid(json!({})),
        Err(e) => invalid(&e),
    }
}

/// Section 10.3.
fn consistency(request: &Value) -> Answer {
    let result = verify_consistency(
        number(request, "old_size")?,
        number(request, "new_size")?,
        &digest_of(field(request, "old_root")?, "old_root")?,
        &digest_of(field(request, "new_root")?, "new_root")?,
        &digests(request, "path")?,
    );
    match result {
        Ok(()) => valid(json!({})),
        Err(e) => invalid(&e),
    }
}

/// Section 10.4.2.
fn checkpoint(request: &Value) -> Answer {
    let result = SignedCheckpoint::verify(
        text(request, "note")?.as_bytes(),
        text(request, "origin")?,
        &public_key(request, "key")?,
    );
    match result {
        Ok(c) => valid(json!({
            "size": c.checkpoint().size(),
            "root": c.checkpoint().root().to_hex(),
        })),
        Err(e) => invalid(&e),
    }
}

/// Section 10.5.1: the note must be a checkpoint signed by `log_key` under `origin`, then
/// carry a valid cosignature by the witness.
fn cosignature(request: &Value) -> Answer {
    let checked = match SignedCheckpoint::verify(
        text(request, "note")?.as_bytes(),
        text(request, "origin")?,
        &public_key(request, "log_key")?,
    ) {
        Ok(c) => c,
        Err(e) => return invalid(&e),
    };
    match checked.cosignature_by(
        text(request, "witness_name")?,
        &public_key(request, "witness_key")?,
    ) {
        Ok(time) => valid(json!({"time": time.unix()})),
        Err(e) => invalid(&e),
    }
}

/// Section 10.5.2: a witness with no history, given offers in order.
fn witness(request: &Value) -> Answer {
    let seed: [u8; 32] = bytes(request, "witness_seed")?
        .try_into()
        .map_err(|_| BadRequest("witness_seed is not 32 bytes".into()))?;
    let mut witness = Witness::new(text(request, "witness_name")?, SecretKey::from_seed(&seed))
        .map_err(|e| BadRequest(format!("witness_name: {e}")))?;
    let log_key = public_key(request, "log_key")?;
    let mut results = Vec::new();
    let mut lines = Vec::new();
    let mut flags = Vec::new();
    let mut evidence = Vec::new();
    for offer in list(request, "offers")? {
        let result = witness.cosign(
            text(offer, "note")?.as_bytes(),
            &log_key,
            &digests(offer, "proof")?,
            time(offer, "time")?,
        );
        match result {
            Ok(c) => {
                results.push("cosigned".to_string());
                lines.push(c.line());
            }
            Err(e) => {
                results.push(e.code().name().to_string());
                flags.push(variant(&e));
                if let WitnessError::Equivocation(proof) = &e {
                    evidence.push(hex::encode(
                        proof
                            .encode()
                            .map_err(|e| BadRequest(format!("encode: {e}")))?,
                    ));
                }
            }
        }
    }
    let all = results.iter().all(|r| r == "cosigned");
    Ok(json!({
        "result": if all { "valid" } else { "invalid" },
        "output": {"results": results, "cosignatures": lines, "equivocations": evidence},
        "flags": flags,
    }))
}

/// Section 10.5.3.
fn equivocation(request: &Value) -> Answer {
    let evidence = match Equivocation::decode(&bytes(request, "hex")?) {
        Ok(e) => e,
        Err(e) => return invalid(&e),
    };
    let keys: Vec<PublicKey> = bytes_list(request, "log_keys")?
        .iter()
        .map(|k| PublicKey::from_slice(k).map_err(|e| BadRequest(format!("log_keys: {e}"))))
        .collect::<Result<_, _>>()?;
    match verify_equivocation(&evidence, &keys, text(request, "origin")?) {
        Ok(()) => valid(json!({})),
        Err(e) => invalid(&e),
    }
}

/// Section 10.6.
fn party_evidence(request: &Value) -> Answer {
    let evidence: PartyEvidence = match codec::decode(&bytes(request, "hex")?, &Limits::DEFAULT) {
        Ok(e) => e,
        Err(e) => return invalid(&e),
    };
    let log = match KeyLog::replay(bytes_list(request, "key_log")?) {
        Ok(log) => log,
        Err(e) => return invalid(&e),
    };
    match evidence.verify(&log) {
        Ok(checked) => valid(json!({
            "size": checked.checkpoint.checkpoint().size(),
            "entries": checked.events.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        })),
        Err(e) => invalid_flag(&variant(&e)),
    }
}

/// Section 11.3.
fn bundle(request: &Value) -> Answer {
    let documents = bytes_list(request, "documents")?;
    let documents: Vec<&[u8]> = documents.iter().map(Vec::as_slice).collect();
    let report = verify_bundle(
        &bytes(request, "hex")?,
        &documents,
        &policy(request)?,
        time(request, "time")?,
    );
    let checks: Vec<Value> = report
        .checks
        .iter()
        .map(|c| json!([c.name, c.outcome.as_str()]))
        .collect();
    let failed: Vec<String> = report
        .failures()
        .map(|c| format!("{}:{}", c.name, c.outcome))
        .collect();
    let r = &report.reliability;
    Ok(json!({
        "result": if report.is_valid() { "valid" } else { "invalid" },
        "output": {
            "outcome": report.outcome.as_str(),
            "checks": checks,
            "reliability": [
                r.signer_binding.outcome.as_str(),
                r.signer_control.outcome.as_str(),
                r.signature_integrity.outcome.as_str(),
                r.document_integrity.outcome.as_str(),
            ],
        },
        "flags": failed,
    }))
}

/// A refusal's code as the outputs show it: the number and its registry name.
fn code_json(code: ErrorCode) -> Value {
    json!({"code": code.code(), "name": code.name()})
}

/// Section 9.3.1.
fn chunk_request(request: &Value) -> Answer {
    match doc::ChunkRequest::decode(&bytes(request, "hex")?) {
        Ok(r) => valid(json!({
            "session": hex::encode(r.session.as_bytes()),
            "document": r.document.to_hex(),
            "index": r.index,
        })),
        Err(e) => invalid(&e),
    }
}

/// Section 9.3.2.
fn chunk_response(request: &Value) -> Answer {
    match doc::ChunkResponse::decode(&bytes(request, "hex")?) {
        Ok(doc::ChunkResponse::Chunk {
            document_len,
            bytes,
        }) => valid(json!({
            "status": "chunk",
            "document_len": document_len,
            "chunk": hex::encode(bytes),
        })),
        Ok(doc::ChunkResponse::Refused(code)) => {
            let mut out = code_json(code);
            out["status"] = json!("refused");
            valid(out)
        }
        Ok(doc::ChunkResponse::NotFound) => valid(json!({"status": "not-found"})),
        Err(e) => invalid(&e),
    }
}

/// Most chunks a document may have (spec §9.2, `MAX_DOCUMENT_CHUNKS`).
const MAX_DOCUMENT_CHUNKS: u64 = 4096;

/// Section 9.4: a fetcher's checks of the holder's answers, given the document's `size` and
/// `digest` (its `document-ref`) and `responses` (element `i`: the holder's answer to the
/// request for chunk `i`, as bytes off the wire; a request with no element was not answered).
/// The loop of section 9.4, in chunk order; the outcome names are those of section 9.7.
fn fetch_document(request: &Value) -> Answer {
    let size = number(request, "size")?;
    let digest = digest_of(field(request, "digest")?, "digest")?;
    let responses = list(request, "responses")?;
    let chunk = doc::CHUNK_SIZE as u64;
    let stop = |outcome: &str, flag: &str| {
        Ok(json!({"result": "invalid", "output": {"outcome": outcome}, "flags": [flag]}))
    };
    let chunks = size.div_ceil(chunk);
    let mut document = Vec::new();
    let mut index: u64 = 0;
    loop {
        let Some(answer) = usize::try_from(index).ok().and_then(|i| responses.get(i)) else {
            return stop("delivery-failure", "NoAnswer");
        };
        let (len, bytes) = match doc::ChunkResponse::decode(&bytes_of(answer, "responses")?) {
            Ok(doc::ChunkResponse::Chunk {
                document_len,
                bytes,
            }) => (document_len, bytes),
            Ok(doc::ChunkResponse::Refused(code)) => {
                let mut out = code_json(code);
                out["outcome"] = json!("refused");
                return Ok(json!({"result": "invalid", "output": out, "flags": ["Refused"]}));
            }
            Ok(doc::ChunkResponse::NotFound) => return stop("not-found", "NotFound"),
            Err(e) => return stop("delivery-failure", &variant(&e)),
        };
        // Chunk 0 sets the length; it must be the one the proposal declares, and every later
        // chunk must repeat it.
        if index == 0 && len != size {
            return stop("size-mismatch", "SizeMismatch");
        }
        if index == 0 && chunks > MAX_DOCUMENT_CHUNKS {
            return stop("too-large", "TooManyChunks");
        }
        if len != size {
            return stop("holder-misbehaved", "LengthChanged");
        }
        let want = size.saturating_sub(index * chunk).min(chunk);
        if bytes.len() as u64 != want {
            return stop("holder-misbehaved", "WrongChunkSize");
        }
        document.extend_from_slice(&bytes);
        index += 1;
        if index >= chunks {
            break;
        }
    }
    if Digest::of(&document) != digest {
        return stop("digest-mismatch", "DigestMismatch");
    }
    valid(json!({"outcome": "stored"}))
}

/// A witness message as the outputs show it.
fn witness_message_json(message: &WitnessMessage) -> Result<Value, BadRequest> {
    Ok(match message {
        WitnessMessage::CosignRequest(r) => json!({
            "kind": "cosign-request",
            "note": r.note,
            "proof": r.proof.iter().map(Digest::to_hex).collect::<Vec<_>>(),
        }),
        WitnessMessage::Cosigned(c) => json!({
            "kind": "cosigned",
            "checkpoint": c.checkpoint.to_hex(),
            "cosignature": c.cosignature.line(),
        }),
        WitnessMessage::Refused(r) => json!({
            "kind": "refused",
            "checkpoint": r.checkpoint.to_hex(),
            "code": r.code.code(),
            "last_size": r.last_size,
            "reason": r.reason,
            "equivocation": r
                .equivocation
                .as_ref()
                .map(|e| e.encode().map(hex::encode))
                .transpose()
                .map_err(|e| BadRequest(format!("encode: {e}")))?,
        }),
    })
}

/// Section 10.5.4: one witness message.
fn witness_message(request: &Value) -> Answer {
    match WitnessMessage::decode(&bytes(request, "hex")?) {
        Ok(m) => valid(witness_message_json(&m)?),
        Err(e) => invalid(&e),
    }
}

/// Section 10.5.4: a witness with no history answers each request, in order, from a node
/// authenticated as `requester`.
fn witness_answer(request: &Value) -> Answer {
    let seed: [u8; 32] = bytes(request, "witness_seed")?
        .try_into()
        .map_err(|_| BadRequest("witness_seed is not 32 bytes".into()))?;
    let mut witness = Witness::new(text(request, "witness_name")?, SecretKey::from_seed(&seed))
        .map_err(|e| BadRequest(format!("witness_name: {e}")))?;
    let requester = party(request, "requester")?;
    let log_keys: Vec<PublicKey> = bytes_list(request, "log_keys")?
        .iter()
        .map(|k| PublicKey::from_slice(k).map_err(|e| BadRequest(format!("log_keys: {e}"))))
        .collect::<Result<_, _>>()?;
    let mut results = Vec::new();
    let mut answers = Vec::new();
    let mut flags = Vec::new();
    for r in list(request, "requests")? {
        let received = match WitnessMessage::decode(&bytes(r, "hex")?) {
            Ok(WitnessMessage::CosignRequest(received)) => received,
            Ok(other) => {
                // Not a request: refused on the wire as something a witness does not take.
                results.push(ErrorCode::NotAllowed.name().to_string());
                flags.push(format!("{:?}", other.kind()));
                answers.push(Value::Null);
                continue;
            }
            Err(e) => {
                results.push(e.code().name().to_string());
                flags.push(variant(&e));
                answers.push(Value::Null);
                continue;
            }
        };
        let answer = witness_protocol::answer(
            &mut witness,
            &requester,
            &log_keys,
            &received,
            time(r, "time")?,
        );
        // A refusal's reason is free text for operators (section 10.5.4): reported as a flag,
        // and left out of the compared answer so that no implementation must copy ours.
        let compared = match answer {
            WitnessMessage::Cosigned(cosigned) => {
                results.push("cosigned".to_string());
                WitnessMessage::Cosigned(cosigned)
            }
            WitnessMessage::Refused(mut refused) => {
                results.push(refused.code.name().to_string());
                flags.push(refused.reason.take().unwrap_or_default());
                WitnessMessage::Refused(refused)
            }
            _ => return Err(BadRequest("a witness answered with a request".into())),
        };
        answers.push(json!(hex::encode(
            compared
                .encode()
                .map_err(|e| BadRequest(format!("encode: {e}")))?
        )));
    }
    let all = results.iter().all(|r| r == "cosigned");
    Ok(json!({
        "result": if all { "valid" } else { "invalid" },
        "output": {"results": results, "answers": answers},
        "flags": flags,
    }))
}

/// Section 12.5.
fn msg_response(request: &Value) -> Answer {
    match msg::Response::decode(&bytes(request, "hex")?) {
        Ok(msg::Response::Accepted) => valid(json!({"status": "accepted"})),
        Ok(msg::Response::Refused(code)) => {
            let mut out = code_json(code);
            out["status"] = json!("refused");
            valid(out)
        }
        Err(e) => invalid(&e),
    }
}

/// Section 12.7: the framing of a `signet/keylogs/1` payload (replaying the log is
/// `replay-key-log`).
fn keylog_payload(request: &Value) -> Answer {
    match gossip::decode_key_log(&bytes(request, "hex")?) {
        Ok(events) => valid(json!({
            "events": events.iter().map(hex::encode).collect::<Vec<_>>(),
        })),
        Err(e) => invalid(&e),
    }
}
