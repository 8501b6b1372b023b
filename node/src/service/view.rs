//! What people are shown of sessions and parties: summaries for the API, the command line
//! and the console.
//!
//! Parties are shown by the legal name and registration number that trust evaluation
//! establishes under this node's policy, next to the party id; a party whose identity is not
//! established is shown as unverified, with the reason. Nothing here claims more than the
//! trust store and the session's verified messages show.

use std::collections::{BTreeMap, BTreeSet};

use signet_protocol::Digest;
use signet_protocol::attestation::Claims;
use signet_protocol::party::PartyId;
use signet_protocol::session::{Session, SessionId, Status};
use signet_protocol::trust::{self, TrustPath, Verdict};

use super::ServiceError;
use super::core::{Core, side_name};

/// A session as shown to operators.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionSummary {
    /// Session id (hex).
    pub id: String,
    /// Title.
    pub title: String,
    /// Status name.
    pub status: String,
    /// Why it ended, for a declined or cancelled session (the party's own words).
    pub status_reason: Option<String>,
    /// `initiator` or `participant`.
    pub side: String,
    /// The initiator's party id.
    pub initiator: String,
    /// The contract purpose.
    pub purpose: String,
    /// When the initiator proposed it (RFC 3339).
    pub created_at: String,
    /// Parties whose action is awaited (every actor that has not acted, in any routing
    /// group).
    pub waiting_for: Vec<String>,
    /// Those whose turn it is now: the actors that have not acted in the first routing group
    /// with any (later groups act after them).
    pub turn: Vec<String>,
    /// Whether it is this party's turn to act (the session is open and it is in `turn`).
    pub waiting_for_me: bool,
    /// Parties that signed or approved.
    pub acted: Vec<String>,
    /// Documents (digest hex).
    pub documents: Vec<String>,
    /// Documents with their names, types, sizes and whether this node holds them.
    pub document_list: Vec<DocumentSummary>,
    /// The algorithms the session requires (spec §8.2.5): `national` (SM2 seals, SM3
    /// digests, SM2/SM3 PDF signatures), or null when it requires none.
    #[serde(default)]
    pub algorithms: Option<String>,
    /// Parties whose evidence about the session this node holds.
    pub evidence_from: Vec<String>,
    /// The participants in routing order: party, role and order.
    pub participants: Vec<ParticipantSummary>,
    /// The deadline (RFC 3339).
    pub deadline: String,
    /// Witnesses whose cosignatures every party's evidence must carry.
    pub witnesses: Vec<String>,
    /// What happened, in order.
    pub timeline: Vec<TimelineEntry>,
    /// Every party named above (initiator, participants, witnesses), by id: who it is as far
    /// as this node's trust evaluation establishes.
    pub parties: BTreeMap<String, PartyName>,
}

/// A session's participant as shown to operators.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParticipantSummary {
    /// The party id.
    pub party: String,
    /// `signer`, `approver` or `copy`.
    pub role: String,
    /// Routing order (equal orders act in parallel).
    pub order: u32,
}

/// One of a session's documents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DocumentSummary {
    /// Its index in the proposal (0-based).
    pub index: usize,
    /// The file name the initiator gave.
    pub name: String,
    /// Its media type, as the initiator declared it.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256 digest (hex).
    pub digest: String,
    /// Its SM3 digest (hex), when the proposal names one (spec §8.2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sm3: Option<String>,
    /// Whether this node holds it (fetched and digest-checked). Not part of a stored
    /// listing: looked up in the store whenever a summary is made.
    #[serde(skip_deserializing)]
    pub present: bool,
    /// Whether every signer seals it as a PDF (spec §8.2.4): once the session completes,
    /// the signed PDF is downloadable (`GET /v1/sessions/{id}/pdf?document=INDEX`).
    pub pdf_sealed: bool,
}

