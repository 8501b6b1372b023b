//! Structured mutations of genuine bundles through the offline verifier.
//!
//! Once per process, a `TestNetwork` (a CA, Brand, Tier-1, Tier-2, a witness) completes two
//! sessions, as `bundle/tests.rs` does: A, three signers in three routing groups, and B, an
//! approver then a signer; every party shares its evidence, and Brand assembles both bundles.
//! It also issues extra attestations: a newer empty CA revocation list and a CA revocation
//! effective in the future (neither changes anything), and four that must break the bundles:
//! a CA revocation of Tier-1's identity attestation effective before the signing (breaks A;
//! in B Tier-1 only approves, and approvals carry no identity check), a CA revocation of the
//! witness's identity attestation effective before the signing, Tier-2's revocation of its
//! contract seal key effective before the signing (breaks A; B does not hold Tier-2's key log,
//! so there it is Indeterminate unless that log is added too), and a newer Brand revocation
//! list that lists its seal mandate. Setup asserts that both genuine bundles are VALID under
//! both policies used, and that each extra has the effect stated on each bundle.
//!
//! Per input: pick a bundle, a policy (the network's, or one requiring revocation lists at
//! most 30 days old), whether the document is given; then apply up to 16 mutations to the
//! decoded bundle: swap, duplicate, drop or insert (from either bundle or the extras) key
//! logs, key-log events, attestations, party evidence and evidence entries; move the proposal
//! or completion of the other bundle in; flip, truncate or extend the bytes of one object
//! (proposal, completion, key event, attestation, checkpoint note, entry, proof, evidence
//! party); drop, repeat or swap lines of a checkpoint note; change the version. Re-encode and
//! verify.
//!
//! Asserted: a bundle that encodes to a genuine bundle's bytes is VALID; a VALID report has no
//! failed check; and a mutated bundle is never VALID unless it is *equivalent* to a genuine one
//! G: same version, proposal and completion as G; its key logs include all of G's and only
//! genuine ones (order and repeats free; within a log, an event may repeat an earlier one);
//! its attestations include all of G's that are not revocations or revocation lists, and
//! otherwise only genuine ones or extras that do not always break G (a presenter may leave
//! revocation information out, which a policy that needs it makes Indeterminate); its
//! evidence holds, for exactly G's parties, one entry each with G's checkpoint (its signature
//! lines in any order: they are not signed) and a subset of G's proven entries (in any order,
//! repeated or not). Everything outside that must make the report INVALID or INDETERMINATE.
#![no_main]

use std::collections::BTreeSet;
use std::sync::LazyLock;

use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use signet_protocol::attestation::{Attestation, AttestationKind, RevocationReason, RevokedEntry};
use signet_protocol::bundle::{Bundle, Outcome, assemble, verify_bundle};
use signet_protocol::party::PartyId;
use signet_protocol::session::{Role, SessionId};
use signet_protocol::testkit::{DAY, TestNetwork};
use signet_protocol::trust::TrustPolicy;
use signet_protocol::{Digest, Timestamp};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);
const MAX_MUTATIONS: usize = 16;

struct Genuine {
    bundle: Bundle,
    bytes: Vec<u8>,
    document: Vec<u8>,
    /// Attestations that are neither revocations nor revocation lists.
    required: BTreeSet<Vec<u8>>,
}

/// What adding an extra attestation does to a bundle.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Effect {
    /// Nothing: the bundle stays VALID.
    None,
    /// The bundle is no longer VALID.
    Breaks,
    /// It depends on what else the bundle holds (its issuer's key log, say).
    Depends,
}

struct Extra {
    bytes: Vec<u8>,
    /// What adding it does to bundle A, bundle B.
    effect: [Effect; 2],
}

struct World {
    genuine: [Genuine; 2],
    extras: Vec<Extra>,
    policies: [TrustPolicy; 2],
    now: Timestamp,
    /// Every key log of either bundle.
    logs: BTreeSet<Vec<Vec<u8>>>,
    /// Every attestation of either bundle.
    attestations: BTreeSet<Vec<u8>>,
    /// Every party and witness id.
    parties: Vec<PartyId>,
}

