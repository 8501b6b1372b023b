//! The simulated network between nodes: latency, each sender's uplink bandwidth, loss with
//! retransmission, nodes that are down for a while, and partitions between communities.
//!
//! A message is carried store-and-forward by its sender's transport: a transmission that
//! finds its recipient down or cut off by a partition is retried when the recipient can be
//! reached again (as a libp2p node redials a peer that comes back), and a lost transmission
//! is retried after `retransmit_ms`. Every transmission counts its bytes.

use rand_chacha::ChaCha20Rng;

use super::params::ProtocolParams;
use super::scheduler::{DAY, Micros};
use crate::rng::uniform;

/// Where a node sits: a firm's community, or infrastructure (verifiers, witnesses) reached
/// at the remote latency from everyone and never inside a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A firm in this community.
    Community(u32),
    /// A verifier or witness.
    Infrastructure,
}

/// The outcome of sending one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// It arrives at this time after this many transmissions.
    Arrives {
        /// Arrival time.
        at: Micros,
        /// Transmissions it took (1 without loss or faults).
        transmissions: u32,
    },
    /// It was given up after `max_transmissions`.
    Lost {
        /// Transmissions tried.
        transmissions: u32,
    },
}

/// The network model of one run.
#[derive(Debug)]
pub struct Links {
    places: Vec<Place>,
    /// Per node, sorted windows [from, until) when it is down.
    down: Vec<Vec<(Micros, Micros)>>,
    partitions: Vec<(Vec<u32>, Micros, Micros)>,
    link_free: Vec<Micros>,
    local: Micros,
    remote: Micros,
    bits_per_micro: f64,
    loss: f64,
    retransmit: Micros,
    max_transmissions: u32,
}

fn days(d: f64) -> Micros {
    (d * DAY as f64).round() as Micros
}

impl Links {
    /// The network for nodes at `places` under `params`.
    pub fn new(places: Vec<Place>, params: &ProtocolParams) -> Self {
        let mut down = vec![Vec::new(); places.len()];
        for o in &params.outages {
            let from = days(o.from_day);
            down[o.firm as usize].push((from, from + days(o.days)));
        }
        for windows in &mut down {
            windows.sort_unstable();
        }
        let partitions = params
            .partitions
            .iter()
            .map(|p| {
                let from = days(p.from_day);
                (p.communities.clone(), from, from + days(p.days))
            })
            .collect();
        Self {
            link_free: vec![0; places.len()],
            places,
            down,
            partitions,
            local: (params.local_latency_ms * 1_000.0).round() as Micros,
            remote: (params.remote_latency_ms * 1_000.0).round() as Micros,
            bits_per_micro: params.bandwidth_mbps,
            loss: params.loss,
            retransmit: (params.retransmit_ms * 1_000.0).round() as Micros,
            max_transmissions: params.max_transmissions,
        }
    }

    /// The first time at or after `t` when `node` is up.
    pub fn up_at(&self, node: usize, t: Micros) -> Micros {
        let mut t = t;
        for &(from, until) in &self.down[node] {
            if from <= t && t < until {
                t = until;
            }
        }
        t
    }

    /// Whether `node` is down at `t`.
    pub fn is_down(&self, node: usize, t: Micros) -> bool {
        self.up_at(node, t) != t
    }

    fn latency(&self, a: usize, b: usize) -> Micros {
        match (self.places[a], self.places[b]) {
            (Place::Community(x), Place::Community(y)) if x == y => self.local,
            _ => self.remote,
        }
    }

    /// When a partition separating `a` and `b` at `t` ends, if one does.
    fn cut_until(&self, a: usize, b: usize, t: Micros) -> Option<Micros> {
        let side = |node: usize, set: &[u32]| match self.places[node] {
            Place::Community(c) => set.contains(&c),
            Place::Infrastructure => false,
        };
        self.partitions
            .iter()
            .filter(|(set, from, until)| *from <= t && t < *until && side(a, set) != side(b, set))
            .map(|(_, _, until)| *until)
            .max()
    }

