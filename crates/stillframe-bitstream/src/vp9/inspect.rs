//! [`Vp9Inspector`]: entry points of a VP9 track, from each chunk's frame headers.

use stillframe_core::{Packet, PacketInspector, PacketKind, Result, TrackInfo};

use super::{split_superframe, FrameHeader, Vp9Config};

/// The frame headers of one chunk (a superframe, or a single frame), in decode order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superframe {
    /// Each frame's header.
    pub frames: Vec<FrameHeader>,
}

impl Superframe {
    /// Splits `chunk` ([`split_superframe`]) and reads every frame's header.
    ///
    /// Fails with [`stillframe_core::Error::Malformed`] for a broken index or header.
    pub fn parse(chunk: &[u8]) -> Result<Superframe> {
        let frames = split_superframe(chunk)?
            .into_iter()
            .map(FrameHeader::parse)
            .collect::<Result<Vec<_>>>()?;
        Ok(Superframe { frames })
    }

    /// True if decoding may start here: the first frame is a key frame (which
    /// refreshes every reference slot, so nothing after it refers to anything
    /// before it, shown or not), and the chunk shows a frame.
    ///
    /// Not entry points: a chunk that only shows an existing frame (its frame was
    /// decoded earlier), a chunk of hidden frames only, and intra-only frames, which
    /// refresh only some slots: a later frame may still predict from a slot filled
    /// before it, which one chunk cannot rule out.
    pub fn is_random_access_point(&self) -> bool {
        self.frames.first().is_some_and(FrameHeader::is_key_frame)
            && self.frames.iter().any(FrameHeader::is_shown)
    }

    /// True if no frame of the chunk replaces a reference slot: no key frame and
    /// `refresh_frame_flags` = 0 in every frame (a `show_existing_frame` replaces
    /// none).
    ///
    /// This does **not** make a VP9 chunk safe to skip, unlike AV1: a decoded frame
    /// also becomes the *previous frame* whose motion vectors the next frame
    /// predicts from (`UsePrevFrameMvs`, § 7.2; libvpx `use_prev_frame_mvs`), and
    /// may save entropy contexts, loop filter deltas and a segmentation map that
    /// later frames use. Whether the next frame uses them, this chunk cannot say.
    pub fn refreshes_no_slot(&self) -> bool {
        !self.frames.is_empty()
            && self
                .frames
                .iter()
                .all(|frame| !frame.is_key_frame() && frame.refresh_frame_flags() == 0)
    }
}

/// Reads what a VP9 track's chunks are, one parse per packet.
///
/// `random_access` as [`Superframe::is_random_access_point`]: the chunk starts
/// with a key frame and shows a frame. `discardable` is always `false`: a VP9
/// frame that refreshes no reference slot still feeds the next frame's motion
/// vector prediction and entropy contexts ([`Superframe::refreshes_no_slot`]), so
/// skipping it can change later pictures; `false` is the answer that is always
/// safe. A chunk that cannot be read is neither.
#[derive(Debug, Clone)]
pub struct Vp9Inspector {
    config: Vp9Config,
}

impl Vp9Inspector {
    /// An inspector for `track`; fails with [`stillframe_core::Error::Malformed`]
    /// for a `vpcC` or `CodecPrivate` that cannot be read. An empty configuration
    /// is fine: VP9 chunks describe themselves.
    pub fn new(track: &TrackInfo) -> Result<Vp9Inspector> {
        let config = Vp9Config::from_codec_config(&track.codec_config)?;
        Ok(Vp9Inspector { config })
    }

    /// The track's configuration record, as read.
    pub fn config(&self) -> &Vp9Config {
        &self.config
    }
}

