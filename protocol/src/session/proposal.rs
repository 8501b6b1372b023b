//! The proposal: what the initiator asks the participants to sign (spec §8.2).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::attestation::{Amount, MAX_LIST_LEN, MAX_TEXT_LEN};
use crate::codepoint::code_points;
use crate::crypto::FixedBytes;
use crate::party::PartyId;
use crate::seal::SealKind;
use crate::sm2::Sm3Digest;
use crate::{Digest, Timestamp};

/// Most documents in one session.
pub const MAX_DOCUMENTS: usize = 64;
/// Most participants in one session.
pub const MAX_PARTICIPANTS: usize = 64;

/// A session's identifier (spec §2.6): derived from its initiator and a random nonce the
/// initiator chose ([`SessionId::derive`]), so that no other party can propose a session
/// under an id that belongs to someone else's.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId([u8; 32]);

/// Domain of the session id derivation (spec §2.6).
pub const SESSION_ID_DOMAIN: &[u8] = b"signet/session-id/v1";

/// The random nonce from which an initiator derives a session's id (spec §2.6).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionNonce([u8; 32]);

impl SessionNonce {
    /// Wraps 32 bytes (random ones: see [`SessionNonce::random`]).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random nonce.
    pub fn random<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The nonce's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SessionNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionNonce({})", hex::encode(self.0))
    }
}

impl Serialize for SessionNonce {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for SessionNonce {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(FixedBytes::<32>).map(Self)
    }
}

impl SessionId {
    /// The id of the session `initiator` proposes with `nonce`: SHA-256 of the domain
    /// [`SESSION_ID_DOMAIN`], a zero byte, the initiator's 32-byte party id and the nonce.
    pub fn derive(initiator: &PartyId, nonce: &SessionNonce) -> Self {
        let digest = Digest::of_parts(&[
            SESSION_ID_DOMAIN,
            &[0],
            initiator.digest().as_bytes(),
            nonce.as_bytes(),
        ]);
        Self(*digest.as_bytes())
    }

    /// Wraps 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The id's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The id as a digest-shaped value (evidence events refer to sessions this way).
    pub const fn as_digest(&self) -> Digest {
        Digest::from_bytes(self.0)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl std::str::FromStr for SessionId {
    type Err = crate::party::IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| crate::party::IdError::Hex)?;
        Ok(Self(bytes))
    }
}

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(FixedBytes::<32>).map(Self)
    }
}

code_points! {
    /// A participant's role (spec §13.11).
    pub enum Role {
        /// Applies a seal: must sign.
        Signer = 1 => "signer",
        /// Must approve before later groups act, without a seal.
        Approver = 2 => "approver",
        /// Receives the proposal and the completion; never acts.
        Copy = 3 => "copy",
    }
}

code_points! {
    /// The algorithms a session requires (spec §8.2.5, registry §13.20).
    pub enum Algorithms {
        /// China's commercial cryptography: every seal signature SM2 with SM3, every document
        /// referenced by its SM3 digest as well as its SHA-256 digest.
        National = 1 => "national",
    }
}

/// A document to be signed: described, never carried (spec §8.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRef {
    /// File name, e.g. `supply-agreement.pdf`.
    pub name: String,
    /// Media type, e.g. `application/pdf`.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the document's bytes.
    pub digest: Digest,
    /// SM3 of the document's bytes (spec §8.2.1): required when the session requires
    /// national algorithms (§8.2.5), optional otherwise; checked wherever present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sm3: Option<Sm3Digest>,
    /// Present when every signer seals this document as a PDF (spec §8.2.4): where each
    /// signer's seal goes; a signer not listed gets the default place (the last page, one
    /// slot per signer along its bottom). Only on `application/pdf` documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf_seals: Option<Vec<SealPlacement>>,
}

impl DocumentRef {
    /// Whether `bytes` are this document: its size, its SHA-256 digest and, where the
    /// reference gives one, its SM3 digest (spec §8.2.1, §9).
    pub fn matches(&self, bytes: &[u8]) -> bool {
        self.size == bytes.len() as u64
            && self.digest == Digest::of(bytes)
            && self.sm3_matches(bytes)
    }

