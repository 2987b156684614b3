//! The four replication-log formats, their shared framing, and the
//! reference store that produces and applies them.
//!
//! - [`frame`]: the envelope every record travels in (magic, version, kind,
//!   length, CRC32C) and streaming decoding of a log segment.
//! - [`codec`]: bounds-checked helpers the record bodies are built from.
//! - [`store`]: the reference table store the logs are produced from and
//!   applied to.

pub mod codec;
pub mod frame;
pub mod store;

pub use codec::BodyError;
pub use frame::{Frame, FrameError, RecordKind};