/// One thing that happened in a session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimelineEntry {
    /// When, by the acting party's signed message (RFC 3339), where the session records it.
    pub time: Option<String>,
    /// Who acted.
    pub party: String,
    /// `proposed`, `signed`, `approved`, `completed`, `declined`, `cancelled` or `expired`.
    pub event: String,
    /// For a signature: the person who gave intent and how (as the intent proof shows).
    pub person: Option<String>,
    /// For a signature: the intent method the proof shows.
    pub method: Option<String>,
    /// A reason, for a decline or cancellation.
    pub reason: Option<String>,
}

/// Who a party is, as far as this node knows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartyName {
    /// The party id.
    pub party: String,
    /// The legal name trust evaluation established (an anchor's name as the policy gives it;
    /// for this party, its own configured name). Absent when unverified.
    pub legal_name: Option<String>,
    /// The registration number (unified social credit code), when attested.
    pub registration: Option<String>,
    /// Whether the identity is established: `this-party`, `anchor`, `verified` (by an
    /// accredited verifier's attestation), `endorsed` (by known counterparties) or
    /// `unverified`.
    pub basis: &'static str,
    /// Why the identity is not established, when it is not.
    pub unverified_because: Option<String>,
    /// For `certificate` (a CA-issued certificate the party proved it holds, spec §6.11):
    /// what was checked, "identity from CA certificate, issuer …, serial …, USCC …".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

impl PartyName {
    /// Whether the name is established.
    pub fn verified(&self) -> bool {
        self.basis != "unverified"
    }

    /// The party as a person reads it: `Legal Name (registration)`, or `unverified party
    /// <id prefix>…`.
    pub fn label(&self) -> String {
        match (&self.legal_name, &self.registration) {
            (Some(name), Some(reg)) => format!("{name} ({reg})"),
            (Some(name), None) => name.clone(),
            _ => format!("unverified party {}…", short_id(&self.party)),
        }
    }
}

/// The first 12 characters of a party id: enough to tell parties apart on screen.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Names parties, evaluating each once.
pub(crate) struct Namer<'a> {
    core: &'a Core,
    own_name: &'a str,
    own_registration: &'a str,
    seen: BTreeMap<PartyId, PartyName>,
}

impl<'a> Namer<'a> {
    pub(crate) fn new(core: &'a Core, own_name: &'a str, own_registration: &'a str) -> Self {
        Self {
            core,
            own_name,
            own_registration,
            seen: BTreeMap::new(),
        }
    }

    /// Who `party` is, as of now.
    pub(crate) fn name(&mut self, party: &PartyId) -> PartyName {
        if let Some(n) = self.seen.get(party) {
            return n.clone();
        }
        let n = self.evaluate(party);
        self.seen.insert(*party, n.clone());
        n
    }

    fn evaluate(&self, party: &PartyId) -> PartyName {
        let id = party.to_string();
        if *party == self.core.me {
            return PartyName {
                party: id,
                legal_name: Some(self.own_name.to_string()),
                registration: Some(self.own_registration.to_string()),
                basis: "this-party",
                unverified_because: None,
                evidence: None,
            };
        }
        let verdict = trust::evaluate(&self.core.policy, &self.core.trust, party, super::now());
        match verdict {
            Verdict::Trusted { identity, path } => PartyName {
                party: id,
                legal_name: Some(identity.legal_name),
                registration: identity.registration.map(|r| r.for_people()),
                evidence: match &path {
                    TrustPath::Certificate(evidence) => Some(evidence.to_string()),
                    _ => None,
                },
                basis: match path {
                    TrustPath::Anchor => "anchor",
                    TrustPath::Chain(_) => "verified",
                    TrustPath::Endorsements(_) => "endorsed",
                    TrustPath::Certificate(_) => "certificate",
                },
                unverified_because: None,
            },
            other => PartyName {
                party: id,
                legal_name: None,
                registration: None,
                basis: "unverified",
                unverified_because: Some(other.to_string()),
                evidence: None,
            },
        }
    }
}

