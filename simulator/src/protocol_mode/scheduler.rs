//! The discrete-event scheduler: a priority queue of events ordered by (virtual time,
//! sequence number). The sequence number is the order in which events were scheduled, so two
//! events at the same microsecond run in the order they were created and a run is a pure
//! function of its inputs.
//!
//! A run may take several due events out at once ([`Scheduler::take_until`]) to handle those of
//! different nodes together, and put back ([`Scheduler::put_back`]) the ones it leaves for
//! later; each keeps its place in the order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Virtual time in microseconds since the start of the run.
pub type Micros = u64;

/// Microseconds per second.
pub const SECOND: Micros = 1_000_000;
/// Microseconds per day.
pub const DAY: Micros = 86_400 * SECOND;

/// The queue refused an event: more events are pending than the bound allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than {bound} events pending at once (raise protocol.max_pending_events)")]
pub struct QueueFull {
    /// The bound.
    pub bound: usize,
}

/// An event taken out of the queue with its place in the order, so that it can be put back.
#[derive(Debug)]
pub struct Entry<E> {
    at: Micros,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    /// When the event is due.
    pub fn at(&self) -> Micros {
        self.at
    }

    /// The event.
    pub fn event(&self) -> &E {
        &self.event
    }

    /// Takes the event out.
    pub fn into_event(self) -> E {
        self.event
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A bounded event queue in virtual time.
#[derive(Debug)]
pub struct Scheduler<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    next_seq: u64,
    now: Micros,
    bound: usize,
    peak: usize,
}

impl<E> Scheduler<E> {
    /// An empty queue that holds at most `bound` pending events.
    pub fn new(bound: usize) -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_seq: 0,
            now: 0,
            bound,
            peak: 0,
        }
    }

    /// The time of the event being handled (or of the last one).
    pub fn now(&self) -> Micros {
        self.now
    }

    /// Most events pending at once so far.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// Schedules `event` at `at`; an event in the past runs now (never before the current
    /// time, so time never goes backwards).
    pub fn at(&mut self, at: Micros, event: E) -> Result<(), QueueFull> {
        if self.heap.len() >= self.bound {
            return Err(QueueFull { bound: self.bound });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Entry {
            at: at.max(self.now),
            seq,
            event,
        }));
        self.peak = self.peak.max(self.heap.len());
        Ok(())
    }

    /// Takes the next event if it is due no later than `until`, advancing the clock to it.
    pub fn pop_until(&mut self, until: Micros) -> Option<E> {
        if self.heap.peek().is_some_and(|Reverse(e)| e.at <= until) {
            let Reverse(entry) = self.heap.pop()?;
            self.now = entry.at;
            Some(entry.event)
        } else {
            None
        }
    }

    /// Takes the next event with its place in the order if it is due no later than `until`,
    /// without moving the clock (see [`Scheduler::set_now`]).
    pub fn take_until(&mut self, until: Micros) -> Option<Entry<E>> {
        if self.heap.peek().is_some_and(|Reverse(e)| e.at <= until) {
            self.heap.pop().map(|Reverse(entry)| entry)
        } else {
            None
        }
    }

    /// Puts back an event taken with [`Scheduler::take_until`], in its old place.
    pub fn put_back(&mut self, entry: Entry<E>) {
        self.heap.push(Reverse(entry));
    }

    /// Sets the clock to the time of the event about to be handled: events scheduled from now
    /// on run no earlier. Handling the events of different nodes together may set it back.
    pub fn set_now(&mut self, now: Micros) {
        self.now = now;
    }

    /// Events still pending.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_time_then_by_scheduling_order() {
        let mut s = Scheduler::new(10);
        s.at(5, "b").unwrap();
        s.at(3, "a").unwrap();
        s.at(5, "c").unwrap();
        s.at(9, "d").unwrap();
        let mut got = Vec::new();
        while let Some(e) = s.pop_until(8) {
            got.push((s.now(), e));
        }
        assert_eq!(got, vec![(3, "a"), (5, "b"), (5, "c")]);
        assert_eq!(s.len(), 1);
        // An event scheduled in the past runs at the current time.
        s.at(1, "e").unwrap();
        assert_eq!(s.pop_until(100), Some("e"));
        assert_eq!(s.now(), 5);
    }

    #[test]
    fn an_event_put_back_keeps_its_place() {
        let mut s = Scheduler::new(10);
        s.at(5, "a").unwrap();
        s.at(5, "b").unwrap();
        s.at(7, "c").unwrap();
        let a = s.take_until(10).unwrap();
        let b = s.take_until(10).unwrap();
        assert_eq!((a.at(), *b.event()), (5, "b"));
        s.put_back(a);
        assert_eq!(s.now(), 0, "taking does not move the clock");
        assert_eq!(s.pop_until(10), Some("a"));
        assert_eq!(b.into_event(), "b");
        assert_eq!(s.pop_until(10), Some("c"));
    }

    #[test]
    fn refuses_beyond_its_bound() {
        let mut s = Scheduler::new(2);
        s.at(1, ()).unwrap();
        s.at(2, ()).unwrap();
        assert_eq!(s.at(3, ()), Err(QueueFull { bound: 2 }));
    }
}
