//! WeChat safe mode (安全模式) and compatible mode (兼容模式): the message crypto WeChat calls
//! WXBizMsgCrypt.
//!
//! - The EncodingAESKey an admin copies from the official account's server settings is 43
//!   base64 characters; the AES key is `base64_decode(key + "=")`, 32 bytes ([`Crypt::new`]).
//!   WeChat draws the 43 characters at random, so the last one may carry non-zero trailing
//!   bits: they are ignored, as WeChat's own samples do.
//! - A message is encrypted as AES-256-CBC with the IV the first 16 bytes of the key, over
//!   `16 random bytes ‖ message length (4 bytes, big-endian) ‖ message ‖ AppID`, padded with
//!   PKCS#7 to a 32-byte block, and sent base64-encoded ([`Crypt::encrypt`]).
//! - Decryption checks the padding, the length and that the trailing AppID is the channel's
//!   ([`Crypt::decrypt`]).
//! - `msg_signature` is the SHA-1 hex of the sorted concatenation of the token, timestamp,
//!   nonce and the `Encrypt` value ([`msg_signature`]); it is checked before anything is
//!   decrypted.
//! - An encrypted push is `<xml><ToUserName/><Encrypt/></xml>` (in compatible mode the
//!   plaintext fields come along; only the encrypted copy is trusted): [`open`] checks,
//!   decrypts and parses it. An encrypted passive reply is
//!   `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>` ([`seal`]).
//!
//! Pure functions that never panic on any input (fuzzed: `fuzz/fuzz_targets/wechat_aes.rs`).
//! The random prefix of a message is the caller's, so this module needs no randomness.

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};

use super::{Error, Incoming};

/// The length of an EncodingAESKey.
pub const KEY_CHARS: usize = 43;
/// WXBizMsgCrypt's PKCS#7 block (not AES's 16 bytes).
const PAD_BLOCK: usize = 32;
/// The longest `Encrypt` value accepted: an encrypted message of up to
/// [`super::MAX_XML_BYTES`] is about 4/3 of that.
const MAX_ENCRYPT_CHARS: usize = super::MAX_XML_BYTES * 2;

/// Standard base64 that, like WeChat's samples, ignores the trailing bits of the last
/// character and does not insist on `=` padding.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type Enc = cbc::Encryptor<aes::Aes256>;
type Dec = cbc::Decryptor<aes::Aes256>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "the EncodingAESKey must be {KEY_CHARS} characters of base64 (A-Z, a-z, 0-9, + and /), as the official account's server settings show it"
    )]
    BadKey,
    #[error("the msg_signature does not match")]
    Signature,
    #[error("the encrypted message is not valid base64")]
    Base64,
    #[error("the encrypted message is empty, too long, or not whole AES blocks")]
    Length,
    #[error("the encrypted message does not decrypt (bad padding): is the EncodingAESKey right?")]
    Padding,
    #[error("the decrypted message is malformed: {0}")]
    Malformed(&'static str),
    #[error("the encrypted message is for another AppID than this channel's")]
    AppId,
}

/// Checks an EncodingAESKey and returns the AES key.
pub fn parse_key(encoding_aes_key: &str) -> Result<[u8; 32], CryptoError> {
    let k = encoding_aes_key.as_bytes();
    if k.len() != KEY_CHARS
        || !k.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
    {
        return Err(CryptoError::BadKey);
    }
    let raw = B64.decode(k).map_err(|_| CryptoError::BadKey)?;
    raw.try_into().map_err(|_| CryptoError::BadKey)
}

/// One channel's message crypto: its AES key and AppID.
#[derive(Clone)]
pub struct Crypt {
    key: [u8; 32],
    app_id: String,
}

impl std::fmt::Debug for Crypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypt").field("key", &"***").field("app_id", &self.app_id).finish()
    }
}

