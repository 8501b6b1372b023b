use super::*;
use crate::seal::SealKind;

fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

const T0: Timestamp = Timestamp::from_unix(1_700_000_000);

fn contract_seal(k: &SecretKey) -> KeyDecl {
    KeyDecl::seal(
        k.public_key(),
        SealInfo {
            kind: SealKind::Contract,
            name: "合同专用章".into(),
            image: None,
        },
    )
}

/// A log of four events: inception, add seal, rotation, retire node.
fn sample() -> KeyLog {
    let mut log = KeyLog::incept(
        &key(1),
        &key(2).public_key(),
        vec![KeyDecl::node(&key(10), &key(1).public_key())],
        T0,
    )
    .unwrap();
    log.add_key(&key(1), contract_seal(&key(11)), T0.plus(10))
        .unwrap();
    log.rotate(&key(2), &key(3).public_key(), T0.plus(20))
        .unwrap();
    log.retire_key(&key(2), key(10).public_key(), T0.plus(30))
        .unwrap();
    log
}

fn bytes_of(log: &KeyLog) -> Vec<Vec<u8>> {
    log.event_bytes().map(<[u8]>::to_vec).collect()
}

/// Signs an arbitrary event (to forge invalid logs the builder would refuse).
fn signed(event: KeyEvent, signer: &SecretKey) -> Vec<u8> {
    Signed::sign(event, KEY_EVENT_CONTENT_TYPE, signer)
        .unwrap()
        .bytes()
        .to_vec()
}

#[test]
fn replay_reproduces_the_log() {
    let log = sample();
    let replayed = KeyLog::replay(bytes_of(&log)).unwrap();
    assert_eq!(replayed, log);
    assert_eq!(replayed.current_root(), key(2).public_key());
    assert_eq!(replayed.seals_at(T0.plus(15)).len(), 1);
    assert_eq!(replayed.keys_at(KeyPurpose::Node, T0.plus(29)).count(), 1);
    assert_eq!(replayed.keys_at(KeyPurpose::Node, T0.plus(30)).count(), 0);
}

#[test]
fn party_id_is_stable_across_rotation() {
    let log = sample();
    assert_eq!(log.party(), PartyId::from_digest(log.events()[0].digest()));
}

#[test]
fn gap_is_refused() {
    let mut events = bytes_of(&sample());
    events.remove(1);
    assert_eq!(
        KeyLog::replay(&events),
        Err(KeyLogError::Gap {
            expected: 1,
            found: 2
        })
    );
    events.truncate(1);
    let mut third = bytes_of(&sample());
    events.push(third.remove(3));
    assert_eq!(
        KeyLog::replay(&events),
        Err(KeyLogError::Gap {
            expected: 1,
            found: 3
        })
    );
}

#[test]
fn reordering_is_refused() {
    let mut events = bytes_of(&sample());
    events.swap(1, 2);
    assert_eq!(
        KeyLog::replay(&events),
        Err(KeyLogError::Reordered {
            expected: 1,
            found: 2
        })
    );
}

#[test]
fn fork_is_refused_and_duplicates_are_harmless() {
    let log = sample();
    let mut events = bytes_of(&log);
    // A second, different event 1 signed by the same root key.
    let other = signed(
        KeyEvent {
            party: Some(log.party()),
            seq: 1,
            prev: Some(log.events()[0].digest()),
            time: T0.plus(11),
            change: KeyChange::AddKey(KeyDecl::attest(key(12).public_key())),
        },
        &key(1),
    );
    let mut forked = log.clone();
    let other =
        Signed::<KeyEvent>::decode(&other, KEY_EVENT_CONTENT_TYPE, &Limits::DEFAULT).unwrap();
    assert!(matches!(
        forked.append(other.clone()),
        Err(KeyLogError::Fork { seq: 1, .. })
    ));
    assert_eq!(
        forked.append(log.events()[1].clone()),
        Ok(Appended::Duplicate)
    );
    events.insert(2, other.bytes().to_vec());
    assert!(matches!(
        KeyLog::replay(&events),
        Err(KeyLogError::Fork { seq: 1, .. })
    ));
}

