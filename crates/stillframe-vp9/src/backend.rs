//! rusty_vp9 behind a wall: every call inside `catch_unwind`, its errors as ours.

use std::panic::{catch_unwind, AssertUnwindSafe};

use stillframe_core::{Error, Result};

/// What one call into rusty_vp9 gave for one frame of a chunk.
pub(crate) enum Output {
    /// The frame was decoded and is the chunk's shown one.
    Shown(rusty_vp9::DecodedFrame),
    /// Decoded but not output: hidden, or not the last shown frame of its chunk.
    Hidden,
}

/// How a call into rusty_vp9 failed.
pub(crate) enum Failure {
    /// It refused the stream as something it does not do.
    Unsupported(Error),
    /// The frame failed (bad data, or a panic caught here); the decoder's state
    /// is no longer trustworthy.
    Broken(Error),
}

/// A rusty_vp9 decoder fed one chunk at a time.
pub(crate) struct Backend {
    decoder: rusty_vp9::Vp9Decoder,
}

impl Backend {
    pub(crate) fn new() -> Backend {
        Backend {
            decoder: rusty_vp9::Vp9Decoder::new(),
        }
    }

    /// Decodes a chunk of `frame_count` frames (as [`stillframe_bitstream::vp9::split_superframe`]
    /// found them, which is how rusty_vp9 splits a valid index too): one
    /// [`Output`] per frame, in order, or the first failure.
    ///
    /// rusty_vp9 queues the chunk's frames on `push` and decodes one per
    /// `next_frame`, answering `Again` both for a hidden frame and for an empty
    /// queue; calling it exactly `frame_count` times keeps the two apart.
    pub(crate) fn decode(
        &mut self,
        chunk: &[u8],
        pts: i64,
        frame_count: usize,
    ) -> Result<Vec<Output>, Failure> {
        let decoder = &mut self.decoder;
        guarded(|| decoder.push(chunk, Some(pts)))?;
        let mut outputs = Vec::with_capacity(frame_count);
        for _ in 0..frame_count {
            let decoder = &mut self.decoder;
            outputs.push(match guarded(|| decoder.next_frame())? {
                Some(frame) => Output::Shown(frame),
                None => Output::Hidden,
            });
        }
        Ok(outputs)
    }
}

/// Runs `call`, turning a panic into [`Failure::Broken`] and rusty_vp9's errors
/// into ours; `Again` ("nothing to output") is `None`.
fn guarded<T>(call: impl FnOnce() -> rusty_vp9::Result<T>) -> Result<Option<T>, Failure> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(value)) => Ok(Some(value)),
        Ok(Err(rusty_vp9::Error::Again)) => Ok(None),
        Ok(Err(error)) => Err(failure_of(error)),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            Err(Failure::Broken(Error::codec(format!(
                "rusty_vp9 panicked: {message}"
            ))))
        }
    }
}

fn failure_of(error: rusty_vp9::Error) -> Failure {
    use rusty_vp9::Error as Vp9Error;
    match error {
        Vp9Error::Unsupported(what) => {
            Failure::Unsupported(Error::unsupported(format!("VP9 {what} (rusty_vp9)")))
        }
        Vp9Error::Unimplemented(what) => Failure::Unsupported(Error::unsupported(format!(
            "VP9 {what} (not implemented by rusty_vp9)"
        ))),
        Vp9Error::InvalidData(message) => {
            Failure::Broken(Error::codec(format!("rusty_vp9: {message}")))
        }
        other => Failure::Broken(Error::codec(format!("rusty_vp9: {other}"))),
    }
}
