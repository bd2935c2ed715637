//! The decoder's reference slots as the frame headers describe them, followed
//! ahead of rusty_vp9 so that every frame is checked before it is decoded.

use stillframe_bitstream::vp9::{
    CodedFrame, ColorConfig, FrameHeader, FrameSize, FrameType, NUM_REF_FRAMES,
};
use stillframe_core::{Error, Limits, Result};

use crate::memory;

/// The most luma samples rusty_vp9 0.1.3 decodes in one frame (`MAX_SAMPLES` in
/// its `decode.rs`): larger frames fail there with "frame dimensions out of range".
pub(crate) const RUSTY_VP9_MAX_SAMPLES: u64 = 1 << 26;

/// What a slot (or the frame being decoded) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Picture {
    pub width: u32,
    pub height: u32,
    pub color: ColorConfig,
}

/// The 8 reference slots and the colour configuration in force.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct References {
    slots: [Option<Picture>; NUM_REF_FRAMES],
    /// From the last key or intra-only frame; inter frames inherit it (§ 7.2).
    color: Option<ColorConfig>,
}

impl References {
    /// Checks `header` against the slots and `limits` and, if it may be decoded,
    /// updates the slots as decoding it will: the picture it decodes or shows.
    ///
    /// Fails with [`Error::Codec`] for a frame that needs a slot no frame filled
    /// since decoding started (it did not start at a key frame, or a frame was
    /// lost), [`Error::Malformed`] for references that the frame cannot use (a
    /// scale outside 1/2 to 16 times its size, another bit depth or subsampling:
    /// ffmpeg refuses those frames too), [`Error::Limit`] for a size above the
    /// limits or more decoder memory than they allow, and [`Error::Unsupported`]
    /// for what rusty_vp9 or a [`stillframe_core::Frame`] cannot hold (4:4:0,
    /// frames above 2²⁶ samples).
    pub(crate) fn advance(&mut self, header: &FrameHeader, limits: &Limits) -> Result<Picture> {
        let frame = match header {
            FrameHeader::ShowExisting(shown) => {
                return self.slot(shown.slot, "show_existing_frame shows");
            }
            FrameHeader::Coded(frame) => frame,
        };
        let picture = match frame.frame_type {
            FrameType::Key | FrameType::IntraOnly => {
                let color = frame.color.ok_or_else(|| {
                    Error::internal("an intra VP9 frame header without color_config")
                })?;
                let (width, height) = frame.explicit_size().ok_or_else(|| {
                    Error::internal("an intra VP9 frame header without a frame size")
                })?;
                Picture {
                    width,
                    height,
                    color,
                }
            }
            FrameType::Inter => self.inter_picture(frame)?,
        };
        if frame.explicit_size().is_some() {
            self.check_new_size(frame, &picture, limits)?;
        }
        if frame.is_intra() {
            self.color = Some(picture.color);
        }
        for (index, slot) in self.slots.iter_mut().enumerate() {
            if frame.refresh_frame_flags & (1 << index) != 0 {
                *slot = Some(picture);
            }
        }
        Ok(picture)
    }

    /// The picture of slot `index`, or the error for a frame that needs it.
    fn slot(&self, index: u8, what: &str) -> Result<Picture> {
        self.slots
            .get(usize::from(index))
            .copied()
            .flatten()
            .ok_or_else(|| {
                Error::codec(format!(
                    "{what} reference slot {index}, which no frame since the last key frame \
                     filled (decoding must start at a key frame)"
                ))
            })
    }

    /// An inter frame's size and colour, after checking its references.
    fn inter_picture(&self, frame: &CodedFrame) -> Result<Picture> {
        let mut references = [None; 3];
        for (reference, &index) in references.iter_mut().zip(&frame.ref_frame_idx) {
            *reference = Some(self.slot(index, "an inter frame uses")?);
        }
        let color = self
            .color
            .ok_or_else(|| Error::codec("an inter frame before any key frame"))?;
        let (width, height) = match frame.size {
            FrameSize::Explicit { width, height } => (width, height),
            FrameSize::FromReference(reference) => {
                let picture = references
                    .get(reference)
                    .copied()
                    .flatten()
                    .ok_or_else(|| {
                        Error::internal("found_ref names a reference beyond the third")
                    })?;
                (picture.width, picture.height)
            }
        };
        // What ffmpeg's vp9 decoder checks for each reference (libvpx likewise).
        for picture in references.into_iter().flatten() {
            let (w, h) = (u64::from(width), u64::from(height));
            let (rw, rh) = (u64::from(picture.width), u64::from(picture.height));
            if 2 * w < rw || 2 * h < rh || w > 16 * rw || h > 16 * rh {
                return Err(Error::malformed(
                    "VP9 frame header",
                    format!(
                        "a {width}x{height} frame cannot predict from a {}x{} reference \
                         (it may be at most twice as large or 16 times smaller)",
                        picture.width, picture.height
                    ),
                ));
            }
            let format = |c: &ColorConfig| (c.bit_depth, c.subsampling_x, c.subsampling_y);
            if format(&picture.color) != format(&color) {
                return Err(Error::malformed(
                    "VP9 frame header",
                    "an inter frame's reference has another bit depth or chroma subsampling",
                ));
            }
        }
        Ok(Picture {
            width,
            height,
            color,
        })
    }

