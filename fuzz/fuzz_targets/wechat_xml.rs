//! The WeChat message parser never panics, and a parsed message's passive reply parses back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = channels::wechat::parse(data) {
        let reply = channels::wechat::text_reply(&m, 0, "回复 ]]> reply");
        let back = channels::wechat::parse(reply.as_bytes()).expect("our own reply parses");
        assert_eq!(back.openid, m.account);
        let _ = m.dedup_key();
    }
});
