//! The signed-webhook family's parsers and signature check never panic on any body or header.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = channels::webhook::parse(data);
    let _ = channels::sms::parse_inbound(data);
    if let Ok(c) = channels::phone::parse(data) {
        let _ = channels::phone::summary(&c);
    }
    // Split the input into a timestamp header, a signature header and a body.
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (ts, sig, body) = (parts.next(), parts.next(), parts.next().unwrap_or("").as_bytes());
    let _ = channels::sign::verify(b"secret", ts, sig, body, 1_700_000_000);
    let _ = channels::wechat::parse_token_response(data);
    let _ = channels::wechat::parse_send_response(data);
    let _ = channels::sms::parse_send_response(data);
    for kind in channels::config::Settings::KINDS {
        let _ = channels::config::Settings::parse(kind, &text);
    }
});
