//! VP9 decoding for stillframe on rusty_vp9 (work in progress).