fn sign_in_turn(net: &mut TestNetwork, sid: SessionId, order: &[(PartyId, bool)]) {
    net.deliver_all();
    for (party, signs) in order {
        net.now = net.now.plus(60);
        if *signs {
            net.sign(party, sid).expect("signs");
        } else {
            net.act(party, sid, |s, ctx, _, _| s.approve(ctx))
                .expect("approves");
        }
        net.deliver_all();
    }
    net.now = net.now.plus(60);
    for (party, _) in order {
        net.share_evidence(party, sid).expect("shares evidence");
    }
    net.deliver_all();
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let mut net = TestNetwork::new(&["Brand", "Tier-1", "Tier-2"], &["procurement"], T0);
    let ids: Vec<PartyId> = net.nodes.iter().map(|n| n.party.id()).collect();
    let (brand, tier1, tier2) = (ids[1], ids[2], ids[3]);

    let p = net.proposal(
        &brand,
        &[
            (tier1, Role::Signer, 0),
            (tier2, Role::Signer, 1),
            (brand, Role::Signer, 2),
        ],
        "procurement",
        1,
    );
    let sid_a = net.propose(p).expect("propose A");
    sign_in_turn(
        &mut net,
        sid_a,
        &[(tier1, true), (tier2, true), (brand, true)],
    );
    let p = net.proposal(
        &brand,
        &[(tier1, Role::Approver, 0), (brand, Role::Signer, 1)],
        "procurement",
        2,
    );
    let sid_b = net.propose(p).expect("propose B");
    sign_in_turn(&mut net, sid_b, &[(tier1, false), (brand, true)]);

    let node = net.node(&brand);
    let policy = node.policy.clone();
    let bundles: Vec<Bundle> = [sid_a, sid_b]
        .iter()
        .map(|sid| assemble(&node.sessions[sid], &node.store, &node.policy).expect("assembles"))
        .collect();
    let strict = TrustPolicy {
        revocation_freshness: Some(30 * DAY),
        ..policy.clone()
    };
    let now = net.now.plus(DAY);

    // Extras.
    let identity_of = |net: &TestNetwork, party: &PartyId| {
        net.nodes[0]
            .store
            .about(party, AttestationKind::Identity)
            .next()
            .expect("an identity attestation")
            .payload()
            .id
    };
    let tier1_identity = identity_of(&net, &tier1);
    let witness = net.witness.id();
    let witness_identity = identity_of(&net, &witness);
    let mandate = net.nodes[1]
        .mandate
        .as_ref()
        .expect("Brand's mandate")
        .payload()
        .id;
    let at = net.now;
    let ca = &mut net.nodes[0].party;
    let mut extras = vec![
        Extra {
            bytes: ca.revocation_list(vec![], at).bytes().to_vec(),
            effect: [Effect::None, Effect::None],
        },
        Extra {
            bytes: ca
                .revoke(tier1_identity, at.plus(1000 * DAY), at)
                .bytes()
                .to_vec(),
            effect: [Effect::None, Effect::None],
        },
        Extra {
            bytes: ca.revoke(tier1_identity, T0, at).bytes().to_vec(),
            // In B, Tier-1 only approves, and an approval carries no identity check.
            effect: [Effect::Breaks, Effect::None],
        },
        Extra {
            bytes: ca.revoke(witness_identity, T0, at).bytes().to_vec(),
            effect: [Effect::Breaks, Effect::Breaks],
        },
    ];
    let t2 = &mut net.nodes[3].party;
    let seal = t2.contract_seal.public_key();
    extras.push(Extra {
        bytes: t2.revoke_key(seal, T0, at).bytes().to_vec(),
        // B does not hold Tier-2's key log: the revocation is Indeterminate there, unless
        // Tier-2's key log is added too, and then it changes nothing.
        effect: [Effect::Breaks, Effect::Depends],
    });
    let b = &mut net.nodes[1].party;
    extras.push(Extra {
        bytes: b
            .revocation_list(
                vec![RevokedEntry {
                    id: mandate,
                    effective: T0,
                    reason: RevocationReason::PrivilegeWithdrawn,
                }],
                at,
            )
            .bytes()
            .to_vec(),
        effect: [Effect::Breaks, Effect::Breaks],
    });

    let genuine: Vec<Genuine> = bundles
        .into_iter()
        .zip([1u8, 2])
        .map(|(bundle, tag)| {
            let required = bundle
                .attestations
                .iter()
                .filter(|b| {
                    let kind = Attestation::decode(b)
                        .expect("genuine")
                        .payload()
                        .claims
                        .kind();
                    !matches!(
                        kind,
                        AttestationKind::Revocation | AttestationKind::RevocationList
                    )
                })
                .cloned()
                .collect();
            Genuine {
                bytes: bundle.encode().expect("encodes"),
                bundle,
                document: vec![tag; 1234],
                required,
            }
        })
        .collect();
    let [a, b]: [Genuine; 2] = genuine.try_into().map_err(|_| ()).expect("two bundles");
    let policies = [policy, strict];
    for (i, g) in [&a, &b].into_iter().enumerate() {
        for p in &policies {
            let report = verify_bundle(&g.bytes, &[&g.document], p, now);
            assert!(
                report.is_valid(),
                "genuine bundle {i} is not VALID: {:#?}",
                report.failures().collect::<Vec<_>>()
            );
            for (k, extra) in extras.iter().enumerate() {
                let mut m = g.bundle.clone();
                m.attestations.push(extra.bytes.clone());
                let report = verify_bundle(&m.encode().expect("encodes"), &[&g.document], p, now);
                if extra.effect[i] != Effect::Depends {
                    assert_eq!(
                        report.is_valid(),
                        extra.effect[i] == Effect::None,
                        "extra {k} on bundle {i}: {:#?}",
                        report.failures().collect::<Vec<_>>()
                    );
                }
            }
        }
    }
    let mut logs = BTreeSet::new();
    let mut attestations = BTreeSet::new();
    for g in [&a, &b] {
        logs.extend(g.bundle.key_logs.iter().map(|l| l.events.clone()));
        attestations.extend(g.bundle.attestations.iter().cloned());
    }
    let mut parties = ids;
    parties.push(witness);
    World {
        genuine: [a, b],
        extras,
        policies,
        now,
        logs,
        attestations,
        parties,
    }
});

