//! Handling due events of different nodes together (MODEL.md §9.3, "Parallel handling").
//!
//! Events are taken from the queue in order. One joins the batch when it touches (reads,
//! changes or schedules events at) only nodes that no event taken before it in this batch
//! touches, whether that one joined or was left for later; the first event that could touch
//! any node ends the batch, or is handled alone if it comes first. The nodes' protocol work
//! (`work.rs`) then runs on all threads, and each result is applied in the order of the
//! events. Every node still handles its own events in the order of their times, and what an
//! event schedules happens at nodes it touches, so no node sees an event before an earlier
//! one of its own; events of different nodes may be applied out of time order. The batches
//! depend only on the queue, never on the thread count, so a run stays a pure function of
//! its scenario.

use rayon::prelude::*;

use super::work::{Outcome, Staged, Work};
use super::*;
use crate::protocol_mode::scheduler::Entry;

/// The nodes an event touches: those whose state it reads or changes, and those at which it
/// may schedule an event without reading them. What it schedules happens later than the
/// event itself, so a node it reaches may have an earlier event in the same batch but not a
/// later one.
struct Touch {
    owns: [usize; 2],
    reaches: Vec<usize>,
}

/// Most events handled together.
const BATCH: usize = 32;
/// Most events looked at for one batch.
const SCAN: usize = 64;

