//! The intent proof (意愿认证, spec §8.4.1): the delegate person, on their own device, signs
//! a challenge bound to the session, the proposal revision, its documents, the seal and the
//! time. Two forms, each checkable offline:
//!
//! - a COSE_Sign1 of the challenge by the person's software Ed25519 or SM2 key (method
//!   `software-key`: the `signet` command line signs with the person's key file);
//! - a WebAuthn assertion (a passkey in a browser): the authenticator signs its authenticator
//!   data and the SHA-256 of the client data, whose `challenge` is the SHA-256 of the
//!   challenge's bytes. Its flags show what the authenticator checked: method `passkey` needs
//!   user presence and user verification; `hardware-token` also needs a credential that
//!   cannot leave its authenticator (backup eligibility clear).
//!
//! The method a proof claims is checked against what the proof shows (see
//! [`IntentProof::check_method`]): evidence never says more about how intent was given than
//! the signature itself proves.

use serde::{Deserialize, Serialize};

use crate::codec::{self, Limits};
use crate::codepoint::code_points;
use crate::cose::{CoseError, Signed};
use crate::keylog::LogKey;
use crate::party::PartyId;
use crate::person::{CredentialError, PersonKey, WebAuthnCredential};
use crate::{Digest, Timestamp};

use super::proposal::SessionId;

/// Media type of a COSE intent proof (spec §13.1).
pub const INTENT_CONTENT_TYPE: &str = "application/vnd.signet.intent+cbor";
/// Longest time between an intent proof and the seal signature that relies on it, in seconds.
pub const MAX_INTENT_AGE: u64 = 600;
/// Largest authenticator data accepted in a WebAuthn intent proof.
pub const MAX_AUTHENTICATOR_DATA: usize = 1024;
/// Largest client data JSON accepted in a WebAuthn intent proof.
pub const MAX_CLIENT_DATA: usize = 4096;

code_points! {
    /// How the signer's intent was confirmed at signing time (spec §13.12).
    pub enum IntentMethod {
        /// A WebAuthn authenticator verified the person (UV) and its credential cannot leave
        /// it (not backup-eligible): a security key or a device-bound platform key.
        HardwareToken = 1 => "hardware-token",
        /// The person's software key (a key file) signed the challenge.
        SoftwareKey = 2 => "software-key",
        /// Not accepted: a node's claim that it checked a code cannot be shown offline.
        OneTimeCode = 3 => "one-time-code",
        /// Not accepted: a signature does not show which way an authenticator verified the
        /// person; WebAuthn proofs use `passkey` or `hardware-token`.
        Biometric = 4 => "biometric",
        /// A WebAuthn authenticator (a passkey, possibly synced) verified the person (UV).
        Passkey = 5 => "passkey",
    }
}

/// The challenge the person signs (spec §8.4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentChallenge {
    /// The session.
    pub session: SessionId,
    /// Digest of the signed proposal being signed.
    pub proposal: Digest,
    /// Digests of every document, in proposal order.
    pub documents: Vec<Digest>,
    /// The party whose seal will be applied.
    pub signer: PartyId,
    /// The seal that will be applied (an Ed25519 key as its bytes, an SM2 key as
    /// `[alg, key]`).
    pub seal: LogKey,
    /// How intent is confirmed.
    pub method: IntentMethod,
    /// When the challenge was issued to the person.
    pub time: Timestamp,
}

impl IntentChallenge {
    /// The challenge's deterministic encoding: what a COSE proof signs, and what a WebAuthn
    /// proof carries.
    pub fn encode(&self) -> Result<Vec<u8>, codec::EncodeError> {
        codec::encode(self)
    }

    /// What a WebAuthn authenticator is asked to sign for `challenge_bytes`: their SHA-256
    /// (the `challenge` of `navigator.credentials.get`).
    pub fn webauthn_challenge(challenge_bytes: &[u8]) -> Digest {
        Digest::of(challenge_bytes)
    }
}