#[test]
fn wrong_signer_is_refused() {
    let log = KeyLog::incept(&key(1), &key(2).public_key(), vec![], T0).unwrap();
    let event = KeyEvent {
        party: Some(log.party()),
        seq: 1,
        prev: Some(log.head()),
        time: T0.plus(1),
        change: KeyChange::AddKey(KeyDecl::node(&key(9), &key(7).public_key())),
    };
    let forged = signed(event, &key(7));
    let mut events = bytes_of(&log);
    events.push(forged);
    assert!(matches!(
        KeyLog::replay(&events),
        Err(KeyLogError::WrongSigner { seq: 1, found }) if found == key(7).public_key()
    ));
}

#[test]
fn stolen_root_key_cannot_rotate() {
    // The thief holds key 1 (current root) but not key 2 (committed next root).
    let log = KeyLog::incept(&key(1), &key(2).public_key(), vec![], T0).unwrap();
    let mut stolen = log.clone();
    assert!(matches!(
        stolen.rotate(&key(1), &key(8).public_key(), T0.plus(5)),
        Err(UsageError::KeyLog(KeyLogError::PreRotationMismatch {
            seq: 1
        }))
    ));
    assert!(matches!(
        stolen.rotate(&key(8), &key(8).public_key(), T0.plus(5)),
        Err(UsageError::KeyLog(KeyLogError::PreRotationMismatch {
            seq: 1
        }))
    ));
    // Revealing the right key but signing with the old root is refused too.
    let event = KeyEvent {
        party: Some(log.party()),
        seq: 1,
        prev: Some(log.head()),
        time: T0.plus(5),
        change: KeyChange::Rotation {
            root: key(2).public_key(),
            next_root: key(8).public_key().commitment(),
        },
    };
    let mut events = bytes_of(&log);
    events.push(signed(event, &key(1)));
    assert!(matches!(
        KeyLog::replay(&events),
        Err(KeyLogError::WrongSigner { seq: 1, .. })
    ));
}

#[test]
fn old_signatures_stay_valid_for_their_time() {
    let log = sample();
    let old_root = key(1).public_key();
    let rotation = T0.plus(20);
    assert!(
        log.check_key(&old_root, KeyPurpose::Root, rotation.plus(0).plus(0))
            .is_err()
    );
    assert!(
        log.check_key(
            &old_root,
            KeyPurpose::Root,
            Timestamp::from_unix(rotation.unix() - 1)
        )
        .is_ok()
    );
    assert_eq!(
        log.check_key(&old_root, KeyPurpose::Root, rotation),
        Err(KeyUseError::Retired {
            key: old_root.into(),
            at: rotation
        })
    );
    let new_root = key(2).public_key();
    assert!(log.check_key(&new_root, KeyPurpose::Root, rotation).is_ok());
    assert!(matches!(
        log.check_key(&new_root, KeyPurpose::Root, T0),
        Err(KeyUseError::NotYetValid { .. })
    ));
    let seal = key(11).public_key();
    assert!(matches!(
        log.check_key(&seal, KeyPurpose::Node, T0.plus(15)),
        Err(KeyUseError::WrongPurpose {
            declared: KeyPurpose::Seal,
            ..
        })
    ));
    assert!(matches!(
        log.check_key(&key(99).public_key(), KeyPurpose::Seal, T0.plus(15)),
        Err(KeyUseError::UnknownKey { .. })
    ));
}

#[test]
fn nothing_follows_retirement() {
    let mut log = sample();
    log.retire_party(&key(2), T0.plus(40)).unwrap();
    assert!(matches!(
        log.check_key(&key(11).public_key(), KeyPurpose::Seal, T0.plus(40)),
        Err(KeyUseError::PartyRetired { .. })
    ));
    assert!(
        log.check_key(&key(11).public_key(), KeyPurpose::Seal, T0.plus(39))
            .is_ok()
    );
    assert!(matches!(
        log.add_key(
            &key(2),
            KeyDecl::node(&key(20), &key(2).public_key()),
            T0.plus(41)
        ),
        Err(UsageError::KeyLog(KeyLogError::AfterRetirement { .. }))
    ));
}