impl Crypt {
    pub fn new(encoding_aes_key: &str, app_id: &str) -> Result<Crypt, CryptoError> {
        Ok(Crypt { key: parse_key(encoding_aes_key)?, app_id: app_id.to_string() })
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    /// Encrypts `msg` with the caller's 16 random bytes; the base64 `Encrypt` value.
    pub fn encrypt(&self, random: &[u8; 16], msg: &[u8]) -> String {
        let mut buf = Vec::with_capacity(16 + 4 + msg.len() + self.app_id.len() + PAD_BLOCK);
        buf.extend_from_slice(random);
        // Messages are bounded far below 4 GiB (MAX_XML_BYTES).
        buf.extend_from_slice(&u32::try_from(msg.len()).unwrap_or(u32::MAX).to_be_bytes());
        buf.extend_from_slice(msg);
        buf.extend_from_slice(self.app_id.as_bytes());
        let pad = PAD_BLOCK - buf.len() % PAD_BLOCK;
        buf.resize(buf.len() + pad, pad as u8);
        self.encrypt_blocks(buf)
    }

    /// Encrypts `bytes` exactly as given, without framing or padding: what a broken or
    /// hostile sender could produce. `None` unless a whole number of 16-byte blocks. For
    /// tests and the fuzz target.
    #[doc(hidden)]
    pub fn encrypt_raw(&self, bytes: &[u8]) -> Option<String> {
        bytes.len().is_multiple_of(16).then(|| self.encrypt_blocks(bytes.to_vec()))
    }

    fn encrypt_blocks(&self, mut buf: Vec<u8>) -> String {
        let (blocks, _) = aes::Block::slice_as_chunks_mut(&mut buf);
        Enc::new(&self.key.into(), &self.iv().into()).encrypt_blocks(blocks);
        B64.encode(&buf)
    }

    /// Decrypts an `Encrypt` value (or an encrypted `echostr`): the message, once the
    /// padding, the length and the AppID check out.
    pub fn decrypt(&self, encrypt: &str) -> Result<Vec<u8>, CryptoError> {
        let encrypt = encrypt.trim();
        if encrypt.len() > MAX_ENCRYPT_CHARS {
            return Err(CryptoError::Length);
        }
        let mut buf = B64.decode(encrypt).map_err(|_| CryptoError::Base64)?;
        if buf.is_empty() || !buf.len().is_multiple_of(16) {
            return Err(CryptoError::Length);
        }
        let (blocks, _) = aes::Block::slice_as_chunks_mut(&mut buf);
        Dec::new(&self.key.into(), &self.iv().into()).decrypt_blocks(blocks);
        let msg = unframe(&buf, self.app_id.as_bytes())?;
        Ok(msg.to_vec())
    }
}

/// Strips the padding, the random prefix, the length and the AppID of a decrypted frame.
fn unframe<'a>(plain: &'a [u8], app_id: &[u8]) -> Result<&'a [u8], CryptoError> {
    let pad = usize::from(*plain.last().ok_or(CryptoError::Padding)?);
    if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
        return Err(CryptoError::Padding);
    }
    let (body, padding) = plain.split_at(plain.len() - pad);
    if padding.iter().any(|&b| usize::from(b) != pad) {
        return Err(CryptoError::Padding);
    }
    let rest = body.get(16..).ok_or(CryptoError::Malformed("shorter than its random prefix"))?;
    let (len, rest) =
        rest.split_first_chunk::<4>().ok_or(CryptoError::Malformed("no message length"))?;
    let len = usize::try_from(u32::from_be_bytes(*len)).unwrap_or(usize::MAX);
    if len > rest.len() {
        return Err(CryptoError::Malformed("the message length is past its end"));
    }
    let (msg, from_app) = rest.split_at(len);
    if from_app != app_id {
        return Err(CryptoError::AppId);
    }
    Ok(msg)
}

/// SHA-1 hex of the sorted concatenation of `token`, `timestamp`, `nonce` and `encrypt`.
pub fn msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    super::sorted_sha1([token, timestamp, nonce, encrypt])
}

/// Whether `sig` is the `msg_signature` of the other four.
pub fn verify_msg_signature(
    token: &str,
    timestamp: &str,
    nonce: &str,
    encrypt: &str,
    sig: &str,
) -> bool {
    crate::sign::constant_eq(
        msg_signature(token, timestamp, nonce, encrypt).as_bytes(),
        sig.trim().to_ascii_lowercase().as_bytes(),
    )
}

