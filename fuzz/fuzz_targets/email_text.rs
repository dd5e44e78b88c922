//! Any text through the pieces that see user text directly: the HTML sanitiser and flattener,
//! the quote stripper and the subject's ticket-number parser. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let t = channels::email::html::to_text(&s);
    assert!(!channels::email::html::sanitize(&s).to_ascii_lowercase().contains("<script"));
    let _ = channels::email::quote::strip_quoted(&t);
    let _ = channels::email::quote::strip_quoted(&s);
    let _ = channels::email::thread::ticket_in_subject(&s);
    let _ = channels::email::thread::normalize_id(&s);
});