#[test]
fn malformed_declarations_and_times_are_refused() {
    let mut log = KeyLog::incept(&key(1), &key(2).public_key(), vec![], T0).unwrap();
    let bad_seal = KeyDecl {
        purpose: KeyPurpose::Seal,
        key: key(5).public_key().into(),
        seal: None,
        proof: None,
    };
    assert!(matches!(
        log.add_key(&key(1), bad_seal, T0),
        Err(UsageError::KeyLog(KeyLogError::InvalidDecl { .. }))
    ));
    let root_decl = KeyDecl {
        purpose: KeyPurpose::Root,
        key: key(5).public_key().into(),
        seal: None,
        proof: None,
    };
    assert!(matches!(
        log.add_key(&key(1), root_decl, T0),
        Err(UsageError::KeyLog(KeyLogError::InvalidDecl { .. }))
    ));
    assert!(matches!(
        log.add_key(&key(1), KeyDecl::node(&key(1), &key(1).public_key()), T0),
        Err(UsageError::KeyLog(KeyLogError::DuplicateKey { .. }))
    ));
    log.add_key(
        &key(1),
        KeyDecl::node(&key(5), &key(1).public_key()),
        T0.plus(10),
    )
    .unwrap();
    assert!(matches!(
        log.add_key(
            &key(1),
            KeyDecl::node(&key(6), &key(1).public_key()),
            T0.plus(9)
        ),
        Err(UsageError::KeyLog(KeyLogError::TimeRegression { seq: 2 }))
    ));
    assert!(matches!(
        log.retire_key(&key(1), key(6).public_key(), T0.plus(10)),
        Err(UsageError::KeyLog(KeyLogError::UnknownKey { .. }))
    ));
}

#[test]
fn events_from_another_party_are_refused() {
    let a = sample();
    let b = KeyLog::incept(&key(30), &key(31).public_key(), vec![], T0).unwrap();
    let mut mixed = bytes_of(&b);
    mixed.push(bytes_of(&a)[1].clone());
    assert!(matches!(
        KeyLog::replay(&mixed),
        Err(KeyLogError::WrongParty { seq: 1, .. })
    ));
}

#[test]
fn every_byte_change_in_any_event_fails_replay() {
    let events = bytes_of(&sample());
    for (e, bytes) in events.iter().enumerate() {
        for i in 0..bytes.len() {
            let mut tampered = events.clone();
            tampered[e][i] ^= 0x01;
            assert!(KeyLog::replay(&tampered).is_err(), "event {e} byte {i}");
        }
    }
}

#[test]
fn a_conflicting_event_by_the_wrong_key_is_not_a_fork() {
    let log = sample();
    let forged = signed(
        KeyEvent {
            party: Some(log.party()),
            seq: 1,
            prev: Some(log.events()[0].digest()),
            time: T0.plus(11),
            change: KeyChange::AddKey(KeyDecl::attest(key(12).public_key())),
        },
        &key(66),
    );
    let forged =
        Signed::<KeyEvent>::decode(&forged, KEY_EVENT_CONTENT_TYPE, &Limits::DEFAULT).unwrap();
    let mut held = log.clone();
    assert!(matches!(
        held.append(forged),
        Err(KeyLogError::WrongSigner { seq: 1, .. })
    ));
    // Nor one that does not chain to the event before.
    let unchained = signed(
        KeyEvent {
            party: Some(log.party()),
            seq: 2,
            prev: Some(log.events()[0].digest()),
            time: T0.plus(11),
            change: KeyChange::AddKey(KeyDecl::attest(key(12).public_key())),
        },
        &key(1),
    );
    let unchained =
        Signed::<KeyEvent>::decode(&unchained, KEY_EVENT_CONTENT_TYPE, &Limits::DEFAULT).unwrap();
    assert!(matches!(
        held.append(unchained),
        Err(KeyLogError::PrevMismatch { seq: 2 })
    ));
}

