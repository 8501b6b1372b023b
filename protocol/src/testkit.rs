//! An in-memory harness of parties with deterministic test keys, shared by the unit tests,
//! the cross-crate tests, the vectors and the simulator (feature `testkit`).
//!
//! Keys are derived from a party's label with SHA-256, so every run produces the same bytes.
//! They are test keys: never use them for anything else. The harness panics when a test
//! misuses it, as test code does.
#![allow(clippy::expect_used)]

use crate::attestation::SignedAttestation;
use crate::attestation::{
    Accreditation, Amount, AssuranceLevel, Attestation, Claims, Delegate, Delegation, Endorsement,
    IdentityClaims, PdfCertificate, Revocation, RevocationList, RevocationReason, RevocationTarget,
    RevokedEntry, VerificationMethod,
};
use std::collections::BTreeMap;

use crate::cose::Signed;
use crate::evidence::{EvidenceLog, PartyEvidence, Witness, witness_name};
use crate::keylog::{EcdsaP256Key, KeyDecl, KeyLog, LogKey};
use crate::party::{AttestationId, PartyId};
use crate::registration::{Registration, uscc_check_character};
use crate::seal::{SealInfo, SealKind};
use crate::session::{
    ActionError, Context, DocumentRef, EvidenceRequirements, INTENT_CONTENT_TYPE, IntentChallenge,
    IntentMethod, IntentProof, Participant, PdfRevision, Proposal, Role, Session, SessionError,
    SessionEvent, SessionId, SessionNonce, Step,
};
use crate::sm2::Sm2SecretKey;
use crate::trust::{TrustAnchor, TrustPolicy, TrustStore};
use crate::x509;
use crate::{Digest, SecretKey, Timestamp};

/// One day in seconds.
pub const DAY: u64 = 86_400;

/// A deterministic test key for `label` and `role`.
pub fn test_key(label: &str, role: &str) -> SecretKey {
    let digest = Digest::of_parts(&[
        b"signet test key\0",
        label.as_bytes(),
        b"\0",
        role.as_bytes(),
    ]);
    SecretKey::from_seed(digest.as_bytes())
}