/// A WebAuthn assertion over an intent challenge, as carried in a signature record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebAuthnAssertion {
    /// The challenge's exact bytes (an encoded [`IntentChallenge`]).
    #[serde(with = "crate::cbor_bytes")]
    pub challenge: Vec<u8>,
    /// The credential that signed (it must be the one the mandate names).
    pub credential: WebAuthnCredential,
    /// The authenticator data, as the authenticator returned it.
    #[serde(with = "crate::cbor_bytes")]
    pub authenticator_data: Vec<u8>,
    /// The client data JSON, as the browser returned it.
    #[serde(with = "crate::cbor_bytes")]
    pub client_data_json: Vec<u8>,
    /// The signature (DER ECDSA for ES256, 64 bytes for EdDSA).
    #[serde(with = "crate::cbor_bytes")]
    pub signature: Vec<u8>,
}

/// What an authenticator's flags say (WebAuthn §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticatorFlags {
    /// UP: a person was present.
    pub user_present: bool,
    /// UV: the authenticator verified the person (PIN, biometric).
    pub user_verified: bool,
    /// BE: the credential may be backed up (synced) off the authenticator.
    pub backup_eligible: bool,
}

/// A verified WebAuthn intent proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAuthnIntent {
    bytes: Vec<u8>,
    digest: Digest,
    challenge: IntentChallenge,
    assertion: WebAuthnAssertion,
    flags: AuthenticatorFlags,
}

/// An intent proof, in either form, with its signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentProof {
    /// A COSE_Sign1 by the person's software key, Ed25519 or SM2.
    Signed(Signed<IntentChallenge, PersonKey>),
    /// A WebAuthn assertion by the person's passkey.
    WebAuthn(WebAuthnIntent),
}

/// Why an intent proof is refused. The signer's (or relayer's) fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntentError {
    /// A COSE proof that does not decode or verify.
    #[error("{0}")]
    Cose(CoseError),
    /// A WebAuthn proof that is not well-formed CBOR of its schema.
    #[error("{0}")]
    Encoding(codec::DecodeError),
    /// The challenge inside a WebAuthn proof is not an encoded intent challenge.
    #[error("challenge: {0}")]
    Challenge(codec::DecodeError),
    /// The credential is malformed.
    #[error("credential: {0}")]
    Credential(CredentialError),
    /// The authenticator data is too short, too long, or for another relying party.
    #[error("authenticator data: {0}")]
    AuthenticatorData(&'static str),
    /// The client data is not the browser's assertion of this challenge at the credential's
    /// relying party.
    #[error("client data: {0}")]
    ClientData(&'static str),
    /// The signature does not verify under the credential.
    #[error("the assertion's signature does not verify")]
    BadSignature,
}

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(default, rename = "crossOrigin")]
    cross_origin: bool,
    #[serde(default, rename = "topOrigin")]
    top_origin: Option<String>,
}

impl IntentProof {
    /// Decodes an intent proof and verifies its signature: a COSE_Sign1 (a CBOR array) by
    /// the key in its header, or a WebAuthn assertion (a CBOR map) by the credential it
    /// carries, for the challenge it carries, at that credential's relying party.
    pub fn decode(bytes: &[u8]) -> Result<Self, IntentError> {
        // A COSE_Sign1 is an array of four; a WebAuthn assertion a map.
        if bytes.first() == Some(&0x84) {
            return Signed::decode(bytes, INTENT_CONTENT_TYPE, &Limits::DEFAULT)
                .map(Self::Signed)
                .map_err(IntentError::Cose);
        }
        let assertion: WebAuthnAssertion =
            codec::decode(bytes, &Limits::DEFAULT).map_err(IntentError::Encoding)?;
        let challenge: IntentChallenge = codec::decode(&assertion.challenge, &Limits::DEFAULT)
            .map_err(IntentError::Challenge)?;
        let credential = &assertion.credential;
        credential.check().map_err(IntentError::Credential)?;
        let data = &assertion.authenticator_data;
        if data.len() < 37 || data.len() > MAX_AUTHENTICATOR_DATA {
            return Err(IntentError::AuthenticatorData("not 37 to 1,024 bytes"));
        }
        if data[..32] != *Digest::of(credential.rp_id.as_bytes()).as_bytes() {
            return Err(IntentError::AuthenticatorData(
                "its relying-party hash is not the credential's relying party",
            ));
        }
        let flags = AuthenticatorFlags {
            user_present: data[32] & 0x01 != 0,
            user_verified: data[32] & 0x04 != 0,
            backup_eligible: data[32] & 0x08 != 0,
        };
        check_client_data(
            &assertion.client_data_json,
            &IntentChallenge::webauthn_challenge(&assertion.challenge),
            &credential.rp_id,
        )?;
        let mut message = data.clone();
        message.extend_from_slice(Digest::of(&assertion.client_data_json).as_bytes());
        credential
            .verify(&message, &assertion.signature)
            .map_err(|_| IntentError::BadSignature)?;
        Ok(Self::WebAuthn(WebAuthnIntent {
            bytes: bytes.to_vec(),
            digest: Digest::of(bytes),
            challenge,
            assertion,
            flags,
        }))
    }

