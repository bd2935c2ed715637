//! Reads one Cluster (RFC 9559 § 5.1.3): its Timestamp and the headers of its
//! SimpleBlocks and BlockGroups, stepping over frame data.
//!
//! Known-size and unknown-size Clusters are both handled: an unknown-size Cluster
//! ends where an element that may only be a Segment child begins. An element that
//! runs past the end of the file marks the cluster as cut off: the blocks before it
//! are kept, and it and everything after it are lost.

use std::io::{Read, Seek};

use stillframe_core::{Error, Limits, Location, Result};

use crate::block::{self, BlockError, FLAG_KEYFRAME};
use crate::ebml::{self, Header};
use crate::ids;
use crate::layout::streaming_header_at as header_at;
use crate::source::{Source, READ_AHEAD};

/// One frame of a block: where its bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameSpan {
    pub(crate) offset: u64,
    pub(crate) size: u32,
}

/// A block as the index needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    /// TrackNumber.
    pub(crate) track: u64,
    /// Cluster timestamp plus the block's relative one, in segment ticks.
    pub(crate) timestamp: i64,
    /// SimpleBlock keyframe flag, or a BlockGroup without ReferenceBlock.
    pub(crate) keyframe: bool,
    /// BlockDuration, in segment ticks.
    pub(crate) duration: Option<u64>,
    /// The frames, one unless laced.
    pub(crate) frames: Vec<FrameSpan>,
}

/// What reading a cluster found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cluster {
    /// Where the cluster starts.
    pub(crate) offset: u64,
    /// Where the next level-1 element starts (for a cut-off cluster: the end of the
    /// last complete element).
    pub(crate) next: u64,
    /// The blocks, in file order.
    pub(crate) blocks: Vec<Block>,
    /// The file ends inside this cluster.
    pub(crate) cut: bool,
}

/// Reads the cluster at `offset`, which must lie before `segment_end`.
pub(crate) fn read<R: Read + Seek>(
    source: &mut Source<R>,
    offset: u64,
    segment_end: u64,
    limits: &Limits,
) -> Result<Cluster> {
    let mut cluster = Cluster {
        offset,
        next: offset,
        blocks: Vec::new(),
        cut: false,
    };
    let Some(header) = header_at(source, offset)? else {
        cluster.cut = true;
        return Ok(cluster);
    };
    if header.id != ids::CLUSTER {
        return Err(Error::malformed(
            Location::at("Cluster", offset),
            format!("expected a Cluster, found element {:#X}", header.id),
        ));
    }
    let file_len = source.len();
    let declared_end = header.end();
    let end = declared_end.map_or(segment_end, |e| e.min(segment_end));
    let mut timestamp: i64 = 0;
    let mut frames = 0u64;
    let mut position = header.data_offset;
    while position < end {
        let Some(child) = header_at(source, position)? else {
            cluster.cut = true;
            break;
        };
        if ids::ends_unknown_size_cluster(child.id) {
            // The next level-1 element: this cluster ended (its size was unknown, or
            // too large, which ffmpeg and libmatroska also tolerate).
            break;
        }
        let Some(child_end) = child.end() else {
            return Err(Error::malformed(
                Location::at("Cluster child", position),
                format!("element {:#X} has an unknown size", child.id),
            ));
        };
        if child_end > file_len {
            cluster.cut = true;
            break;
        }
        if child_end > end {
            return Err(Error::malformed(
                Location::at("Cluster child", position),
                format!("element {:#X} overruns its Cluster", child.id),
            ));
        }
        match child.id {
            ids::TIMESTAMP => {
                let bytes = source.peek(child.data_offset, 8)?;
                let size = usize::try_from(child_end - child.data_offset).unwrap_or(usize::MAX);
                let value = bytes
                    .get(..size)
                    .and_then(ebml::uint)
                    .and_then(|v| i64::try_from(v).ok())
                    .ok_or_else(|| {
                        Error::malformed(
                            Location::at("Cluster/Timestamp", position),
                            "not a 63-bit integer",
                        )
                    })?;
                timestamp = value;
            }
            ids::SIMPLE_BLOCK | ids::BLOCK_GROUP => {
                // Real clusters hold a few thousand blocks; millions of tiny ones
                // would only exhaust memory.
                limits.check_entries(
                    "blocks in one Matroska cluster",
                    cluster.blocks.len() as u64 + 1,
                )?;
                let block = if child.id == ids::SIMPLE_BLOCK {
                    read_block(source, &child, timestamp, limits, None)?
                } else {
                    read_group(source, &child, timestamp, limits)?
                };
                if let Some(block) = block {
                    // Lacing puts up to 256 frames in a 7-byte block: bound the
                    // frames too, or a 7 MB cluster would hold 256 million.
                    frames += block.frames.len() as u64;
                    limits.check_entries("frames in one Matroska cluster", frames)?;
                    cluster.blocks.push(block);
                }
            }
            _ => {}
        }
        position = child_end;
    }
    cluster.next = position;
    // A cluster that claims bytes the file does not have was cut short.
    if declared_end.is_some_and(|e| e > file_len) && position >= end {
        cluster.cut = true;
    }
    Ok(cluster)
}

