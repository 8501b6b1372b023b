//! The certificate path of trust evaluation (spec §7.3, path 3): a party's self-issued
//! `ca-identity` attestation whose certificate path ends at a CA root of the policy.
//!
//! What is checked, in order: the attestation as any other on a path (the subject's attest
//! key, window, age, revocation by the subject, the subject's revocation list fresh); the
//! possession proof (on decode, spec §6.11.1); the subject's key log declaring the
//! certified key as a `pdf` key both when the attestation was issued and at the time relied
//! on; the certificate path at the time relied on; each certificate's revocation status
//! from the CRLs held, current at the time of the question.

use der::Encode;

use super::{Evaluation, Finding, Link, Missing};
use crate::Timestamp;
use crate::attestation::CertificateIdentity;
use crate::attestation::SignedAttestation;
use crate::keylog::{KeyPurpose, KeyUseError};
use crate::registration::Registration;
use crate::x509::chain::{self, ChainError, RevocationStatus};
use crate::x509::identity::identity_of;

/// What a certificate path established, for the verdict to say exactly what was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateEvidence {
    /// The `ca-identity` attestation relied on.
    pub link: Link,
    /// The policy's name for the CA root the path ends at.
    pub root: String,
    /// The subject certificate's issuer (RFC 4514).
    pub issuer: String,
    /// The subject certificate's serial number, hexadecimal.
    pub serial: String,
    /// The USCC the certificate names (check character verified).
    pub uscc: Registration,
    /// The thisUpdate of the current CRL that showed the subject's certificate not revoked;
    /// None when a CRL lists it revoked only after the time the reliance is proven by.
    pub crl_issued: Option<Timestamp>,
}

impl std::fmt::Display for CertificateEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "identity from CA certificate, issuer {}, serial {}, USCC {}, root {:?}",
            self.issuer,
            self.serial,
            self.uscc.number(),
            self.root,
        )?;
        match self.crl_issued {
            Some(t) => write!(f, ", not revoked per the CRL of {t}"),
            None => write!(f, ", revoked only after the time relied on"),
        }
    }
}

/// Why a certificate-backed identity was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// The subject's key log does not declare the certified key as a `pdf` key when the
    /// attestation was issued or at the time relied on.
    #[error("the certified key is not the subject's pdf key: {0}")]
    KeyNotDeclared(Box<KeyUseError>),
    /// The certificate path does not validate against the policy's CA roots.
    #[error("certificate path: {0}")]
    Chain(ChainError),
    /// A CRL lists a certificate of the path as revoked at or before the time relied on.
    #[error("certificate {depth} of the path was revoked at {at}")]
    Revoked {
        /// Which certificate (0 is the subject's).
        depth: usize,
        /// Its revocationDate.
        at: Timestamp,
    },
}

