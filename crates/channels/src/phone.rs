//! Call records from a call-center system (IN-1 phone): the caller, the IVR menu choices,
//! duration, a recording URL, a transcript, and a voicemail. The call center `POST`s one JSON
//! record per call, signed like every Huiting webhook ([`crate::sign`]), to
//! `/api/v1/channels/{id}/calls`; the record becomes one customer message (a summary plus the
//! transcript) with the recording and voicemail as attachments.

use serde::Deserialize;

/// The largest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the body is not the expected JSON: {0}")]
    Json(String),
    #[error("{0}: {1}")]
    Field(&'static str, &'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voicemail {
    pub url: String,
    pub content_type: String,
    pub size: i64,
    pub duration_secs: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub call_id: String,
    /// The caller's number as the switch saw it.
    pub caller: String,
    pub direction: String,
    pub duration_secs: i64,
    pub ivr: Vec<String>,
    pub recording_url: Option<String>,
    /// `(speaker, text)` turns.
    pub transcript: Vec<(String, String)>,
    pub voicemail: Option<Voicemail>,
}

#[derive(Deserialize)]
struct RawTurn {
    speaker: String,
    text: String,
}

#[derive(Deserialize)]
struct RawVoicemail {
    url: String,
    content_type: Option<String>,
    size: Option<i64>,
    duration_secs: Option<i64>,
}

#[derive(Deserialize)]
struct Raw {
    call_id: String,
    caller: String,
    direction: Option<String>,
    #[serde(default)]
    duration_secs: i64,
    #[serde(default)]
    ivr: Vec<String>,
    recording_url: Option<String>,
    #[serde(default)]
    transcript: Vec<RawTurn>,
    voicemail: Option<RawVoicemail>,
}

/// Parses `{"call_id", "caller", "direction"?: "inbound"|"outbound", "duration_secs"?,
/// "ivr"?: ["1","3"], "recording_url"?, "transcript"?: [{"speaker","text"}],
/// "voicemail"?: {"url","content_type"?,"size"?,"duration_secs"?}}`.
pub fn parse(body: &[u8]) -> Result<CallRecord, Error> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::Field("body", "too large"));
    }
    let r: Raw = serde_json::from_slice(body).map_err(|e| Error::Json(e.to_string()))?;
    let call_id = r.call_id.trim().to_string();
    if call_id.is_empty() || call_id.len() > 200 {
        return Err(Error::Field("call_id", "must be 1 to 200 characters"));
    }
    if !(0..=86_400).contains(&r.duration_secs) {
        return Err(Error::Field("duration_secs", "must be between 0 and 86400"));
    }
    if r.ivr.len() > 20 || r.ivr.iter().any(|c| c.is_empty() || c.len() > 20) {
        return Err(Error::Field("ivr", "at most 20 choices of 1 to 20 characters"));
    }
    if r.transcript.len() > 2_000 {
        return Err(Error::Field("transcript", "at most 2000 turns"));
    }
    let direction = r.direction.unwrap_or_else(|| "inbound".into());
    if !matches!(direction.as_str(), "inbound" | "outbound") {
        return Err(Error::Field("direction", "inbound or outbound"));
    }
    Ok(CallRecord {
        call_id,
        caller: r.caller.trim().to_string(),
        direction,
        duration_secs: r.duration_secs,
        ivr: r.ivr,
        recording_url: r.recording_url.filter(|u| !u.trim().is_empty()),
        transcript: r.transcript.into_iter().map(|t| (t.speaker, t.text)).collect(),
        voicemail: r.voicemail.map(|v| Voicemail {
            url: v.url,
            content_type: v.content_type.unwrap_or_else(|| "audio/mpeg".into()),
            size: v.size.unwrap_or(0),
            duration_secs: v.duration_secs.unwrap_or(0),
        }),
    })
}

/// The message body a call record becomes: a summary line, then the transcript.
pub fn summary(c: &CallRecord) -> String {
    let mut s = format!(
        "📞 {} call, {}:{:02}",
        if c.direction == "outbound" { "Outbound" } else { "Inbound" },
        c.duration_secs / 60,
        c.duration_secs % 60
    );
    if !c.ivr.is_empty() {
        s.push_str(&format!(" · IVR {}", c.ivr.join(" › ")));
    }
    if let Some(v) = &c.voicemail {
        s.push_str(&format!(" · voicemail {}s", v.duration_secs));
    }
    for (speaker, text) in &c.transcript {
        s.push_str(&format!("\n{speaker}: {text}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_a_call() {
        let c = parse(r#"{"call_id":"c1","caller":"13800138000","duration_secs":192,"ivr":["2","1"],"recording_url":"https://cc/r/c1.mp3","transcript":[{"speaker":"customer","text":"我的快递没到"}],"voicemail":{"url":"https://cc/v/c1.amr","duration_secs":20}}"#.as_bytes()).unwrap();
        expect_test::expect![[r#"
            "📞 Inbound call, 3:12 · IVR 2 › 1 · voicemail 20s\ncustomer: 我的快递没到"
        "#]]
        .assert_debug_eq(&summary(&c));
        assert!(parse(br#"{"call_id":"c1","caller":"1","duration_secs":-1}"#).is_err());
        assert!(parse(br#"{"call_id":"c1","caller":"1","direction":"sideways"}"#).is_err());
    }
}