/// A BlockGroup: its Block, BlockDuration, and whether it has a ReferenceBlock.
fn read_group<R: Read + Seek>(
    source: &mut Source<R>,
    group: &Header,
    timestamp: i64,
    limits: &Limits,
) -> Result<Option<Block>> {
    let end = group.end().unwrap_or(group.data_offset);
    let mut position = group.data_offset;
    let mut block = None;
    let mut duration = None;
    let mut referenced = false;
    while position < end {
        let Some(child) = header_at(source, position)? else {
            break;
        };
        let Some(child_end) = child.end().filter(|&e| e <= end) else {
            return Err(Error::malformed(
                Location::at("BlockGroup", position),
                format!("element {:#X} overruns its BlockGroup", child.id),
            ));
        };
        match child.id {
            ids::BLOCK => block = Some(child),
            ids::BLOCK_DURATION => {
                let size = usize::try_from(child_end - child.data_offset).unwrap_or(usize::MAX);
                let bytes = source.peek(child.data_offset, 8)?;
                duration = bytes.get(..size).and_then(ebml::uint);
            }
            ids::REFERENCE_BLOCK => referenced = true,
            _ => {}
        }
        position = child_end;
    }
    match block {
        // RFC 9559 § 10.1: a Block without ReferenceBlock is a keyframe.
        Some(header) => {
            let block = read_block(source, &header, timestamp, limits, Some(!referenced))?;
            Ok(block.map(|b| Block { duration, ..b }))
        }
        None => Ok(None),
    }
}

/// Decodes a (Simple)Block's header. `keyframe` is `None` for a SimpleBlock, whose
/// flags say it.
fn read_block<R: Read + Seek>(
    source: &mut Source<R>,
    header: &Header,
    cluster_timestamp: i64,
    limits: &Limits,
    keyframe: Option<bool>,
) -> Result<Option<Block>> {
    let size = header.size.unwrap_or(0);
    let location = || Location::at("Block", header.offset);
    let head = source.peek(header.data_offset, READ_AHEAD)?;
    let head_len = head.len().min(usize::try_from(size).unwrap_or(usize::MAX));
    let parsed = match block::parse_header(head.get(..head_len).unwrap_or(&[]), size) {
        Err(BlockError::NeedMore) if (head_len as u64) < size => {
            // A long lacing header (Xiph sizes of big frames): read the block whole.
            limits.check_metadata_bytes(size)?;
            let whole = source.read_exact_at(header.data_offset, size, "Block")?;
            block::parse_header(&whole, size)
        }
        other => other,
    };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(BlockError::NeedMore) => {
            return Err(Error::malformed(
                location(),
                "block header longer than the block",
            ))
        }
        Err(BlockError::Invalid(message)) => return Err(Error::malformed(location(), message)),
    };
    let timestamp = cluster_timestamp
        .checked_add(i64::from(parsed.relative_timestamp))
        .ok_or_else(|| Error::malformed(location(), "timestamp overflows"))?;
    let mut frames = Vec::with_capacity(parsed.frames.len());
    for (offset, frame_size) in parsed.frames {
        limits.check_sample_bytes(frame_size)?;
        frames.push(FrameSpan {
            offset: header.data_offset.saturating_add(offset),
            size: u32::try_from(frame_size).unwrap_or(u32::MAX),
        });
    }
    Ok(Some(Block {
        track: parsed.track,
        timestamp,
        keyframe: keyframe.unwrap_or(parsed.flags & FLAG_KEYFRAME != 0),
        duration: None,
        frames,
    }))
}