    /// The checks a frame of a size of its own passes before rusty_vp9 allocates it.
    fn check_new_size(&self, frame: &CodedFrame, picture: &Picture, limits: &Limits) -> Result<()> {
        let Picture {
            width,
            height,
            color,
        } = picture;
        limits.check_pixels(*width, *height)?;
        if let Some((render_width, render_height)) = frame.render_size {
            limits.check_pixels(render_width, render_height)?;
        }
        // Our limits first: what they refuse is a property of this frame, while
        // the refusals below are for the whole stream.
        let slot_bytes = self.slots.iter().map(|slot| {
            slot.map_or(0, |p| {
                memory::frame_buffer_bytes(p.width, p.height, &p.color)
            })
        });
        limits.check_decoder_bytes(memory::decoding_bytes(*width, *height, color, slot_bytes))?;
        if color.chroma().is_none() {
            return Err(Error::unsupported(
                "VP9 4:4:0 chroma subsampling (profile 1 or 3)",
            ));
        }
        let samples = u64::from(*width) * u64::from(*height);
        if samples > RUSTY_VP9_MAX_SAMPLES {
            return Err(Error::unsupported(format!(
                "VP9 frames above {RUSTY_VP9_MAX_SAMPLES} pixels (rusty_vp9 refuses \
                 {width}x{height})"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use stillframe_bitstream::vp9::{ColorSpace, ShowExistingFrame};
    use stillframe_core::ErrorKind;

    const COLOR: ColorConfig = ColorConfig {
        bit_depth: 8,
        color_space: ColorSpace::Bt709,
        full_range: false,
        subsampling_x: true,
        subsampling_y: true,
    };

    fn frame(frame_type: FrameType, size: FrameSize, refresh: u8, refs: [u8; 3]) -> FrameHeader {
        FrameHeader::Coded(CodedFrame {
            profile: 0,
            frame_type,
            show_frame: true,
            error_resilient_mode: false,
            reset_frame_context: 0,
            refresh_frame_flags: refresh,
            color: (frame_type != FrameType::Inter).then_some(COLOR),
            size,
            render_size: None,
            ref_frame_idx: refs,
        })
    }

    fn explicit(width: u32, height: u32) -> FrameSize {
        FrameSize::Explicit { width, height }
    }

    #[test]
    fn a_key_frame_fills_every_slot_and_inter_frames_inherit() {
        let limits = Limits::default();
        let mut refs = References::default();
        let inter = frame(FrameType::Inter, FrameSize::FromReference(2), 1, [0, 1, 7]);
        assert_eq!(
            refs.advance(&inter, &limits).unwrap_err().kind(),
            ErrorKind::Codec
        );
        let key = frame(FrameType::Key, explicit(320, 240), 0xff, [0; 3]);
        refs.advance(&key, &limits).unwrap();
        let picture = refs.advance(&inter, &limits).unwrap();
        assert_eq!(
            (picture.width, picture.height, picture.color),
            (320, 240, COLOR)
        );
        // Reference scaling: half the size is fine, a third is not.
        let half = frame(FrameType::Inter, explicit(160, 120), 2, [0, 0, 0]);
        assert_eq!(refs.advance(&half, &limits).unwrap().width, 160);
        let third = frame(FrameType::Inter, explicit(100, 80), 0, [0, 0, 0]);
        assert_eq!(
            refs.advance(&third, &limits).unwrap_err().kind(),
            ErrorKind::Malformed
        );
        // Slot 1 now holds the 160x120 frame.
        let shown = FrameHeader::ShowExisting(ShowExistingFrame {
            profile: 0,
            slot: 1,
        });
        assert_eq!(refs.advance(&shown, &limits).unwrap().width, 160);
    }

    #[test]
    fn an_intra_only_frame_fills_only_its_slots() {
        let limits = Limits::default();
        let mut refs = References::default();
        let intra = frame(FrameType::IntraOnly, explicit(64, 64), 0b0000_0011, [0; 3]);
        refs.advance(&intra, &limits).unwrap();
        let inter = frame(FrameType::Inter, FrameSize::FromReference(0), 1, [0, 1, 2]);
        let error = refs.advance(&inter, &limits).unwrap_err();
        assert!(error.to_string().contains("slot 2"), "{error}");
        let inter = frame(FrameType::Inter, FrameSize::FromReference(0), 1, [0, 1, 1]);
        assert!(refs.advance(&inter, &limits).is_ok());
    }

    #[test]
    fn sizes_are_checked_before_decoding() {
        let mut refs = References::default();
        let huge = frame(FrameType::Key, explicit(16384, 16384), 0xff, [0; 3]);
        let error = refs.advance(&huge, &Limits::default()).unwrap_err();
        assert!(matches!(error, Error::Limit { what, .. } if what.contains("decoder memory")));
        let error = refs.advance(&huge, &Limits::UNLIMITED).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported);
        let small = Limits {
            max_pixels: 100 * 100,
            ..Limits::default()
        };
        let key = frame(FrameType::Key, explicit(320, 240), 0xff, [0; 3]);
        assert_eq!(
            refs.advance(&key, &small).unwrap_err().kind(),
            ErrorKind::Limit
        );
        // Nothing was taken in from the refused frames.
        assert_eq!(refs, References::default());
    }
}
