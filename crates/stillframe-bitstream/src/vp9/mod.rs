//! VP9 syntax (work in progress).

mod inspect;

pub use inspect::Vp9Inspector;
