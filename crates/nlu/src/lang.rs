//! Language detection, tuned for customer-service messages: short, often Chinese with English
//! product names mixed in ("我的iPhone充不进电" is Chinese), often a few English words ("refund
//! please").
//!
//! Scripts decide first: Han, kana and Hangul are counted per character, Latin and other scripts
//! per word, and the larger side wins (CJK needs more than half the Latin word count, so "我要
//! refund" is Chinese and "please check my 订单 status" English). Within CJK, Hangul means Korean
//! and a tenth or more of kana means Japanese; the rest is Chinese. Latin text is English unless
//! whatlang is reliably sure of another language, the text has at least four words (two with
//! non-English letters such as "é") and few of them are common English words. Other scripts go to
//! whatlang. No letters at all (digits, punctuation, emoji) is `Unknown`.
//!
//! Only the first few thousand characters are looked at, so the cost is bounded for any input.

#[cfg(test)]
mod tests;

/// A detected language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Zh,
    En,
    Ja,
    Ko,
    /// Any other language, by its ISO 639-1 code (ISO 639-3 where there is none).
    Other(&'static str),
    /// No letters, or nothing recognisable.
    Unknown,
}

impl Lang {
    /// The ISO 639-1 code ("zh", "en", "fr"), or "und" for [`Lang::Unknown`].
    pub fn code(&self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
            Lang::Ja => "ja",
            Lang::Ko => "ko",
            Lang::Other(code) => code,
            Lang::Unknown => "und",
        }
    }
}

/// How many characters are counted, and how many are handed to whatlang.
const SCAN_CHARS: usize = 4000;
const WHATLANG_CHARS: usize = 500;

/// Common English words in customer-service messages (looked up after dropping a plural "s").
const ENGLISH_WORDS: &[&str] = &[
    "a",
    "about",
    "account",
    "address",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "arrived",
    "ask",
    "asked",
    "at",
    "back",
    "bad",
    "be",
    "been",
    "before",
    "box",
    "broken",
    "but",
    "buy",
    "by",
    "call",
    "can",
    "cancel",
    "cancelled",
    "card",
    "change",
    "charged",
    "check",
    "could",
    "customer",
    "damaged",
    "day",
    "days",
    "delivered",
    "delivery",
    "did",
    "do",
    "does",
    "don",
    "email",
    "for",
    "from",
    "get",
    "give",
    "go",
    "good",
    "got",
    "great",
    "had",
    "has",
    "have",
    "he",
    "hello",
    "help",
    "her",
    "here",
    "hey",
    "hi",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "item",
    "its",
    "just",
    "know",
    "late",
    "let",
    "like",
    "login",
    "long",
    "look",
    "lot",
    "many",
    "me",
    "missing",
    "money",
    "more",
    "my",
    "need",
    "never",
    "new",
    "no",
    "not",
    "now",
    "number",
    "of",
    "off",
    "ok",
    "okay",
    "on",
    "one",
    "only",
    "or",
    "order",
    "ordered",
    "other",
    "our",
    "out",
    "package",
    "paid",
    "password",
    "pay",
    "payment",
    "phone",
    "please",
    "price",
    "problem",
    "product",
    "received",
    "refund",
    "replacement",
    "return",
    "returned",
    "same",
    "screen",
    "send",
    "sent",
    "service",
    "ship",
    "shipped",
    "shipping",
    "should",
    "size",
    "so",
    "some",
    "still",
    "such",
    "take",
    "than",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "they",
    "this",
    "time",
    "to",
    "today",
    "tomorrow",
    "too",
    "track",
    "tracking",
    "two",
    "up",
    "us",
    "use",
    "very",
    "want",
    "wanted",
    "was",
    "way",
    "we",
    "week",
    "were",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "without",
    "work",
    "working",
    "would",
    "wrong",
    "yes",
    "yesterday",
    "yet",
    "you",
    "your",
];