    /// Sends `bytes` from `from` to `to` at `at`; draws losses from `rng`.
    pub fn send(
        &mut self,
        from: usize,
        to: usize,
        bytes: usize,
        at: Micros,
        rng: &mut ChaCha20Rng,
    ) -> Delivery {
        let start = at.max(self.link_free[from]);
        let on_wire = ((bytes as f64 * 8.0) / self.bits_per_micro).ceil() as Micros;
        self.link_free[from] = start + on_wire;
        let latency = self.latency(from, to);
        let mut t = start + on_wire + latency;
        let mut transmissions = 1;
        loop {
            let retry_at = if self.loss > 0.0 && uniform(rng) < self.loss {
                Some(t - latency + self.retransmit)
            } else if let Some(until) = self.cut_until(from, to, t) {
                Some(until)
            } else if self.is_down(to, t) {
                Some(self.up_at(to, t))
            } else {
                None
            };
            match retry_at {
                None => {
                    return Delivery::Arrives {
                        at: t,
                        transmissions,
                    };
                }
                Some(_) if transmissions >= self.max_transmissions => {
                    return Delivery::Lost { transmissions };
                }
                Some(retry) => {
                    transmissions += 1;
                    t = retry + on_wire + latency;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol_mode::params::{Outage, Partition};
    use crate::rng::derive_rng;

    fn params() -> ProtocolParams {
        ProtocolParams {
            local_latency_ms: 10.0,
            remote_latency_ms: 40.0,
            bandwidth_mbps: 8.0, // one byte per microsecond
            ..ProtocolParams::default()
        }
    }

    #[test]
    fn latency_and_bandwidth() {
        let places = vec![
            Place::Community(0),
            Place::Community(0),
            Place::Community(1),
        ];
        let mut links = Links::new(places, &params());
        let mut rng = derive_rng(1, "t", &[]);
        let d = links.send(0, 1, 1_000, 0, &mut rng);
        assert_eq!(
            d,
            Delivery::Arrives {
                at: 11_000,
                transmissions: 1
            }
        );
        // The uplink is busy with the first message for 1 ms.
        let d = links.send(0, 2, 1_000, 0, &mut rng);
        assert_eq!(
            d,
            Delivery::Arrives {
                at: 42_000,
                transmissions: 1
            }
        );
    }

    #[test]
    fn down_recipient_and_partition_delay_delivery() {
        let places = vec![Place::Community(0), Place::Community(1)];
        let mut p = params();
        p.outages.push(Outage {
            firm: 1,
            from_day: 0.0,
            days: 2.0,
        });
        p.partitions.push(Partition {
            communities: vec![0],
            from_day: 2.0,
            days: 1.0,
        });
        let mut links = Links::new(places, &p);
        let mut rng = derive_rng(1, "t", &[]);
        match links.send(0, 1, 8, 0, &mut rng) {
            // Down for 2 days, then cut off until day 3.
            Delivery::Arrives { at, transmissions } => {
                assert_eq!(transmissions, 3);
                assert_eq!(at, 3 * DAY + 8 + 40_000);
            }
            Delivery::Lost { .. } => panic!("delivered in the end"),
        }
    }

    #[test]
    fn loss_retransmits_and_gives_up() {
        let places = vec![Place::Community(0), Place::Community(0)];
        let mut p = params();
        p.loss = 0.5;
        p.max_transmissions = 3;
        let mut links = Links::new(places, &p);
        let mut rng = derive_rng(7, "t", &[]);
        let (mut arrived, mut lost, mut retried) = (0, 0, 0);
        for i in 0..2_000 {
            match links.send(0, 1, 0, i * 10_000_000, &mut rng) {
                Delivery::Arrives { transmissions, .. } => {
                    arrived += 1;
                    retried += u32::from(transmissions > 1);
                }
                Delivery::Lost { transmissions } => {
                    assert_eq!(transmissions, 3);
                    lost += 1;
                }
            }
        }
        // Lost after three tries: 1/8 of messages.
        assert!((150..350).contains(&lost), "{lost}");
        assert!(retried > 500 && arrived > 1_500, "{retried} {arrived}");
    }
}