/// What a session's summary shows that the session alone decides: stored beside its
/// snapshot (see `journal`), so that listing sessions reads records instead of restoring
/// every session. Who the parties are (trust evaluation now) and whether this node holds
/// each document are looked up whenever a summary is made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Listing {
    title: String,
    status: String,
    status_reason: Option<String>,
    side: String,
    initiator: String,
    purpose: String,
    created_at: String,
    waiting_for: Vec<String>,
    turn: Vec<String>,
    acted: Vec<String>,
    document_list: Vec<DocumentSummary>,
    /// The algorithms the session requires (spec §8.2.5).
    #[serde(default)]
    algorithms: Option<String>,
    evidence_from: Vec<String>,
    participants: Vec<ParticipantSummary>,
    deadline: String,
    witnesses: Vec<String>,
    timeline: Vec<TimelineEntry>,
    /// The PDF revisions its signers sealed (digests, hex): with its documents, what its
    /// parties may fetch (spec §9, §8.4.2).
    #[serde(default)]
    sealed_revisions: Vec<String>,
}

impl Listing {
    /// The listing of session `s`.
    pub(crate) fn of(s: &Session) -> Self {
        let p = s.proposal().payload();
        let waiting_for = s.waiting_for();
        let first_group = p
            .participants
            .iter()
            .filter(|x| waiting_for.contains(&x.party))
            .map(|x| x.order)
            .min();
        let turn: Vec<PartyId> = if matches!(s.status(), Status::Open) {
            p.participants
                .iter()
                .filter(|x| waiting_for.contains(&x.party) && Some(x.order) == first_group)
                .map(|x| x.party)
                .collect()
        } else {
            Vec::new()
        };
        let mut timeline = vec![TimelineEntry {
            time: Some(p.created_at.to_string()),
            party: p.initiator.to_string(),
            event: "proposed".into(),
            person: None,
            method: None,
            reason: None,
        }];
        for a in s.actions() {
            let (person, method) = match &a.record {
                Some(r) => (
                    match &r.delegation.payload().claims {
                        Claims::Delegation(d) => Some(d.delegate.name.clone()),
                        _ => None,
                    },
                    Some(r.intent.challenge().method.to_string()),
                ),
                None => (None, None),
            };
            timeline.push(TimelineEntry {
                time: Some(a.message.payload().time.to_string()),
                party: a.party.to_string(),
                event: if a.record.is_some() {
                    "signed"
                } else {
                    "approved"
                }
                .into(),
                person,
                method,
                reason: None,
            });
        }
        let ended = |event: &str,
                     party: &PartyId,
                     time: Option<String>,
                     reason: Option<&String>| TimelineEntry {
            time,
            party: party.to_string(),
            event: event.into(),
            person: None,
            method: None,
            reason: reason.cloned(),
        };
        let status_reason = match s.status() {
            Status::Open => None,
            Status::Completed { at } => {
                timeline.push(ended("completed", &p.initiator, Some(at.to_string()), None));
                None
            }
            Status::Declined { by, reason } => {
                timeline.push(ended("declined", by, None, Some(reason)));
                Some(reason.clone())
            }
            Status::Cancelled { reason } => {
                timeline.push(ended("cancelled", &p.initiator, None, Some(reason)));
                Some(reason.clone())
            }
            Status::Expired { at } => {
                timeline.push(ended("expired", &p.initiator, Some(at.to_string()), None));
                None
            }
        };
        let document_list = p
            .documents
            .iter()
            .enumerate()
            .map(|(index, d)| DocumentSummary {
                index,
                name: d.name.clone(),
                media_type: d.media_type.clone(),
                size: d.size,
                digest: d.digest.to_hex(),
                sm3: d.sm3.map(|h| h.to_hex()),
                present: false,
                pdf_sealed: d.pdf_seals.is_some(),
            })
            .collect();
        Self {
            title: p.title.clone(),
            status: s.status().name().to_string(),
            status_reason,
            side: side_name(s).to_string(),
            initiator: p.initiator.to_string(),
            purpose: p.purpose.clone(),
            created_at: p.created_at.to_string(),
            turn: turn.iter().map(ToString::to_string).collect(),
            waiting_for: waiting_for.iter().map(ToString::to_string).collect(),
            acted: s.actions().iter().map(|a| a.party.to_string()).collect(),
            document_list,
            algorithms: p.algorithms.map(|a| a.to_string()),
            evidence_from: s.evidence().map(|e| e.party.to_string()).collect(),
            participants: p
                .participants
                .iter()
                .map(|x| ParticipantSummary {
                    party: x.party.to_string(),
                    role: x.role.name().to_string(),
                    order: x.order,
                })
                .collect(),
            deadline: p.deadline.to_string(),
            witnesses: p
                .evidence
                .witnesses
                .iter()
                .map(ToString::to_string)
                .collect(),
            timeline,
            sealed_revisions: s
                .actions()
                .iter()
                .filter_map(|a| a.record.as_ref())
                .flat_map(|r| {
                    r.seal_signature
                        .payload()
                        .pdf
                        .iter()
                        .map(|v| v.sealed.to_hex())
                })
                .collect(),
        }
    }