/// A valid unified social credit code derived from `label`.
pub fn test_uscc(label: &str) -> Registration {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let digest = Digest::of(label.as_bytes());
    let mut code = String::from("91");
    for b in &digest.as_bytes()[..15] {
        code.push(char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
    }
    code.push(uscc_check_character(&code).expect("characters from the alphabet"));
    Registration::uscc(&code).expect("the code carries its own check character")
}

/// A party with all its keys, for tests.
#[derive(Debug)]
pub struct TestParty {
    /// Label the keys are derived from; also the legal name.
    pub label: String,
    /// Current root key.
    pub root: SecretKey,
    /// The committed next root key.
    pub next_root: SecretKey,
    /// The attestation key.
    pub attest: SecretKey,
    /// The node key.
    pub node: SecretKey,
    /// The evidence-log key.
    pub log_key: SecretKey,
    /// The contract seal key.
    pub contract_seal: SecretKey,
    /// The company seal key.
    pub company_seal: SecretKey,
    /// An SM2 contract seal, once declared ([`TestNetwork::use_sm2_contract_seal`]): the
    /// party then signs with it instead of `contract_seal`.
    pub sm2_contract_seal: Option<Sm2SecretKey>,
    /// The delegate person's key (lives with the person, not the node).
    pub delegate: SecretKey,
    /// The key event log.
    pub log: KeyLog,
    /// Its registration number.
    pub registration: Registration,
    counter: u64,
}

impl TestParty {
    /// Creates the party at `time` with node, attest, log and two seal keys.
    pub fn new(label: &str, time: Timestamp) -> Self {
        let k = |role| test_key(label, role);
        let (root, next_root, attest, node, log_key, contract_seal, company_seal, delegate) = (
            k("root-0"),
            k("root-1"),
            k("attest"),
            k("node"),
            k("log"),
            k("seal-contract"),
            k("seal-company"),
            k("delegate"),
        );
        let keys = vec![
            KeyDecl::node(&node, &root.public_key()),
            KeyDecl::attest(attest.public_key()),
            KeyDecl::log(log_key.public_key()),
            KeyDecl::seal(
                contract_seal.public_key(),
                SealInfo {
                    kind: SealKind::Contract,
                    name: format!("{label} contract seal"),
                    image: None,
                },
            ),
            KeyDecl::seal(
                company_seal.public_key(),
                SealInfo {
                    kind: SealKind::Company,
                    name: format!("{label} company seal"),
                    image: None,
                },
            ),
        ];
        let log = KeyLog::incept(&root, &next_root.public_key(), keys, time)
            .expect("distinct fresh keys make a valid inception");
        Self {
            label: label.to_string(),
            root,
            next_root,
            attest,
            node,
            log_key,
            contract_seal,
            company_seal,
            sm2_contract_seal: None,
            delegate,
            log,
            registration: test_uscc(label),
            counter: 0,
        }
    }

    /// The party's id.
    pub fn id(&self) -> PartyId {
        self.log.party()
    }

    fn next_id(&mut self) -> AttestationId {
        self.counter += 1;
        let d = Digest::of_parts(&[self.label.as_bytes(), &self.counter.to_be_bytes()]);
        let mut id = [0u8; 16];
        id.copy_from_slice(&d.as_bytes()[..16]);
        AttestationId::from_bytes(id)
    }

    /// Signs an attestation about `subject`, valid for `days` from `issued_at`.
    pub fn attest(
        &mut self,
        subject: PartyId,
        claims: Claims,
        issued_at: Timestamp,
        days: u64,
    ) -> SignedAttestation {
        let id = self.next_id();
        self.attest_with_id(id, subject, claims, issued_at, days)
    }

    /// [`TestParty::attest`] under an id of the caller's choosing (to test id collisions).
    pub fn attest_with_id(
        &mut self,
        id: AttestationId,
        subject: PartyId,
        claims: Claims,
        issued_at: Timestamp,
        days: u64,
    ) -> SignedAttestation {
        let attestation = Attestation {
            id,
            issuer: self.id(),
            subject,
            issued_at,
            valid_from: issued_at,
            valid_until: issued_at.plus(days * DAY),
            claims,
        };
        attestation
            .issue(&self.attest, &self.log)
            .expect("the harness issues valid attestations")
    }

    /// The party's PDF key (ECDSA P-256), derived from its label like its other keys. It
    /// is in the key log only once [`TestParty::declare_pdf_key`] declared it.
    pub fn pdf_key(&self) -> p256::ecdsa::SigningKey {
        let seed = test_key(&self.label, "pdf").to_seed();
        p256::ecdsa::SigningKey::from_slice(&seed[..]).expect("a test seed is a valid scalar")
    }

    /// Declares [`TestParty::pdf_key`] in the key log at `at`.
    pub fn declare_pdf_key(&mut self, at: Timestamp) {
        let key = EcdsaP256Key::from_verifying_key(self.pdf_key().verifying_key());
        self.log
            .add_key(&self.root, KeyDecl::pdf(key), at)
            .expect("the harness declares a fresh key");
    }

    /// The party's time-stamping key (ECDSA P-256, key purpose `tsa`), derived from its
    /// label. It is in the key log only once [`TestParty::declare_tsa_key`] declared it.
    pub fn tsa_key(&self) -> p256::ecdsa::SigningKey {
        let seed = test_key(&self.label, "tsa").to_seed();
        p256::ecdsa::SigningKey::from_slice(&seed[..]).expect("a test seed is a valid scalar")
    }

    /// Declares [`TestParty::tsa_key`] in the key log at `at`.
    pub fn declare_tsa_key(&mut self, at: Timestamp) {
        let key = EcdsaP256Key::from_verifying_key(self.tsa_key().verifying_key());
        self.log
            .add_key(&self.root, KeyDecl::tsa(key), at)
            .expect("the harness declares a fresh key");
    }

    /// A PDF certificate attestation of the TSA profile: this party, a verifier, certifies
    /// `subject`'s `tsa` key with an X.509 TSA certificate (named after the subject, its
    /// serial the attestation's id, its validity the attestation's window) resting on
    /// `identity`, its identity attestation about `subject`.
    pub fn certify_tsa_key(
        &mut self,
        subject: &TestParty,
        identity: &SignedAttestation,
        at: Timestamp,
        days: u64,
    ) -> SignedAttestation {
        let id = self.next_id();
        let ca_key = self.pdf_key();
        let ca_der = self.ca_certificate(at);
        let ca = x509::CertifiedKey::new(&ca_key, &ca_der).expect("its own certificate");
        let issuance = x509::Issuance {
            serial: x509::Issuance::serial_of_id(&id),
            not_before: at,
            not_after: at.plus(days * DAY),
        };
        let certificate = x509::tsa_certificate(
            &ca,
            &subject.label,
            subject.tsa_key().verifying_key(),
            &issuance,
        )
        .expect("the harness's certificate encodes");
        let claims = Claims::PdfCertificate(PdfCertificate {
            key: EcdsaP256Key::from_verifying_key(subject.tsa_key().verifying_key()).into(),
            identity: Some(identity.payload().id),
            certificate,
            seal: None,
        });
        self.attest_with_id(id, subject.id(), claims, at, days)
    }

    /// This party's own X.509 CA certificate, self-signed with its PDF key, valid from `at`
    /// for ten years.
    pub fn ca_certificate(&self, at: Timestamp) -> Vec<u8> {
        let issuance = x509::Issuance {
            serial: 1,
            not_before: at,
            not_after: at.plus(3650 * DAY),
        };
        x509::ca_certificate(&self.label, None, &self.pdf_key(), &issuance)
            .expect("the harness's CA certificate encodes")
    }

    /// A PDF certificate attestation: this party, a verifier, certifies `subject`'s PDF key
    /// with an X.509 certificate (its serial the attestation's id, its validity the
    /// attestation's window) resting on `identity`, its identity attestation about `subject`.
    pub fn certify_pdf_key(
        &mut self,
        subject: &TestParty,
        identity: &SignedAttestation,
        at: Timestamp,
        days: u64,
    ) -> SignedAttestation {
        let id = self.next_id();
        let ca_key = self.pdf_key();
        let ca_der = self.ca_certificate(at);
        let ca = x509::CertifiedKey::new(&ca_key, &ca_der).expect("its own certificate");
        let named = x509::SealSubject::new(&subject.label, subject.registration.number())
            .expect("a test party has a valid USCC");
        let issuance = x509::Issuance {
            serial: x509::Issuance::serial_of_id(&id),
            not_before: at,
            not_after: at.plus(days * DAY),
        };
        let certificate = x509::issue_seal_certificate(
            &ca,
            &named,
            subject.pdf_key().verifying_key(),
            &issuance,
            None,
            Some(*identity.payload().id.as_bytes()),
        )
        .expect("the harness's certificate encodes");
        let claims = Claims::PdfCertificate(PdfCertificate {
            key: EcdsaP256Key::from_verifying_key(subject.pdf_key().verifying_key()).into(),
            identity: Some(identity.payload().id),
            certificate,
            seal: None,
        });
        self.attest_with_id(id, subject.id(), claims, at, days)
    }

    /// Identity attestation (real-name verification) of `subject`.
    pub fn verify_identity(
        &mut self,
        subject: &TestParty,
        assurance: AssuranceLevel,
        at: Timestamp,
    ) -> SignedAttestation {
        let claims = Claims::Identity(IdentityClaims {
            legal_name: subject.label.clone(),
            registration: subject.registration.clone(),
            jurisdiction: "CN".into(),
            legal_representative: format!("{} representative", subject.label),
            method: VerificationMethod::BankTransfer,
            assurance,
        });
        self.attest(subject.id(), claims, at, 365)
    }

    /// Accreditation of `subject` as a verifier.
    pub fn accredit(
        &mut self,
        subject: PartyId,
        may_accredit: bool,
        at: Timestamp,
    ) -> SignedAttestation {
        self.attest(
            subject,
            Claims::Accreditation(Accreditation { may_accredit }),
            at,
            365,
        )
    }

    /// Endorsement of `subject` by this party.
    pub fn endorse(&mut self, subject: &TestParty, at: Timestamp) -> SignedAttestation {
        let claims = Claims::Endorsement(Endorsement {
            legal_name: subject.label.clone(),
            registration: subject.registration.clone(),
            relationship: format!("customer of {}", subject.label),
        });
        self.attest(subject.id(), claims, at, 365)
    }

    /// Revokes one of this party's attestations from `effective` on.
    pub fn revoke(
        &mut self,
        id: AttestationId,
        effective: Timestamp,
        at: Timestamp,
    ) -> SignedAttestation {
        let claims = Claims::Revocation(Revocation {
            target: RevocationTarget::Attestation(id),
            effective,
            reason: RevocationReason::PrivilegeWithdrawn,
        });
        let me = self.id();
        self.attest(me, claims, at, 3650)
    }

    /// Revokes one of this party's keys from `effective` on.
    pub fn revoke_key(
        &mut self,
        key: impl Into<LogKey>,
        effective: Timestamp,
        at: Timestamp,
    ) -> SignedAttestation {
        let claims = Claims::Revocation(Revocation {
            target: RevocationTarget::Key(key.into()),
            effective,
            reason: RevocationReason::KeyCompromise,
        });
        let me = self.id();
        self.attest(me, claims, at, 3650)
    }

    /// This party's revocation list as of `at`.
    pub fn revocation_list(
        &mut self,
        entries: Vec<RevokedEntry>,
        at: Timestamp,
    ) -> SignedAttestation {
        let me = self.id();
        self.attest(
            me,
            Claims::RevocationList(RevocationList {
                entries,
                keys: Vec::new(),
            }),
            at,
            30,
        )
    }

    /// The key its delegate applies as the contract seal: the SM2 one once declared.
    pub fn contract_seal_key(&self) -> LogKey {
        match &self.sm2_contract_seal {
            Some(sm2) => sm2.public_key().into(),
            None => self.contract_seal.public_key().into(),
        }
    }

    /// Signs `session` with its contract seal (the SM2 one once declared), on its
    /// delegate's `intent` under `mandate`.
    pub fn seal_contract(
        &self,
        session: &mut Session,
        intent: IntentProof,
        mandate: SignedAttestation,
        pdf: Vec<PdfRevision>,
        ctx: &Context<'_>,
    ) -> Result<Step, ActionError> {
        match &self.sm2_contract_seal {
            Some(sm2) => session.sign(intent, mandate, sm2, pdf, ctx),
            None => session.sign(intent, mandate, &self.contract_seal, pdf, ctx),
        }
    }

    /// A seal mandate for this party's delegate over its contract seal.
    pub fn delegate_contract_seal(
        &mut self,
        purposes: &[&str],
        cap_yuan: Option<u64>,
        counterparties: Option<Vec<PartyId>>,
        at: Timestamp,
        days: u64,
    ) -> SignedAttestation {
        let claims = Claims::Delegation(Delegation {
            delegate: Delegate::with_key(
                format!("{} signatory", self.label),
                self.delegate.public_key(),
            ),
            seals: vec![self.contract_seal_key()],
            purposes: purposes.iter().map(|p| p.to_string()).collect(),
            value_cap: cap_yuan.map(|y| Amount {
                currency: "CNY".into(),
                minor_units: y * 100,
            }),
            counterparties,
        });
        let me = self.id();
        self.attest(me, claims, at, days)
    }
}

/// One party's node in the in-memory network: its keys, knowledge, policy and sessions.
#[derive(Debug)]
pub struct TestNode {
    /// The party and its keys.
    pub party: TestParty,
    /// What this node knows.
    pub store: TrustStore,
    /// This node's trust policy.
    pub policy: TrustPolicy,
    /// Its sessions.
    pub sessions: BTreeMap<SessionId, Session>,
    /// Every event its sessions produced, in order.
    pub events: Vec<(SessionId, SessionEvent)>,
    /// Messages it refused, with why.
    pub refused: Vec<SessionError>,
    /// The party's seal mandate for its delegate (contract seal), once issued.
    pub mandate: Option<SignedAttestation>,
    /// Its evidence log: every session event is recorded here.
    pub log: EvidenceLog,
    /// Positions in the log of each session's entries.
    pub log_entries: BTreeMap<SessionId, Vec<u64>>,
}

/// An in-memory federation: nodes exchange messages as bytes through a queue, in virtual
/// time. The protocol's state machines run unchanged; only I/O is simulated.
#[derive(Debug)]
pub struct TestNetwork {
    /// The nodes; index 0 is the certificate authority every node trusts.
    pub nodes: Vec<TestNode>,
    /// Messages in flight: recipient and bytes.
    pub queue: std::collections::VecDeque<(PartyId, Vec<u8>)>,
    /// Virtual time.
    pub now: Timestamp,
    /// The witness every node's evidence log is cosigned by.
    pub witness: TestParty,
    /// The witness's state.
    pub witness_state: Witness,
}

impl TestNetwork {
    /// A CA (node 0) plus one node per label. The CA verifies every party's identity, each
    /// party mandates its delegate for `purposes` with any counterparty, and every node knows
    /// every key log and attestation and trusts the CA.
    pub fn new(labels: &[&str], purposes: &[&str], now: Timestamp) -> Self {
        let mut ca = TestParty::new("Test CA", now);
        let mut parties: Vec<TestParty> = labels.iter().map(|l| TestParty::new(l, now)).collect();
        let mut public = Vec::new();
        let mut mandates = Vec::new();
        for p in &mut parties {
            public.push(ca.verify_identity(p, AssuranceLevel::High, now));
            let mandate = p.delegate_contract_seal(purposes, None, None, now, 365);
            public.push(mandate.clone());
            mandates.push(Some(mandate));
            // Each party's revocation list (nothing revoked), for verifiers that ask for
            // fresh revocation status.
            public.push(p.revocation_list(vec![], now));
        }
        let witness = TestParty::new("Test Witness", now);
        // Verifiers evaluate witnesses under their own policy too.
        public.push(ca.verify_identity(&witness, AssuranceLevel::High, now));
        public.push(ca.revocation_list(vec![], now));
        let policy = TrustPolicy {
            revocation_freshness: None,
            ..TrustPolicy::with_anchors(vec![TrustAnchor {
                party: ca.id(),
                name: "Test CA".into(),
            }])
        };
        let mut all = vec![ca];
        all.extend(parties);
        mandates.insert(0, None);
        let mut logs: Vec<KeyLog> = all.iter().map(|p| p.log.clone()).collect();
        logs.push(witness.log.clone());
        let nodes = all
            .into_iter()
            .zip(mandates)
            .map(|(party, mandate)| {
                let mut store = TrustStore::new();
                for log in &logs {
                    store.add_key_log(log.clone());
                }
                for a in &public {
                    store.add_attestation(a.clone());
                }
                TestNode {
                    party,
                    store,
                    policy: policy.clone(),
                    sessions: BTreeMap::new(),
                    events: Vec::new(),
                    refused: Vec::new(),
                    mandate,
                    log: EvidenceLog::new(),
                    log_entries: BTreeMap::new(),
                }
            })
            .collect();
        let witness_state = Witness::new(
            &witness_name(&witness.id()),
            test_key("Test Witness", "log"),
        )
        .expect("a valid witness name");
        Self {
            nodes,
            queue: Default::default(),
            now,
            witness,
            witness_state,
        }
    }

    /// The node of `party`.
    pub fn node(&self, party: &PartyId) -> &TestNode {
        self.nodes
            .iter()
            .find(|n| n.party.id() == *party)
            .expect("a node of the network")
    }

    fn index(&self, party: &PartyId) -> usize {
        self.nodes
            .iter()
            .position(|n| n.party.id() == *party)
            .expect("a node of the network")
    }

    /// Gives every node an attestation (as gossip would).
    pub fn publish(&mut self, attestation: &SignedAttestation) {
        for n in &mut self.nodes {
            n.store.add_attestation(attestation.clone());
        }
    }

    /// Queues a step's outbound messages and records its events, in the node's evidence log
    /// too.
    pub fn apply(&mut self, from: &PartyId, session: SessionId, step: Step) {
        let i = self.index(from);
        let now = self.now;
        let node = &mut self.nodes[i];
        for e in step.events {
            for evidence in e.evidence(session, now) {
                let index = node
                    .log
                    .append(&evidence)
                    .expect("session events are valid evidence");
                node.log_entries.entry(session).or_default().push(index);
            }
            node.events.push((session, e));
        }
        for out in step.outbound {
            for to in out.to {
                self.queue.push_back((to, out.message.bytes().to_vec()));
            }
        }
    }

    /// Delivers queued messages until none is left; returns how many were delivered.
    pub fn deliver_all(&mut self) -> usize {
        let mut delivered = 0;
        while let Some((to, bytes)) = self.queue.pop_front() {
            delivered += 1;
            self.deliver(&to, &bytes);
        }
        delivered
    }

    /// Delivers one message to `to` now.
    pub fn deliver(&mut self, to: &PartyId, bytes: &[u8]) {
        let i = self.index(to);
        let now = self.now;
        let node = &mut self.nodes[i];
        let ctx = Context {
            store: &node.store,
            policy: &node.policy,
            now,
            node_key: &node.party.node,
        };
        let sid = crate::cose::Unverified::<crate::session::SessionMessage>::decode(
            bytes,
            crate::session::SESSION_MESSAGE_CONTENT_TYPE,
            &crate::codec::Limits::DEFAULT,
        )
        .map(|m| m.payload().session);
        let Ok(sid) = sid else {
            node.refused
                .push(SessionError::Message(crate::cose::CoseError::Structure(
                    "undecodable".into(),
                )));
            return;
        };
        let result = match node.sessions.get_mut(&sid) {
            Some(session) => session.handle(bytes, &ctx).map(|step| (None, step)),
            None => Session::receive(bytes, node.party.id(), &ctx).map(|(s, step)| (Some(s), step)),
        };
        match result {
            Ok((new, step)) => {
                if let Some(s) = new {
                    node.sessions.insert(sid, s);
                }
                let me = node.party.id();
                self.apply(&me, sid, step);
            }
            Err(e) => node.refused.push(e),
        }
    }

    /// Runs `f` on `party`'s session `sid` with its context, and queues the resulting step.
    pub fn act<F>(&mut self, party: &PartyId, sid: SessionId, f: F) -> Result<(), ActionError>
    where
        F: FnOnce(
            &mut Session,
            &Context<'_>,
            &TestParty,
            Option<&SignedAttestation>,
        ) -> Result<Step, ActionError>,
    {
        let i = self.index(party);
        let now = self.now;
        let node = &mut self.nodes[i];
        let ctx = Context {
            store: &node.store,
            policy: &node.policy,
            now,
            node_key: &node.party.node,
        };
        let session = node.sessions.get_mut(&sid).expect("a session of this node");
        let step = f(session, &ctx, &node.party, node.mandate.as_ref())?;
        self.apply(party, sid, step);
        Ok(())
    }

    /// `party` checkpoints its evidence log, has the witness cosign it, and shares its
    /// evidence about session `sid` with the other parties.
    pub fn share_evidence(&mut self, party: &PartyId, sid: SessionId) -> Result<(), ActionError> {
        let i = self.index(party);
        let now = self.now;
        let node = &self.nodes[i];
        let mut checkpoint = node.log.checkpoint(party, &node.party.log_key);
        let origin = checkpoint.checkpoint().origin().to_string();
        let old = self
            .witness_state
            .latest(&origin)
            .map_or(0, |c| c.checkpoint().size());
        let proof = node
            .log
            .consistency_proof(old, node.log.len())
            .expect("the log only grows");
        let cosignature = self
            .witness_state
            .cosign(
                &checkpoint.to_bytes(),
                &node.party.log_key.public_key(),
                &proof,
                now,
            )
            .expect("an honest log is cosigned");
        checkpoint
            .add_cosignature(&cosignature)
            .expect("one cosignature per witness");
        let indices = node.log_entries.get(&sid).cloned().unwrap_or_default();
        let evidence = PartyEvidence::from_log(*party, &node.log, &indices, &checkpoint)
            .expect("entries of this log");
        self.act(party, sid, |session, ctx, _, _| {
            session.share_evidence(evidence, ctx)
        })
    }

    /// `party` proposes; returns the session id.
    pub fn propose(&mut self, proposal: Proposal) -> Result<SessionId, ActionError> {
        let party = proposal.initiator;
        let sid = proposal.session;
        let i = self.index(&party);
        let now = self.now;
        let node = &mut self.nodes[i];
        let ctx = Context {
            store: &node.store,
            policy: &node.policy,
            now,
            node_key: &node.party.node,
        };
        let (session, step) = Session::propose(proposal, &ctx)?;
        node.sessions.insert(sid, session);
        self.apply(&party, sid, step);
        Ok(sid)
    }

    /// `party` signs session `sid` with its contract seal: its delegate signs the intent
    /// challenge with their own key, under the party's mandate.
    pub fn sign(&mut self, party: &PartyId, sid: SessionId) -> Result<(), ActionError> {
        self.act(party, sid, |session, ctx, me, mandate| {
            let challenge = session.intent_challenge(
                me.contract_seal_key(),
                IntentMethod::SoftwareKey,
                ctx.now,
            )?;
            let intent = IntentProof::Signed(
                Signed::sign(challenge, INTENT_CONTENT_TYPE, &me.delegate)?.into_key(),
            );
            let mandate = mandate
                .cloned()
                .ok_or(ActionError::NotAllowed("sign without a mandate"))?;
            // The protocol never sees PDF bytes: a sealed revision is named by its digest,
            // here a stand-in derived from the base and the signer.
            let pdf = session
                .pdf_bases()?
                .into_iter()
                .map(|(document, base)| PdfRevision {
                    document,
                    base,
                    sealed: Digest::of_parts(&[base.as_bytes(), me.id().digest().as_bytes()]),
                    size: 4096,
                })
                .collect();
            me.seal_contract(session, intent, mandate, pdf, ctx)
        })
    }

    /// `party` declares an SM2 contract seal (GB/T 32918) now and mandates its delegate for
    /// `purposes` over it; every node learns the extended key log and the mandate. The party
    /// signs with the SM2 seal from then on.
    pub fn use_sm2_contract_seal(&mut self, party: &PartyId, key: Sm2SecretKey, purposes: &[&str]) {
        let now = self.now;
        let i = self.index(party);
        let node = &mut self.nodes[i];
        let decl = KeyDecl::seal(
            key.public_key(),
            SealInfo {
                kind: SealKind::Contract,
                name: format!("{} 合同专用章 (SM2)", node.party.label),
                image: None,
            },
        );
        node.party
            .log
            .add_key(&node.party.root, decl, now)
            .expect("a fresh SM2 seal key is a valid declaration");
        node.party.sm2_contract_seal = Some(key);
        let mandate = node
            .party
            .delegate_contract_seal(purposes, None, None, now, 365);
        node.mandate = Some(mandate.clone());
        let log = node.party.log.clone();
        for node in &mut self.nodes {
            node.store.add_key_log(log.clone());
            node.store.add_attestation(mandate.clone());
        }
    }

    /// A proposal by `initiator` to the given (party, role, order) participants, with one
    /// document, purpose `purpose`, deadline 30 days out, and one cosignature required from
    /// the network's witness. Signers use the contract seal.
    pub fn proposal(
        &self,
        initiator: &PartyId,
        participants: &[(PartyId, Role, u32)],
        purpose: &str,
        tag: u8,
    ) -> Proposal {
        let nonce = SessionNonce::from_bytes(
            *Digest::of_parts(&[initiator.digest().as_bytes(), &[tag]]).as_bytes(),
        );
        Proposal {
            session: SessionId::derive(initiator, &nonce),
            nonce,
            revision: 0,
            initiator: *initiator,
            title: format!("Supply agreement {tag}"),
            documents: vec![DocumentRef {
                name: "agreement.pdf".into(),
                media_type: "application/pdf".into(),
                size: 1234,
                digest: Digest::of(&[tag; 1234]),
                sm3: None,
                pdf_seals: None,
            }],
            participants: participants
                .iter()
                .map(|(party, role, order)| Participant {
                    party: *party,
                    role: *role,
                    order: *order,
                    seal_kind: (*role == Role::Signer).then_some(SealKind::Contract),
                })
                .collect(),
            purpose: purpose.into(),
            value: None,
            deadline: self.now.plus(30 * DAY),
            evidence: EvidenceRequirements {
                witnesses: vec![self.witness.id()],
                min_cosignatures: 1,
            },
            created_at: self.now,
            algorithms: None,
        }
    }
}

/// `proposal` made to require national algorithms (spec §8.2.5): its documents, whose bytes
/// are `documents` in order, get their SM3 digests. For [`TestNetwork::proposal`] the one
/// document's bytes are 1,234 bytes of its `tag`.
pub fn require_national(mut proposal: Proposal, documents: &[&[u8]]) -> Proposal {
    for (d, bytes) in proposal.documents.iter_mut().zip(documents) {
        d.sm3 = Some(crate::sm2::Sm3Digest::of(bytes));
    }
    proposal.algorithms = Some(crate::session::Algorithms::National);
    proposal
}

/// A software stand-in for a person's WebAuthn authenticator, for tests and vectors: an ES256
/// (P-256) credential whose key derives from `test_key(label, "passkey")`.
#[derive(Debug)]
pub struct TestAuthenticator {
    key: p256::ecdsa::SigningKey,
    /// The credential the authenticator registered.
    pub credential: crate::person::WebAuthnCredential,
}

/// Authenticator data flag: a person was present (UP).
pub const FLAG_UP: u8 = 0x01;
/// Authenticator data flag: the authenticator verified the person (UV).
pub const FLAG_UV: u8 = 0x04;
/// Authenticator data flag: the credential may be backed up off the authenticator (BE).
pub const FLAG_BE: u8 = 0x08;

impl TestAuthenticator {
    /// An authenticator with one ES256 credential for the relying party `rp_id`.
    pub fn new(label: &str, rp_id: &str) -> Self {
        let seed = test_key(label, "passkey").to_seed();
        let key = p256::ecdsa::SigningKey::from_slice(&*seed)
            .expect("a SHA-256-derived seed is a valid P-256 scalar");
        let public = key.verifying_key().to_sec1_point(false);
        Self {
            credential: crate::person::WebAuthnCredential {
                id: Digest::of_parts(&[label.as_bytes(), b"credential id"]).as_bytes()[..16]
                    .to_vec(),
                alg: crate::person::CredentialAlgorithm::Es256,
                public_key: public.as_bytes().to_vec(),
                rp_id: rp_id.to_string(),
            },
            key,
        }
    }

    /// The encoded WebAuthn intent proof over `challenge`, with authenticator data `flags`
    /// and the browser's client data claiming `origin`.
    pub fn assert(&self, challenge: &IntentChallenge, flags: u8, origin: &str) -> Vec<u8> {
        let challenge_bytes = challenge.encode().expect("a challenge encodes");
        let client_data = format!(
            r#"{{"type":"webauthn.get","challenge":"{}","origin":"{origin}","crossOrigin":false}}"#,
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                IntentChallenge::webauthn_challenge(&challenge_bytes).as_bytes()
            )
        );
        self.assert_raw(challenge_bytes, flags, client_data.into_bytes())
    }

    /// The encoded proof with the client data given as is.
    pub fn assert_raw(
        &self,
        challenge_bytes: Vec<u8>,
        flags: u8,
        client_data_json: Vec<u8>,
    ) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        let mut authenticator_data = Digest::of(self.credential.rp_id.as_bytes())
            .as_bytes()
            .to_vec();
        authenticator_data.push(flags);
        authenticator_data.extend_from_slice(&7u32.to_be_bytes());
        let mut message = authenticator_data.clone();
        message.extend_from_slice(Digest::of(&client_data_json).as_bytes());
        let signature: p256::ecdsa::Signature = self.key.sign(&message);
        crate::codec::encode(&crate::session::WebAuthnAssertion {
            challenge: challenge_bytes,
            credential: self.credential.clone(),
            authenticator_data,
            client_data_json,
            signature: signature.to_der().as_bytes().to_vec(),
        })
        .expect("an assertion encodes")
    }
}

