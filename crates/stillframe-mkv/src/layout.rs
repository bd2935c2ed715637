//! The file's outline: the EBML header's DocType, the Segment, and where its
//! level-1 elements (Info, Tracks, Cues, the first Cluster) are, found by walking
//! the Segment up to the first Cluster and by following every SeekHead.

use std::io::{Read, Seek};

use stillframe_core::{ContainerKind, Error, ErrorKind, Limits, Location, Result};

use crate::ebml::{self, Children, Header, MAX_HEADER_LENGTH};
use crate::ids;
use crate::source::Source;

/// Level-0 elements skipped while looking for the Segment (Void, CRC-32, junk).
const MAX_LEVEL0_ELEMENTS: usize = 64;
/// Level-1 elements walked before the first Cluster; files put a handful there.
const MAX_LEVEL1_ELEMENTS: usize = 4096;
/// SeekHeads followed, recursion included.
const MAX_SEEK_HEADS: usize = 16;
/// The EBML header is a few dozen bytes; anything this large is not one.
const MAX_EBML_HEADER_BYTES: u64 = 4096;

/// Where things are.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// Matroska or WebM, by DocType.
    pub(crate) container: ContainerKind,
    /// File offset of the Segment's data: positions in SeekHead and Cues count from here.
    pub(crate) segment_data: u64,
    /// Where the Segment ends, clipped to the file.
    pub(crate) segment_end: u64,
    /// Segment Info.
    pub(crate) info: Option<Header>,
    /// Tracks.
    pub(crate) tracks: Option<Header>,
    /// Cues, where a SeekHead or the walk found them.
    pub(crate) cues: Option<Header>,
    /// The first Cluster.
    pub(crate) first_cluster: Option<u64>,
}

/// Bytes fetched for a lone element header: the header itself and, at the start of
/// the file, the small elements that usually follow it.
const HEADER_FETCH: usize = 4096;

/// The element header at `offset`, or `None` when the file ends inside it.
pub(crate) fn header_at<R: Read + Seek>(
    source: &mut Source<R>,
    offset: u64,
) -> Result<Option<Header>> {
    let bytes = source.peek_fetching(offset, MAX_HEADER_LENGTH, HEADER_FETCH)?;
    Header::parse(bytes, offset)
}

/// The element header at `offset` while walking a cluster: a miss reads ahead, as
/// the block headers that follow are wanted too.
pub(crate) fn streaming_header_at<R: Read + Seek>(
    source: &mut Source<R>,
    offset: u64,
) -> Result<Option<Header>> {
    let bytes = source.peek(offset, MAX_HEADER_LENGTH)?;
    Header::parse(bytes, offset)
}

/// Reads the body of a small element whole, after checking its size.
pub(crate) fn read_body<R: Read + Seek>(
    source: &mut Source<R>,
    header: &Header,
    limits: &Limits,
    what: &str,
) -> Result<Vec<u8>> {
    let size = header.size.ok_or_else(|| {
        Error::malformed(Location::at(what.to_owned(), header.offset), "unknown size")
    })?;
    limits.check_metadata_bytes(size)?;
    source.read_exact_at(header.data_offset, size, what)
}

/// Reads the EBML header and finds the Segment's level-1 elements.
pub(crate) fn read<R: Read + Seek>(source: &mut Source<R>, limits: &Limits) -> Result<Layout> {
    let (container, header_end) = read_ebml_header(source)?;
    let segment = find_segment(source, header_end)?;
    let file_len = source.len();
    let declared_end = segment.end();
    let segment_end = declared_end.map_or(file_len, |end| end.min(file_len));
    let mut layout = Layout {
        container,
        segment_data: segment.data_offset,
        segment_end,
        info: None,
        tracks: None,
        cues: None,
        first_cluster: None,
    };
    let mut seek_heads = Vec::new();
    walk_level1(source, &mut layout, &mut seek_heads)?;
    follow_seek_heads(source, limits, &mut layout, seek_heads)?;
    Ok(layout)
}