impl Evaluation<'_> {
    /// The evidence of one `ca-identity` attestation about the subject, or None (with the
    /// reason, or what is missing, recorded).
    pub(super) fn certificate_path(
        &mut self,
        signed: &SignedAttestation,
        claims: &CertificateIdentity,
    ) -> Option<(String, CertificateEvidence)> {
        let a = signed.payload();
        if a.issuer != a.subject || !self.check(signed) {
            return None;
        }
        let at = self.moment.at;
        let refuse = |eval: &mut Self, problem: CertificateProblem| {
            eval.findings
                .push(Finding::Certificate { id: a.id, problem });
            None
        };
        let key = claims.key()?.log_key();
        let log = self.store.key_log(&a.subject)?;
        for time in [a.issued_at, at] {
            if let Err(e) = log.check_log_key(&key, KeyPurpose::Pdf, time) {
                return refuse(self, CertificateProblem::KeyNotDeclared(Box::new(e)));
            }
        }
        let roots: Vec<Vec<u8>> = self
            .policy
            .ca_roots
            .iter()
            .map(|r| r.certificate.clone())
            .collect();
        let path = match chain::validate(&claims.chain, &roots, at) {
            Ok(path) => path,
            Err(e) => return refuse(self, CertificateProblem::Chain(e)),
        };
        let mut crl_issued = None;
        for depth in 0..path.certificates.len() - 1 {
            let (certificate, issuer) = (&path.certificates[depth], &path.certificates[depth + 1]);
            let issuer_name = certificate.tbs_certificate().issuer();
            let Ok(name_der) = issuer_name.to_der() else {
                return refuse(
                    self,
                    CertificateProblem::Chain(ChainError::Malformed { depth }),
                );
            };
            let crls = self.store.crls_of(&name_der);
            match chain::revocation_status(certificate, issuer, &crls, self.moment.now) {
                RevocationStatus::Revoked { at: revoked } if revoked <= at => {
                    return refuse(self, CertificateProblem::Revoked { depth, at: revoked });
                }
                RevocationStatus::Revoked { at: revoked } if revoked <= self.moment.proven_by => {
                    self.missing.push(Missing::ProofBeforeRevocation {
                        attestation: a.id,
                        revoked,
                    });
                    return None;
                }
                // Revoked only after the reliance is proven: it stands, but the CRL is
                // current, since it lists a later revocation.
                RevocationStatus::Revoked { .. } => {}
                RevocationStatus::Good { crl_issued: issued } => {
                    if depth == 0 {
                        crl_issued = Some(issued);
                    }
                }
                RevocationStatus::Unknown { newest } => {
                    self.missing.push(Missing::FreshCrl {
                        issuer: issuer_name.to_string(),
                        newest,
                    });
                    return None;
                }
            }
        }
        let leaf = path.leaf();
        let identity = identity_of(claims.leaf()?).ok()?;
        let legal_name = identity.legal_name?;
        let uscc = identity.uscc?;
        let evidence = CertificateEvidence {
            link: Link::of(a),
            root: self.policy.ca_roots.get(path.root)?.name.clone(),
            issuer: leaf.tbs_certificate().issuer().to_string(),
            serial: chain::serial_hex(leaf),
            uscc,
            crl_issued,
        };
        Some((legal_name, evidence))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::str::FromStr;

    use x509_cert::name::Name;

    use super::*;
    use crate::attestation::{Attestation, CertificateIdentity, Claims};
    use crate::keylog::{EcdsaP256Key, KeyDecl};
    use crate::party::AttestationId;
    use crate::sm2::Sm2SecretKey;
    use crate::testkit::TestParty;
    use crate::trust::{CaRoot, Moment, TrustPath, TrustPolicy, TrustStore, Verdict, evaluate_at};
    use crate::x509::Issuance;
    use crate::x509::asn1::p256_spki;
    use crate::x509::chain::{CaKey, issue, issue_crl};
    use crate::x509::sm2::{Sm2KeyForm, sm2_spki};

    const DAY: u64 = 86_400;
    const USCC: &str = "91350100M000100Y43";
    const NAME: &str = "示例有限公司";

    fn t(days: u64) -> Timestamp {
        Timestamp::from_unix(1_800_000_000 + days * DAY)
    }

    fn name(text: &str) -> Name {
        Name::from_str(text).unwrap()
    }

    fn cfca(uscc: &str) -> Name {
        name(&format!("CN=041@N{uscc}@{NAME}@00000001,O={NAME},C=CN"))
    }

    fn issuance(serial: u128) -> Issuance {
        Issuance {
            serial,
            not_before: t(0),
            not_after: t(365),
        }
    }

    /// The certified key a party holds.
    enum Holder {
        Sm2(Sm2SecretKey),
        P256(p256::ecdsa::SigningKey),
    }

    impl Holder {
        fn sign(&self, message: &[u8]) -> Vec<u8> {
            match self {
                Self::Sm2(k) => k.sign(message).to_der(),
                Self::P256(k) => crate::x509::asn1::sign_der(k, message),
            }
        }

        fn decl(&self) -> KeyDecl {
            match self {
                Self::Sm2(k) => KeyDecl::sm2_pdf(k.public_key()),
                Self::P256(k) => KeyDecl::pdf(EcdsaP256Key::from_verifying_key(k.verifying_key())),
            }
        }
    }

    /// A CA (SM2 or P-256), its root, and a party whose certificate it issued.
    struct World {
        ca_sm2: Sm2SecretKey,
        ca_p256: p256::ecdsa::SigningKey,
        sm2: bool,
        root: Vec<u8>,
        ca_name: Name,
        party: TestParty,
        holder: Holder,
        chain: Vec<Vec<u8>>,
    }

    impl World {
        fn new(sm2: bool, form: Sm2KeyForm) -> Self {
            let ca_sm2 = Sm2SecretKey::from_bytes(&[11; 32]).unwrap();
            let ca_p256 = p256::ecdsa::SigningKey::from_slice(&[12; 32]).unwrap();
            let ca_name = name(if sm2 {
                "CN=Test SM2 CA,O=Test CA,C=CN"
            } else {
                "CN=Test P-256 CA,O=Test CA,C=CN"
            });
            let mut world = Self {
                ca_sm2,
                ca_p256,
                sm2,
                root: Vec::new(),
                ca_name: ca_name.clone(),
                party: TestParty::new("cert-holder", t(0)),
                holder: if sm2 {
                    Holder::Sm2(Sm2SecretKey::from_bytes(&[13; 32]).unwrap())
                } else {
                    Holder::P256(p256::ecdsa::SigningKey::from_slice(&[14; 32]).unwrap())
                },
                chain: Vec::new(),
            };
            let ca_spki = if sm2 {
                sm2_spki(&world.ca_sm2.public_key(), form).unwrap()
            } else {
                p256_spki(world.ca_p256.verifying_key()).unwrap()
            };
            world.root = issue(
                world.ca(),
                ca_name.clone(),
                ca_name,
                ca_spki,
                &issuance(1),
                Some(0),
            )
            .unwrap();
            world.chain = vec![world.leaf(&cfca(USCC), 77, form)];
            let decl = world.holder.decl();
            world
                .party
                .log
                .add_key(&world.party.root, decl, t(1))
                .unwrap();
            world
        }

        fn ca(&self) -> CaKey<'_> {
            if self.sm2 {
                CaKey::Sm2(&self.ca_sm2)
            } else {
                CaKey::P256(&self.ca_p256)
            }
        }

        fn leaf(&self, subject: &Name, serial: u128, form: Sm2KeyForm) -> Vec<u8> {
            let spki = match &self.holder {
                Holder::Sm2(k) => sm2_spki(&k.public_key(), form).unwrap(),
                Holder::P256(k) => p256_spki(k.verifying_key()).unwrap(),
            };
            issue(
                self.ca(),
                self.ca_name.clone(),
                subject.clone(),
                spki,
                &issuance(serial),
                None,
            )
            .unwrap()
        }

        fn crl(&self, revoked: &[(u128, Timestamp)], this_update: Timestamp) -> Vec<u8> {
            issue_crl(
                self.ca(),
                self.ca_name.clone(),
                revoked,
                this_update,
                this_update.plus(7 * DAY),
            )
            .unwrap()
        }

        /// The party's self-issued attestation, its proof signed by `holder`.
        fn attestation(&self, holder: &Holder) -> Attestation {
            CertificateIdentity::attestation(
                AttestationId::from_bytes([5; 16]),
                self.party.id(),
                t(2),
                t(400),
                self.chain.clone(),
                |m| holder.sign(m),
            )
        }

        fn policy(&self) -> TrustPolicy {
            TrustPolicy {
                revocation_freshness: None,
                ca_roots: vec![CaRoot {
                    name: "Test CA".into(),
                    certificate: self.root.clone(),
                }],
                ..TrustPolicy::with_anchors(vec![])
            }
        }

        /// A verifier's store holding the party's log, its attestation and `crls`.
        fn store(&self, crls: &[Vec<u8>]) -> TrustStore {
            let mut store = TrustStore::new();
            store.add_key_log(self.party.log.clone());
            let signed = self
                .attestation(&self.holder)
                .issue(&self.party.attest, &self.party.log)
                .unwrap();
            assert!(store.add_attestation(signed).is_held());
            for crl in crls {
                store.add_crl(crl).unwrap();
            }
            store
        }

        fn verdict(&self, policy: &TrustPolicy, store: &TrustStore, at: Timestamp) -> Verdict {
            evaluate_at(policy, store, &self.party.id(), Moment::live(at))
        }
    }

    fn certificate_problem(verdict: &Verdict) -> Option<&CertificateProblem> {
        let Verdict::Untrusted { reasons } = verdict else {
            return None;
        };
        reasons.iter().find_map(|r| match r {
            Finding::Certificate { problem, .. } => Some(problem),
            _ => None,
        })
    }

    #[test]
    fn a_certified_party_is_trusted_on_the_ca_root_alone() {
        for (sm2, form) in [
            (true, Sm2KeyForm::EcPublicKey),
            (true, Sm2KeyForm::Sm2Algorithm),
            (false, Sm2KeyForm::EcPublicKey),
        ] {
            let world = World::new(sm2, form);
            let store = world.store(&[world.crl(&[], t(9))]);
            let verdict = world.verdict(&world.policy(), &store, t(10));
            let Verdict::Trusted { identity, path } = &verdict else {
                panic!("{sm2} {form:?}: {verdict}");
            };
            assert_eq!(identity.legal_name, NAME);
            assert_eq!(identity.registration.as_ref().unwrap().number(), USCC);
            let TrustPath::Certificate(evidence) = path else {
                panic!("{path:?}");
            };
            assert_eq!(evidence.serial, "4D");
            assert_eq!(evidence.root, "Test CA");
            assert_eq!(evidence.crl_issued, Some(t(9)));
            let said = verdict.to_string();
            assert!(
                said.contains("identity from CA certificate") && said.contains(USCC),
                "{said}"
            );
        }
    }

    #[test]
    fn without_the_root_in_the_policy_there_is_no_certificate_path() {
        let world = World::new(true, Sm2KeyForm::EcPublicKey);
        let store = world.store(&[world.crl(&[], t(9))]);
        let verdict = world.verdict(&TrustPolicy::with_anchors(vec![]), &store, t(10));
        assert!(!verdict.is_trusted());
        // Another CA's root with the same name does not verify the path.
        let other = World::new(false, Sm2KeyForm::EcPublicKey);
        let mut policy = world.policy();
        policy.ca_roots[0].certificate = other.root.clone();
        let verdict = world.verdict(&policy, &store, t(10));
        assert_eq!(
            certificate_problem(&verdict),
            Some(&CertificateProblem::Chain(ChainError::NoTrustedRoot {
                depth: 0
            }))
        );
    }

    #[test]
    fn an_expired_certificate_is_refused() {
        let world = World::new(true, Sm2KeyForm::EcPublicKey);
        let mut policy = world.policy();
        policy.max_attestation_age = None;
        let store = world.store(&[world.crl(&[], t(364))]);
        assert!(world.verdict(&policy, &store, t(365)).is_trusted());
        // The attestation is still in its window the day after; the certificate is not.
        let store = world.store(&[world.crl(&[], t(365))]);
        let verdict = world.verdict(&policy, &store, t(366));
        assert_eq!(
            certificate_problem(&verdict),
            Some(&CertificateProblem::Chain(ChainError::Expired {
                depth: 0,
                at: t(365)
            })),
            "{verdict}"
        );
    }

    #[test]
    fn a_revoked_certificate_is_untrusted_from_its_revocation_time() {
        let world = World::new(true, Sm2KeyForm::EcPublicKey);
        let crl = world.crl(&[(77, t(20))], t(21));
        let store = world.store(&[crl]);
        let policy = world.policy();
        let verdict = world.verdict(&policy, &store, t(22));
        assert_eq!(
            certificate_problem(&verdict),
            Some(&CertificateProblem::Revoked {
                depth: 0,
                at: t(20)
            })
        );
        // Relied on before the revocation, proven then, asked now: still trusted.
        let verdict = evaluate_at(
            &policy,
            &store,
            &world.party.id(),
            Moment {
                at: t(10),
                proven_by: t(10),
                now: t(22),
            },
        );
        assert!(verdict.is_trusted(), "{verdict}");
        // Relied on before, but proven only after: indeterminate.
        let verdict = evaluate_at(
            &policy,
            &store,
            &world.party.id(),
            Moment {
                at: t(10),
                proven_by: t(21),
                now: t(22),
            },
        );
        assert!(
            matches!(verdict, Verdict::Indeterminate { .. }),
            "{verdict}"
        );
    }

    #[test]
    fn without_a_current_crl_the_verdict_is_indeterminate_never_trusted() {
        let world = World::new(false, Sm2KeyForm::EcPublicKey);
        let policy = world.policy();
        for crls in [vec![], vec![world.crl(&[], t(1))]] {
            let store = world.store(&crls);
            let verdict = world.verdict(&policy, &store, t(10));
            let Verdict::Indeterminate { missing, .. } = &verdict else {
                panic!("{verdict}");
            };
            assert!(
                matches!(&missing[..], [Missing::FreshCrl { issuer, .. }] if issuer.contains("Test P-256 CA")),
                "{missing:?}"
            );
        }
        // A CRL in the CA's name signed by another key is not taken as current.
        let other = World::new(true, Sm2KeyForm::EcPublicKey);
        let forged = issue_crl(
            CaKey::Sm2(&other.ca_sm2),
            world.ca_name.clone(),
            &[],
            t(9),
            t(16),
        )
        .unwrap();
        let verdict = world.verdict(&policy, &world.store(&[forged]), t(10));
        assert!(
            matches!(verdict, Verdict::Indeterminate { .. }),
            "{verdict}"
        );
    }

    #[test]
    fn a_key_the_party_did_not_declare_binds_nothing() {
        let mut world = World::new(true, Sm2KeyForm::EcPublicKey);
        world.party = TestParty::new("cert-holder", t(0));
        let store = world.store(&[world.crl(&[], t(9))]);
        let verdict = world.verdict(&world.policy(), &store, t(10));
        assert!(
            matches!(
                certificate_problem(&verdict),
                Some(CertificateProblem::KeyNotDeclared(_))
            ),
            "{verdict}"
        );
    }

    #[test]
    fn a_bad_possession_proof_is_refused_on_issue_and_decode() {
        let world = World::new(true, Sm2KeyForm::EcPublicKey);
        let wrong = Holder::Sm2(Sm2SecretKey::from_bytes(&[99; 32]).unwrap());
        let refused = world
            .attestation(&wrong)
            .issue(&world.party.attest, &world.party.log);
        assert!(refused.is_err());
        // Every field the proof covers: an attestation re-signed with another validity is
        // refused on decode.
        let mut a = world.attestation(&world.holder);
        a.valid_until = t(401);
        assert_eq!(
            a.check_content(),
            Err(crate::attestation::ContentError::CaIdentity(
                "the possession proof does not verify under the certificate's key"
            ))
        );
    }

    #[test]
    fn a_certificate_with_a_wrong_check_character_is_refused() {
        let mut world = World::new(false, Sm2KeyForm::EcPublicKey);
        world.chain = vec![world.leaf(&cfca("91350100M000100Y44"), 79, Sm2KeyForm::EcPublicKey)];
        let a = world.attestation(&world.holder);
        assert!(matches!(
            a.check_content(),
            Err(crate::attestation::ContentError::CaIdentity(_))
        ));
    }

    #[test]
    fn a_party_presenting_another_partys_chain_is_not_trusted() {
        let world = World::new(true, Sm2KeyForm::EcPublicKey);
        let mut squatter = TestParty::new("squatter", t(0));
        // The squatter declares the victim's public key and copies the victim's chain and
        // possession proof into its own attestation.
        squatter
            .log
            .add_key(&squatter.root, world.holder.decl(), t(1))
            .unwrap();
        let copied = world.attestation(&world.holder);
        let Claims::CaIdentity(claims) = copied.claims.clone() else {
            unreachable!()
        };
        let stolen = Attestation {
            issuer: squatter.id(),
            subject: squatter.id(),
            ..copied
        };
        assert!(
            stolen.check_content().is_err(),
            "the proof names the victim"
        );
        // Nor can it make a proof of its own for the victim's key: it lacks the secret.
        let own = CertificateIdentity::attestation(
            AttestationId::from_bytes([6; 16]),
            squatter.id(),
            t(2),
            t(300),
            claims.chain,
            |m| Holder::Sm2(Sm2SecretKey::from_bytes(&[42; 32]).unwrap()).sign(m),
        );
        assert!(own.issue(&squatter.attest, &squatter.log).is_err());
        // And the victim's own attestation is about the victim only.
        let mut store = world.store(&[world.crl(&[], t(9))]);
        store.add_key_log(squatter.log.clone());
        let verdict = evaluate_at(&world.policy(), &store, &squatter.id(), Moment::live(t(10)));
        assert!(!verdict.is_trusted(), "{verdict}");
        assert!(world.verdict(&world.policy(), &store, t(10)).is_trusted());
    }

    #[test]
    fn an_intermediate_must_be_a_ca_and_chain_by_name() {
        let world = World::new(false, Sm2KeyForm::EcPublicKey);
        // An end-entity certificate used as an issuer.
        let ee_key = p256::ecdsa::SigningKey::from_slice(&[21; 32]).unwrap();
        let ee_name = name("CN=Not a CA,C=CN");
        let ee = issue(
            world.ca(),
            world.ca_name.clone(),
            ee_name.clone(),
            p256_spki(ee_key.verifying_key()).unwrap(),
            &issuance(90),
            None,
        )
        .unwrap();
        let Holder::P256(holder) = &world.holder else {
            unreachable!()
        };
        let leaf = issue(
            CaKey::P256(&ee_key),
            ee_name,
            cfca(USCC),
            p256_spki(holder.verifying_key()).unwrap(),
            &issuance(91),
            None,
        )
        .unwrap();
        let roots = [world.root.clone()];
        assert_eq!(
            chain::validate(&[leaf.clone(), ee.clone()], &roots, t(10)).unwrap_err(),
            ChainError::NotACa { depth: 1 }
        );
        // The leaf alone: its issuer is not a root.
        assert_eq!(
            chain::validate(&[leaf], &roots, t(10)).unwrap_err(),
            ChainError::NoTrustedRoot { depth: 0 }
        );
        // A valid path may repeat its root.
        let path = [world.chain[0].clone(), world.root.clone()];
        assert_eq!(
            chain::validate(&path, &roots, t(10))
                .unwrap()
                .certificates
                .len(),
            2
        );
        // A tampered certificate does not verify.
        let mut tampered = world.chain[0].clone();
        let at = tampered.len() / 2;
        tampered[at] ^= 1;
        assert!(chain::validate(&[tampered], &roots, t(10)).is_err());
    }
}
