//! Events from outside the normal flow of a run: identity revocations, key rotations and
//! attacking peers (MODEL.md §9.1, items 6–8).

use super::*;

impl World<'_> {
    pub(super) fn revoke(&mut self, index: usize) -> Result<(), QueueFull> {
        let subject = self.params.revocations[index].firm;
        let now = self.sched.now();
        let issued: Vec<(usize, AttestationId)> =
            self.attested.get(&subject).cloned().unwrap_or_default();
        if issued.is_empty() {
            self.m
                .revocations
                .push(crate::protocol_mode::report::RevocationReport::not_attested(subject, now));
            return Ok(());
        }
        let mut report = crate::protocol_mode::report::RevocationReport::new(subject, now);
        // Counterparties that rely on the subject now: they must stop.
        for (&j, &e) in self
            .net
            .neighbours(subject as usize)
            .iter()
            .zip(self.net.incident_edges(subject as usize))
        {
            if matches!(
                self.edges[e as usize],
                EdgeStage::Ready | EdgeStage::Introducing { .. }
            ) {
                report.counterparties.insert(j, None);
            }
        }
        self.m.revocations.push(report);
        for (issuer, id) in issued {
            let at = self.reserve(issuer, self.params.cpu_us.attest);
            let signed = if issuer < self.net.len() {
                self.firm_mut(issuer as u32)
                    .party
                    .revoke(id, ts(now), ts(at))
            } else {
                self.verifiers[issuer - self.net.len()]
                    .party
                    .revoke(id, ts(now), ts(at))
            };
            let bytes = signed.bytes().to_vec();
            if issuer < self.net.len() {
                // A buyer revokes its own verification in its own store at once.
                self.revocation_received(issuer as u32, &bytes, subject, now)?;
                continue;
            }
            // Gossip: the verifier's revocation reaches every running node.
            for j in 0..self.net.len() {
                if self.stage[j] != FirmStage::Absent && j as u32 != subject {
                    let msg = Msg::Revocation {
                        bytes: bytes.clone(),
                        subject,
                        issued: now,
                    };
                    self.send(issuer, j, msg, at, Traffic::Revocation)?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn revocation_received(
        &mut self,
        me: u32,
        bytes: &[u8],
        subject: u32,
        issued: Micros,
    ) -> Result<(), QueueFull> {
        let at = self.reserve(me as usize, self.params.cpu_us.introduction);
        let Ok(signed) = Attestation::decode(bytes) else {
            self.m.fail("revocation refused");
            return Ok(());
        };
        let Some(subject_id) = self.firms[subject as usize]
            .as_deref()
            .map(|f| f.party.id())
        else {
            return Ok(());
        };
        let firm = self.firm_mut(me);
        firm.store.add_attestation(signed);
        let trusted = evaluate(&firm.policy, &firm.store, &subject_id, ts(at)).is_trusted();
        self.m.trust_evaluations += 1;
        if trusted {
            return Ok(());
        }
        // It stops signing with the subject: no new contract starts on their relationship.
        for (&j, &e) in self
            .net
            .neighbours(me as usize)
            .iter()
            .zip(self.net.incident_edges(me as usize))
        {
            if j == subject && !matches!(self.edges[e as usize], EdgeStage::Paper) {
                self.edges[e as usize] = EdgeStage::Refused;
                self.fail_waiting(e);
            }
        }
        if let Some(r) = self
            .m
            .revocations
            .iter_mut()
            .rev()
            .find(|r| r.subject == subject && r.issued == issued)
            && let Some(slot) = r.counterparties.get_mut(&me)
            && slot.is_none()
        {
            *slot = Some(at - issued);
        }
        Ok(())
    }
}

impl World<'_> {
    pub(super) fn rotate(&mut self, index: usize) -> Result<(), QueueFull> {
        let firm = self.params.rotations[index].firm;
        let now = self.sched.now();
        let mut report = crate::protocol_mode::report::RotationReport {
            firm,
            at: now,
            rotated: false,
            counterparties: BTreeMap::new(),
            all_updated_seconds: None,
        };
        if self.firms[firm as usize].is_none() {
            self.m.rotations.push(report);
            return Ok(());
        }
        let at = self.reserve(firm as usize, 3 * self.params.cpu_us.attest);
        let t = ts(at);
        let generation = self
            .m
            .rotations
            .iter()
            .filter(|r| r.firm == firm && r.rotated)
            .count()
            + 1;
        let days = self.validity_days;
        let me = self.firm_mut(firm);
        let label = me.party.label.clone();
        let next = test_key(&label, &format!("root-{}", generation + 1));
        let seal = test_key(&label, &format!("seal-contract-{generation}"));
        let party = &mut me.party;
        // The pre-committed next root becomes the root; a new contract seal replaces the old.
        let rotated = party
            .log
            .rotate(&party.next_root, &next.public_key(), t)
            .map(|_| ())
            .and_then(|()| {
                party.root = std::mem::replace(&mut party.next_root, next);
                party.log.add_key(
                    &party.root,
                    KeyDecl::seal(
                        seal.public_key(),
                        SealInfo {
                            kind: SealKind::Contract,
                            name: format!("{label} contract seal {generation}"),
                            image: None,
                        },
                    ),
                    t,
                )?;
                party
                    .log
                    .retire_key(&party.root, party.contract_seal.public_key(), t)?;
                Ok(())
            });
        if rotated.is_err() {
            self.m.fail("rotation: key log refused the rotation");
            self.m.rotations.push(report);
            return Ok(());
        }
        party.contract_seal = seal;
        let mandate = party.delegate_contract_seal(&[PURPOSE], None, None, t, days);
        me.store.add_key_log(me.party.log.clone());
        me.store.add_attestation(mandate.clone());
        me.mandate = mandate.clone();
        let events: Vec<Vec<u8>> = me.party.log.event_bytes().map(<[u8]>::to_vec).collect();
        report.rotated = true;
        let mut to = Vec::new();
        for (&j, &e) in self
            .net
            .neighbours(firm as usize)
            .iter()
            .zip(self.net.incident_edges(firm as usize))
        {
            if matches!(
                self.edges[e as usize],
                EdgeStage::Ready | EdgeStage::Introducing { .. }
            ) {
                report.counterparties.insert(j, None);
                to.push(j);
            }
        }
        let rotation = self.m.rotations.len();
        self.m.rotations.push(report);
        for j in to {
            let msg = Msg::KeyUpdate {
                from: firm,
                events: events.clone(),
                mandate: mandate.bytes().to_vec(),
                rotation,
            };
            self.send(firm as usize, j as usize, msg, at, Traffic::Rotation)?;
        }
        Ok(())
    }

    pub(super) fn key_update(
        &mut self,
        me: u32,
        from: u32,
        events: &[Vec<u8>],
        mandate: &[u8],
        rotation: usize,
    ) {
        let at = self.reserve(me as usize, self.params.cpu_us.introduction);
        let Ok(log) = KeyLog::replay(events) else {
            self.m.fail("rotation: key log update refused");
            return;
        };
        let firm = self.firm_mut(me);
        let update = firm.store.add_key_log(log);
        if let Ok(a) = Attestation::decode(mandate) {
            firm.store.add_attestation(a);
        }
        if !matches!(update, LogUpdate::Extended | LogUpdate::Unchanged) {
            self.m.fail("rotation: key log update conflicts");
            return;
        }
        let Some(r) = self.m.rotations.get_mut(rotation) else {
            return;
        };
        if let Some(slot) = r.counterparties.get_mut(&me)
            && slot.is_none()
            && r.firm == from
        {
            *slot = Some(at - r.at);
        }
    }
}

impl World<'_> {
    fn attacker_node(&self, attack: usize) -> usize {
        self.net.len() + self.verifiers.len() + self.witnesses.len() + attack
    }

    /// The attacker's party: its own keys and key event log, verified by nobody.
    fn attacker(&self, attack: usize) -> TestParty {
        TestParty::new(&format!("{} attacker {attack}", self.label), ts(0))
    }

    pub(super) fn attack(&mut self, attack: usize, n: u64) -> Result<(), QueueFull> {
        let a = self.params.attacks[attack].clone();
        let node = self.attacker_node(attack);
        let now = self.sched.now();
        let mut party = self.attacker(attack);
        let target = a.target as usize;
        match a.kind {
            AttackKind::Flood => {
                let end = ((a.from_day + a.days) * DAY as f64).round() as Micros;
                if now >= end || self.stage[target] == FirmStage::Absent {
                    return Ok(());
                }
                // A fresh, well-formed proposal signed by the attacker's node key.
                let Some(victim) = self.firms[target].as_deref().map(|f| f.party.id()) else {
                    return Ok(());
                };
                let me = party.id();
                let nonce = SessionNonce::from_bytes(
                    *Digest::of_parts(&[
                        b"flood",
                        &(attack as u64).to_be_bytes(),
                        &n.to_be_bytes(),
                    ])
                    .as_bytes(),
                );
                let t = ts(now);
                let proposal = Proposal {
                    session: SessionId::derive(&me, &nonce),
                    nonce,
                    revision: 0,
                    initiator: me,
                    title: format!("Flood {n}"),
                    documents: vec![DocumentRef {
                        name: "spam.pdf".into(),
                        media_type: "application/pdf".into(),
                        size: DOCUMENT_BYTES as u64,
                        digest: Digest::of(&n.to_be_bytes()),
                        sm3: None,
                        pdf_seals: None,
                    }],
                    participants: vec![Participant {
                        party: victim,
                        role: Role::Signer,
                        order: 0,
                        seal_kind: Some(SealKind::Contract),
                    }],
                    purpose: PURPOSE.into(),
                    value: None,
                    deadline: t.plus(30 * 86_400),
                    evidence: EvidenceRequirements {
                        witnesses: Vec::new(),
                        min_cosignatures: 0,
                    },
                    created_at: t,
                    algorithms: None,
                };
                let mut store = TrustStore::new();
                store.add_key_log(party.log.clone());
                let policy = TrustPolicy::with_anchors(Vec::new());
                let ctx = Context {
                    store: &store,
                    policy: &policy,
                    now: t,
                    node_key: &party.node,
                };
                if let Ok((_, step)) = Session::propose(proposal, &ctx) {
                    for out in step.outbound {
                        let msg = Msg::Attack {
                            attack,
                            bytes: out.message.bytes().to_vec(),
                            events: party.log.event_bytes().map(<[u8]>::to_vec).collect(),
                        };
                        self.send(node, target, msg, now, Traffic::Attack)?;
                    }
                }
                let gap = (SECOND as f64 / a.per_second).max(1.0) as Micros;
                self.sched
                    .at(now + gap, Event::Attack { attack, n: n + 1 })?;
            }
            AttackKind::Squat => {
                // A self-issued identity attestation claiming the target's name and number.
                let label = format!("{} firm {}", self.label, a.target);
                let claims = Claims::Identity(IdentityClaims {
                    legal_name: label.clone(),
                    registration: test_uscc(&label),
                    jurisdiction: "CN".into(),
                    legal_representative: format!("{label} representative"),
                    method: VerificationMethod::BankTransfer,
                    assurance: AssuranceLevel::High,
                });
                let me = party.id();
                let claim = party.attest(me, claims, ts(now), self.validity_days);
                let events: Vec<Vec<u8>> = party.log.event_bytes().map(<[u8]>::to_vec).collect();
                let customers: Vec<u32> = self.net.customers(target).to_vec();
                for c in customers {
                    if self.stage[c as usize] != FirmStage::Absent {
                        let msg = Msg::Attack {
                            attack,
                            bytes: claim.bytes().to_vec(),
                            events: events.clone(),
                        };
                        self.send(node, c as usize, msg, now, Traffic::Attack)?;
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn attacked(&mut self, me: u32, attack: usize, bytes: &[u8], events: &[Vec<u8>]) {
        if self.firms[me as usize].is_none() {
            return;
        }
        let kind = self.params.attacks[attack].kind;
        let cost = match kind {
            AttackKind::Flood => self.params.cpu_us.receive_proposal,
            AttackKind::Squat => self.params.cpu_us.introduction,
        };
        let at = self.reserve(me as usize, cost);
        let firm = firm_in(&mut self.firms, me);
        let outcome: Result<(), String> = match kind {
            AttackKind::Flood => {
                // A flooder sends its key log along (key logs are self-certifying and a node
                // stores any), so the refusal is the trust decision, not a missing log.
                if let Ok(log) = KeyLog::replay(events) {
                    firm.store.add_key_log(log);
                }
                let ctx = Context {
                    store: &firm.store,
                    policy: &firm.policy,
                    now: ts(at),
                    node_key: &firm.party.node,
                };
                match Session::receive(bytes, firm.party.id(), &ctx) {
                    Ok(_) => Ok(()),
                    Err(e) => Err(format!("receive: {}", variant(&e))),
                }
            }
            AttackKind::Squat => match (KeyLog::replay(events), Attestation::decode(bytes)) {
                (Ok(log), Ok(claim)) => {
                    let subject = log.party();
                    firm.store.add_key_log(log);
                    firm.store.add_attestation(claim);
                    match evaluate(&firm.policy, &firm.store, &subject, ts(at)) {
                        Verdict::Trusted { .. } => Ok(()),
                        Verdict::Untrusted { .. } => Err("untrusted".into()),
                        Verdict::Indeterminate { .. } => Err("indeterminate".into()),
                    }
                }
                _ => Err("undecodable".into()),
            },
        };
        let r = &mut self.m.attacks[attack];
        r.delivered += 1;
        r.victim_cpu_us += cost;
        match outcome {
            Ok(()) => r.accepted += 1,
            Err(reason) => *r.refused.entry(reason).or_insert(0) += 1,
        }
    }
}