    /// Who may fetch what of the session over `/signet/doc/1`: its initiator and
    /// participants; its documents and the PDF revisions its signers sealed. `None` if the
    /// listing does not parse as ids and digests.
    pub(crate) fn access(&self) -> Option<(Vec<PartyId>, Vec<Digest>)> {
        let parties = std::iter::once(&self.initiator)
            .chain(self.participants.iter().map(|p| &p.party))
            .map(|p| p.parse().ok())
            .collect::<Option<Vec<PartyId>>>()?;
        let digests = self
            .document_list
            .iter()
            .map(|d| &d.digest)
            .chain(&self.sealed_revisions)
            .map(|d| Digest::from_hex(d).ok())
            .collect::<Option<Vec<Digest>>>()?;
        Some((parties, digests))
    }

    /// The listing as stored.
    pub(crate) fn encode(&self) -> Vec<u8> {
        // A struct of strings and lists always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A stored listing.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, ServiceError> {
        serde_json::from_slice(bytes).map_err(|_| ServiceError::Corrupt("session listing"))
    }
}

/// Session `id` as shown to operators, its parties named by `namer`: from its stored listing
/// when the session is not in memory (see [`Core::listing`]).
pub(crate) fn summary(
    core: &Core,
    namer: &mut Namer<'_>,
    id: &SessionId,
) -> Result<Option<SessionSummary>, ServiceError> {
    let Some(listing) = core.listing(id)? else {
        return Ok(None);
    };
    let present = documents_present(core, [&listing])?;
    summary_of(core, namer, id, listing, &present).map(Some)
}

/// Which of the listings' documents this node holds (one store read for all).
pub(crate) fn documents_present<'a>(
    core: &Core,
    listings: impl IntoIterator<Item = &'a Listing>,
) -> Result<BTreeSet<Digest>, ServiceError> {
    let mut digests = Vec::new();
    for d in listings.into_iter().flat_map(|l| &l.document_list) {
        digests.push(
            Digest::from_hex(&d.digest)
                .map_err(|_| ServiceError::Corrupt("session listing: digest"))?,
        );
    }
    let present = core.store.documents_present(&digests)?;
    Ok(digests
        .into_iter()
        .zip(present)
        .filter_map(|(d, here)| here.then_some(d))
        .collect())
}

