//! What people are shown of sessions and parties: summaries for the API, the command line
//! and the console.
//!
//! Parties are shown by the legal name and registration number that trust evaluation
//! establishes under this node's policy, next to the party id; a party whose identity is not
//! established is shown as unverified, with the reason. Nothing here claims more than the
//! trust store and the session's verified messages show.

use std::collections::BTreeMap;

use signet_protocol::Digest;
use signet_protocol::attestation::Claims;
use signet_protocol::party::PartyId;
use signet_protocol::session::{SessionId, Status};
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParticipantSummary {
    /// The party id.
    pub party: String,
    /// `signer`, `approver` or `copy`.
    pub role: String,
    /// Routing order (equal orders act in parallel).
    pub order: u32,
}

/// One of a session's documents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
    /// Whether this node holds it (fetched and digest-checked).
    pub present: bool,
    /// Whether every signer seals it as a PDF (spec §8.2.4): once the session completes,
    /// the signed PDF is downloadable (`GET /v1/sessions/{id}/pdf?document=INDEX`).
    pub pdf_sealed: bool,
}

/// One thing that happened in a session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimelineEntry {
    /// When, by the acting party's signed message (RFC 3339), where the session records it.
    pub time: Option<String>,
    /// Who acted.
    pub party: String,
    /// `proposed`, `signed`, `approved`, `completed`, `declined`, `cancelled` or `expired`.
    pub event: &'static str,
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
            };
        }
        let verdict = trust::evaluate(&self.core.policy, &self.core.trust, party, super::now());
        match verdict {
            Verdict::Trusted { identity, path } => PartyName {
                party: id,
                legal_name: Some(identity.legal_name),
                registration: identity.registration.map(|r| r.for_people()),
                basis: match path {
                    TrustPath::Anchor => "anchor",
                    TrustPath::Chain(_) => "verified",
                    TrustPath::Endorsements(_) => "endorsed",
                },
                unverified_because: None,
            },
            other => PartyName {
                party: id,
                legal_name: None,
                registration: None,
                basis: "unverified",
                unverified_because: Some(other.to_string()),
            },
        }
    }
}

/// Session `id` as shown to operators, its parties named by `namer`.
pub(crate) fn summary(
    core: &Core,
    namer: &mut Namer<'_>,
    id: &SessionId,
) -> Result<Option<SessionSummary>, ServiceError> {
    let Some(t) = core.tracked(id)? else {
        return Ok(None);
    };
    let s = &t.session;
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
        event: "proposed",
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
            },
            person,
            method,
            reason: None,
        });
    }
    let ended =
        |event, party: &PartyId, time: Option<String>, reason: Option<&String>| TimelineEntry {
            time,
            party: party.to_string(),
            event,
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
            present: core.store.manifest(&d.digest).ok().flatten().is_some(),
            pdf_sealed: d.pdf_seals.is_some(),
        })
        .collect();
    let mut parties = BTreeMap::new();
    for party in std::iter::once(&p.initiator)
        .chain(p.participants.iter().map(|x| &x.party))
        .chain(p.evidence.witnesses.iter())
    {
        parties.insert(party.to_string(), namer.name(party));
    }
    Ok(Some(SessionSummary {
        id: id.to_string(),
        title: p.title.clone(),
        status: s.status().name().to_string(),
        status_reason,
        side: side_name(s).to_string(),
        initiator: p.initiator.to_string(),
        purpose: p.purpose.clone(),
        created_at: p.created_at.to_string(),
        waiting_for_me: turn.contains(&core.me),
        turn: turn.iter().map(ToString::to_string).collect(),
        waiting_for: waiting_for.iter().map(ToString::to_string).collect(),
        acted: s.actions().iter().map(|a| a.party.to_string()).collect(),
        documents: p.document_digests().iter().map(Digest::to_hex).collect(),
        document_list,
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
        parties,
    }))
}
