//! What the fuzzer injects: node 3's chunks (a new leader resuming or
//! restarting a transfer), arbitrary chunks, and wrong answers from node
//! 1's host.

use super::{three_voters, truth, Chunk, Sim, Truth, FOLLOWER, LEADER, OUTSIDER, SCRIPTED};
use steadfast::membership::Membership;
use steadfast::rng::SplitMix64;
use steadfast::types::{Epoch, Lsn, NodeId, Position};
use steadfast::wire::Message;

impl Sim {
    /// Node 3 sends the next chunk of a true snapshot: `which` picks it,
    /// `how` the epoch (bits 0-1), a corrupted byte (bit 2) and offset 0
    /// instead of where node 2 asked node 3 to go on (bit 3).
    pub(super) fn scripted(&mut self, which: u8, how: u8, len: u8) {
        let pool: Vec<&Truth> = self.taken.iter().chain(&self.foreign).collect();
        let t = pool[usize::from(which) % pool.len()].clone();
        let current = self.follower.epoch();
        let epoch = match how & 3 {
            1 => current.next(),
            2 => Epoch(current.0.saturating_sub(1)),
            _ => current,
        };
        let size = t.meta.size;
        let offset = if how & 8 != 0 {
            0
        } else {
            self.cursor
                .get(&t.meta.position)
                .copied()
                .unwrap_or(0)
                .min(size)
        };
        let end = (offset + 1 + u64::from(len)).min(size);
        let mut data = t.bytes[offset as usize..end as usize].to_vec();
        if how & 4 != 0 && !data.is_empty() {
            let i = usize::from(len) % data.len();
            data[i] ^= 0x5a;
        }
        let message = Message::InstallSnapshot {
            epoch,
            snapshot: Box::new(t.meta),
            offset,
            data,
            done: end == size,
        };
        self.deliver(SCRIPTED, message);
    }

    /// Any chunk at all: from a member, node 2 itself or an outsider; of a
    /// true snapshot, one with a lying checksum, or a made-up one.
    pub(super) fn arbitrary_chunk(&mut self, c: &Chunk) {
        let from = match c.from % 8 {
            0..=2 => LEADER,
            3..=5 => SCRIPTED,
            6 => FOLLOWER,
            _ => OUTSIDER,
        };
        let current = self.follower.epoch();
        let mut epoch = match c.epoch % 4 {
            1 => current.next(),
            2 => Epoch(current.0.saturating_sub(1 + u64::from(c.epoch >> 2) % 3)),
            _ => current,
        };
        if from == OUTSIDER && epoch >= current {
            // The core hears a current chunk from anyone (the membership in
            // force can leave out a correct leader); an outsider's chunk is
            // sent in an older epoch, where it must be refused.
            let Some(older) = current.0.checked_sub(1) else {
                return;
            };
            epoch = Epoch(older);
        }
        let pool: Vec<&Truth> = self.taken.iter().chain(&self.foreign).collect();
        let mut meta = pool[usize::from(c.pick >> 4) % pool.len()].meta.clone();
        match c.pick % 4 {
            0 => {}
            1 => meta.checksum ^= 1 | c.checksum,
            2 => {
                meta.position = Position::new(
                    Epoch(c.position.0 % (current.0 + 2)),
                    Lsn(c.position.1 % (self.len + 6)),
                );
                meta.size = c.size % 512;
                meta.checksum = c.checksum;
            }
            _ => {
                meta.position = Position::new(Epoch(c.position.0), Lsn(c.position.1));
                meta.size = c.size;
                meta.checksum = c.checksum;
            }
        }
        meta.membership = match c.membership % 8 {
            6 => Membership::new([NodeId(1), NodeId(3)], [FOLLOWER]),
            7 => Membership::new([FOLLOWER], []),
            _ => three_voters(),
        };
        let offset = match (c.pick >> 2) % 4 {
            0 => self.held(&meta),
            1 => 0,
            2 => c.offset % (meta.size.saturating_add(1)),
            _ => c.offset,
        };
        let mut rng = SplitMix64::new(c.offset ^ u64::from(c.checksum));
        let data: Vec<u8> = (0..c.len % 48)
            .map(|_| rng.next_u64().to_le_bytes()[0])
            .collect();
        let done = match c.done % 4 {
            1 => true,
            2 => false,
            _ => u128::from(offset) + data.len() as u128 == u128::from(meta.size),
        };
        let message = Message::InstallSnapshot {
            epoch,
            snapshot: Box::new(meta),
            offset,
            data,
            done,
        };
        self.deliver(from, message);
    }

    /// Node 1's host answers wrongly: wrong peer, snapshot, offset or
    /// length, a corrupted byte, or an arbitrary slice.
    pub(super) fn forged_answer(&mut self, how: u8, delta: u8, raw: u64) {
        let transfer = self.transfer();
        let (mut to, mut snapshot, mut offset, max_len) =
            self.requests.last().copied().unwrap_or((
                FOLLOWER,
                transfer.map_or(self.taken[0].meta.position, |t| t.position),
                transfer.map_or(0, |t| t.offset),
                self.max_chunk,
            ));
        let bytes = self
            .taken
            .iter()
            .find(|t| t.meta.position == snapshot)
            .map_or(&[][..], |t| &t.bytes);
        let mut data = crate::host::read_chunk(bytes, offset, max_len);
        let d = u64::from(delta % 4) + 1;
        match how % 6 {
            0 => to = [LEADER, SCRIPTED, OUTSIDER, NodeId(raw)][usize::from(delta % 4)],
            1 => snapshot = Position::new(snapshot.epoch, Lsn(snapshot.lsn.0 ^ d)),
            2 => {
                offset = if delta & 8 == 0 {
                    offset.wrapping_add(d)
                } else {
                    raw
                }
            }
            3 if delta & 8 == 0 => data.truncate(data.len().saturating_sub(d as usize)),
            3 => data.extend((0..d).map(|i| i as u8)),
            4 if !data.is_empty() => {
                let i = raw as usize % data.len();
                data[i] ^= 1 << (delta % 8);
            }
            _ => {
                offset = raw % offset.saturating_add(2);
                data = bytes[..usize::from(delta).min(bytes.len())].to_vec();
            }
        }
        self.answer(to, snapshot, offset, data);
    }

    /// A snapshot of another history appears, for node 3 to send.
    pub(super) fn foreign(&mut self, lsn: u8, size: u16, seed: u8) {
        let epoch = Epoch(self.leader.epoch().0 + u64::from(lsn & 1));
        let position = Position::new(epoch, Lsn(1 + u64::from(lsn >> 1) % (self.len + 4)));
        self.foreign.push(truth(position, size, seed));
        if self.foreign.len() > 4 {
            self.foreign.remove(0);
        }
    }

    /// A forged answer in node 2's name: node 1 must accept it (it is
    /// well-formed) and keep its transfer within the snapshot.
    pub(super) fn forged_response(&mut self, how: u8, raw: u64) {
        let transfer = self.transfer();
        let position = transfer.map_or(self.taken[0].meta.position, |t| t.position);
        let size = transfer.map_or(0, |t| t.size);
        let next_offset = if how & 1 == 0 {
            raw % size.saturating_add(2)
        } else {
            raw
        };
        let epoch = self.leader.epoch();
        self.reply(Message::InstallSnapshotResponse {
            epoch,
            snapshot: position,
            next_offset,
        });
    }
}
