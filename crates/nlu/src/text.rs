//! Normalisation and tokenisation shared by every model.
//!
//! Text is folded before anything looks at it: full-width forms become ASCII, Latin letters
//! lower-case, and runs of anything that is not a letter or digit become one space. The folded
//! text is then cut into pieces by script: Latin words, digit runs, and runs of CJK characters
//! (which the segmenter cuts further into words).

use jieba_rs::Jieba;

/// The longest input, in chars, that models look at. Customer messages are far shorter; the
/// cap keeps the cost of one analysis bounded whatever arrives.
pub const MAX_CHARS: usize = 2000;

/// Folds `text` for matching: full-width to ASCII, lower-case, separators to single spaces.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS * 3));
    let mut pending_space = false;
    for c in text.chars().take(MAX_CHARS) {
        let c = fold_char(c);
        if c.is_alphanumeric() || is_cjk(c) {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            for l in c.to_lowercase() {
                out.push(l);
            }
        } else if c == '\''
            && !pending_space
            && out.chars().last().is_some_and(|p| p.is_ascii_alphabetic())
        {
            // Keep apostrophes inside English words ("don't", "card's").
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    out
}

/// Folds `text` lightly, for character n-grams: full-width to ASCII, lower-case, runs of white
/// space to one space; punctuation and symbols stay.
pub fn light_fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS * 3));
    let mut space = false;
    for c in text.chars().take(MAX_CHARS) {
        let c = fold_char(c);
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        for l in c.to_lowercase() {
            out.push(l);
        }
    }
    out
}

/// Full-width ASCII forms and the ideographic space map to their ASCII equivalents.
pub fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Han ideographs (with the extensions customers actually type) and the CJK symbols used as
/// words; kana and hangul count too, since they are cut the same way.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{20000}'..='\u{2A6DF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{3040}'..='\u{30FF}'
        | '\u{AC00}'..='\u{D7AF}')
}

/// A piece of folded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Letters of a non-CJK script (with inner apostrophes), possibly with digits.
    Word(&'a str),
    /// Only digits.
    Number(&'a str),
    /// A run of CJK characters.
    Cjk(&'a str),
}

/// Cuts folded text into pieces by script; spaces separate pieces and are dropped.
pub fn pieces(folded: &str) -> Vec<Piece<'_>> {
    #[derive(PartialEq, Clone, Copy)]
    enum Kind {
        Word,
        Cjk,
    }
    let mut out = Vec::new();
    let mut start = None::<(usize, Kind)>;
    fn push<'a>(out: &mut Vec<Piece<'a>>, s: &'a str, kind: Kind) {
        out.push(match kind {
            Kind::Cjk => Piece::Cjk(s),
            Kind::Word if s.bytes().all(|b| b.is_ascii_digit()) => Piece::Number(s),
            Kind::Word => Piece::Word(s),
        });
    }
    for (i, c) in folded.char_indices() {
        let kind = if c == ' ' {
            None
        } else if is_cjk(c) {
            Some(Kind::Cjk)
        } else {
            Some(Kind::Word)
        };
        match (start, kind) {
            (Some((_, k)), Some(k2)) if k == k2 => {}
            (Some((s, k)), _) => {
                push(&mut out, &folded[s..i], k);
                start = kind.map(|k| (i, k));
            }
            (None, Some(k)) => start = Some((i, k)),
            (None, None) => {}
        }
    }
    if let Some((s, k)) = start {
        push(&mut out, &folded[s..], k);
    }
    out
}

/// The Chinese word segmenter. Building it parses jieba's dictionary (tens of milliseconds), so
/// build one per process and share it; it is immutable afterwards.
pub struct Segmenter {
    jieba: Jieba,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Segmenter")
    }
}

impl Default for Segmenter {
    fn default() -> Self {
        Segmenter { jieba: Jieba::new() }
    }
}

impl Segmenter {
    /// Words of a CJK run, in order.
    pub fn cut<'a>(&self, run: &'a str) -> Vec<&'a str> {
        self.jieba.cut(run, true).into_iter().map(|t| t.word).collect()
    }

    /// Words of folded text: Latin words and numbers as they are, CJK runs cut by jieba.
    pub fn words<'a>(&self, folded: &'a str) -> Vec<&'a str> {
        let mut out = Vec::new();
        for p in pieces(folded) {
            match p {
                Piece::Word(w) | Piece::Number(w) => out.push(w),
                Piece::Cjk(run) => out.extend(self.cut(run)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