/// Whether `m` is equivalent to genuine bundle `which` (see the module documentation).
fn equivalent(world: &World, m: &Bundle, which: usize) -> bool {
    let g = &world.genuine[which].bundle;
    if m.version != g.version || m.proposal != g.proposal || m.completion != g.completion {
        return false;
    }
    // A repeat of an event already replayed is harmless (`KeyLog::append`): each log is
    // compared with its repeats left out.
    let logs: BTreeSet<Vec<Vec<u8>>> = m
        .key_logs
        .iter()
        .map(|l| {
            let mut events: Vec<Vec<u8>> = Vec::new();
            for e in &l.events {
                if !events.contains(e) {
                    events.push(e.clone());
                }
            }
            events
        })
        .collect();
    if !g.key_logs.iter().all(|l| logs.contains(&l.events))
        || !logs.iter().all(|l| world.logs.contains(l))
    {
        return false;
    }
    let held: BTreeSet<&Vec<u8>> = m.attestations.iter().collect();
    if !world.genuine[which]
        .required
        .iter()
        .all(|a| held.contains(a))
    {
        return false;
    }
    let allowed = |a: &Vec<u8>| {
        world.attestations.contains(a)
            || world
                .extras
                .iter()
                .any(|e| e.effect[which] != Effect::Breaks && e.bytes == *a)
    };
    if !held.iter().all(|a| allowed(a)) {
        return false;
    }
    let mut parties: Vec<PartyId> = m.evidence.iter().map(|e| e.party).collect();
    let mut expected: Vec<PartyId> = g.evidence.iter().map(|e| e.party).collect();
    parties.sort();
    expected.sort();
    if parties != expected {
        return false;
    }
    m.evidence.iter().all(|e| {
        g.evidence.iter().any(|ge| {
            ge.party == e.party
                && note_form(&ge.checkpoint) == note_form(&e.checkpoint)
                && e.entries.iter().all(|x| ge.entries.contains(x))
        })
    })
}

