//! What a person's own device does: sign an intent challenge with the person's key file.
//!
//! The `signet sign` command (on the person's computer) fetches the challenge from the
//! node, signs it here and sends only the proof; the demo, which plays every person, and the
//! tests do the same in-process with [`sign_as`]. A node never receives a person's key.

use signet_protocol::cose::{CoseSigner, Signed};
use signet_protocol::session::{INTENT_CONTENT_TYPE, IntentChallenge, IntentMethod, SessionId};

use crate::service::{Service, ServiceError};

/// The person's COSE intent proof over `challenge` (method `software-key`), by `key`: an
/// Ed25519 or an SM2 key ([`signet_protocol::SecretKey`],
/// [`signet_protocol::sm2::Sm2SecretKey`], or either as a
/// [`signet_protocol::keylog::LogSecretKey`]).
pub fn prove_intent<S: CoseSigner>(
    challenge: &IntentChallenge,
    key: &S,
) -> Result<Vec<u8>, ServiceError> {
    Signed::sign(challenge.clone(), INTENT_CONTENT_TYPE, key)
        .map(|s| s.bytes().to_vec())
        .map_err(|e| ServiceError::Usage(format!("intent proof: {e}")))
}

/// Signs session `id` at `service` as the person holding `key`: asks the node for the
/// challenge, signs it with the key here, and gives the node the proof only.
pub fn sign_as<S: CoseSigner>(
    service: &Service,
    id: SessionId,
    key: &S,
) -> Result<(), ServiceError> {
    let challenge = service.intent_challenge(id, IntentMethod::SoftwareKey)?;
    service.sign(id, &prove_intent(&challenge, key)?)
}