#[test]
fn seal_names_are_bounded() {
    let mut log = KeyLog::incept(&key(1), &key(2).public_key(), vec![], T0).unwrap();
    let unnamed = KeyDecl::seal(
        key(5).public_key(),
        SealInfo {
            kind: SealKind::Company,
            name: String::new(),
            image: None,
        },
    );
    assert!(matches!(
        log.add_key(&key(1), unnamed, T0),
        Err(UsageError::KeyLog(KeyLogError::InvalidDecl { .. }))
    ));
}

#[test]
fn a_node_key_is_declared_only_with_proof_of_possession_bound_to_the_root() {
    // The victim's node key, with the proof the victim made for its own log.
    let victim_root = key(30);
    let victim_node = key(31);
    let victims_decl = KeyDecl::node(&victim_node, &victim_root.public_key());
    KeyLog::incept(
        &victim_root,
        &key(32).public_key(),
        vec![victims_decl.clone()],
        T0,
    )
    .unwrap();
    // Copied into an attacker's log, the proof does not bind to the attacker's root key.
    let mut attacker = KeyLog::incept(&key(1), &key(2).public_key(), vec![], T0).unwrap();
    assert!(matches!(
        attacker.add_key(&key(1), victims_decl.clone(), T0.plus(1)),
        Err(UsageError::KeyLog(KeyLogError::NodeKeyProof { seq: 1, .. }))
    ));
    assert!(matches!(
        KeyLog::incept(
            &key(1),
            &key(2).public_key(),
            vec![victims_decl.clone()],
            T0
        ),
        Err(UsageError::KeyLog(KeyLogError::NodeKeyProof { seq: 0, .. }))
    ));
    // Without a proof, or with a proof on another purpose, the declaration is malformed.
    let bare = KeyDecl {
        proof: None,
        ..victims_decl.clone()
    };
    assert!(matches!(
        attacker.add_key(&key(1), bare, T0.plus(1)),
        Err(UsageError::KeyLog(KeyLogError::InvalidDecl { .. }))
    ));
    let attest_with_proof = KeyDecl {
        proof: victims_decl.proof,
        ..KeyDecl::attest(key(33).public_key())
    };
    assert!(matches!(
        attacker.add_key(&key(1), attest_with_proof, T0.plus(1)),
        Err(UsageError::KeyLog(KeyLogError::InvalidDecl { .. }))
    ));
    // After a rotation, a node key's proof binds to the new root key.
    attacker
        .rotate(&key(2), &key(3).public_key(), T0.plus(2))
        .unwrap();
    assert!(matches!(
        attacker.add_key(
            &key(2),
            KeyDecl::node(&key(34), &key(1).public_key()),
            T0.plus(3)
        ),
        Err(UsageError::KeyLog(KeyLogError::NodeKeyProof { .. }))
    ));
    attacker
        .add_key(
            &key(2),
            KeyDecl::node(&key(34), &key(2).public_key()),
            T0.plus(3),
        )
        .unwrap();
}

fn pdf_key(n: u8) -> EcdsaP256Key {
    let secret = p256::ecdsa::SigningKey::from_slice(&[n; 32]).unwrap();
    EcdsaP256Key::from_verifying_key(secret.verifying_key())
}

#[test]
fn a_pdf_key_is_declared_checked_and_retired_like_any_other() {
    let mut log = KeyLog::incept(
        &key(1),
        &key(2).public_key(),
        vec![KeyDecl::pdf(pdf_key(7))],
        T0,
    )
    .unwrap();
    let replayed = KeyLog::replay(bytes_of(&log)).unwrap();
    assert_eq!(replayed, log);
    assert!(replayed.check_pdf_key(&pdf_key(7), T0.plus(1)).is_ok());
    assert!(matches!(
        replayed.check_pdf_key(&pdf_key(8), T0.plus(1)),
        Err(KeyUseError::UnknownKey { .. })
    ));
    log.retire_key(&key(1), pdf_key(7), T0.plus(50)).unwrap();
    let replayed = KeyLog::replay(bytes_of(&log)).unwrap();
    assert!(matches!(
        replayed.check_pdf_key(&pdf_key(7), T0.plus(50)),
        Err(KeyUseError::Retired { .. })
    ));
    // The declaration names its algorithm on the wire; an Ed25519 one does not.
    let event = log.events()[0].payload().clone();
    let KeyChange::Inception { keys, .. } = event.change else {
        panic!("an inception")
    };
    let wire = crate::codec::to_value(&keys[0]).unwrap();
    let map = wire.as_map().unwrap();
    assert!(
        map.iter()
            .any(|(k, v)| k.as_text() == Some("alg") && v.as_integer() == Some(ALG_ESP256.into()))
    );
}

