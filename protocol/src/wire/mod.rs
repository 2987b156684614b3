//! Protocol messages and their binary codec.

mod codec;
mod message;

pub use codec::{decode, encode, WireError, MAX_ENVELOPE_BYTES, WIRE_VERSION};
pub use message::{AppendResult, Envelope, Message};

#[cfg(test)]
mod tests;
