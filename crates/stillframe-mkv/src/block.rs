//! The Block header and its lacing (RFC 9559 § 10): which track, the timestamp
//! relative to the Cluster, the flags, and where each laced frame lies.
//!
//! Pure functions over the first bytes of a block, so every lacing kind is unit
//! tested without a file.

/// SimpleBlock flag: the frame is a random access point (RFC 9559 § 10.2).
pub(crate) const FLAG_KEYFRAME: u8 = 0x80;
/// Lacing bits of the flags byte.
const LACING_MASK: u8 = 0x06;
const LACING_XIPH: u8 = 0x02;
const LACING_FIXED: u8 = 0x04;
const LACING_EBML: u8 = 0x06;

/// A block's header: the fields before the frame data, and the frames' spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockHeader {
    /// TrackNumber of the track the block belongs to.
    pub(crate) track: u64,
    /// Timestamp relative to the Cluster's, in segment ticks.
    pub(crate) relative_timestamp: i16,
    /// The flags byte (keyframe, invisible, lacing, discardable).
    pub(crate) flags: u8,
    /// Each frame as `(offset from the block data's start, size)`, in stored order.
    pub(crate) frames: Vec<(u64, u64)>,
}

/// Why a block header could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlockError {
    /// More bytes of the block are needed to decode the lacing header.
    NeedMore,
    /// The header is invalid.
    Invalid(&'static str),
}

/// Decodes the header of a block whose data is `block_size` bytes long, from its
/// first bytes `head` (all of them, or as many as were read).
pub(crate) fn parse_header(head: &[u8], block_size: u64) -> Result<BlockHeader, BlockError> {
    let mut cursor = Cursor {
        bytes: head,
        position: 0,
    };
    let (track, length) = match crate::ebml::read_size(head) {
        Ok(Some((Some(track), length))) => (track, length),
        Ok(Some((None, _))) => return Err(BlockError::Invalid("track number is all ones")),
        Ok(None) => return Err(BlockError::NeedMore),
        Err(message) => return Err(BlockError::Invalid(message)),
    };
    cursor.position = length;
    let timestamp_bytes = [cursor.byte()?, cursor.byte()?];
    let relative_timestamp = i16::from_be_bytes(timestamp_bytes);
    let flags = cursor.byte()?;
    let laced = flags & LACING_MASK;
    let count = if laced == 0 {
        1
    } else {
        u64::from(cursor.byte()?) + 1
    };
    // Sizes of all frames but the last, which takes what remains.
    let mut sizes: Vec<u64> = Vec::with_capacity(count as usize);
    match laced {
        0 => {}
        LACING_XIPH => {
            for _ in 1..count {
                let mut size = 0u64;
                loop {
                    let byte = cursor.byte()?;
                    size += u64::from(byte);
                    if byte != 0xFF {
                        break;
                    }
                }
                sizes.push(size);
            }
        }
        LACING_EBML => {
            let (first, length) = match crate::ebml::read_size(cursor.rest()) {
                Ok(Some((Some(first), length))) => (first, length),
                Ok(Some((None, _))) => {
                    return Err(BlockError::Invalid("EBML lace size is all ones"))
                }
                Ok(None) => return Err(BlockError::NeedMore),
                Err(message) => return Err(BlockError::Invalid(message)),
            };
            cursor.position += length;
            sizes.push(first);
            let mut previous =
                i64::try_from(first).map_err(|_| BlockError::Invalid("lace size"))?;
            for _ in 2..count {
                let Some((difference, length)) = crate::ebml::read_signed_vint(cursor.rest())
                else {
                    return Err(if cursor.rest().len() < 8 {
                        BlockError::NeedMore
                    } else {
                        BlockError::Invalid("EBML lace size difference")
                    });
                };
                cursor.position += length;
                previous = previous
                    .checked_add(difference)
                    .filter(|&size| size >= 0)
                    .ok_or(BlockError::Invalid("EBML lace size below zero"))?;
                sizes.push(previous as u64);
            }
        }
        LACING_FIXED => {}
        _ => return Err(BlockError::Invalid("unknown lacing")),
    }
    let header_size = cursor.position as u64;
    let data_size = block_size
        .checked_sub(header_size)
        .ok_or(BlockError::Invalid("block smaller than its header"))?;
    if laced == LACING_FIXED {
        if data_size % count != 0 {
            return Err(BlockError::Invalid(
                "fixed-size lacing does not divide the block evenly",
            ));
        }
        sizes = vec![data_size / count; count as usize - 1];
    }
    let listed: u64 = sizes
        .iter()
        .try_fold(0u64, |sum, &s| sum.checked_add(s))
        .ok_or(BlockError::Invalid("lace sizes overflow"))?;
    let last = data_size
        .checked_sub(listed)
        .ok_or(BlockError::Invalid("lace sizes exceed the block"))?;
    sizes.push(last);
    let mut frames = Vec::with_capacity(sizes.len());
    let mut offset = header_size;
    for size in sizes {
        frames.push((offset, size));
        offset += size;
    }
    Ok(BlockHeader {
        track,
        relative_timestamp,
        flags,
        frames,
    })
}

struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> Result<u8, BlockError> {
        let byte = *self.bytes.get(self.position).ok_or(BlockError::NeedMore)?;
        self.position += 1;
        Ok(byte)
    }

    fn rest(&self) -> &[u8] {
        self.bytes.get(self.position..).unwrap_or(&[])
    }
}