#[test]
fn each_algorithm_serves_only_its_purposes() {
    let mut log = KeyLog::incept(&key(1), &key(2).public_key(), vec![], T0).unwrap();
    let ed25519_pdf = KeyDecl {
        purpose: KeyPurpose::Pdf,
        key: key(5).public_key().into(),
        seal: None,
        proof: None,
    };
    let p256_log = KeyDecl {
        purpose: KeyPurpose::Log,
        key: pdf_key(5).into(),
        seal: None,
        proof: None,
    };
    for decl in [ed25519_pdf, p256_log] {
        assert!(matches!(
            log.add_key(&key(1), decl, T0),
            Err(UsageError::KeyLog(KeyLogError::InvalidDecl { .. }))
        ));
    }
}

#[test]
fn a_tsa_key_is_esp256_and_serves_only_time_stamping() {
    let log = KeyLog::incept(
        &key(1),
        &key(2).public_key(),
        vec![KeyDecl::pdf(pdf_key(7)), KeyDecl::tsa(pdf_key(9))],
        T0,
    )
    .unwrap();
    let replayed = KeyLog::replay(bytes_of(&log)).unwrap();
    assert_eq!(replayed, log);
    let tsa = LogKey::EcdsaP256(pdf_key(9));
    assert!(
        replayed
            .check_log_key(&tsa, KeyPurpose::Tsa, T0.plus(1))
            .is_ok()
    );
    // Not a pdf key, and the pdf key is not a tsa key.
    assert!(matches!(
        replayed.check_pdf_key(&pdf_key(9), T0.plus(1)),
        Err(KeyUseError::WrongPurpose {
            declared: KeyPurpose::Tsa,
            ..
        })
    ));
    assert!(matches!(
        replayed.check_log_key(&LogKey::EcdsaP256(pdf_key(7)), KeyPurpose::Tsa, T0.plus(1)),
        Err(KeyUseError::WrongPurpose {
            declared: KeyPurpose::Pdf,
            ..
        })
    ));
    let mut log = log;
    let ed25519_tsa = KeyDecl {
        purpose: KeyPurpose::Tsa,
        key: key(5).public_key().into(),
        seal: None,
        proof: None,
    };
    assert!(matches!(
        log.add_key(&key(1), ed25519_tsa, T0),
        Err(UsageError::KeyLog(KeyLogError::InvalidDecl { .. }))
    ));
}

#[test]
fn a_key_of_an_unknown_algorithm_is_kept_and_never_valid() {
    let future = LogKey::Unsupported {
        alg: -50,
        key: vec![9; 48],
    };
    let decl = KeyDecl {
        purpose: KeyPurpose::Pdf,
        key: future.clone(),
        seal: None,
        proof: None,
    };
    let log = KeyLog::incept(&key(1), &key(2).public_key(), vec![decl], T0).unwrap();
    let replayed = KeyLog::replay(bytes_of(&log)).unwrap();
    assert_eq!(replayed.records()[1].key, future);
    assert!(matches!(
        replayed.check_log_key(&future, KeyPurpose::Pdf, T0.plus(1)),
        Err(KeyUseError::UnknownKey { .. })
    ));
}

fn sm2_key(n: u8) -> crate::sm2::Sm2PublicKey {
    crate::sm2::Sm2SecretKey::from_bytes(&[n; 32])
        .unwrap()
        .public_key()
}

