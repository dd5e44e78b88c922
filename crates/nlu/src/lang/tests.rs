//! Tests for language detection: a table of messages and the expected language code.

use expect_test::expect;

use super::*;

fn check(cases: &[(&str, &str)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|&(text, want)| {
            let got = detect(text).code();
            (got != want).then(|| format!("{text:?}: want {want}, got {got}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn chinese() {
    check(&[
        ("我的订单还没到", "zh"),
        ("退款", "zh"),
        ("好", "zh"),
        ("我的iPhone充不进电", "zh"),
        ("我要refund", "zh"),
        ("iPhone 15 Pro 怎么退货", "zh"),
        ("订单号DD20261102001还没发货", "zh"),
        ("OK 好的 谢谢", "zh"),
        ("我們的訂單還沒到", "zh"),
        ("東京", "zh"),
    ]);
}

#[test]
fn english() {
    check(&[
        ("hi", "en"),
        ("ok", "en"),
        ("refund please", "en"),
        ("where is my order", "en"),
        ("Where is my order DD20261102001?", "en"),
        ("I want a refund for my broken headphones", "en"),
        ("please check my 订单 status today", "en"),
        ("merci", "en"),
        ("ｒｅｆｕｎｄ ｐｌｅａｓｅ", "en"),
        ("The package arrived damaged and the box was open", "en"),
        ("package damaged, box crushed, screen cracked", "en"),
        ("Customer service never answered emails", "en"),
        ("Can I change delivery address", "en"),
        ("Thanks a lot guys", "en"),
        ("Great product but late delivery", "en"),
        ("broken headphones need replacement asap", "en"),
    ]);
}

#[test]
fn japanese_and_korean() {
    check(&[
        ("注文した商品がまだ届きません", "ja"),
        ("ありがとう", "ja"),
        ("アイフォン", "ja"),
        ("iPhoneの充電ができません", "ja"),
        ("주문한 상품이 아직 안 왔어요", "ko"),
        ("감사합니다", "ko"),
        ("아이폰 refund 해주세요", "ko"),
    ]);
}

#[test]
fn other_languages() {
    check(&[
        ("Bonjour, je voudrais un remboursement pour ma commande", "fr"),
        ("Hallo, ich möchte meine Bestellung stornieren bitte", "de"),
        ("Hola, quiero devolver mi pedido porque llegó roto", "es"),
        ("Здравствуйте, где мой заказ?", "ru"),
        ("مرحبا، أين طلبي؟", "ar"),
        ("สวัสดีครับ สินค้ายังไม่มาถึง", "th"),
        ("Tôi muốn hoàn tiền", "vi"),
        ("Je ne suis pas content", "fr"),
        ("Wo ist mein Paket", "de"),
        ("Dove è il mio ordine", "it"),
        ("Onde está o meu pedido", "pt"),
        ("Где мой заказ", "ru"),
        // Too short or too English to be anything but English.
        ("ciao", "en"),
        ("no problem", "en"),
    ]);
}

#[test]
fn nothing_to_detect() {
    check(&[
        ("", "und"),
        ("   ", "und"),
        ("？！。，", "und"),
        ("🙂👍🎉", "und"),
        ("13800138000", "und"),
        ("１２３", "und"),
        ("\u{301}\u{301}", "und"),
        ("¥200 2026-11-02", "und"),
    ]);
}

#[test]
fn codes() {
    let langs = [Lang::Zh, Lang::En, Lang::Ja, Lang::Ko, Lang::Other("fr"), Lang::Unknown];
    let codes: Vec<&str> = langs.iter().map(Lang::code).collect();
    expect![[r#"["zh", "en", "ja", "ko", "fr", "und"]"#]].assert_eq(&format!("{codes:?}"));
    for list in [ENGLISH_WORDS, FOREIGN_WORDS] {
        assert!(list.windows(2).all(|w| w[0] < w[1]), "word lists must stay sorted: {list:?}");
    }
    assert!(FOREIGN_WORDS.iter().all(|w| !ENGLISH_WORDS.contains(w)));
}

#[test]
fn never_panics() {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for len in 0..300 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let _ = detect(&String::from_utf8_lossy(&bytes));
    }
    for text in [
        "a".repeat(1_000_000),
        "我".repeat(300_000),
        "\u{301}".repeat(100_000),
        "🙂".repeat(100_000),
        "Привет мир ".repeat(50_000),
    ] {
        let _ = detect(&text);
    }
}