    /// The proof's exact bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::Signed(s) => s.bytes(),
            Self::WebAuthn(w) => &w.bytes,
        }
    }

    /// SHA-256 of [`IntentProof::bytes`]: how a seal signature refers to it.
    pub fn digest(&self) -> Digest {
        match self {
            Self::Signed(s) => s.digest(),
            Self::WebAuthn(w) => w.digest,
        }
    }

    /// The challenge the person signed.
    pub fn challenge(&self) -> &IntentChallenge {
        match self {
            Self::Signed(s) => s.payload(),
            Self::WebAuthn(w) => &w.challenge,
        }
    }

    /// The person's key that made the proof.
    pub fn person(&self) -> PersonKey {
        match self {
            Self::Signed(s) => s.signer().clone(),
            Self::WebAuthn(w) => PersonKey::WebAuthn(w.assertion.credential.clone()),
        }
    }

    /// For a WebAuthn proof, what its authenticator's flags say.
    pub fn flags(&self) -> Option<AuthenticatorFlags> {
        match self {
            Self::Signed(_) => None,
            Self::WebAuthn(w) => Some(w.flags),
        }
    }

    /// Whether the method the challenge claims is one this proof shows: `software-key` for a
    /// COSE proof; for a WebAuthn proof, user presence and verification, and `passkey`, or
    /// `hardware-token` for a credential that is not backup-eligible. Every other method is
    /// refused, since nothing offline could show it.
    pub fn check_method(&self) -> bool {
        let method = self.challenge().method;
        match (self, method) {
            (Self::Signed(_), IntentMethod::SoftwareKey) => true,
            (Self::WebAuthn(w), IntentMethod::Passkey) => {
                w.flags.user_present && w.flags.user_verified
            }
            (Self::WebAuthn(w), IntentMethod::HardwareToken) => {
                w.flags.user_present && w.flags.user_verified && !w.flags.backup_eligible
            }
            _ => false,
        }
    }
}

