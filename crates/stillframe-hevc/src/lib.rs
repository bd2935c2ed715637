//! HEVC decoding for stillframe on rusty_h265 (work in progress).