/// Function words of the common European languages that are not English words; they let a short
/// French or Spanish message win over whatlang's low confidence.
const FOREIGN_WORDS: &[&str] = &[
    "al",
    "au",
    "aux",
    "avec",
    "bestellung",
    "bitte",
    "bonjour",
    "ce",
    "cette",
    "che",
    "ciao",
    "com",
    "commande",
    "con",
    "danke",
    "dans",
    "das",
    "de",
    "del",
    "della",
    "dem",
    "den",
    "der",
    "des",
    "di",
    "du",
    "een",
    "ein",
    "eine",
    "einen",
    "el",
    "est",
    "esta",
    "estoy",
    "está",
    "et",
    "gracias",
    "grazie",
    "hallo",
    "het",
    "hola",
    "ich",
    "ik",
    "il",
    "ist",
    "je",
    "la",
    "las",
    "le",
    "les",
    "los",
    "ma",
    "mein",
    "meine",
    "merci",
    "mes",
    "meu",
    "mi",
    "mijn",
    "minha",
    "mio",
    "mis",
    "mit",
    "moi",
    "mon",
    "muy",
    "ne",
    "nicht",
    "niet",
    "noch",
    "non",
    "nous",
    "não",
    "obrigado",
    "olá",
    "onde",
    "ordine",
    "para",
    "pas",
    "pedido",
    "pero",
    "por",
    "porque",
    "pour",
    "que",
    "questo",
    "qui",
    "quiero",
    "sono",
    "sont",
    "su",
    "suis",
    "très",
    "um",
    "uma",
    "un",
    "una",
    "und",
    "une",
    "van",
    "você",
    "votre",
    "vous",
    "waar",
    "wat",
    "wo",
    "wurde",
    "y",
    "zu",
    "è",
];

#[derive(Default)]
struct Counts {
    han: usize,
    kana: usize,
    hangul: usize,
    latin_words: usize,
    english_words: usize,
    foreign_words: usize,
    /// Latin letters outside ASCII ("é", "ñ", "ư"), a hint that the text is not English.
    accented: usize,
    other_words: usize,
}

enum Script {
    Han,
    Kana,
    Hangul,
    Latin,
    Other,
    None,
}

fn script(c: char) -> Script {
    match c {
        '\u{3040}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' | '\u{FF66}'..='\u{FF9D}' => {
            // The prolonged sound mark and middle dot are shared with Chinese typography.
            if c == '\u{30FB}' { Script::None } else { Script::Kana }
        }
        '\u{1100}'..='\u{11FF}'
        | '\u{3130}'..='\u{318F}'
        | '\u{A960}'..='\u{A97F}'
        | '\u{AC00}'..='\u{D7AF}' => Script::Hangul,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3134F}' => Script::Han,
        'a'..='z' | 'A'..='Z' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => Script::Latin,
        '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}' if c.is_alphabetic() => Script::Latin,
        c if c.is_alphabetic() => Script::Other,
        _ => Script::None,
    }
}

fn count(text: &str) -> Counts {
    let mut counts = Counts::default();
    let mut word = String::new();
    let mut in_other_word = false;
    let finish_latin = |word: &mut String, counts: &mut Counts| {
        if !word.is_empty() {
            counts.latin_words += 1;
            let singular = word.strip_suffix('s').filter(|w| !w.is_empty()).unwrap_or(word);
            if ENGLISH_WORDS.binary_search(&word.as_str()).is_ok()
                || ENGLISH_WORDS.binary_search(&singular).is_ok()
            {
                counts.english_words += 1;
            } else if FOREIGN_WORDS.binary_search(&word.as_str()).is_ok() {
                counts.foreign_words += 1;
            }
            word.clear();
        }
    };
    for c in text.chars().take(SCAN_CHARS) {
        let s = script(c);
        if !matches!(s, Script::Latin) {
            finish_latin(&mut word, &mut counts);
        }
        if !matches!(s, Script::Other) {
            in_other_word = false;
        }
        match s {
            Script::Han => counts.han += 1,
            Script::Kana => counts.kana += 1,
            Script::Hangul => counts.hangul += 1,
            Script::Latin => {
                // Full-width letters ("ｒｅｆｕｎｄ") count as ASCII.
                let c = match c {
                    '\u{FF21}'..='\u{FF5A}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
                    _ => c,
                };
                if !c.is_ascii() {
                    counts.accented += 1;
                }
                // Words longer than any English word are not looked up.
                if word.len() < 32 {
                    word.extend(c.to_lowercase());
                }
            }
            Script::Other => {
                if !in_other_word {
                    counts.other_words += 1;
                    in_other_word = true;
                }
            }
            Script::None => {}
        }
    }
    finish_latin(&mut word, &mut counts);
    counts
}