/// A test certification authority (SM2 with SM3, or P-256 with SHA-256) that issues
/// CFCA-style certificates to test parties and CRLs, for certificate-backed identities
/// (spec §6.11). Its keys derive from its label.
#[allow(missing_debug_implementations)]
pub struct TestCertificateAuthority {
    key: TestCaKey,
    name: x509_cert::name::Name,
    root: Vec<u8>,
}

enum TestCaKey {
    Sm2(crate::sm2::Sm2SecretKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    External(Box<dyn x509::chain::ExternalCaKey>),
}

/// The private key of a party's certificate, as the party holds it.
#[allow(missing_debug_implementations)]
pub enum CertificateHolder {
    /// SM2.
    Sm2(crate::sm2::Sm2SecretKey),
    /// P-256.
    P256(p256::ecdsa::SigningKey),
    /// A key that signs outside this crate (RSA: Signet verifies it but does not sign with
    /// it).
    External(Box<dyn ExternalSubjectKey>),
}

/// A party's certified key that signs outside this crate: its `SubjectPublicKeyInfo` and
/// its possession signatures (RSASSA-PKCS1-v1_5 with SHA-256 for RSA, spec §6.11.2).
pub trait ExternalSubjectKey {
    /// The key as its certificate carries it.
    fn spki(&self) -> spki::SubjectPublicKeyInfoOwned;
    /// Its signature of `message`.
    fn sign(&self, message: &[u8]) -> Vec<u8>;
}

impl CertificateHolder {
    /// Signs `message` with the certified key (SM2 with SM3 and the default identifier, or
    /// ECDSA-SHA256, DER; or the external key's signature).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Sm2(k) => k.sign(message).to_der(),
            Self::P256(k) => x509::asn1::sign_der(k, message),
            Self::External(k) => k.sign(message),
        }
    }

    /// The key's declaration as a `pdf` key.
    pub fn decl(&self) -> KeyDecl {
        match self {
            Self::Sm2(k) => KeyDecl::sm2_pdf(k.public_key()),
            Self::P256(k) => KeyDecl::pdf(EcdsaP256Key::from_verifying_key(k.verifying_key())),
            Self::External(k) => match x509::chain::CertificateKey::of(&k.spki())
                .expect("an external test key of an algorithm Signet verifies")
            {
                x509::chain::CertificateKey::Rsa(key) => KeyDecl::rsa_pdf(key),
                x509::chain::CertificateKey::Sm2(key) => KeyDecl::sm2_pdf(key),
                x509::chain::CertificateKey::P256(key) => KeyDecl::pdf(key),
            },
        }
    }

    /// The key as its certificate carries it.
    fn spki(&self, form: x509::sm2::Sm2KeyForm) -> spki::SubjectPublicKeyInfoOwned {
        match self {
            Self::Sm2(k) => x509::sm2::sm2_spki(&k.public_key(), form),
            Self::P256(k) => x509::asn1::p256_spki(k.verifying_key()),
            Self::External(k) => Ok(k.spki()),
        }
        .expect("a test key encodes")
    }
}

