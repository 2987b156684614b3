//! The binary wire codec: a one-byte version, then the `postcard` encoding of
//! an [`Envelope`]. Decoding is total: any byte string yields an envelope or
//! a [`WireError`], and a hostile length field cannot make it allocate more
//! than the input holds (postcard checks lengths against the remaining input).

use super::message::Envelope;

/// The wire format version this build speaks.
pub const WIRE_VERSION: u8 = 2;

/// Largest encoded envelope the decoder accepts (16 MiB).
pub const MAX_ENVELOPE_BYTES: usize = 16 << 20;

/// Why bytes could not be decoded into an [`Envelope`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// No bytes at all.
    #[error("empty input: expected a version byte and an envelope")]
    Empty,
    /// The version byte is not one this build understands.
    #[error("unsupported wire version {found}, expected {expected}")]
    Version {
        /// The version found.
        found: u8,
        /// The version this build speaks.
        expected: u8,
    },
    /// The input is larger than [`MAX_ENVELOPE_BYTES`].
    #[error("envelope of {0} bytes exceeds the limit of {MAX_ENVELOPE_BYTES} bytes")]
    TooLarge(usize),
    /// The body is not a valid envelope.
    #[error("malformed envelope: {0}")]
    Malformed(String),
    /// The envelope could not be serialized (not expected for plain data).
    #[error("could not encode envelope: {0}")]
    Encode(String),
    /// The body decoded but bytes were left over.
    #[error("{0} trailing bytes after the envelope")]
    Trailing(usize),
}

/// Encode an envelope into a buffer sized once: the encoding's length is
/// computed first, so the bytes are written without a reallocation.
pub fn encode(envelope: &Envelope) -> Result<Vec<u8>, WireError> {
    let size = postcard::experimental::serialized_size(envelope)
        .map_err(|e| WireError::Encode(e.to_string()))?;
    let mut buffer = Vec::with_capacity(size.saturating_add(1));
    buffer.push(WIRE_VERSION);
    postcard::to_extend(envelope, buffer).map_err(|e| WireError::Encode(e.to_string()))
}

/// Decode an envelope from exactly `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Envelope, WireError> {
    let (&version, body) = bytes.split_first().ok_or(WireError::Empty)?;
    if version != WIRE_VERSION {
        return Err(WireError::Version {
            found: version,
            expected: WIRE_VERSION,
        });
    }
    if bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(WireError::TooLarge(bytes.len()));
    }
    let (envelope, rest) = postcard::take_from_bytes::<Envelope>(body)
        .map_err(|e| WireError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(WireError::Trailing(rest.len()));
    }
    Ok(envelope)
}