    /// Whether `bytes` have the SM3 digest the reference gives (true when it gives none).
    pub fn sm3_matches(&self, bytes: &[u8]) -> bool {
        self.sm3.is_none_or(|sm3| sm3 == Sm3Digest::of(bytes))
    }
}

/// Where one signer's visible seal goes on a PDF document (spec §8.2.4), in PDF points of
/// the page's default user space (1/72 inch, origin at the lower left of the media box).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealPlacement {
    /// The signer whose seal this is.
    pub signer: PartyId,
    /// The page, from 1; absent for the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Left edge.
    pub x: u32,
    /// Bottom edge.
    pub y: u32,
    /// Width, 1 to [`MAX_PDF_COORDINATE`].
    pub width: u32,
    /// Height, 1 to [`MAX_PDF_COORDINATE`].
    pub height: u32,
}

/// The largest coordinate or size of a seal placement: the largest page ISO 32000 allows
/// (200 inches).
pub const MAX_PDF_COORDINATE: u32 = 14_400;

/// The media type of a document signers may seal as a PDF.
pub const PDF_MEDIA_TYPE: &str = "application/pdf";

/// One participant and its place in the routing (spec §8.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    /// The participating party.
    pub party: PartyId,
    /// What it must do.
    pub role: Role,
    /// Routing position: participants act in ascending order; equal orders form a parallel
    /// group whose members act in any order.
    pub order: u32,
    /// For signers, the kind of seal required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal_kind: Option<SealKind>,
}

/// What evidence the session requires (spec §8.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRequirements {
    /// Witnesses whose cosignatures count.
    pub witnesses: Vec<PartyId>,
    /// How many of them must cosign each party's checkpoint covering the session.
    pub min_cosignatures: u16,
}

/// A proposal: the payload of a signed object of type [`PROPOSAL_CONTENT_TYPE`], signed by
/// one of the initiator's node keys (spec §8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// The session: [`SessionId::derive`] of the initiator and `nonce`.
    pub session: SessionId,
    /// The initiator's random nonce the session id is derived from.
    pub nonce: SessionNonce,
    /// Revision, from 0; a new revision replaces the old only while no one has signed.
    pub revision: u32,
    /// The party that proposes.
    pub initiator: PartyId,
    /// Title shown to signers.
    pub title: String,
    /// The documents, by digest.
    pub documents: Vec<DocumentRef>,
    /// Participants and routing.
    pub participants: Vec<Participant>,
    /// The contract's purpose or type (seal mandates are scoped by it).
    pub purpose: String,
    /// The contract's value, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Amount>,
    /// After this time the session expires unless completed.
    pub deadline: Timestamp,
    /// Evidence requirements.
    pub evidence: EvidenceRequirements,
    /// When the proposal was made.
    pub created_at: Timestamp,
    /// The algorithms the session requires (spec §8.2.5); absent when it requires none
    /// beyond the protocol's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithms: Option<Algorithms>,
}

/// Media type of a proposal (spec §13.1).
pub const PROPOSAL_CONTENT_TYPE: &str = "application/vnd.signet.proposal+cbor";