/// Checks the EBML header (RFC 8794 § 11.2) and returns the container by DocType and
/// where the header ends.
fn read_ebml_header<R: Read + Seek>(source: &mut Source<R>) -> Result<(ContainerKind, u64)> {
    if source.len() == 0 {
        return Err(Error::malformed("file", "the file is empty"));
    }
    let broken = |message: String| Error::malformed(Location::at("EBML header", 0), message);
    let header = header_at(source, 0)
        .map_err(|e| broken(e.to_string()))?
        .ok_or_else(|| broken("the file ends inside the EBML header".into()))?;
    if header.id != ids::EBML {
        return Err(broken(format!(
            "the file starts with element {:#X}, not an EBML header",
            header.id
        )));
    }
    let size = header
        .size
        .filter(|&s| s <= MAX_EBML_HEADER_BYTES)
        .ok_or_else(|| broken(format!("implausible size {:?}", header.size)))?;
    let body = source
        .read_exact_at(header.data_offset, size, "EBML header")
        .map_err(|e| broken(e.to_string()))?;
    let mut doc_type = None;
    for child in Children::new(&body, header.data_offset, "EBML header") {
        let (child, data) = child.map_err(|e| broken(e.to_string()))?;
        let value = || {
            ebml::uint(data)
                .ok_or_else(|| broken(format!("element {:#X} is not an integer", child.id)))
        };
        match child.id {
            ids::DOC_TYPE => doc_type = Some(ebml::string(data)),
            ids::EBML_READ_VERSION if value()? > 1 => {
                return Err(Error::unsupported(format!(
                    "EBML read version {}",
                    value()?
                )))
            }
            ids::EBML_MAX_ID_LENGTH if value()? > 4 => {
                return Err(Error::unsupported(format!(
                    "EBML IDs of {} bytes",
                    value()?
                )))
            }
            ids::EBML_MAX_SIZE_LENGTH if value()? > 8 => {
                return Err(Error::unsupported(format!(
                    "EBML sizes of {} bytes",
                    value()?
                )))
            }
            ids::EBML_VERSION | ids::DOC_TYPE_READ_VERSION => {
                value()?;
            }
            _ => {}
        }
    }
    let container = match doc_type.as_deref() {
        Some("matroska") => ContainerKind::Matroska,
        Some("webm") => ContainerKind::WebM,
        Some(other) => return Err(Error::unsupported(format!("EBML DocType {other:?}"))),
        // RFC 8794 § 11.2.6: DocType is mandatory and has no default.
        None => return Err(broken("no DocType".into())),
    };
    let end = header.data_offset.saturating_add(size);
    Ok((container, end))
}

/// The Segment header, skipping Void, CRC-32 and other level-0 elements before it.
fn find_segment<R: Read + Seek>(source: &mut Source<R>, mut offset: u64) -> Result<Header> {
    for _ in 0..MAX_LEVEL0_ELEMENTS {
        let Some(header) = header_at(source, offset)? else {
            break;
        };
        if header.id == ids::SEGMENT {
            return Ok(header);
        }
        match header.end() {
            Some(end) if end <= source.len() => offset = end,
            _ => break,
        }
    }
    Err(Error::malformed(
        Location::at("Segment", offset),
        "no Segment after the EBML header",
    ))
}

/// Walks the Segment's children from its start to the first Cluster.
fn walk_level1<R: Read + Seek>(
    source: &mut Source<R>,
    layout: &mut Layout,
    seek_heads: &mut Vec<u64>,
) -> Result<()> {
    let mut offset = layout.segment_data;
    for _ in 0..MAX_LEVEL1_ELEMENTS {
        if offset >= layout.segment_end {
            return Ok(());
        }
        let Some(header) = header_at(source, offset)? else {
            return Ok(());
        };
        match header.id {
            ids::CLUSTER => {
                layout.first_cluster = Some(offset);
                return Ok(());
            }
            ids::SEEK_HEAD => seek_heads.push(offset),
            ids::INFO => {
                layout.info.get_or_insert(header);
            }
            ids::TRACKS => {
                layout.tracks.get_or_insert(header);
            }
            ids::CUES => {
                layout.cues.get_or_insert(header);
            }
            _ => {}
        }
        match header.end() {
            Some(end) if end > offset => offset = end,
            // An unknown-size element other than a Cluster cannot be stepped over.
            _ => return Ok(()),
        }
    }
    Ok(())
}