/// The `Encrypt` value of an encrypted push.
pub fn envelope(body: &[u8]) -> Result<String, Error> {
    if body.len() > super::MAX_XML_BYTES {
        return Err(Error::TooLarge);
    }
    let text = std::str::from_utf8(body).map_err(|_| Error::Syntax("not UTF-8"))?;
    let fields = super::read_fields(text)?;
    let enc = fields.into_iter().find(|(k, _)| k == "Encrypt").map(|(_, v)| v);
    enc.filter(|v| !v.trim().is_empty()).ok_or(Error::Missing("Encrypt"))
}

/// The query parameters that authenticate an encrypted push.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub timestamp: &'a str,
    pub nonce: &'a str,
    pub msg_signature: &'a str,
}

/// An encrypted push: checks `msg_signature` over its `Encrypt`, decrypts it (AppID
/// included) and parses the message inside.
pub fn open(crypt: &Crypt, token: &str, s: &Signed<'_>, body: &[u8]) -> Result<Incoming, Error> {
    let enc = envelope(body)?;
    if !verify_msg_signature(token, s.timestamp, s.nonce, &enc, s.msg_signature) {
        return Err(CryptoError::Signature.into());
    }
    let xml = crypt.decrypt(&enc)?;
    match super::parse(&xml) {
        // An envelope inside an envelope is not a message.
        Err(Error::Encrypted) => Err(Error::Missing("MsgType")),
        r => r,
    }
}