impl PacketInspector for Vp9Inspector {
    fn inspect(&self, packet: &Packet) -> PacketKind {
        match Superframe::parse(&packet.data) {
            Ok(superframe) => PacketKind {
                random_access: superframe.is_random_access_point(),
                discardable: false,
            },
            Err(_) => PacketKind::default(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A shown profile 0 key frame header, 16x16.
    const KEY: [u8; 9] = [0x82, 0x49, 0x83, 0x42, 0x00, 0x00, 0xf0, 0x00, 0xf0];
    /// The same key frame, hidden (show_frame = 0).
    const HIDDEN_KEY: [u8; 9] = [0x80, 0x49, 0x83, 0x42, 0x00, 0x00, 0xf0, 0x00, 0xf0];
    /// show_existing_frame of slot 0.
    const SHOW_EXISTING: [u8; 1] = [0x88];

    /// A shown (or hidden) inter frame refreshing `refresh`, size from LAST.
    fn inter(shown: bool, refresh: u8) -> Vec<u8> {
        // marker 10, profile 00, show_existing 0, frame_type 1, show_frame, error res 0
        let first = 0b1000_0100 | (u8::from(shown) << 1);
        if shown {
            // reset_frame_context (2 bits), refresh (8), refs: 3 × 4 bits, found_ref 1.
            let bits: u32 = u32::from(refresh) << 14 | 1 << 1;
            let mut out = vec![first];
            out.extend_from_slice(&(bits << 8).to_be_bytes());
            out
        } else {
            // intra_only 0, reset_frame_context 00, refresh, refs, found_ref 1.
            let bits: u32 = u32::from(refresh) << 13 | 1;
            let mut out = vec![first];
            out.extend_from_slice(&(bits << 8).to_be_bytes());
            out
        }
    }

    /// Frames joined into a superframe with 2-byte sizes.
    fn superframe(frames: &[&[u8]]) -> Vec<u8> {
        let marker = 0xc8 | (frames.len() as u8 - 1);
        let mut out = frames.concat();
        out.push(marker);
        for frame in frames {
            out.extend_from_slice(&(frame.len() as u16).to_le_bytes());
        }
        out.push(marker);
        out
    }

    #[test]
    fn the_test_frames_read_as_meant() {
        let shown = FrameHeader::parse(&inter(true, 0x24)).unwrap();
        assert!(shown.is_shown() && !shown.is_key_frame());
        assert_eq!(shown.refresh_frame_flags(), 0x24);
        let hidden = FrameHeader::parse(&inter(false, 0x10)).unwrap();
        assert!(!hidden.is_shown());
        assert_eq!(hidden.refresh_frame_flags(), 0x10);
        assert!(!FrameHeader::parse(&HIDDEN_KEY).unwrap().is_shown());
    }

    #[test]
    fn entry_points_start_with_a_key_frame_and_show_something() {
        let rap = |chunk: &[u8]| Superframe::parse(chunk).unwrap().is_random_access_point();
        assert!(rap(&KEY));
        assert!(rap(&superframe(&[&HIDDEN_KEY, &inter(true, 1)])));
        assert!(!rap(&HIDDEN_KEY));
        assert!(!rap(&SHOW_EXISTING));
        assert!(!rap(&inter(true, 1)));
        assert!(!rap(&superframe(&[&inter(false, 4), &KEY])));
    }

    #[test]
    fn refreshing_no_slot_and_the_inspector_never_says_discardable() {
        let none = |chunk: &[u8]| Superframe::parse(chunk).unwrap().refreshes_no_slot();
        assert!(none(&inter(true, 0)));
        assert!(none(&SHOW_EXISTING));
        assert!(!none(&inter(true, 1)));
        assert!(!none(&superframe(&[&inter(false, 0), &inter(true, 2)])));
        assert!(!none(&KEY));
        let track = TrackInfo {
            index: 0,
            id: 1,
            kind: stillframe_core::TrackKind::Video,
            codec: stillframe_core::Codec::Vp9,
            timescale: std::num::NonZeroU32::MIN,
            duration: None,
            codec_config: Vec::new(),
            extra_configs: Vec::new(),
            video: None,
        };
        let inspector = Vp9Inspector::new(&track).unwrap();
        let packet = |data: Vec<u8>| Packet {
            data,
            sample: 0,
            pts: 0,
            dts: 0,
            sync: false,
            description: 0,
        };
        let kind = inspector.inspect(&packet(inter(true, 0)));
        assert_eq!(kind, PacketKind::default());
        assert!(inspector.inspect(&packet(KEY.to_vec())).random_access);
        // Unreadable: neither.
        assert_eq!(
            inspector.inspect(&packet(vec![0xff; 4])),
            PacketKind::default()
        );
        assert_eq!(
            inspector.inspect(&packet(Vec::new())),
            PacketKind::default()
        );
    }
}
