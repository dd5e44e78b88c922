"""WeChat's side of safe and compatible mode, played by wechatpy (an independent WXBizMsgCrypt).

Run by crates/huiting/tests/it/channels.rs with the venv python of scripts/test-peers.sh. Reads
one JSON document on stdin: {base, token, key, app_id, ts, safe, compatible, plaintext} (the
last three are channel ids) and calls the running Huiting the way WeChat's servers do:
encrypted URL verification, encrypted pushes, tampered ones, plaintext ones. Prints one JSON
object: for each step, the HTTP status, the body and, for an encrypted passive reply, what
wechatpy decrypted from it (or the exception it raised). The Rust test asserts on it.
"""

import base64
import hashlib
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
import xmltodict

cfg = json.load(sys.stdin)
BASE, TOKEN, KEY, APP_ID, TS = cfg["base"], cfg["token"], cfg["key"], cfg["app_id"], str(cfg["ts"])
crypto = WeChatCrypto(TOKEN, KEY, APP_ID)
report = {}


def sha1_sorted(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def call(method, channel, query, body=None):
    url = f"{BASE}/api/v1/channels/{channel}/wechat?{urllib.parse.urlencode(query)}"
    data = body.encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "text/xml"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def push(channel, xml, nonce, crypt=crypto, tamper=None):
    """An encrypted push as WeChat sends it: the envelope, signature and msg_signature."""
    envelope = crypt.encrypt_message(xml, nonce, TS)
    fields = xmltodict.parse(envelope)["xml"]
    encrypt, msg_sig = fields["Encrypt"], fields["MsgSignature"]
    if tamper == "ciphertext":
        # A flipped bit in the next-to-last block flips the same bit of the last plaintext
        # byte (the padding); signed again, so it gets past msg_signature to the AES layer.
        raw = bytearray(base64.b64decode(encrypt))
        raw[-17] ^= 0x01
        encrypt = base64.b64encode(bytes(raw)).decode()
        msg_sig = sha1_sorted(TOKEN, TS, nonce, encrypt)
    if tamper == "signature":
        msg_sig = "0" + msg_sig[1:] if msg_sig[0] != "0" else "1" + msg_sig[1:]
    body = f"<xml><ToUserName><![CDATA[gh_acme]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    q = {
        "signature": sha1_sorted(TOKEN, TS, nonce),
        "timestamp": TS,
        "nonce": nonce,
        "openid": "oSafe1",
        "encrypt_type": "aes",
        "msg_signature": msg_sig,
    }
    return call("POST", channel, q, body)


def opened(status, body):
    """What wechatpy makes of an encrypted passive reply."""
    out = {"status": status, "body": body}
    if status == 200 and "<Encrypt>" in body:
        fields = xmltodict.parse(body)["xml"]
        try:
            xml = crypto.decrypt_message(body, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
            out["reply"] = xmltodict.parse(xml)["xml"]
        except (InvalidSignatureException, InvalidAppIdException) as e:
            out["reply_error"] = type(e).__name__
    return out


def text(openid, msg_id, content):
    return (
        f"<xml><ToUserName><![CDATA[gh_acme]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{TS}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


SUBSCRIBE = (
    "<xml><ToUserName><![CDATA[gh_acme]]></ToUserName><FromUserName><![CDATA[oSafe1]]></FromUserName>"
    f"<CreateTime>{TS}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>"
)

# —— safe mode ——
safe = cfg["safe"]
# URL verification, encrypted echostr (with msg_signature) and plaintext (official accounts).
echo_plain = "echo-安全-7781"
echostr = PrpCrypto(crypto.key).encrypt(echo_plain, APP_ID).decode()
q = {"msg_signature": sha1_sorted(TOKEN, TS, "vn1", echostr), "timestamp": TS, "nonce": "vn1", "echostr": echostr}
report["verify_encrypted"] = dict(zip(("status", "body"), call("GET", safe, q)))
report["verify_encrypted_expected"] = echo_plain
q["msg_signature"] = sha1_sorted(TOKEN, TS, "vn2", echostr)
report["verify_tampered"] = dict(zip(("status", "body"), call("GET", safe, q)))
q = {"signature": sha1_sorted(TOKEN, TS, "vn3"), "timestamp": TS, "nonce": "vn3", "echostr": "plain-echo"}
report["verify_plain"] = dict(zip(("status", "body"), call("GET", safe, q)))

report["subscribe"] = opened(*push(safe, SUBSCRIBE, "sn1"))
report["text"] = opened(*push(safe, text("oSafe1", 9001, "安全模式的消息"), "sn2"))
report["retry"] = opened(*push(safe, text("oSafe1", 9001, "安全模式的消息"), "sn3"))
report["bad_signature"] = opened(*push(safe, text("oSafe1", 9002, "篡改签名"), "sn4", tamper="signature"))
report["bad_ciphertext"] = opened(*push(safe, text("oSafe1", 9003, "篡改密文"), "sn5", tamper="ciphertext"))
report["wrong_appid"] = opened(
    *push(safe, text("oSafe1", 9004, "别的公众号"), "sn6", crypt=WeChatCrypto(TOKEN, KEY, "wx_someone_else"))
)
q = {"signature": sha1_sorted(TOKEN, TS, "sn7"), "timestamp": TS, "nonce": "sn7"}
report["plaintext_to_safe"] = opened(*call("POST", safe, q, text("oSafe1", 9005, "明文消息")))

# —— compatible mode: both forms, the reply in the form received ——
compat = cfg["compatible"]
report["compat_plain_subscribe"] = opened(*call("POST", compat, {"signature": sha1_sorted(TOKEN, TS, "cn1"), "timestamp": TS, "nonce": "cn1"}, SUBSCRIBE.replace("oSafe1", "oCompat1")))
report["compat_encrypted_subscribe"] = opened(*push(compat, SUBSCRIBE.replace("oSafe1", "oCompat2"), "cn2"))
report["compat_encrypted_text"] = opened(*push(compat, text("oCompat2", 9101, "兼容模式加密"), "cn3"))
report["compat_plain_text"] = opened(*call("POST", compat, {"signature": sha1_sorted(TOKEN, TS, "cn4"), "timestamp": TS, "nonce": "cn4"}, text("oCompat1", 9102, "兼容模式明文")))

# —— plaintext mode refuses encrypted pushes ——
report["encrypted_to_plaintext"] = opened(*push(cfg["plaintext"], text("oPlain1", 9201, "加密"), "pn1"))

print(json.dumps(report, ensure_ascii=False))