/// A signed note's text and its signature lines in sorted order: the order of signature
/// lines is not signed, and C2SP lets a verifier take them in any order.
fn note_form(note: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let Some(split) = note.windows(2).rposition(|w| w == b"\n\n") else {
        return (note.to_vec(), Vec::new());
    };
    let mut lines: Vec<Vec<u8>> = note[split + 2..]
        .split(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    lines.sort();
    (note[..split + 2].to_vec(), lines)
}

fn flip(u: &mut Unstructured<'_>, bytes: &mut Vec<u8>) -> ArbResult<()> {
    match u.int_in_range(0..=5u8)? {
        0 if !bytes.is_empty() => {
            let len = u.choose_index(bytes.len())?;
            bytes.truncate(len);
        }
        1 => bytes.push(u.arbitrary()?),
        _ if !bytes.is_empty() => {
            for _ in 0..u.int_in_range(1..=2u8)? {
                let at = u.choose_index(bytes.len())?;
                let mask: u8 = u.arbitrary()?;
                bytes[at] ^= mask.max(1);
            }
        }
        _ => {}
    }
    Ok(())
}

fn reorder<T: Clone>(u: &mut Unstructured<'_>, items: &mut Vec<T>) -> ArbResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    let i = u.choose_index(items.len())?;
    match u.int_in_range(0..=2u8)? {
        0 => {
            let j = u.choose_index(items.len())?;
            items.swap(i, j);
        }
        1 => {
            let item = items[i].clone();
            items.insert(u.choose_index(items.len() + 1)?, item);
        }
        _ => {
            items.remove(i);
        }
    }
    Ok(())
}

/// With `SIGNET_FUZZ_TRACE` set, every mutation is printed (to read a crashing input).
static TRACE: LazyLock<bool> = LazyLock::new(|| std::env::var_os("SIGNET_FUZZ_TRACE").is_some());

fn mutate(
    u: &mut Unstructured<'_>,
    world: &World,
    m: &mut Bundle,
    other: &Bundle,
) -> ArbResult<()> {
    let op = u.int_in_range(0..=15u8)?;
    if *TRACE {
        eprintln!("mutation {op}");
    }
    match op {
        0 => reorder(u, &mut m.key_logs)?,
        1 => {
            if let Some(log) = pick_mut(u, &mut m.key_logs)? {
                reorder(u, &mut log.events)?;
            }
        }
        2 => {
            let log = u.choose(&other.key_logs)?.clone();
            let at = u.choose_index(m.key_logs.len() + 1)?;
            m.key_logs.insert(at, log);
        }
        3 | 4 => reorder(u, &mut m.attestations)?,
        5 => {
            let bytes = if u.arbitrary()? {
                u.choose(&world.extras)?.bytes.clone()
            } else {
                u.choose(&other.attestations)?.clone()
            };
            let at = u.choose_index(m.attestations.len() + 1)?;
            m.attestations.insert(at, bytes);
        }
        6 => reorder(u, &mut m.evidence)?,
        7 => {
            let e = u.choose(&other.evidence)?.clone();
            let at = u.choose_index(m.evidence.len() + 1)?;
            m.evidence.insert(at, e);
        }
        8 => {
            if let Some(e) = pick_mut(u, &mut m.evidence)? {
                if u.ratio(1, 4)? {
                    let from = u.choose(&other.evidence)?;
                    let entry = u.choose(&from.entries)?.clone();
                    e.entries.push(entry);
                } else {
                    reorder(u, &mut e.entries)?;
                }
            }
        }
        9 => {
            if u.arbitrary()? {
                m.proposal = other.proposal.clone();
            } else {
                m.completion = other.completion.clone();
            }
        }
        10 => {
            // Lines of a checkpoint note.
            if let Some(e) = pick_mut(u, &mut m.evidence)? {
                let text = String::from_utf8_lossy(&e.checkpoint).into_owned();
                let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
                reorder(u, &mut lines)?;
                e.checkpoint = lines.join("\n").into_bytes();
                if *TRACE {
                    eprintln!("note of {}: {text:?} -> {:?}", e.party, lines.join("\n"));
                }
            }
        }
        11 => {
            if let Some(e) = pick_mut(u, &mut m.evidence)? {
                e.party = *u.choose(&world.parties)?;
            }
        }
        12 => {
            if let Some(e) = pick_mut(u, &mut m.evidence)?
                && let Some(entry) = pick_mut(u, &mut e.entries)?
            {
                let proof = &mut entry.proof;
                match u.int_in_range(0..=3u8)? {
                    0 => proof.index = proof.index.wrapping_add(u.int_in_range(1..=3)?),
                    1 => proof.size = proof.size.wrapping_add(u.int_in_range(1..=3)?),
                    2 => reorder(u, &mut proof.path)?,
                    _ => {
                        if let Some(d) = pick_mut(u, &mut proof.path)? {
                            let mut bytes = d.as_bytes().to_vec();
                            let at = u.choose_index(bytes.len())?;
                            bytes[at] ^= u.arbitrary::<u8>()?.max(1);
                            *d = Digest::from_slice(&bytes).expect("32 bytes");
                        }
                    }
                }
            }
        }
        13 => m.version = m.version.wrapping_add(u.int_in_range(1..=2)?),
        _ => {
            // The bytes of one object.
            match u.int_in_range(0..=5u8)? {
                0 => flip(u, &mut m.proposal)?,
                1 => flip(u, &mut m.completion)?,
                2 => {
                    if let Some(log) = pick_mut(u, &mut m.key_logs)?
                        && let Some(event) = pick_mut(u, &mut log.events)?
                    {
                        flip(u, event)?;
                    }
                }
                3 => {
                    if let Some(a) = pick_mut(u, &mut m.attestations)? {
                        flip(u, a)?;
                    }
                }
                4 => {
                    if let Some(e) = pick_mut(u, &mut m.evidence)? {
                        flip(u, &mut e.checkpoint)?;
                    }
                }
                _ => {
                    if let Some(e) = pick_mut(u, &mut m.evidence)?
                        && let Some(entry) = pick_mut(u, &mut e.entries)?
                    {
                        flip(u, &mut entry.entry)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn pick_mut<'a, T>(u: &mut Unstructured<'_>, items: &'a mut [T]) -> ArbResult<Option<&'a mut T>> {
    if items.is_empty() {
        return Ok(None);
    }
    let i = u.choose_index(items.len())?;
    Ok(items.get_mut(i))
}

fuzz_target!(|data: &[u8]| {
    let world = &*WORLD;
    let mut u = Unstructured::new(data);
    let Ok(header) = u.arbitrary::<u8>() else {
        return;
    };
    let base = usize::from(header & 1);
    let policy = &world.policies[usize::from(header >> 1 & 1)];
    let give_document = header & 4 == 0;
    let mut m: Bundle = world.genuine[base].bundle.clone();
    let other = &world.genuine[1 - base].bundle;
    for _ in 0..MAX_MUTATIONS {
        if u.is_empty() || mutate(&mut u, world, &mut m, other).is_err() {
            break;
        }
    }
    let Ok(bytes) = m.encode() else {
        return;
    };
    let document = if m.proposal == world.genuine[1].bundle.proposal {
        &world.genuine[1].document
    } else {
        &world.genuine[0].document
    };
    let documents: Vec<&[u8]> = if give_document {
        vec![document]
    } else {
        Vec::new()
    };
    let report = verify_bundle(&bytes, &documents, policy, world.now);
    assert_eq!(report.is_valid(), report.outcome == Outcome::Valid);
    assert!(!report.checks.is_empty());
    if report.is_valid() {
        assert_eq!(report.failures().count(), 0);
    }
    if world.genuine.iter().any(|g| g.bytes == bytes) {
        assert!(
            report.is_valid(),
            "a genuine bundle's bytes are not VALID: {:#?}",
            report.failures().collect::<Vec<_>>()
        );
    }
    if report.is_valid() {
        assert!(
            equivalent(world, &m, 0) || equivalent(world, &m, 1),
            "a mutated bundle is VALID: {m:#?}"
        );
    }
});
