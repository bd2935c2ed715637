//! Unit tests over synthetic EBML.