/// The `SubjectPublicKeyInfo` of a P-384 key (id-ecPublicKey, secp384r1, uncompressed).
fn p384_spki(key: &p384::ecdsa::VerifyingKey) -> spki::SubjectPublicKeyInfoOwned {
    spki::SubjectPublicKeyInfoOwned {
        algorithm: spki::AlgorithmIdentifierOwned {
            oid: x509::asn1::ID_EC_PUBLIC_KEY,
            parameters: Some(
                der::Any::encode_from(&x509::issuer_key::SECP384R1).expect("an oid encodes"),
            ),
        },
        subject_public_key: der::asn1::BitString::from_bytes(&key.to_sec1_bytes())
            .expect("a point encodes"),
    }
}

fn test_scalar(label: &str, role: &str) -> [u8; 32] {
    // A SHA-256 output is below both curves' orders with overwhelming probability; the
    // harness panics otherwise, as test code does.
    *Digest::of_parts(&[b"signet test ca key", label.as_bytes(), role.as_bytes()]).as_bytes()
}

impl TestCertificateAuthority {
    /// A CA named `CN=<label>, O=Test CA, C=CN` with a self-signed root valid from `at`
    /// for ten years.
    pub fn new(label: &str, sm2: bool, at: Timestamp) -> Self {
        let scalar = test_scalar(label, "ca");
        let key = if sm2 {
            TestCaKey::Sm2(crate::sm2::Sm2SecretKey::from_bytes(&scalar).expect("test scalar"))
        } else {
            TestCaKey::P256(p256::ecdsa::SigningKey::from_slice(&scalar).expect("test scalar"))
        };
        let spki = Self::spki_of(&key);
        Self::self_signed(label, key, spki, at)
    }