/// Reads every SeekHead (the ones found by the walk and the ones they point to) and
/// fills in the elements the walk did not reach.
fn follow_seek_heads<R: Read + Seek>(
    source: &mut Source<R>,
    limits: &Limits,
    layout: &mut Layout,
    mut pending: Vec<u64>,
) -> Result<()> {
    let mut visited = Vec::new();
    while let Some(offset) = pending.pop() {
        if visited.contains(&offset) || visited.len() >= MAX_SEEK_HEADS {
            continue;
        }
        visited.push(offset);
        // A SeekHead entry is only a shortcut: one pointing at garbage is ignored.
        let Some(header) = seek_target(source, offset)? else {
            continue;
        };
        if header.id != ids::SEEK_HEAD {
            log::debug!(
                "SeekHead entry at {offset} is element {:#X}; ignored",
                header.id
            );
            continue;
        }
        let body = match read_body(source, &header, limits, "SeekHead") {
            Ok(body) => body,
            // A SeekHead cut off by truncation or oversized only loses shortcuts.
            Err(error) => {
                log::debug!("SeekHead at {offset} unreadable: {error}");
                continue;
            }
        };
        for (id, position) in seek_entries(&body, header.data_offset)? {
            let Some(target) = layout.segment_data.checked_add(position) else {
                continue;
            };
            if target >= layout.segment_end {
                continue;
            }
            let slot = match id {
                ids::SEEK_HEAD => {
                    pending.push(target);
                    continue;
                }
                ids::INFO => &mut layout.info,
                ids::TRACKS => &mut layout.tracks,
                ids::CUES => &mut layout.cues,
                ids::CLUSTER if layout.first_cluster.is_none() => {
                    layout.first_cluster = Some(target);
                    continue;
                }
                _ => continue,
            };
            if slot.is_some() {
                continue;
            }
            // Trust a SeekHead entry only when the element it names is really there.
            match seek_target(source, target)? {
                Some(found) if found.id == id => *slot = Some(found),
                _ => log::debug!("SeekHead points {id:#X} at {target}, which is not one"),
            }
        }
    }
    Ok(())
}

/// The element header a SeekHead entry points at; `None` where the file ends or the
/// bytes there are no element header (the entry is then ignored, not fatal).
fn seek_target<R: Read + Seek>(source: &mut Source<R>, offset: u64) -> Result<Option<Header>> {
    match header_at(source, offset) {
        Err(error) if error.kind() == ErrorKind::Malformed => {
            log::debug!("SeekHead entry at {offset}: {error}");
            Ok(None)
        }
        other => other,
    }
}

/// `(SeekID, SeekPosition)` pairs of a SeekHead body.
fn seek_entries(body: &[u8], base: u64) -> Result<Vec<(u32, u64)>> {
    let mut entries = Vec::new();
    for seek in Children::new(body, base, "SeekHead") {
        let (seek, data) = seek?;
        if seek.id != ids::SEEK {
            continue;
        }
        let (mut id, mut position) = (None, None);
        for child in Children::new(data, seek.data_offset, "Seek") {
            let (child, value) = child?;
            match child.id {
                // SeekID holds the ID's bytes, marker included (RFC 9559 § 5.1.1.1.1).
                ids::SEEK_ID => id = ebml::uint(value).and_then(|v| u32::try_from(v).ok()),
                ids::SEEK_POSITION => position = ebml::uint(value),
                _ => {}
            }
        }
        if let (Some(id), Some(position)) = (id, position) {
            entries.push((id, position));
        }
    }
    Ok(entries)
}
