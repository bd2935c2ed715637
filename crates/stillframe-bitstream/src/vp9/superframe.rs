//! Superframes: several VP9 frames in one chunk, found by the index at its end
//! (VP9 Bitstream Specification, Annex B).

use stillframe_core::{Error, Result};

const LOCATION: &str = "VP9 superframe index";

/// `superframe_marker` (Annex B.3): the top three bits of the index's first and
/// last byte.
const SUPERFRAME_MARKER: u8 = 0b110;

/// The frames of one chunk (a container sample, an IVF frame), in decode order.
///
/// A chunk whose last byte is a superframe marker that its index's first byte
/// repeats (Annex B.3) holds the frames the index lists; any other chunk is one
/// frame. The index's sizes are checked as ffmpeg's `vp9_superframe_split`
/// checks them: a frame of size 0, or frames that run into the index, make the
/// chunk [`Error::Malformed`]. Bytes between the last frame and the index are
/// ignored, as libvpx and ffmpeg ignore them. An empty chunk has no frames.
///
/// ```
/// use stillframe_bitstream::vp9::split_superframe;
///
/// // Two frames of 2 and 1 bytes; index: marker 0b110_00_001 (1-byte sizes,
/// // 2 frames), sizes 2 and 1, marker again.
/// let chunk = [0x82, 0x49, 0x88, 0xc1, 2, 1, 0xc1];
/// let frames = split_superframe(&chunk).unwrap();
/// assert_eq!(frames, [&[0x82, 0x49][..], &[0x88][..]]);
/// // Without an index, the chunk is one frame.
/// assert_eq!(split_superframe(&[0x82, 0x49]).unwrap().len(), 1);
/// ```
pub fn split_superframe(chunk: &[u8]) -> Result<Vec<&[u8]>> {
    let Some(index) = superframe_index(chunk) else {
        return Ok(if chunk.is_empty() {
            Vec::new()
        } else {
            vec![chunk]
        });
    };
    let data_end = chunk.len() - index.total_bytes;
    let sizes = chunk
        .get(data_end + 1..chunk.len() - 1)
        .unwrap_or_default()
        .chunks_exact(index.bytes_per_size);
    let mut frames = Vec::with_capacity(index.frame_count);
    let mut start = 0usize;
    for (number, size_bytes) in sizes.enumerate() {
        // frame_sizes are little-endian (Annex B.3).
        let size = size_bytes
            .iter()
            .rev()
            .fold(0usize, |size, &byte| (size << 8) | usize::from(byte));
        if size == 0 {
            return Err(Error::malformed(
                LOCATION,
                format!("frame {number} of {} has size 0", index.frame_count),
            ));
        }
        let end = start
            .checked_add(size)
            .filter(|&end| end <= data_end)
            .ok_or_else(|| {
                Error::malformed(
                    LOCATION,
                    format!(
                        "frame {number} of {} ({size} bytes from byte {start}) runs past the \
                         {data_end} bytes before the index",
                        index.frame_count
                    ),
                )
            })?;
        frames.push(chunk.get(start..end).unwrap_or_default());
        start = end;
    }
    Ok(frames)
}

/// What the last byte of a chunk says about its superframe index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SuperframeIndex {
    /// `frames_in_superframe_minus_1 + 1`.
    frame_count: usize,
    /// `bytes_per_framesize_minus_1 + 1`.
    bytes_per_size: usize,
    /// The whole index: two marker bytes and the sizes.
    total_bytes: usize,
}

/// The index at the end of `chunk`, if it has one (Annex B.2: the last byte is a
/// marker and the byte where the index would start is the same marker).
fn superframe_index(chunk: &[u8]) -> Option<SuperframeIndex> {
    let &last = chunk.last()?;
    if last >> 5 != SUPERFRAME_MARKER {
        return None;
    }
    let frame_count = usize::from(last & 0x07) + 1;
    let bytes_per_size = usize::from((last >> 3) & 0x03) + 1;
    let total_bytes = 2 + bytes_per_size * frame_count;
    let first = chunk.len().checked_sub(total_bytes)?;
    (chunk.get(first) == Some(&last)).then_some(SuperframeIndex {
        frame_count,
        bytes_per_size,
        total_bytes,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A superframe of `frames` with `bytes_per_size`-byte sizes.
    fn superframe(frames: &[&[u8]], bytes_per_size: usize) -> Vec<u8> {
        let marker = 0xc0 | (((bytes_per_size - 1) as u8) << 3) | (frames.len() as u8 - 1);
        let mut out: Vec<u8> = frames.concat();
        out.push(marker);
        for frame in frames {
            out.extend_from_slice(&frame.len().to_le_bytes()[..bytes_per_size]);
        }
        out.push(marker);
        out
    }

    #[test]
    fn splits_by_the_index_with_every_size_width() {
        let big = vec![0x82u8; 300];
        // 300 bytes need sizes of 2 bytes or more.
        for bytes_per_size in 2..=4 {
            let frames: [&[u8]; 3] = [&[0x82, 1], &[0x86], &big];
            let chunk = superframe(&frames, bytes_per_size);
            assert_eq!(split_superframe(&chunk).unwrap(), frames);
        }
        // Eight frames, the most an index holds.
        let one: &[u8] = &[0x86];
        let chunk = superframe(&[one; 8], 1);
        assert_eq!(split_superframe(&chunk).unwrap(), [one; 8]);
    }

    #[test]
    fn a_chunk_without_an_index_is_one_frame() {
        assert_eq!(split_superframe(&[0x82, 0x49, 0x83]).unwrap().len(), 1);
        // A marker-like last byte whose twin is missing is frame data.
        let chunk = [0x82, 0x49, 0xc0, 2, 1, 0xc1];
        assert_eq!(split_superframe(&chunk).unwrap(), [&chunk[..]]);
        assert_eq!(split_superframe(&[0xc0]).unwrap(), [&[0xc0][..]]);
        assert!(split_superframe(&[]).unwrap().is_empty());
    }

    #[test]
    fn bytes_between_the_frames_and_the_index_are_ignored() {
        let mut chunk = vec![0x82, 0x49, 0x88, 0, 0];
        chunk.extend([0xc1, 2, 1, 0xc1]);
        assert_eq!(
            split_superframe(&chunk).unwrap(),
            [&[0x82, 0x49][..], &[0x88][..]]
        );
    }

    #[test]
    fn a_malformed_index_is_an_error() {
        // Sizes past the data before the index.
        let chunk = [0x82, 0x49, 0x88, 0xc1, 2, 2, 0xc1];
        assert!(matches!(
            split_superframe(&chunk),
            Err(Error::Malformed { .. })
        ));
        // A frame of size 0.
        let chunk = [0x82, 0x49, 0xc1, 2, 0, 0xc1];
        assert!(split_superframe(&chunk).is_err());
        // A 4-byte size that overflows nothing but claims 4 GB.
        let chunk = [0x82, 0xd8, 0xff, 0xff, 0xff, 0xff, 0xd8];
        assert!(split_superframe(&chunk).is_err());
        // The index alone.
        assert!(split_superframe(&[0xc0, 1, 0xc0]).is_err());
    }
}