#[test]
fn an_sm2_pdf_key_is_declared_checked_and_retired() {
    let mut log = KeyLog::incept(
        &key(1),
        &key(2).public_key(),
        vec![KeyDecl::sm2_pdf(sm2_key(3))],
        T0,
    )
    .unwrap();
    log.retire_key(&key(1), sm2_key(3), T0.plus(100)).unwrap();
    let replayed = KeyLog::replay(bytes_of(&log)).unwrap();
    assert_eq!(replayed, log);
    let sm2 = LogKey::Sm2(sm2_key(3));
    assert_eq!(sm2.alg(), ALG_SM2_SM3);
    assert!(
        replayed
            .check_log_key(&sm2, KeyPurpose::Pdf, T0.plus(1))
            .is_ok()
    );
    assert!(matches!(
        replayed.check_log_key(&sm2, KeyPurpose::Pdf, T0.plus(100)),
        Err(KeyUseError::Retired { .. })
    ));
    assert!(matches!(
        replayed.check_log_key(&sm2, KeyPurpose::Tsa, T0.plus(1)),
        Err(KeyUseError::WrongPurpose { .. })
    ));
}

#[test]
fn an_sm2_key_serves_only_seals_attestations_and_pdf() {
    // Checkpoints and cosignatures are Ed25519 objects and time-stamp tokens ESP256: an SM2
    // key for them would be declared and never usable, so it is refused.
    let mut log = KeyLog::incept(&key(1), &key(2).public_key(), vec![], T0).unwrap();
    let refused = [KeyPurpose::Log, KeyPurpose::Tsa]
        .into_iter()
        .map(|purpose| KeyDecl {
            purpose,
            key: sm2_key(6).into(),
            seal: None,
            proof: None,
        });
    for decl in refused {
        let purpose = decl.purpose;
        assert!(
            matches!(
                log.add_key(&key(1), decl, T0),
                Err(UsageError::KeyLog(KeyLogError::InvalidDecl {
                    reason: "an SM2 key is declared only for the seal, attest and pdf purposes",
                    ..
                }))
            ),
            "{purpose}"
        );
    }
    // A node key is a libp2p identity, which has no SM2 form: refused with or without a
    // proof of possession.
    for proof in [None, Some(crate::Signature::from_bytes([7; 64]))] {
        let decl = KeyDecl {
            purpose: KeyPurpose::Node,
            key: sm2_key(6).into(),
            seal: None,
            proof,
        };
        assert!(matches!(
            log.add_key(&key(1), decl, T0),
            Err(UsageError::KeyLog(KeyLogError::InvalidDecl { .. }))
        ));
    }
    assert_eq!(log.len(), 1);
    let mut seal = contract_seal(&key(4));
    seal.key = sm2_key(5).into();
    log.add_key(&key(1), seal, T0.plus(1)).unwrap();
    let replayed = KeyLog::replay(bytes_of(&log)).unwrap();
    let sm2 = LogKey::Sm2(sm2_key(5));
    assert!(
        replayed
            .check_log_key(&sm2, KeyPurpose::Seal, T0.plus(2))
            .is_ok()
    );
    assert_eq!(replayed.seals_at(T0.plus(2))[0].key, sm2);
}

#[test]
fn an_sm2_attest_key_is_declared_and_checked_as_sm2_only() {
    let mut log = KeyLog::incept(&key(1), &key(2).public_key(), vec![], T0).unwrap();
    log.add_key(&key(1), KeyDecl::attest(sm2_key(8)), T0.plus(1))
        .unwrap();
    let replayed = KeyLog::replay(bytes_of(&log)).unwrap();
    let sm2 = LogKey::Sm2(sm2_key(8));
    assert!(
        replayed
            .check_log_key(&sm2, KeyPurpose::Attest, T0.plus(2))
            .is_ok()
    );
    assert!(matches!(
        replayed.check_log_key(&sm2, KeyPurpose::Seal, T0.plus(2)),
        Err(KeyUseError::WrongPurpose { .. })
    ));
    // The same 33 bytes as another algorithm's key are another key.
    let as_esp256 = LogKey::Unsupported {
        alg: -9,
        key: sm2.wire_bytes().to_vec(),
    };
    assert!(matches!(
        replayed.check_log_key(&as_esp256, KeyPurpose::Attest, T0.plus(2)),
        Err(KeyUseError::UnknownKey { .. })
    ));
}
