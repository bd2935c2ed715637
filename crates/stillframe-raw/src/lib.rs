//! Raw elementary stream demuxer for stillframe (work in progress).
