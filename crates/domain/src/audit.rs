//! The tamper-evident audit trail (TK-10). Each entry's hash covers its content and the
//! previous entry's hash, per workspace, so editing, inserting or deleting a stored entry
//! breaks the chain at that point. This module computes and checks hashes; `db` stores them.

use sha2::{Digest, Sha256};

/// A field value in a before/after snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditValue {
    Null,
    Int(i64),
    Text(String),
    List(Vec<String>),
}

impl From<&str> for AuditValue {
    fn from(s: &str) -> AuditValue {
        AuditValue::Text(s.to_string())
    }
}
impl From<String> for AuditValue {
    fn from(s: String) -> AuditValue {
        AuditValue::Text(s)
    }
}
impl<T: Into<AuditValue>> From<Option<T>> for AuditValue {
    fn from(v: Option<T>) -> AuditValue {
        v.map_or(AuditValue::Null, Into::into)
    }
}

/// The audited state of an object: ordered field names and values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot(pub Vec<(&'static str, AuditValue)>);

impl Snapshot {
    pub fn with(mut self, k: &'static str, v: impl Into<AuditValue>) -> Snapshot {
        self.0.push((k, v.into()));
        self
    }
    pub fn list(mut self, k: &'static str, v: &[String]) -> Snapshot {
        self.0.push((k, AuditValue::List(v.to_vec())));
        self
    }
}

/// The stored form of one entry, as the hash sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryText<'a> {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// The hash of the first entry's predecessor.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `sha256(prev ‖ fields)`, hex. Fields are length-prefixed so no two entries serialise alike.
pub fn chain_hash(prev: &str, e: &EntryText<'_>) -> String {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    put(prev);
    put(&e.seq.to_string());
    put(&e.at_ms.to_string());
    put(e.actor);
    put(e.action);
    put(e.object_type);
    put(e.object_id);
    put(e.before.unwrap_or("\u{0}null"));
    put(e.after.unwrap_or("\u{0}null"));
    hex::encode(h.finalize())
}

/// What is wrong with a chain, at the first place it is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's stored hash does not match its content and predecessor: it was edited,
    /// or an entry was inserted before it.
    Altered { seq: i64 },
    /// Sequence numbers jump: the entries between were deleted.
    Missing { expected: i64, found: i64 },
    /// The log ends before the head the workspace recorded: entries at the end were deleted.
    Truncated { head: i64, last: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Altered { seq } => {
                write!(
                    f,
                    "entry {seq} does not match its hash: it was edited, or an entry was inserted before it"
                )
            }
            ChainBreak::Missing { expected, found } => {
                write!(f, "entries {expected} to {} are missing: they were deleted", found - 1)
            }
            ChainBreak::Truncated { head, last } => {
                write!(
                    f,
                    "entries {} to {head} are missing at the end: they were deleted",
                    last + 1
                )
            }
        }
    }
}

/// Walks one workspace's entries in `seq` order, carrying the running hash.
#[derive(Debug)]
pub struct Verifier {
    prev: String,
    next_seq: i64,
}

impl Default for Verifier {
    fn default() -> Verifier {
        Verifier { prev: GENESIS.to_string(), next_seq: 1 }
    }
}

impl Verifier {
    pub fn check(
        &mut self,
        e: &EntryText<'_>,
        stored_prev: &str,
        stored_hash: &str,
    ) -> Result<(), ChainBreak> {
        if e.seq != self.next_seq {
            return Err(ChainBreak::Missing { expected: self.next_seq, found: e.seq });
        }
        let want = chain_hash(&self.prev, e);
        if stored_prev != self.prev || stored_hash != want {
            return Err(ChainBreak::Altered { seq: e.seq });
        }
        self.prev = want;
        self.next_seq += 1;
        Ok(())
    }
    pub fn finish(&self, head_seq: i64) -> Result<(), ChainBreak> {
        let last = self.next_seq - 1;
        if last < head_seq { Err(ChainBreak::Truncated { head: head_seq, last }) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, after: &str) -> EntryText<'_> {
        EntryText {
            seq,
            at_ms: 1,
            actor: "system",
            action: "x",
            object_type: "t",
            object_id: "1",
            before: None,
            after: Some(after),
        }
    }

    #[test]
    fn chain_detects_edit_and_gap() {
        let e1 = entry(1, "a");
        let h1 = chain_hash(GENESIS, &e1);
        let e2 = entry(2, "b");
        let h2 = chain_hash(&h1, &e2);

        let mut v = Verifier::default();
        v.check(&e1, GENESIS, &h1).unwrap();
        v.check(&e2, &h1, &h2).unwrap();
        assert_eq!(v.finish(2), Ok(()));
        assert_eq!(v.finish(3), Err(ChainBreak::Truncated { head: 3, last: 2 }));

        let mut v = Verifier::default();
        v.check(&e1, GENESIS, &h1).unwrap();
        assert_eq!(v.check(&entry(2, "edited"), &h1, &h2), Err(ChainBreak::Altered { seq: 2 }));

        let mut v = Verifier::default();
        assert_eq!(v.check(&e2, &h1, &h2), Err(ChainBreak::Missing { expected: 1, found: 2 }));
    }
}
