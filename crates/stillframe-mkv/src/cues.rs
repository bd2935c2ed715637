//! Cues (RFC 9559 § 5.1.5): the file's own keyframe index, read whole at open.

use stillframe_core::{Limits, Result};

use crate::ebml::{self, Children, Header};
use crate::ids;
use crate::tracks::Timebase;

/// One entry of the file's Cues: a keyframe of a track and the cluster holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CuePoint {
    /// CueTime in the tracks' timescale (see [`stillframe_core::TrackInfo::timescale`]).
    pub time: i64,
    /// TrackNumber of the track the keyframe belongs to ([`stillframe_core::TrackInfo::id`]).
    pub track: u64,
    /// File offset of the Cluster: CueClusterPosition plus the Segment's data offset.
    pub cluster_offset: u64,
    /// CueRelativePosition: where the block starts, counted from the first byte of
    /// the Cluster's data (not from the Segment, nor from the first Cluster).
    pub relative_position: Option<u64>,
}

/// Reads a Cues body into cue points, one per CueTrackPositions that has a
/// CueClusterPosition, in file order.
pub(crate) fn parse(
    body: &[u8],
    header: &Header,
    segment_data: u64,
    timebase: &Timebase,
    limits: &Limits,
) -> Result<Vec<CuePoint>> {
    let mut points = Vec::new();
    for point in Children::new(body, header.data_offset, "Cues") {
        let (point, data) = point?;
        if point.id != ids::CUE_POINT {
            continue;
        }
        let mut time = None;
        let mut positions = Vec::new();
        for child in Children::new(data, point.data_offset, "CuePoint") {
            let (child, value) = child?;
            match child.id {
                ids::CUE_TIME => time = ebml::uint(value).and_then(|t| i64::try_from(t).ok()),
                ids::CUE_TRACK_POSITIONS => positions.push(parse_positions(value, &child)?),
                _ => {}
            }
        }
        let Some(time) = time.and_then(|t| timebase.ticks(t)) else {
            continue;
        };
        for (track, cluster, relative_position) in positions {
            let (Some(track), Some(cluster)) = (track, cluster) else {
                continue;
            };
            let Some(cluster_offset) = segment_data.checked_add(cluster) else {
                continue;
            };
            limits.check_entries("Matroska cue points", points.len() as u64 + 1)?;
            points.push(CuePoint {
                time,
                track,
                cluster_offset,
                relative_position,
            });
        }
    }
    Ok(points)
}

type Positions = (Option<u64>, Option<u64>, Option<u64>);

fn parse_positions(data: &[u8], header: &Header) -> Result<Positions> {
    let (mut track, mut cluster, mut relative) = (None, None, None);
    for child in Children::new(data, header.data_offset, "CueTrackPositions") {
        let (child, value) = child?;
        match child.id {
            ids::CUE_TRACK => track = ebml::uint(value),
            ids::CUE_CLUSTER_POSITION => cluster = ebml::uint(value),
            ids::CUE_RELATIVE_POSITION => relative = ebml::uint(value),
            _ => {}
        }
    }
    Ok((track, cluster, relative))
}
