//! The one error type of stillframe, classified by [`ErrorKind`].

use std::sync::Arc;

use crate::Time;

/// Everything that can go wrong, classified so callers can react by [`Error::kind`].
///
/// A failed request never poisons the object that served it: after any error, the
/// demuxer, decoder or generator may be asked again.
/// Errors are cheap to clone (an I/O error is shared behind an [`Arc`]), so one
/// failure can be reported to every request it concerns.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file breaks its format's rules.
    #[error("malformed {location}: {message}")]
    Malformed {
        /// Where: a box path, element name or byte offset.
        location: Location,
        /// What was wrong.
        message: String,
    },
    /// A valid file using something stillframe does not handle.
    #[error("unsupported: {feature}")]
    Unsupported {
        /// The codec, profile or feature, named as a user would search for it.
        feature: String,
    },
    /// A number in the file exceeds a [`crate::Limits`] bound.
    #[error("limit exceeded: {what} is {value}, above the limit of {limit}")]
    Limit {
        /// Which quantity.
        what: &'static str,
        /// What the file asked for.
        value: u64,
        /// The bound in force.
        limit: u64,
    },
    /// The data a request needs is beyond the end of a cut-short file.
    #[error("truncated file: {message}")]
    Truncated {
        /// What is missing.
        message: String,
    },
    /// A requested time lies outside the track's frames.
    #[error("no frame at {requested} (the track's frames end at {end})")]
    OutOfRange {
        /// The time asked for.
        requested: Time,
        /// Where the last frame ends.
        end: Time,
    },
    /// A requested frame number lies past the track's last frame.
    #[error("no frame number {frame} (the track has {frames} frames, numbered from 0)")]
    NoSuchFrame {
        /// The frame number asked for, in presentation order from 0.
        frame: u64,
        /// How many frames the track shows.
        frames: u64,
    },
    /// Reading the input or writing an output failed.
    #[error("I/O error {context}: {source}")]
    Io {
        /// What was being done, and to which file: `reading clip.mp4`,
        /// `writing frame-0.png`; `reading the input` where no name is known.
        context: String,
        /// The operating system's error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The decoder rejected the stream or produced no picture.
    #[error("decoder error: {message}")]
    Codec {
        /// The decoder's complaint.
        message: String,
    },
    /// The request was cancelled before it produced an image.
    #[error("cancelled")]
    Cancelled,
    /// A bug in stillframe: something that should not happen whatever the input.
    /// Please report it with the file that caused it.
    #[error("internal error (a bug in stillframe): {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Error {
        Error::io("reading the input", source)
    }
}

/// The class of an [`Error`], for summaries and for deciding what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// See [`Error::Malformed`].
    Malformed,
    /// See [`Error::Unsupported`].
    Unsupported,
    /// See [`Error::Limit`].
    Limit,
    /// See [`Error::Truncated`].
    Truncated,
    /// See [`Error::OutOfRange`] and [`Error::NoSuchFrame`].
    OutOfRange,
    /// See [`Error::Io`].
    Io,
    /// See [`Error::Codec`].
    Codec,
    /// See [`Error::Cancelled`].
    Cancelled,
    /// See [`Error::Internal`].
    Internal,
}

impl ErrorKind {
    /// A short lowercase name, stable for JSON and summaries.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::Malformed => "malformed",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Limit => "limit",
            ErrorKind::Truncated => "truncated",
            ErrorKind::OutOfRange => "out-of-range",
            ErrorKind::Io => "io",
            ErrorKind::Codec => "codec",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal",
        }
    }
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Malformed { .. } => ErrorKind::Malformed,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Limit { .. } => ErrorKind::Limit,
            Error::Truncated { .. } => ErrorKind::Truncated,
            Error::OutOfRange { .. } | Error::NoSuchFrame { .. } => ErrorKind::OutOfRange,
            Error::Io { .. } => ErrorKind::Io,
            Error::Codec { .. } => ErrorKind::Codec,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// A [`Error::Malformed`] at `location`.
    pub fn malformed(location: impl Into<Location>, message: impl Into<String>) -> Error {
        Error::Malformed {
            location: location.into(),
            message: message.into(),
        }
    }

    /// An [`Error::Unsupported`] naming `feature`.
    pub fn unsupported(feature: impl Into<String>) -> Error {
        Error::Unsupported {
            feature: feature.into(),
        }
    }

    /// An [`Error::Codec`].
    pub fn codec(message: impl Into<String>) -> Error {
        Error::Codec {
            message: message.into(),
        }
    }

    /// An [`Error::Truncated`].
    pub fn truncated(message: impl Into<String>) -> Error {
        Error::Truncated {
            message: message.into(),
        }
    }

    /// An [`Error::Internal`]: a bug, not a property of the input.
    pub fn internal(message: impl Into<String>) -> Error {
        Error::Internal {
            message: message.into(),
        }
    }

    /// An [`Error::Io`] while doing `context` (`"reading clip.mp4"`).
    ///
    /// ```
    /// use stillframe_core::{Error, ErrorKind};
    /// let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
    /// let error = Error::io("reading clip.mp4", missing);
    /// assert_eq!(error.kind(), ErrorKind::Io);
    /// assert!(error.to_string().starts_with("I/O error reading clip.mp4: "));
    /// ```
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source: Arc::new(source),
        }
    }
}

/// Where in a file a [`Error::Malformed`] was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// A box path (`moov/trak/mdia/minf/stbl/stsz`), element name or stream part.
    pub context: String,
    /// The byte offset in the file, where known.
    pub offset: Option<u64>,
}

impl Location {
    /// A location at `context` with a known byte offset.
    pub fn at(context: impl Into<String>, offset: u64) -> Location {
        Location {
            context: context.into(),
            offset: Some(offset),
        }
    }
}

impl From<&str> for Location {
    fn from(context: &str) -> Location {
        Location {
            context: context.to_owned(),
            offset: None,
        }
    }
}

impl From<String> for Location {
    fn from(context: String) -> Location {
        Location {
            context,
            offset: None,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.offset {
            Some(offset) => write!(f, "{} (byte {offset})", self.context),
            None => f.write_str(&self.context),
        }
    }
}

/// Shorthand for results carrying an [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
