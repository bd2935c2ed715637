//! Keyframe index and seek planner for stillframe: pure logic, no I/O, no codecs.
//!
//! [`FrameIndex`] flattens a track's sample table (decode order, as a demuxer gives it)
//! into what seeking needs: frames in presentation order, and the random access
//! points decoding may start from. [`plan`] answers "which frame, and from where do
//! I decode to get it" for a requested time and tolerance, given what the decoder
//! already holds.
//!
//! ```
//! use stillframe_core::{SampleInfo, Time, Tolerance};
//! use stillframe_seek::{plan, FrameIndex, Start};
//!
//! // I P P I P P at 1 tick each, timescale 1.
//! let samples: Vec<SampleInfo> = (0..6)
//!     .map(|i| SampleInfo { offset: 0, size: 1, dts: i, pts: i, duration: 1, sync: i % 3 == 0, presented: true, description: 0 })
//!     .collect();
//! let index = FrameIndex::new(&samples);
//! let exact = plan(&index, 1, Time::new(49, 10).unwrap(), Tolerance::ZERO, None).unwrap();
//! assert_eq!(exact.target.sample, 4);
//! assert_eq!(exact.start, Start::Restart { from: 3 });
//! assert_eq!(exact.cost, 2);
//! ```

mod batch;
mod index;
mod planner;

pub use batch::{plan_batch, Assignment, BatchPlan, GopJob};
pub use index::{FrameIndex, FrameRef};
pub use planner::{plan, DecoderPosition, Plan, Start};