impl World<'_> {
    /// Handles every event due before the end of the run.
    pub(super) fn handle_due(&mut self) -> Result<(), QueueFull> {
        loop {
            let batch = self.take_batch();
            if batch.is_empty() {
                return Ok(());
            }
            self.handle_batch(batch)?;
        }
    }

    /// The nodes that handling `event` touches, or None if it may touch any.
    fn touches(&self, event: &Event) -> Option<Touch> {
        let owns = |nodes: [usize; 2]| {
            Some(Touch {
                owns: nodes,
                reaches: Vec::new(),
            })
        };
        match event {
            Event::Contract { edge } | Event::Start { edge } => {
                let e = self.net.edges()[*edge as usize];
                owns([e.buyer as usize, e.supplier as usize])
            }
            Event::Sign { firm, sid } => {
                let other = self.tracks.get(sid).map_or(*firm, |t| {
                    let e = self.net.edges()[t.edge as usize];
                    if e.buyer == *firm {
                        e.supplier
                    } else {
                        e.buyer
                    }
                });
                owns([*firm as usize, other as usize])
            }
            Event::Checkpoint(firm) => {
                owns([*firm as usize, self.witness_node(self.witness_of(*firm))])
            }
            Event::Arrive { to, msg } => match &**msg {
                Msg::Session { from, .. } => owns([*to, *from as usize]),
                // The receiver checks an introduction alone; if the contracts that waited for
                // it can start, that is an event at both firms (`Event::Start`).
                Msg::Introduce { from, .. } => Some(Touch {
                    owns: [*to, *to],
                    reaches: vec![*from as usize],
                }),
                // The witness answers from what it holds; the answer goes to the firm.
                Msg::CosignRequest { firm, .. } => Some(Touch {
                    owns: [*to, *to],
                    reaches: vec![*firm as usize],
                }),
                // The firm may ask its witness again, or send the evidence of the sessions
                // waiting for a cosigned checkpoint to their other parties.
                Msg::WitnessAnswer { .. } => {
                    let firm = self.firms.get(*to)?.as_deref()?;
                    let mut reaches = vec![self.witness_node(self.witness_of(*to as u32))];
                    reaches.extend(firm.unshared.iter().map(|u| u.with as usize));
                    Some(Touch {
                        owns: [*to, *to],
                        reaches,
                    })
                }
                // Checked by the receiving session alone; nothing goes back.
                Msg::Evidence { .. } => owns([*to, *to]),
                _ => None,
            },
            _ => None,
        }
    }

    /// Takes the next batch of due events out of the queue (empty: none is due).
    fn take_batch(&mut self) -> Vec<Entry<Event>> {
        let mut batch = Vec::new();
        let mut left = Vec::new();
        let mut owned: Vec<usize> = Vec::with_capacity(2 * SCAN);
        let mut reached: Vec<usize> = Vec::new();
        while batch.len() < BATCH && batch.len() + left.len() < SCAN {
            let Some(entry) = self.sched.take_until(self.end) else {
                break;
            };
            let Some(touch) = self.touches(entry.event()) else {
                if batch.is_empty() && left.is_empty() {
                    batch.push(entry);
                } else {
                    left.push(entry);
                }
                break;
            };
            let free = touch
                .owns
                .iter()
                .all(|n| !owned.contains(n) && !reached.contains(n));
            owned.extend(touch.owns);
            reached.extend_from_slice(&touch.reaches);
            if free {
                batch.push(entry);
            } else {
                left.push(entry);
            }
        }
        for entry in left {
            self.sched.put_back(entry);
        }
        batch
    }

    fn handle_batch(&mut self, batch: Vec<Entry<Event>>) -> Result<(), QueueFull> {
        let mut staged = Vec::with_capacity(batch.len());
        for entry in batch {
            let due = entry.at();
            self.sched.set_now(due);
            self.m.events += 1;
            let work = match entry.into_event() {
                Event::Contract { edge } if self.edges[edge as usize] == EdgeStage::Ready => {
                    Some(self.stage_proposal(edge, due))
                }
                Event::Sign { firm, sid } => self.stage_sign(firm, sid),
                Event::Arrive { to, msg } => match *msg {
                    Msg::Session { session, bytes, .. } => {
                        self.stage_message(to as u32, session, bytes)
                    }
                    Msg::Introduce {
                        from,
                        edge,
                        events,
                        attestations,
                    } => Some(self.stage_introduction(to as u32, from, edge, events, attestations)),
                    Msg::WitnessAnswer { bytes } => Some(self.stage_answer(to as u32, bytes)),
                    Msg::Evidence { session, bytes, .. } => {
                        self.stage_evidence(to as u32, session, bytes)
                    }
                    other => {
                        self.arrive(to, other)?;
                        None
                    }
                },
                other => {
                    self.handle(other)?;
                    None
                }
            };
            staged.extend(work);
        }
        if staged.len() > 1 {
            staged.par_iter_mut().for_each(Staged::run);
        } else {
            staged.iter_mut().for_each(Staged::run);
        }
        for s in staged {
            self.sched.set_now(s.due);
            self.apply_staged(s)?;
        }
        Ok(())
    }

    /// Does staged work at once and applies it.
    pub(super) fn run_now(&mut self, mut staged: Staged) -> Result<(), QueueFull> {
        staged.run();
        self.apply_staged(staged)
    }

    /// Applies the result of staged work: puts the node back, then records and sends what
    /// the step produced.
    fn apply_staged(&mut self, mut s: Staged) -> Result<(), QueueFull> {
        s.give_back(&mut self.firms);
        self.timing.add_micros(s.kind(), s.spent_us);
        self.m
            .fail_n("evidence event refused by the log", s.refused_evidence);
        let (me, at) = (s.me, s.at);
        match (s.work, s.outcome) {
            (
                Work::Propose {
                    edge,
                    arrived,
                    tier,
                    sid,
                    ..
                },
                Some(Outcome::Step(result)),
            ) => self.proposed(me, at, edge, arrived, tier, sid, result),
            (
                Work::Message {
                    sid, tier, known, ..
                },
                Some(Outcome::Step(result)),
            ) => self.handled(me, at, sid, tier, known, result),
            (Work::Sign { sid, tier }, Some(Outcome::Step(result))) => {
                self.signed(me, at, sid, tier, result)
            }
            (
                Work::Introduction { from, edge, .. },
                Some(Outcome::Introduction { replayed, verdict }),
            ) => self.introduced(me, from, edge, replayed, verdict),
            (Work::Answer { .. }, Some(Outcome::Answer(answer))) => self.answered(me, at, answer),
            (Work::Evidence { sid, .. }, Some(Outcome::Step(result))) => {
                self.evidence_received(me, at, sid, result);
                Ok(())
            }
            _ => {
                self.m.fail("staged work without its result");
                Ok(())
            }
        }
    }
}
