//! HEVC syntax (work in progress).

mod inspect;

pub use inspect::HevcInspector;