/// Session `id`'s summary from its listing, its parties named by `namer`.
pub(crate) fn summary_of(
    core: &Core,
    namer: &mut Namer<'_>,
    id: &SessionId,
    listing: Listing,
    present: &BTreeSet<Digest>,
) -> Result<SessionSummary, ServiceError> {
    let mut parties = BTreeMap::new();
    for party in std::iter::once(&listing.initiator)
        .chain(listing.participants.iter().map(|x| &x.party))
        .chain(listing.witnesses.iter())
    {
        let name = match party.parse::<PartyId>() {
            Ok(p) => namer.name(&p),
            Err(_) => return Err(ServiceError::Corrupt("session listing: party id")),
        };
        parties.insert(party.clone(), name);
    }
    let me = core.me.to_string();
    let mut document_list = listing.document_list;
    for d in &mut document_list {
        d.present = Digest::from_hex(&d.digest).is_ok_and(|digest| present.contains(&digest));
    }
    Ok(SessionSummary {
        id: id.to_string(),
        title: listing.title,
        status: listing.status,
        status_reason: listing.status_reason,
        side: listing.side,
        initiator: listing.initiator,
        purpose: listing.purpose,
        created_at: listing.created_at,
        waiting_for_me: listing.turn.contains(&me),
        turn: listing.turn,
        waiting_for: listing.waiting_for,
        acted: listing.acted,
        documents: document_list.iter().map(|d| d.digest.clone()).collect(),
        document_list,
        algorithms: listing.algorithms,
        evidence_from: listing.evidence_from,
        participants: listing.participants,
        deadline: listing.deadline,
        witnesses: listing.witnesses,
        timeline: listing.timeline,
        parties,
    })
}

#[cfg(test)]
mod tests {
    use signet_protocol::Timestamp;
    use signet_protocol::session::Role;
    use signet_protocol::testkit::TestNetwork;

    use super::*;

    /// A stored listing reads back as the listing of the session restored from its
    /// snapshot, for sessions that completed (with signatures, intent and evidence) and
    /// that were declined, on both sides.
    #[test]
    fn a_stored_listing_is_what_the_restored_session_shows() {
        let mut net = TestNetwork::new(
            &["Buyer", "Supplier", "Other"],
            &["supply"],
            Timestamp::from_unix(1_800_000_000),
        );
        let [buyer, supplier, other] = [1, 2, 3].map(|i| net.nodes[i].party.id());
        let mut signed = net.proposal(
            &buyer,
            &[(supplier, Role::Signer, 0), (other, Role::Signer, 1)],
            "supply",
            1,
        );
        // Every signer seals the PDF: the listing names the revisions they sealed.
        signed.documents[0].pdf_seals = Some(Vec::new());
        let signed = net.propose(signed).unwrap();
        net.deliver_all();
        net.sign(&supplier, signed).unwrap();
        net.deliver_all();
        net.sign(&other, signed).unwrap();
        net.deliver_all();
        net.share_evidence(&buyer, signed).unwrap();
        net.deliver_all();
        let declined = net.proposal(&buyer, &[(supplier, Role::Signer, 0)], "supply", 2);
        let declined = net.propose(declined).unwrap();
        net.deliver_all();
        net.act(&supplier, declined, |s, ctx, _, _| s.decline("price", ctx))
            .unwrap();
        net.deliver_all();

        let mut seen = 0;
        for node in &net.nodes {
            for session in node.sessions.values() {
                let listing = Listing::of(session);
                let restored = Session::restore(&session.snapshot().unwrap()).unwrap();
                assert_eq!(Listing::of(&restored), listing);
                assert_eq!(Listing::decode(&listing.encode()).unwrap(), listing);
                let (mut parties, mut digests) = listing.access().unwrap();
                let (mut expected_parties, mut expected_digests) =
                    super::super::access_entry(session);
                for v in [&mut parties, &mut expected_parties] {
                    v.sort();
                    v.dedup();
                }
                for v in [&mut digests, &mut expected_digests] {
                    v.sort();
                }
                assert_eq!((parties, digests), (expected_parties, expected_digests));
                seen += 1;
            }
        }
        assert!(seen >= 5, "both sessions on every side: {seen}");
        let buyer_view = Listing::of(&net.node(&buyer).sessions[&signed]);
        assert_eq!(buyer_view.status, "completed");
        assert!(buyer_view.timeline.iter().any(|e| e.method.is_some()));
        assert!(!buyer_view.evidence_from.is_empty());
        assert_eq!(buyer_view.sealed_revisions.len(), 2, "one per signer");
        assert_eq!(
            Listing::of(&net.node(&supplier).sessions[&declined]).status_reason,
            Some("price".into())
        );
        assert!(Listing::decode(b"{\"title\":1}").is_err());
    }
}