/// The encrypted form of a passive reply document, signed for `timestamp` and `nonce`.
pub fn seal(
    crypt: &Crypt,
    token: &str,
    timestamp: i64,
    nonce: &str,
    random: &[u8; 16],
    reply_xml: &str,
) -> String {
    let enc = crypt.encrypt(random, reply_xml.as_bytes());
    let ts = timestamp.to_string();
    let sig = msg_signature(token, &ts, nonce, &enc);
    format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature><TimeStamp>{ts}</TimeStamp><Nonce>{}</Nonce></xml>",
        super::cdata(&enc),
        super::cdata(&sig),
        super::cdata(nonce)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wechat::{Kind, read_fields};

    // Fixed vectors made once with wechatpy 1.8.18 (`wechatpy.crypto.WeChatCrypto`, the
    // `cryptography` backend), with its random prefix pinned, in the venv that
    // scripts/test-peers.sh makes:
    //
    //   from wechatpy.crypto import WeChatCrypto, PrpCrypto
    //   PrpCrypto.get_random_string = lambda self: '0123456789abcdef'
    //   c = WeChatCrypto('spamtest', 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    //                    'wx2c2769f8efd9abc2')
    //   c.encrypt_message(MSG, 'nonce123', '1700000000')     # TEXT_ENCRYPT, TEXT_SIGNATURE
    //   c.encrypt_message('x' * 26, 'n', '1')                 # FULL_ENCRYPT, FULL_SIGNATURE
    //   PrpCrypto(c.key).encrypt('echo-中文-123', 'wx2c2769f8efd9abc2')   # ECHO_ENCRYPT
    //
    // The key and AppID are those of WeChat's own WXBizMsgCrypt sample; the key's last
    // character (G) has non-zero trailing bits.
    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const APP_ID: &str = "wx2c2769f8efd9abc2";
    const TOKEN: &str = "spamtest";
    const RANDOM: &[u8; 16] = b"0123456789abcdef";
    const MSG: &str = "<xml><ToUserName><![CDATA[gh_acme]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[我的订单还没到]]></Content><MsgId>42</MsgId></xml>";
    const TEXT_ENCRYPT: &str = "Q3stYC6hdFzMh9T8HCvyDK6LPAAq9H47mukvNCtkXrJ1COiHIvoEH8H/QuFJ0UW8SSwb6YzHdf6f9P879dfgFRl+iboMce7WY7o20J9CWX4h6cj8/rEO/KZJ0dDioAySoDjhVZ2Sssc1/7+orm+63TE8Uug0hL7sEX8olcKMNL02Bk4VjdJ0oFvl7wASUsNMvtKgIRGTpQbgo0pp//jVjzVyvunKEI1onOXyA5xgjZLTRxM6EEFVFpeIflIKkUIokiPg0i6CjgsvkXLQu2ibhZwvJecHxojdw+4D+zVKw0AtH8pzo5a33WVfSQmO9nc5ubhBxN23NJjPR4vRFyK2wNeYWbUn8pZ5SMHuyV3PE6IeH1isVDSEx6W4P6ID9qcl";
    const TEXT_SIGNATURE: &str = "92522239b9c01321f150a15bc66e045ec2eb71ff";
    const FULL_ENCRYPT: &str = "Q3stYC6hdFzMh9T8HCvyDHDxbrF7f8TfmYxXSN1y2Vbjja9RgRLcXPjzJF67v90VqCI+oP5AvFesm/TURLI/KnnssYnLjpENg6/duBVJqNyjkC8Cg82uz8tPptv2yfPm";
    const FULL_SIGNATURE: &str = "9b5c162e24c39b144869bc3dbcb51c702f8bbfcc";
    const ECHO_ENCRYPT: &str =
        "Q3stYC6hdFzMh9T8HCvyDMxRpSb9J7tapmSuQYR8KPQgs3m1/b1v00Jy6qLF28zA+tIxCm3k0lvbjo6z5rto8w==";

    fn crypt() -> Crypt {
        Crypt::new(KEY, APP_ID).unwrap()
    }

    #[test]
    fn matches_wechatpy_both_ways() {
        let c = crypt();
        assert_eq!(c.encrypt(RANDOM, MSG.as_bytes()), TEXT_ENCRYPT);
        assert_eq!(c.decrypt(TEXT_ENCRYPT).unwrap(), MSG.as_bytes());
        assert_eq!(msg_signature(TOKEN, "1700000000", "nonce123", TEXT_ENCRYPT), TEXT_SIGNATURE);
        // 16 + 4 + 26 + 18 bytes is two whole blocks: a whole block of padding follows.
        let full = "x".repeat(26);
        assert_eq!(c.encrypt(RANDOM, full.as_bytes()), FULL_ENCRYPT);
        assert_eq!(c.decrypt(FULL_ENCRYPT).unwrap(), full.as_bytes());
        assert_eq!(msg_signature(TOKEN, "1", "n", FULL_ENCRYPT), FULL_SIGNATURE);
        assert_eq!(c.decrypt(ECHO_ENCRYPT).unwrap(), "echo-中文-123".as_bytes());
        assert!(verify_msg_signature(
            TOKEN,
            "1",
            "n",
            FULL_ENCRYPT,
            &FULL_SIGNATURE.to_uppercase()
        ));
        assert!(!verify_msg_signature(TOKEN, "2", "n", FULL_ENCRYPT, FULL_SIGNATURE));
    }

    #[test]
    fn opens_a_push_and_seals_a_reply() {
        let c = crypt();
        let body = format!(
            "<xml><ToUserName><![CDATA[gh_acme]]></ToUserName><Encrypt><![CDATA[{TEXT_ENCRYPT}]]></Encrypt></xml>"
        );
        let s =
            Signed { timestamp: "1700000000", nonce: "nonce123", msg_signature: TEXT_SIGNATURE };
        let m = open(&c, TOKEN, &s, body.as_bytes()).unwrap();
        assert_eq!((m.account.as_str(), m.openid.as_str()), ("gh_acme", "oUser1"));
        assert_eq!(m.kind, Kind::Text { content: "我的订单还没到".into() });

        let bad = Signed { msg_signature: FULL_SIGNATURE, ..s };
        assert_eq!(open(&c, TOKEN, &bad, body.as_bytes()), Err(CryptoError::Signature.into()));
        assert_eq!(open(&c, "other", &s, body.as_bytes()), Err(CryptoError::Signature.into()));

        let reply = seal(&c, TOKEN, 1_700_000_001, "nonce123", RANDOM, "<xml>回复</xml>");
        let f = read_fields(&reply).unwrap();
        let get = |n: &str| f.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("TimeStamp"), "1700000001");
        assert_eq!(get("Nonce"), "nonce123");
        assert_eq!(
            get("MsgSignature"),
            msg_signature(TOKEN, "1700000001", "nonce123", &get("Encrypt"))
        );
        assert_eq!(c.decrypt(&get("Encrypt")).unwrap(), "<xml>回复</xml>".as_bytes());
    }

    #[test]
    fn keys() {
        assert!(parse_key(KEY).is_ok());
        for bad in [
            "",
            &KEY[1..],
            &format!("{KEY}A"),
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF=",
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF-",
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF中",
        ] {
            assert_eq!(parse_key(bad), Err(CryptoError::BadKey), "{bad:?}");
        }
        assert!(!format!("{:?}", crypt()).contains(KEY));
    }

    #[test]
    fn refuses_what_does_not_decrypt() {
        let c = crypt();
        let other = Crypt::new(KEY, "wx_other").unwrap();
        let wrong_key = Crypt::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop0", APP_ID).unwrap();
        let pad = |len: usize, n: u8| {
            let mut v = vec![b'x'; len];
            v.extend(std::iter::repeat_n(n, usize::from(n)));
            v
        };
        // Claims 1000 bytes of message in a 64-byte frame.
        let mut long = b"0123456789abcdef".to_vec();
        long.extend_from_slice(&1000u32.to_be_bytes());
        long.extend_from_slice(&pad(44 - 16 - 4, 20)[..]);
        let cases: Vec<(&str, String)> = vec![
            ("AppID", other.encrypt(RANDOM, b"<xml/>")),
            ("base64", "%%%".into()),
            ("empty", String::new()),
            ("not blocks", "AAAA".into()),
            ("wrong key", wrong_key.encrypt(RANDOM, b"<xml/>")),
            ("zero pad", c.encrypt_raw(&[0u8; 32]).unwrap()),
            ("pad > 32", c.encrypt_raw(&pad(31, 33)[..64]).unwrap()),
            ("uneven pad", c.encrypt_raw(&[&[7u8; 31][..], &[2u8]].concat()).unwrap()),
            ("short", c.encrypt_raw(&pad(0, 16)).unwrap()),
            ("no length", c.encrypt_raw(&pad(18, 14)).unwrap()),
            ("long", c.encrypt_raw(&long).unwrap()),
            ("too long", "A".repeat(MAX_ENCRYPT_CHARS + 4)),
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|(what, e)| format!("{what}: {}", c.decrypt(e).unwrap_err()))
            .collect();
        expect_test::expect![[r#"
            [
                "AppID: the encrypted message is for another AppID than this channel's",
                "base64: the encrypted message is not valid base64",
                "empty: the encrypted message is empty, too long, or not whole AES blocks",
                "not blocks: the encrypted message is empty, too long, or not whole AES blocks",
                "wrong key: the encrypted message does not decrypt (bad padding): is the EncodingAESKey right?",
                "zero pad: the encrypted message does not decrypt (bad padding): is the EncodingAESKey right?",
                "pad > 32: the encrypted message does not decrypt (bad padding): is the EncodingAESKey right?",
                "uneven pad: the encrypted message does not decrypt (bad padding): is the EncodingAESKey right?",
                "short: the decrypted message is malformed: shorter than its random prefix",
                "no length: the decrypted message is malformed: no message length",
                "long: the decrypted message is malformed: the message length is past its end",
                "too long: the encrypted message is empty, too long, or not whole AES blocks",
            ]
        "#]]
        .assert_debug_eq(&out);
    }

    #[test]
    fn envelopes() {
        assert_eq!(envelope(b"<xml><Encrypt>abc</Encrypt></xml>"), Ok("abc".into()));
        assert_eq!(envelope(b"<xml><Encrypt> </Encrypt></xml>"), Err(Error::Missing("Encrypt")));
        assert_eq!(envelope(b"<xml><MsgType>text</MsgType></xml>"), Err(Error::Missing("Encrypt")));
        assert!(matches!(envelope(b"<xml>"), Err(Error::Syntax(_))));
        // An envelope whose plaintext is itself an envelope is not a message.
        let c = crypt();
        let inner = format!("<xml><Encrypt>{TEXT_ENCRYPT}</Encrypt></xml>");
        let enc = c.encrypt(RANDOM, inner.as_bytes());
        let sig = msg_signature(TOKEN, "1", "n", &enc);
        let body = format!("<xml><Encrypt>{enc}</Encrypt></xml>");
        let s = Signed { timestamp: "1", nonce: "n", msg_signature: &sig };
        assert_eq!(open(&c, TOKEN, &s, body.as_bytes()), Err(Error::Missing("MsgType")));
    }
}
