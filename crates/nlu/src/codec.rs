//! The model file format: a magic tag, a version, then little-endian fields in a fixed order.
//!
//! Hand-written rather than serde-derived so the format is explicit, versioned and loads with
//! one pass of bulk copies (a BANKING77-sized model loads in a few milliseconds).

/// Why bytes are not a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("not a Huiting model file (bad magic bytes)")]
    BadMagic,
    #[error("model format version {found} is not supported (this build reads {supported})")]
    Version { found: u16, supported: u16 },
    #[error("model file is truncated")]
    Truncated,
    #[error("model file is inconsistent: {0}")]
    Inconsistent(&'static str),
}

pub(crate) struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn new(magic: &[u8; 8], version: u16) -> Writer {
        let mut w = Writer { buf: magic.to_vec() };
        w.u16(version);
        w
    }
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f32(&mut self, v: f32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
    }
    pub fn u32s(&mut self, vs: &[u32]) {
        self.u32(vs.len() as u32);
        for v in vs {
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
    }
    pub fn f32s(&mut self, vs: &[f32]) {
        self.u32(vs.len() as u32);
        for v in vs {
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
    }
    /// A matrix of rows of `row` values as one f32 scale per row and one i8 per value.
    pub fn q8(&mut self, vs: &[f32], row: usize) {
        self.u32(vs.len() as u32);
        for r in vs.chunks(row.max(1)) {
            let max = r.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
            self.f32(scale);
            self.buf.extend(r.iter().map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8 as u8));
        }
    }
}

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], magic: &[u8; 8], version: u16) -> Result<Reader<'a>, ModelError> {
        if buf.len() < 8 || &buf[..8] != magic {
            return Err(ModelError::BadMagic);
        }
        let mut r = Reader { buf: &buf[8..] };
        let found = r.u16()?;
        if found != version {
            return Err(ModelError::Version { found, supported: version });
        }
        Ok(r)
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        if self.buf.len() < n {
            return Err(ModelError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    pub fn u8(&mut self) -> Result<u8, ModelError> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16, ModelError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().map_err(|_| ModelError::Truncated)?))
    }
    pub fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| ModelError::Truncated)?))
    }
    pub fn f32(&mut self) -> Result<f32, ModelError> {
        Ok(f32::from_bits(self.u32()?))
    }
    pub fn str(&mut self) -> Result<String, ModelError> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| ModelError::Inconsistent("label is not UTF-8"))
    }
    pub fn u32s(&mut self) -> Result<Vec<u32>, ModelError> {
        let n = self.u32()? as usize;
        let bytes = self.take(n.checked_mul(4).ok_or(ModelError::Truncated)?)?;
        Ok(bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }
    pub fn f32s(&mut self) -> Result<Vec<f32>, ModelError> {
        Ok(self.u32s()?.into_iter().map(f32::from_bits).collect())
    }
    pub fn q8(&mut self, row: usize) -> Result<Vec<f32>, ModelError> {
        let n = self.u32()? as usize;
        let row = row.max(1);
        if !n.is_multiple_of(row) {
            return Err(ModelError::Inconsistent("matrix is not whole rows"));
        }
        let mut out = Vec::with_capacity(n.min(self.buf.len()));
        for _ in 0..n / row {
            let scale = self.f32()?;
            out.extend(self.take(row)?.iter().map(|&b| f32::from(b as i8) * scale));
        }
        Ok(out)
    }
    pub fn finish(self) -> Result<(), ModelError> {
        if self.buf.is_empty() { Ok(()) } else { Err(ModelError::Inconsistent("trailing bytes")) }
    }
}
