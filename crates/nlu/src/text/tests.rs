//! Folding and cutting.

use super::*;

#[test]
fn folds_width_case_and_separators() {
    assert_eq!(fold("ＡＢＣ１２３，Hello!!  World"), "abc123 hello world");
    assert_eq!(fold("I don't   know"), "i don't know");
    assert_eq!(fold("我的iPhone充不进电了？？"), "我的iphone充不进电了");
    assert_eq!(fold(""), "");
    assert_eq!(fold("!!! 😀 ???"), "");
}

#[test]
fn cuts_by_script() {
    let f = fold("我要refund 123元");
    assert_eq!(
        pieces(&f),
        vec![Piece::Cjk("我要"), Piece::Word("refund"), Piece::Number("123"), Piece::Cjk("元")]
    );
}

#[test]
fn segments_chinese_words() {
    let seg = Segmenter::default();
    let folded = fold("我的订单还没到，refund 一下");
    let words = seg.words(&folded);
    assert!(words.contains(&"订单"), "{words:?}");
    assert!(words.contains(&"refund"), "{words:?}");
    assert_eq!(words.concat(), "我的订单还没到refund一下");
}

#[test]
fn never_panics_on_garbage() {
    let seg = Segmenter::default();
    let garbage =
        String::from_utf8_lossy(&(0..=255u8).cycle().take(70_000).collect::<Vec<_>>()).into_owned();
    for t in [garbage.as_str(), "\u{0301}\u{0301}a\u{0301}", "𠀀𠀁𪚥", "ﾟ∀ﾟ"] {
        let f = fold(t);
        assert!(f.chars().count() <= MAX_CHARS);
        let _ = seg.words(&f);
    }
}