/// Why a proposal is invalid as stated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProposalError {
    /// A text field is empty or longer than the limit.
    #[error("text field {0} is empty or too long")]
    Text(&'static str),
    /// No documents, or too many.
    #[error("a proposal needs 1 to {MAX_DOCUMENTS} documents")]
    Documents,
    /// Two documents have the same digest.
    #[error("document {0} is listed twice")]
    DuplicateDocument(Digest),
    /// No participant who acts, or too many participants.
    #[error("a proposal needs 1 to {MAX_PARTICIPANTS} participants, at least one a signer")]
    Participants,
    /// A party appears twice.
    #[error("party {0} is listed twice")]
    DuplicateParticipant(PartyId),
    /// A role or seal kind is unknown.
    #[error("unknown role or seal kind for {0}")]
    UnknownCode(PartyId),
    /// A signer without a seal kind, or a non-signer with one.
    #[error("participant {0}: only and every signer names a seal kind")]
    SealKind(PartyId),
    /// The deadline is not after the creation time.
    #[error("the deadline is not after the creation time")]
    Deadline,
    /// Witness requirements cannot be met.
    #[error("min_cosignatures exceeds the number of witnesses")]
    Witnesses,
    /// The session id is not derived from the initiator and the nonce.
    #[error("the session id is not the one derived from the initiator and the nonce")]
    SessionId,
    /// A witness is named twice (it would count twice).
    #[error("witness {0} is named twice")]
    DuplicateWitness(PartyId),
    /// A party to the session is named as a witness: nobody witnesses its own contract.
    #[error("{0} is a party to the session and cannot witness it")]
    WitnessIsParty(PartyId),
    /// PDF seals asked of a document that is not `application/pdf`, or a placement that is
    /// not a signer's, names a signer twice, or lies outside a page's possible bounds.
    #[error("document {document}: {reason}")]
    SealPlacement {
        /// The document's index.
        document: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The proposal requires algorithms this implementation does not know: it cannot be
    /// satisfied, so it is refused rather than ignored.
    #[error("the session requires unknown algorithms ({0})")]
    UnknownAlgorithms(Algorithms),
    /// The session requires national algorithms and a document has no SM3 digest.
    #[error("document {0} has no sm3 digest, which national algorithms require")]
    MissingSm3(usize),
}

impl Proposal {
    /// Checks the proposal's content.
    pub fn check(&self) -> Result<(), ProposalError> {
        if self.session != SessionId::derive(&self.initiator, &self.nonce) {
            return Err(ProposalError::SessionId);
        }
        let text = |field, value: &str| {
            if value.is_empty() || value.len() > MAX_TEXT_LEN {
                Err(ProposalError::Text(field))
            } else {
                Ok(())
            }
        };
        text("title", &self.title)?;
        text("purpose", &self.purpose)?;
        if self.documents.is_empty() || self.documents.len() > MAX_DOCUMENTS {
            return Err(ProposalError::Documents);
        }
        for (i, d) in self.documents.iter().enumerate() {
            text("documents.name", &d.name)?;
            text("documents.media_type", &d.media_type)?;
            if self.documents[..i].iter().any(|o| o.digest == d.digest) {
                return Err(ProposalError::DuplicateDocument(d.digest));
            }
        }
        self.check_seal_placements()?;
        self.check_algorithms()?;
        let acting = self
            .participants
            .iter()
            .filter(|p| p.role == Role::Signer)
            .count();
        if acting == 0 || self.participants.len() > MAX_PARTICIPANTS {
            return Err(ProposalError::Participants);
        }
        for (i, p) in self.participants.iter().enumerate() {
            if self.participants[..i].iter().any(|o| o.party == p.party) {
                return Err(ProposalError::DuplicateParticipant(p.party));
            }
            if !p.role.is_known() || p.seal_kind.is_some_and(|k| !k.is_known()) {
                return Err(ProposalError::UnknownCode(p.party));
            }
            if (p.role == Role::Signer) != p.seal_kind.is_some() {
                return Err(ProposalError::SealKind(p.party));
            }
        }
        if self.deadline <= self.created_at {
            return Err(ProposalError::Deadline);
        }
        if usize::from(self.evidence.min_cosignatures) > self.evidence.witnesses.len()
            || self.evidence.witnesses.len() > MAX_LIST_LEN
        {
            return Err(ProposalError::Witnesses);
        }
        let parties = self.parties();
        for (i, w) in self.evidence.witnesses.iter().enumerate() {
            if self.evidence.witnesses[..i].contains(w) {
                return Err(ProposalError::DuplicateWitness(*w));
            }
            if parties.contains(w) {
                return Err(ProposalError::WitnessIsParty(*w));
            }
        }
        Ok(())
    }

    /// Checks the algorithm requirement and what it asks of the documents (spec §8.2.5).
    fn check_algorithms(&self) -> Result<(), ProposalError> {
        match self.algorithms {
            None => Ok(()),
            Some(Algorithms::National) => match self.documents.iter().position(|d| d.sm3.is_none())
            {
                Some(i) => Err(ProposalError::MissingSm3(i)),
                None => Ok(()),
            },
            Some(unknown @ Algorithms::Unknown(_)) => {
                Err(ProposalError::UnknownAlgorithms(unknown))
            }
        }
    }

    /// Whether the session requires national algorithms (spec §8.2.5): SM2 seal signatures
    /// and SM3 document digests.
    pub fn requires_national(&self) -> bool {
        self.algorithms == Some(Algorithms::National)
    }

    /// Checks every document's PDF seal placements (spec §8.2.4).
    fn check_seal_placements(&self) -> Result<(), ProposalError> {
        for (document, d) in self.documents.iter().enumerate() {
            let Some(placements) = &d.pdf_seals else {
                continue;
            };
            let refuse = |reason| Err(ProposalError::SealPlacement { document, reason });
            if d.media_type != PDF_MEDIA_TYPE {
                return refuse("PDF seals on a document that is not application/pdf");
            }
            for (i, p) in placements.iter().enumerate() {
                if self.participant(&p.signer).map(|x| x.role) != Some(Role::Signer) {
                    return refuse("a placement for a party that is not a signer");
                }
                if placements[..i].iter().any(|o| o.signer == p.signer) {
                    return refuse("two placements for one signer");
                }
                if p.page == Some(0) {
                    return refuse("pages are numbered from 1");
                }
                let fits = |start: u32, size: u32| {
                    size >= 1
                        && start
                            .checked_add(size)
                            .is_some_and(|end| end <= MAX_PDF_COORDINATE)
                };
                if !fits(p.x, p.width) || !fits(p.y, p.height) {
                    return refuse("a seal outside the largest possible page");
                }
            }
        }
        Ok(())
    }

    /// Indices of the documents every signer seals as a PDF (spec §8.2.4).
    pub fn pdf_sealed(&self) -> impl Iterator<Item = usize> + '_ {
        self.documents
            .iter()
            .enumerate()
            .filter(|(_, d)| d.pdf_seals.is_some())
            .map(|(i, _)| i)
    }

    /// The order signers seal PDFs in (spec §8.2.4): routing order, and within a routing
    /// group the order the participants are listed in. Empty when no document is sealed.
    pub fn sealing_order(&self) -> Vec<PartyId> {
        if self.pdf_sealed().next().is_none() {
            return Vec::new();
        }
        let mut signers: Vec<(u32, usize, PartyId)> = self
            .participants
            .iter()
            .enumerate()
            .filter(|(_, p)| p.role == Role::Signer)
            .map(|(i, p)| (p.order, i, p.party))
            .collect();
        signers.sort();
        signers.into_iter().map(|(_, _, party)| party).collect()
    }

    /// The participant entry of `party`.
    pub fn participant(&self, party: &PartyId) -> Option<&Participant> {
        self.participants.iter().find(|p| p.party == *party)
    }

    /// Digests of the documents, in proposal order.
    pub fn document_digests(&self) -> Vec<Digest> {
        self.documents.iter().map(|d| d.digest).collect()
    }

    /// Participants who must act (signers and approvers) in routing order.
    pub fn actors(&self) -> impl Iterator<Item = &Participant> {
        self.participants
            .iter()
            .filter(|p| matches!(p.role, Role::Signer | Role::Approver))
    }

    /// Every party that takes part, initiator included, without duplicates.
    pub fn parties(&self) -> Vec<PartyId> {
        let mut parties = vec![self.initiator];
        for p in &self.participants {
            if !parties.contains(&p.party) {
                parties.push(p.party);
            }
        }
        parties
    }
}
