//! An in-memory harness of parties with deterministic test keys, shared by the unit tests,
//! the cross-crate tests, the vectors and the simulator (feature `testkit`).
//!
//! Keys are derived from a party's label with SHA-256, so every run produces the same bytes.
//! They are test keys: never use them for anything else. The harness panics when a test
//! misuses it, as test code does.
#![allow(clippy::expect_used)]

use crate::attestation::{
    Accreditation, Amount, AssuranceLevel, Attestation, Claims, Delegate, Delegation, Endorsement,
    IdentityClaims, Revocation, RevocationList, RevocationReason, RevocationTarget, RevokedEntry,
    VerificationMethod,
};
use crate::cose::Signed;
use crate::keylog::{KeyDecl, KeyLog};
use crate::party::{AttestationId, PartyId};
use crate::registration::{Registration, uscc_check_character};
use crate::seal::{SealInfo, SealKind};
use crate::{Digest, PublicKey, SecretKey, Timestamp};

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
            KeyDecl::node(node.public_key()),
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
    ) -> Signed<Attestation> {
        let attestation = Attestation {
            id: self.next_id(),
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

    /// Identity attestation (real-name verification) of `subject`.
    pub fn verify_identity(
        &mut self,
        subject: &TestParty,
        assurance: AssuranceLevel,
        at: Timestamp,
    ) -> Signed<Attestation> {
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
    ) -> Signed<Attestation> {
        self.attest(
            subject,
            Claims::Accreditation(Accreditation { may_accredit }),
            at,
            365,
        )
    }

    /// Endorsement of `subject` by this party.
    pub fn endorse(&mut self, subject: &TestParty, at: Timestamp) -> Signed<Attestation> {
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
    ) -> Signed<Attestation> {
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
        key: PublicKey,
        effective: Timestamp,
        at: Timestamp,
    ) -> Signed<Attestation> {
        let claims = Claims::Revocation(Revocation {
            target: RevocationTarget::Key(key),
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
    ) -> Signed<Attestation> {
        let me = self.id();
        self.attest(
            me,
            Claims::RevocationList(RevocationList { entries }),
            at,
            30,
        )
    }

    /// A seal mandate for this party's delegate over its contract seal.
    pub fn delegate_contract_seal(
        &mut self,
        purposes: &[&str],
        cap_yuan: Option<u64>,
        counterparties: Option<Vec<PartyId>>,
        at: Timestamp,
        days: u64,
    ) -> Signed<Attestation> {
        let claims = Claims::Delegation(Delegation {
            delegate: Delegate {
                name: format!("{} signatory", self.label),
                key: self.delegate.public_key(),
            },
            seals: vec![self.contract_seal.public_key()],
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
