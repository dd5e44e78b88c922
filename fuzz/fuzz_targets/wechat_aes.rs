//! WeChat safe mode never panics: any bytes as an encrypted push (envelope, `msg_signature`,
//! AES decryption, unpadding, AppID check, parsing), as a plaintext sealed and opened again
//! (which must give what `parse` gives), and as a decrypted frame (whatever a sender with the
//! key could encrypt).
#![no_main]

use channels::wechat::{
    self,
    crypto::{self, Crypt, Signed},
};
use libfuzzer_sys::fuzz_target;

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP_ID: &str = "wx2c2769f8efd9abc2";
const TOKEN: &str = "spamtest";

fuzz_target!(|data: &[u8]| {
    let Ok(c) = Crypt::new(KEY, APP_ID) else { return };
    // 1. The bytes as the POST body, signed as WeChat would sign it.
    if let Ok(enc) = crypto::envelope(data) {
        let sig = crypto::msg_signature(TOKEN, "1", "n", &enc);
        let s = Signed { timestamp: "1", nonce: "n", msg_signature: &sig };
        if let Ok(m) = crypto::open(&c, TOKEN, &s, data) {
            let _ = m.dedup_key();
        }
        let _ = c.decrypt(&enc);
    }
    // 2. The bytes as the message inside: sealed, then opened (while the envelope stays
    // within MAX_XML_BYTES).
    if let Ok(text) = std::str::from_utf8(data).map_err(drop).and_then(|t| {
        if t.len() <= 16 * 1024 { Ok(t) } else { Err(()) }
    }) {
        let mut random = [0u8; 16];
        for (r, b) in random.iter_mut().zip(data) {
            *r = *b;
        }
        let sealed = crypto::seal(&c, TOKEN, 1, "n", &random, text);
        let enc = crypto::envelope(sealed.as_bytes()).expect("our own envelope parses");
        assert_eq!(c.decrypt(&enc).as_deref(), Ok(data), "decrypt(encrypt(x)) == x");
        let sig = crypto::msg_signature(TOKEN, "1", "n", &enc);
        let s = Signed { timestamp: "1", nonce: "n", msg_signature: &sig };
        let opened = crypto::open(&c, TOKEN, &s, sealed.as_bytes());
        match wechat::parse(data) {
            Ok(m) => assert_eq!(opened, Ok(m)),
            Err(_) => assert!(opened.is_err()),
        }
    }
    // 3. The bytes as a decrypted frame (cut to whole AES blocks).
    let whole = &data[..data.len() - data.len() % 16];
    if let Some(enc) = c.encrypt_raw(whole) {
        let _ = c.decrypt(&enc);
    }
    // And as an EncodingAESKey.
    if let Ok(k) = std::str::from_utf8(data) {
        let _ = crypto::parse_key(k);
    }
});