/// The browser's client data for an assertion of `challenge` at `rp_id` (WebAuthn §7.2):
/// type `webauthn.get`, the challenge in base64url without padding, an origin of the
/// relying party (`https://` on the domain or a subdomain, or `http://localhost`), not from
/// a cross-origin frame.
fn check_client_data(json: &[u8], challenge: &Digest, rp_id: &str) -> Result<(), IntentError> {
    use base64::Engine as _;
    if json.len() > MAX_CLIENT_DATA {
        return Err(IntentError::ClientData("longer than 4,096 bytes"));
    }
    let data: ClientData = serde_json::from_slice(json)
        .map_err(|_| IntentError::ClientData("not the client data JSON"))?;
    if data.kind != "webauthn.get" {
        return Err(IntentError::ClientData("not an assertion (webauthn.get)"));
    }
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(challenge.as_bytes());
    if data.challenge != expected {
        return Err(IntentError::ClientData("it asserts another challenge"));
    }
    if data.cross_origin || data.top_origin.is_some() {
        return Err(IntentError::ClientData("made in a cross-origin frame"));
    }
    let (scheme, rest) = data
        .origin
        .split_once("://")
        .ok_or(IntentError::ClientData("the origin is not a URL origin"))?;
    let host = match rest.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => rest,
    };
    let on_domain = host == rp_id || host.ends_with(&format!(".{rp_id}"));
    let allowed = match scheme {
        "https" => on_domain,
        // Browsers treat localhost as a secure context.
        "http" => rp_id == "localhost" && host == "localhost",
        _ => false,
    };
    if !allowed {
        return Err(IntentError::ClientData(
            "the origin is not the credential's relying party",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{FLAG_BE, FLAG_UP, FLAG_UV, TestAuthenticator, TestParty, test_key};

    const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

    fn challenge(method: IntentMethod) -> IntentChallenge {
        let party = TestParty::new("Signer", T0);
        IntentChallenge {
            session: SessionId::from_bytes([1; 32]),
            proposal: Digest::of(b"proposal"),
            documents: vec![Digest::of(b"contract")],
            signer: party.id(),
            seal: party.contract_seal.public_key().into(),
            method,
            time: T0,
        }
    }

    #[test]
    fn a_passkey_assertion_verifies_and_shows_what_the_authenticator_checked() {
        let authenticator = TestAuthenticator::new("Zhang", "sign.example.com");
        let c = challenge(IntentMethod::Passkey);
        let bytes =
            authenticator.assert(&c, FLAG_UP | FLAG_UV | FLAG_BE, "https://sign.example.com");
        let proof = IntentProof::decode(&bytes).unwrap();
        assert_eq!(proof.challenge(), &c);
        assert_eq!(
            proof.person(),
            crate::person::PersonKey::WebAuthn(authenticator.credential.clone())
        );
        assert_eq!(proof.digest(), Digest::of(&bytes));
        assert!(proof.check_method());
        // A synced passkey is not a hardware token.
        let hw = challenge(IntentMethod::HardwareToken);
        let synced = IntentProof::decode(&authenticator.assert(
            &hw,
            FLAG_UP | FLAG_UV | FLAG_BE,
            "https://sign.example.com",
        ))
        .unwrap();
        assert!(!synced.check_method());
        let bound = IntentProof::decode(&authenticator.assert(
            &hw,
            FLAG_UP | FLAG_UV,
            "https://sign.example.com",
        ))
        .unwrap();
        assert!(bound.check_method());
        // Without user verification, presence alone is not intent.
        let present =
            IntentProof::decode(&authenticator.assert(&c, FLAG_UP, "https://sign.example.com"))
                .unwrap();
        assert!(!present.check_method());
        // A passkey cannot claim a software key, nor the methods nothing shows.
        for method in [
            IntentMethod::SoftwareKey,
            IntentMethod::Biometric,
            IntentMethod::OneTimeCode,
        ] {
            let p = IntentProof::decode(&authenticator.assert(
                &challenge(method),
                FLAG_UP | FLAG_UV,
                "https://sign.example.com",
            ))
            .unwrap();
            assert!(!p.check_method(), "{method}");
        }
        // A subdomain of the relying party, and localhost over http, are its origins.
        assert!(
            IntentProof::decode(&authenticator.assert(
                &c,
                FLAG_UP | FLAG_UV,
                "https://eu.sign.example.com:8443"
            ))
            .is_ok()
        );
        let local = TestAuthenticator::new("Li", "localhost");
        assert!(
            IntentProof::decode(&local.assert(&c, FLAG_UP | FLAG_UV, "http://localhost:7400"))
                .is_ok()
        );
    }

    #[test]
    fn a_passkey_assertion_that_is_not_exactly_this_one_is_refused() {
        let a = TestAuthenticator::new("Zhang", "sign.example.com");
        let c = challenge(IntentMethod::Passkey);
        let flags = FLAG_UP | FLAG_UV;
        let origin = "https://sign.example.com";
        let client = |kind: &str, challenge: &Digest, origin: &str, extra: &str| {
            use base64::Engine as _;
            format!(
                r#"{{"type":"{kind}","challenge":"{}","origin":"{origin}"{extra}}}"#,
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(challenge.as_bytes())
            )
            .into_bytes()
        };
        let bytes = c.encode().unwrap();
        let digest = IntentChallenge::webauthn_challenge(&bytes);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "another origin",
                a.assert(&c, flags, "https://evil.example"),
            ),
            (
                "a look-alike domain",
                a.assert(&c, flags, "https://notsign.example.com"),
            ),
            (
                "http off localhost",
                a.assert(&c, flags, "http://sign.example.com"),
            ),
            (
                "a registration, not an assertion",
                a.assert_raw(
                    bytes.clone(),
                    flags,
                    client("webauthn.create", &digest, origin, ""),
                ),
            ),
            (
                "another challenge",
                a.assert_raw(
                    bytes.clone(),
                    flags,
                    client("webauthn.get", &Digest::of(b"other"), origin, ""),
                ),
            ),
            (
                "a cross-origin frame",
                a.assert_raw(
                    bytes.clone(),
                    flags,
                    client("webauthn.get", &digest, origin, r#","crossOrigin":true"#),
                ),
            ),
            (
                "not JSON",
                a.assert_raw(bytes.clone(), flags, b"{".to_vec()),
            ),
        ];
        for (what, proof) in cases {
            assert!(
                matches!(IntentProof::decode(&proof), Err(IntentError::ClientData(_))),
                "{what}"
            );
        }
        // The authenticator data of another relying party.
        let other = TestAuthenticator::new("Zhang", "evil.example");
        let mut wire: WebAuthnAssertion = codec::decode(
            &other.assert(&c, flags, "https://evil.example"),
            &Limits::DEFAULT,
        )
        .unwrap();
        wire.credential.rp_id = "sign.example.com".into();
        assert!(matches!(
            IntentProof::decode(&codec::encode(&wire).unwrap()),
            Err(IntentError::AuthenticatorData(_))
        ));
        // Any change to what is signed, or to the signature.
        let good = a.assert(&c, flags, origin);
        let wire: WebAuthnAssertion = codec::decode(&good, &Limits::DEFAULT).unwrap();
        let mut flipped = wire.clone();
        let last = flipped.signature.len() - 1;
        flipped.signature[last] ^= 1;
        let mut data = wire.clone();
        data.authenticator_data[36] ^= 1;
        let mut key = wire.clone();
        key.credential = TestAuthenticator::new("Li", "sign.example.com").credential;
        for tampered in [flipped, data, key] {
            assert!(IntentProof::decode(&codec::encode(&tampered).unwrap()).is_err());
        }
        // The challenge carried must be an intent challenge.
        let mut junk = wire;
        junk.challenge = vec![0xa0];
        assert!(IntentProof::decode(&codec::encode(&junk).unwrap()).is_err());
    }

    #[test]
    fn a_cose_proof_is_a_software_key_and_nothing_else() {
        let person = test_key("Signer", "delegate");
        let soft = Signed::sign(
            challenge(IntentMethod::SoftwareKey),
            INTENT_CONTENT_TYPE,
            &person,
        )
        .unwrap();
        let proof = IntentProof::decode(soft.bytes()).unwrap();
        assert!(proof.check_method());
        assert_eq!(
            proof.person(),
            crate::person::PersonKey::Ed25519(person.public_key())
        );
        // A key file does not become a hardware token by saying so.
        let claimed = Signed::sign(
            challenge(IntentMethod::HardwareToken),
            INTENT_CONTENT_TYPE,
            &person,
        )
        .unwrap();
        assert!(!IntentProof::decode(claimed.bytes()).unwrap().check_method());
    }

    #[test]
    fn an_sm2_cose_proof_names_the_sm2_person() {
        let person = crate::sm2::Sm2SecretKey::from_bytes(&[0x41; 32]).unwrap();
        let signed = Signed::sign(
            challenge(IntentMethod::SoftwareKey),
            INTENT_CONTENT_TYPE,
            &person,
        )
        .unwrap();
        let proof = IntentProof::decode(signed.bytes()).unwrap();
        assert!(proof.check_method());
        assert_eq!(
            proof.person(),
            crate::person::PersonKey::Sm2(person.public_key())
        );
        assert_eq!(proof.digest(), Digest::of(signed.bytes()));
        // Every changed byte fails.
        for i in 0..signed.bytes().len() {
            let mut bytes = signed.bytes().to_vec();
            bytes[i] ^= 0x01;
            assert!(IntentProof::decode(&bytes).is_err(), "byte {i}");
        }
    }

    #[test]
    fn a_high_s_ecdsa_signature_from_an_authenticator_verifies() {
        use p256::ecdsa::signature::Signer as _;
        let a = TestAuthenticator::new("Zhang", "sign.example.com");
        let seed = test_key("Zhang", "passkey").to_seed();
        let key = p256::ecdsa::SigningKey::from_slice(&*seed).unwrap();
        let message = b"authenticator data and client data hash";
        let low: p256::ecdsa::Signature = key.sign(message);
        let (r, s) = low.split_scalars();
        let high = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
        assert_ne!(high, low);
        a.credential
            .verify(message, low.to_der().as_bytes())
            .unwrap();
        a.credential
            .verify(message, high.to_der().as_bytes())
            .unwrap();
    }
}
