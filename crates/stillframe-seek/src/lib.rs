//! Frame index and planner for stillframe: pure logic, no I/O, no codecs.
//!
//! [`FrameIndex`] flattens a track's sample table (decode order, as a demuxer gives
//! it) into what seeking needs: frames in presentation order, and the random access
//! points decoding may start from, with what the bitstream confirmed or refuted
//! about them. [`choose`] answers "which frame serves this request" — a function
//! of the file, the time and the tolerance only — and [`plan`] groups the frames of
//! many requests into decode runs, each fed once.
//!
//! ```
//! use std::num::NonZeroU32;
//! use stillframe_core::{SampleInfo, Time, Tolerance};
//! use stillframe_seek::{plan, FrameIndex, Target};
//!
//! // I P P I P P at 1 tick each, 1 tick a second.
//! let samples: Vec<SampleInfo> = (0..6)
//!     .map(|i| SampleInfo { offset: 0, size: 1, dts: i, pts: i, duration: 1, sync: i % 3 == 0, presented: true, description: 0 })
//!     .collect();
//! let index = FrameIndex::new(&samples, NonZeroU32::MIN);
//! let exact = plan(&index, &[Target::Time(Time::new(49, 10).unwrap(), Tolerance::ZERO)]);
//! let run = &exact.runs[0];
//! assert_eq!((run.entry, run.last, run.targets[0].sample), (3, 4, 4));
//! ```

#![forbid(unsafe_code)]

mod choice;
mod index;
mod runs;

pub use choice::{choose, choose_frame, Choice};
pub use index::{FrameIndex, FrameRef};
pub use runs::{plan, Assignment, Plan, Run, Target};
