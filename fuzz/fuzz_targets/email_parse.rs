//! Any bytes through the inbound email path: MIME parsing, threading keys, HTML sanitising,
//! quote stripping, loop signals. It must never panic, and what it returns must hold the
//! invariants the storage side relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = channels::email::parse(data, Some("acme.test")) {
        assert!(m.text.chars().count() <= channels::email::parse::MAX_TEXT_CHARS);
        assert!(!m.text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
        assert!(m.attachments.len() <= channels::email::parse::MAX_ATTACHMENTS);
        assert!(m.parents.len() <= channels::email::thread::MAX_PARENTS);
        assert!(m.from_address.contains('@'));
        for p in &m.parents {
            assert!(!p.is_empty() && p.bytes().all(|b| b.is_ascii_graphic()));
        }
        let _ = channels::email::thread::ticket_in_subject(&m.subject);
        let _ = channels::email::thread::reply_subject(&m.subject, None);
    }
});
