//! Bounds on what a file may make stillframe allocate or loop over.

use crate::{Error, Result};

/// Resource bounds checked before any allocation or loop sized by a file.
///
/// The defaults admit every real file we know of (8K video, hours-long recordings)
/// while keeping a hostile file from taking more than a few hundred MiB.
///
/// ```
/// use stillframe_core::Limits;
///
/// let strict = Limits { max_pixels: 1920 * 1080, ..Limits::default() };
/// assert!(strict.check_pixels(3840, 2160).is_err());
/// assert!(strict.check_pixels(1280, 720).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single sample (compressed frame) in bytes. Default 64 MiB.
    pub max_sample_bytes: u32,
    /// Most samples in one file, all its tracks together (else a small file of many
    /// tracks could claim the whole budget for each). Default 20 million (over 90
    /// hours at 60 fps).
    ///
    /// Each indexed sample costs about 40 bytes, and a file can declare its samples
    /// in a few bytes: at the default, a 1.6 KB MP4 whose `stsz` claims 16.7 million
    /// samples takes 0.7 GB to open. Lower this where memory is tight.
    pub max_samples: u32,
    /// Largest decoded picture, width × height. Default 16384 × 16384.
    pub max_pixels: u64,
    /// Largest metadata structure read into memory at once (a `moov`, a `moof`,
    /// a Cues element). Default 256 MiB.
    pub max_metadata_bytes: u64,
    /// Most edit-list entries, fragments or similar repeated structures. Default 1 million.
    pub max_entries: u32,
    /// Most memory one decoder may hold for a sequence: its reference and output
    /// pictures with their per-block side data, as the codec adapter estimates it
    /// from the sequence header *before* the decoder sees it. Default 2 GiB, which
    /// admits 8K H.264 with its level's full picture buffer while refusing a
    /// 16384 × 16384 sequence (over 3 GiB).
    pub max_decoder_bytes: u64,
    /// Largest output image, width × height after pixel-aspect correction and
    /// before the generator scales it to its maximum size. Default 64 Mi
    /// pixels (8192 × 8192), which a pixel aspect of 21845:1 on a small picture
    /// exceeds.
    pub max_output_pixels: u64,
    /// Most bytes read into memory from a source that cannot seek (a pipe, stdin),
    /// which must be held whole because containers are read out of order. Default
    /// 1 GiB.
    pub max_buffered_input_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sample_bytes: 64 << 20,
            max_samples: 20_000_000,
            max_pixels: 16384 * 16384,
            max_metadata_bytes: 256 << 20,
            max_entries: 1_000_000,
            max_decoder_bytes: 2 << 30,
            max_output_pixels: 64 << 20,
            max_buffered_input_bytes: 1 << 30,
        }
    }
}

impl Limits {
    /// No bound at all; for trusted input only.
    pub const UNLIMITED: Limits = Limits {
        max_sample_bytes: u32::MAX,
        max_samples: u32::MAX,
        max_pixels: u64::MAX,
        max_metadata_bytes: u64::MAX,
        max_entries: u32::MAX,
        max_decoder_bytes: u64::MAX,
        max_output_pixels: u64::MAX,
        max_buffered_input_bytes: u64::MAX,
    };

    /// Fails unless a sample of `bytes` may be read.
    pub fn check_sample_bytes(&self, bytes: u64) -> Result<()> {
        check(
            "sample size in bytes",
            bytes,
            u64::from(self.max_sample_bytes),
        )
    }

    /// Fails unless a track of `count` samples may be indexed.
    pub fn check_samples(&self, count: u64) -> Result<()> {
        check("sample count", count, u64::from(self.max_samples))
    }

    /// Fails unless a track of `count` samples may be indexed beside the `others`
    /// that the file's other tracks already hold: [`max_samples`](Self::max_samples)
    /// bounds them together.
    ///
    /// ```
    /// use stillframe_core::{Error, Limits};
    ///
    /// let limits = Limits { max_samples: 10, ..Limits::default() };
    /// assert!(limits.check_samples_beside(6, 4).is_ok());
    /// match limits.check_samples_beside(6, 5) {
    ///     Err(Error::Limit { what, value: 11, limit: 10 }) => {
    ///         assert_eq!(what, "sample count of all tracks together");
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn check_samples_beside(&self, count: u64, others: u64) -> Result<()> {
        let what = if others == 0 {
            "sample count"
        } else {
            "sample count of all tracks together"
        };
        check(
            what,
            count.saturating_add(others),
            u64::from(self.max_samples),
        )
    }

    /// Fails unless a `width` × `height` picture may be decoded.
    pub fn check_pixels(&self, width: u32, height: u32) -> Result<()> {
        check(
            "picture size in pixels",
            u64::from(width) * u64::from(height),
            self.max_pixels,
        )
    }

    /// Fails unless a decoder may hold `bytes` for a sequence (see
    /// [`Limits::max_decoder_bytes`]).
    pub fn check_decoder_bytes(&self, bytes: u64) -> Result<()> {
        check("decoder memory in bytes", bytes, self.max_decoder_bytes)
    }

    /// Fails unless an output image of `width` × `height` may be made.
    pub fn check_output_pixels(&self, width: u64, height: u64) -> Result<()> {
        check(
            "output image size in pixels",
            width.saturating_mul(height),
            self.max_output_pixels,
        )
    }

    /// Fails unless a metadata structure of `bytes` may be held in memory.
    pub fn check_metadata_bytes(&self, bytes: u64) -> Result<()> {
        check("metadata size in bytes", bytes, self.max_metadata_bytes)
    }

    /// Fails unless `count` repeated entries (edits, fragments) may be processed.
    pub fn check_entries(&self, what: &'static str, count: u64) -> Result<()> {
        check(what, count, u64::from(self.max_entries))
    }
}

fn check(what: &'static str, value: u64, limit: u64) -> Result<()> {
    if value > limit {
        Err(Error::Limit { what, value, limit })
    } else {
        Ok(())
    }
}
