//! Fresh ids. Within a process they strictly increase, and use cases draw them while holding
//! the workspace's write lock, so id order is commit order per workspace.

use std::sync::{Arc, Mutex};

use domain::Timestamp;

#[derive(Debug, Clone, Default)]
pub struct IdGen {
    last: Arc<Mutex<u128>>,
}

impl IdGen {
    /// A UUIDv7-shaped value greater than every value returned before.
    pub fn next<T>(&self, now: Timestamp, make: fn(Timestamp, u128) -> T) -> T {
        const TAIL: u32 = 74;
        let candidate: u128 = rand::random::<u128>() >> (128 - TAIL);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        // Order on (time, tail); when time has not advanced past the last id, count up from it.
        let fresh = ((now.millis().max(0) as u128) << TAIL) | candidate;
        let next = if fresh > *last { fresh } else { *last + 1 };
        *last = next;
        make(Timestamp::from_millis((next >> TAIL) as i64), next & ((1u128 << TAIL) - 1))
    }

    /// A random secret of 32 bytes, URL-safe base64, with a readable prefix.
    pub fn secret(&self, prefix: &str) -> String {
        use base64::Engine;
        let bytes: [u8; 32] = rand::random();
        format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// SHA-256 hex of a secret; only this is stored.
pub fn hash_secret(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use domain::MessageId;

    use super::*;

    #[test]
    fn ids_strictly_increase_within_a_millisecond() {
        let g = IdGen::default();
        let t = Timestamp::from_millis(1_700_000_000_000);
        let ids: Vec<MessageId> = (0..1000).map(|_| g.next(t, MessageId::new)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        // The textual form sorts the same way, which is what SQL ORDER BY id sees.
        let texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert!(texts.windows(2).all(|w| w[0] < w[1]));
    }
}