    /// [`Self::new`] with an ECDSA P-384 key, signing with ECDSA-with-SHA384.
    pub fn p384(label: &str, at: Timestamp) -> Self {
        let key = p384::ecdsa::SigningKey::from_slice(&test_scalar(label, "ca p384"))
            .expect("test scalar");
        let spki = p384_spki(key.verifying_key());
        Self::self_signed(label, TestCaKey::P384(key), spki, at)
    }

    /// [`Self::new`] with a key another library holds (an RSA one, say), whose public key
    /// is `spki`.
    pub fn external(
        label: &str,
        key: Box<dyn x509::chain::ExternalCaKey>,
        spki: spki::SubjectPublicKeyInfoOwned,
        at: Timestamp,
    ) -> Self {
        Self::self_signed(label, TestCaKey::External(key), spki, at)
    }

    fn spki_of(key: &TestCaKey) -> spki::SubjectPublicKeyInfoOwned {
        match key {
            TestCaKey::Sm2(k) => {
                x509::sm2::sm2_spki(&k.public_key(), x509::sm2::Sm2KeyForm::EcPublicKey)
                    .expect("a test key encodes")
            }
            TestCaKey::P256(k) => {
                x509::asn1::p256_spki(k.verifying_key()).expect("a test key encodes")
            }
            TestCaKey::P384(k) => p384_spki(k.verifying_key()),
            TestCaKey::External(_) => unreachable!("only the harness's own keys"),
        }
    }