/// Detects the language of a message. Never fails; see the module docs for the rules.
pub fn detect(text: &str) -> Lang {
    let c = count(text);
    let cjk = c.han + c.kana + c.hangul;
    if cjk == 0 && c.latin_words == 0 && c.other_words == 0 {
        return Lang::Unknown;
    }
    if cjk > 0 && cjk * 2 > c.latin_words && cjk >= c.other_words {
        return if c.hangul >= c.han + c.kana {
            Lang::Ko
        } else if c.kana > 0 && c.kana * 10 >= c.han + c.kana {
            Lang::Ja
        } else {
            Lang::Zh
        };
    }
    let sample = prefix(text, WHATLANG_CHARS);
    if c.latin_words >= c.other_words {
        return detect_latin(&c, sample);
    }
    match whatlang::detect(sample) {
        Some(info) if info.is_reliable() => from_whatlang(info.lang()),
        // Short texts are ambiguous within a script; take its most common language.
        Some(info) => match info.script() {
            whatlang::Script::Cyrillic => Lang::Other("ru"),
            whatlang::Script::Arabic => Lang::Other("ar"),
            whatlang::Script::Devanagari => Lang::Other("hi"),
            _ => from_whatlang(info.lang()),
        },
        None => Lang::Unknown,
    }
}

/// Latin-script languages whatlang may answer for Latin text; the rarer ones it knows (Latin,
/// Esperanto, Zulu, …) mostly show up as false positives on short English.
const LATIN_LANGS: &[whatlang::Lang] = {
    use whatlang::Lang as W;
    &[
        W::Eng,
        W::Fra,
        W::Deu,
        W::Spa,
        W::Ita,
        W::Por,
        W::Nld,
        W::Vie,
        W::Ind,
        W::Tur,
        W::Pol,
        W::Swe,
        W::Dan,
        W::Nob,
        W::Fin,
        W::Ces,
        W::Slk,
        W::Ron,
        W::Hun,
        W::Tgl,
        W::Cat,
        W::Hrv,
        W::Slv,
        W::Lit,
        W::Lav,
        W::Est,
        W::Afr,
    ]
};

/// English unless the text is long enough, not mostly English words, and whatlang names another
/// language with some confidence (or European function words back its guess).
fn detect_latin(c: &Counts, sample: &str) -> Lang {
    let min_words = if c.accented > 0 { 2 } else { 4 };
    if c.latin_words < min_words || c.english_words * 3 >= c.latin_words {
        return Lang::En;
    }
    let detector = whatlang::Detector::with_allowlist(LATIN_LANGS.to_vec());
    match detector.detect(sample) {
        Some(info)
            if info.lang() != whatlang::Lang::Eng
                && (info.confidence() >= 0.2
                    || (c.foreign_words >= 2 && c.foreign_words > c.english_words)) =>
        {
            from_whatlang(info.lang())
        }
        _ => Lang::En,
    }
}

fn prefix(text: &str, chars: usize) -> &str {
    match text.char_indices().nth(chars) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

fn from_whatlang(lang: whatlang::Lang) -> Lang {
    use whatlang::Lang as W;
    Lang::Other(match lang {
        W::Cmn => return Lang::Zh,
        W::Eng => return Lang::En,
        W::Jpn => return Lang::Ja,
        W::Kor => return Lang::Ko,
        W::Epo => "eo",
        W::Rus => "ru",
        W::Spa => "es",
        W::Por => "pt",
        W::Ita => "it",
        W::Ben => "bn",
        W::Fra => "fr",
        W::Deu => "de",
        W::Ukr => "uk",
        W::Kat => "ka",
        W::Ara => "ar",
        W::Hin => "hi",
        W::Heb => "he",
        W::Yid => "yi",
        W::Pol => "pl",
        W::Amh => "am",
        W::Jav => "jv",
        W::Nob => "nb",
        W::Dan => "da",
        W::Swe => "sv",
        W::Fin => "fi",
        W::Tur => "tr",
        W::Nld => "nl",
        W::Hun => "hu",
        W::Ces => "cs",
        W::Ell => "el",
        W::Bul => "bg",
        W::Bel => "be",
        W::Mar => "mr",
        W::Kan => "kn",
        W::Ron => "ro",
        W::Slv => "sl",
        W::Hrv => "hr",
        W::Srp => "sr",
        W::Mkd => "mk",
        W::Lit => "lt",
        W::Lav => "lv",
        W::Est => "et",
        W::Tam => "ta",
        W::Vie => "vi",
        W::Urd => "ur",
        W::Tha => "th",
        W::Guj => "gu",
        W::Uzb => "uz",
        W::Pan => "pa",
        W::Aze => "az",
        W::Ind => "id",
        W::Tel => "te",
        W::Pes => "fa",
        W::Mal => "ml",
        W::Ori => "or",
        W::Mya => "my",
        W::Nep => "ne",
        W::Sin => "si",
        W::Khm => "km",
        W::Tuk => "tk",
        W::Aka => "ak",
        W::Zul => "zu",
        W::Sna => "sn",
        W::Afr => "af",
        W::Lat => "la",
        W::Slk => "sk",
        W::Cat => "ca",
        W::Tgl => "tl",
        W::Hye => "hy",
        W::Cym => "cy",
    })
}