    fn self_signed(
        label: &str,
        key: TestCaKey,
        spki: spki::SubjectPublicKeyInfoOwned,
        at: Timestamp,
    ) -> Self {
        let name: x509_cert::name::Name = format!("CN={label},O=Test CA,C=CN")
            .parse()
            .expect("a plain test name");
        let mut ca = Self {
            key,
            name: name.clone(),
            root: Vec::new(),
        };
        ca.root = x509::chain::issue(
            ca.signer(),
            name.clone(),
            name,
            spki,
            &x509::Issuance {
                serial: 1,
                not_before: at,
                not_after: at.plus(3650 * DAY),
            },
            Some(0),
        )
        .expect("the test root encodes");
        ca
    }

    /// A CA named `CN=<label>, O=Test CA, C=CN` whose certificate this CA issues (serial
    /// `serial`, valid from `at` for five years): a CA with pathLenConstraint `ca` when given,
    /// else an end-entity certificate that may not issue others. Its [`Self::root`] is that
    /// certificate.
    pub fn subordinate(
        &self,
        label: &str,
        sm2: bool,
        ca: Option<u8>,
        serial: u128,
        at: Timestamp,
    ) -> Self {
        let mut sub = Self::new(label, sm2, at);
        let spki = Self::spki_of(&sub.key);
        sub.root = x509::chain::issue(
            self.signer(),
            self.name.clone(),
            sub.name.clone(),
            spki,
            &x509::Issuance {
                serial,
                not_before: at,
                not_after: at.plus(1825 * DAY),
            },
            ca,
        )
        .expect("the test certificate encodes");
        sub
    }

    fn signer(&self) -> x509::chain::CaKey<'_> {
        match &self.key {
            TestCaKey::Sm2(k) => x509::chain::CaKey::Sm2(k),
            TestCaKey::P256(k) => x509::chain::CaKey::P256(k),
            TestCaKey::P384(k) => x509::chain::CaKey::P384(k),
            TestCaKey::External(k) => x509::chain::CaKey::External(k.as_ref()),
        }
    }

    /// The CA's certificate, DER: its self-signed root, or for a
    /// [`Self::subordinate`] the certificate its parent issued.
    pub fn root(&self) -> &[u8] {
        &self.root
    }

    /// Certifies a key of `party` (SM2 when `sm2`, in the SPKI form `form`; else P-256) with
    /// the CFCA-style subject `CN=041@N<uscc>@示例有限公司@00000001, O=示例有限公司, C=CN`,
    /// serial `serial`, valid from `at` for a year; declares the key as a `pdf` key in the
    /// party's log at `at`. Returns the certificate (DER) and the key.
    pub fn certify(
        &self,
        party: &mut TestParty,
        uscc: &str,
        serial: u128,
        sm2: bool,
        form: x509::sm2::Sm2KeyForm,
        at: Timestamp,
    ) -> (Vec<u8>, CertificateHolder) {
        self.certify_with(party, uscc, serial, sm2, form, at, Vec::new())
    }

    /// [`TestCertificateAuthority::certify`], with `extra` extensions after the keyUsage
    /// (an unknown critical one, say, for a vector no CA should issue).
    #[allow(clippy::too_many_arguments)]
    pub fn certify_with(
        &self,
        party: &mut TestParty,
        uscc: &str,
        serial: u128,
        sm2: bool,
        form: x509::sm2::Sm2KeyForm,
        at: Timestamp,
        extra: Vec<x509_cert::ext::Extension>,
    ) -> (Vec<u8>, CertificateHolder) {
        let scalar = test_scalar(&party.label, "certificate");
        let holder = if sm2 {
            CertificateHolder::Sm2(
                crate::sm2::Sm2SecretKey::from_bytes(&scalar).expect("test scalar"),
            )
        } else {
            CertificateHolder::P256(
                p256::ecdsa::SigningKey::from_slice(&scalar).expect("test scalar"),
            )
        };
        self.certify_holder(party, uscc, serial, holder, form, at, extra)
    }

    /// [`TestCertificateAuthority::certify`] for a key that signs outside this crate (an
    /// RSA key, say).
    pub fn certify_external(
        &self,
        party: &mut TestParty,
        uscc: &str,
        serial: u128,
        key: Box<dyn ExternalSubjectKey>,
        at: Timestamp,
    ) -> (Vec<u8>, CertificateHolder) {
        self.certify_holder(
            party,
            uscc,
            serial,
            CertificateHolder::External(key),
            x509::sm2::Sm2KeyForm::EcPublicKey,
            at,
            Vec::new(),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn certify_holder(
        &self,
        party: &mut TestParty,
        uscc: &str,
        serial: u128,
        holder: CertificateHolder,
        form: x509::sm2::Sm2KeyForm,
        at: Timestamp,
        extra: Vec<x509_cert::ext::Extension>,
    ) -> (Vec<u8>, CertificateHolder) {
        let spki = holder.spki(form);
        let subject: x509_cert::name::Name =
            format!("CN=041@N{uscc}@示例有限公司@00000001,O=示例有限公司,C=CN")
                .parse()
                .expect("a test name");
        let issuance = x509::Issuance {
            serial,
            not_before: at,
            not_after: at.plus(365 * DAY),
        };
        let leaf = if extra.is_empty() {
            x509::chain::issue(
                self.signer(),
                self.name.clone(),
                subject,
                spki,
                &issuance,
                None,
            )
        } else {
            use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
            let mut extensions = vec![
                x509::extension(
                    &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
                    true,
                )
                .expect("a key usage encodes"),
            ];
            extensions.extend(extra);
            x509::chain::issue_with_extensions(
                self.signer(),
                self.name.clone(),
                subject,
                spki,
                &issuance,
                extensions,
            )
        }
        .expect("the test certificate encodes");
        let decl = holder.decl();
        party
            .log
            .add_key(&party.root, decl, at)
            .expect("the harness declares a fresh key");
        (leaf, holder)
    }

    /// A CRL issued at `this_update`, next update a week later, revoking `revoked`.
    pub fn crl(&self, revoked: &[(u128, Timestamp)], this_update: Timestamp) -> Vec<u8> {
        x509::chain::issue_crl(
            self.signer(),
            self.name.clone(),
            revoked,
            this_update,
            this_update.plus(7 * DAY),
        )
        .expect("the test crl encodes")
    }
}

impl TestParty {
    /// The party's self-issued `ca-identity` attestation for `chain`, its possession proof
    /// signed by `holder`, valid for `days` from `at`.
    pub fn ca_identity(
        &mut self,
        chain: Vec<Vec<u8>>,
        holder: &CertificateHolder,
        at: Timestamp,
        days: u64,
    ) -> SignedAttestation {
        let id = self.next_id();
        crate::attestation::CertificateIdentity::attestation(
            id,
            self.id(),
            at,
            at.plus(days * DAY),
            chain,
            |m| holder.sign(m),
        )
        .issue(&self.attest, &self.log)
        .expect("the harness issues valid attestations")
    }
}
