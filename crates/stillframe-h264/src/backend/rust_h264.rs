//! The pure-Rust backend: [`rust_h264`](https://crates.io/crates/rust_h264)'s
//! decode-order [`Decoder`], driven one access unit at a time.
//!
//! The library finishes a picture only when the next one begins, or on `flush`,
//! which finishes the picture in progress without disturbing the reference
//! pictures. So every access unit is followed by a `flush` and its picture comes
//! out at once — except a lone first field, which waits for its second field in
//! the next access unit (the library weaves the two into one frame).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};

use rust_h264::decoder::{ChromaFormat as LibraryChroma, Decoder, Frame as LibraryFrame};
use rust_h264::nal::{NalUnit, NalUnitType};
use stillframe_bitstream::h264::{nal_ref_idc, nal_type, Sps};
use stillframe_core::bits::unescape_rbsp;
use stillframe_core::{ChromaFormat, Error, Result};

use super::{Backend, Picture, Structure};

/// A first field waiting for its second.
struct HeldField {
    token: u64,
    bottom: bool,
    frame_num: u32,
    damage: Option<String>,
}

/// rust_h264 behind the [`Backend`] contract.
pub(crate) struct RustH264 {
    decoder: Decoder,
    held: Option<HeldField>,
    out: VecDeque<Picture>,
}

impl Backend for RustH264 {
    const NAME: &'static str = "rust_h264";

    fn new() -> Result<Self> {
        Ok(RustH264 {
            decoder: Decoder::new(),
            held: None,
            out: VecDeque::new(),
        })
    }

    fn check_supported(sps: &Sps) -> Result<()> {
        const ONLY: &str = "rust_h264 decodes 8- and 10-bit 4:2:0, 4:2:2 and monochrome";
        let profile = sps.profile_name();
        if sps.chroma_format_idc == 3 {
            return Err(Error::unsupported(format!(
                "H.264 4:4:4 chroma ({profile}) — {ONLY}"
            )));
        }
        let luma = sps.bit_depth_luma;
        let chroma = sps.bit_depth_chroma;
        if !matches!(luma, 8 | 10) || (sps.chroma_format_idc != 0 && chroma != luma) {
            return Err(Error::unsupported(format!(
                "H.264 {luma}-bit luma with {chroma}-bit chroma ({profile}) — {ONLY}"
            )));
        }
        if sps.transform_bypass {
            return Err(Error::unsupported(format!(
                "H.264 lossless coding (qpprime_y_zero_transform_bypass, {profile}) — {ONLY}, \
                 without lossless macroblocks"
            )));
        }
        Ok(())
    }

    fn decode(&mut self, units: &[&[u8]], token: u64, structure: Structure) -> Result<()> {
        let completes_held = match (&self.held, structure) {
            (Some(held), Structure::Field { bottom, frame_num }) => {
                held.bottom != bottom && held.frame_num == frame_num
            }
            _ => false,
        };
        if self.held.is_some() && !completes_held && structure != Structure::Empty {
            // The second field never came: the library outputs the first alone.
            self.finish_picture(Some("its second field is missing"))?;
        }
        let mut damage = None;
        for unit in units {
            let Some(nal) = library_nal(unit) else {
                continue;
            };
            let decoded = guarded(|| self.decoder.decode_nal(&nal))?;
            match decoded {
                // Every picture was finished by the flush after the last access unit;
                // one finishing now was not, so its token is unknown: drop it.
                Ok(Some(_)) => log::warn!("rust_h264 finished a picture out of turn; dropped"),
                Ok(None) => {}
                Err(error) if is_vcl(&nal) => {
                    damage.get_or_insert_with(|| format!("a slice failed to decode: {error}"));
                }
                Err(error) => {
                    damage.get_or_insert_with(|| format!("a parameter set was refused: {error}"));
                }
            }
        }
        match structure {
            Structure::Empty => Ok(()),
            Structure::Field { bottom, frame_num } if !completes_held => {
                self.held = Some(HeldField {
                    token,
                    bottom,
                    frame_num,
                    damage,
                });
                Ok(())
            }
            _ => {
                let held = self.held.take();
                let (token, damage) = match held {
                    Some(first) => (first.token, first.damage.or(damage)),
                    None => (token, damage),
                };
                let frame = guarded(|| self.decoder.flush())?;
                self.push(frame, token, damage);
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> Result<()> {
        if self.held.is_some() {
            self.finish_picture(Some("its second field is missing"))?;
        }
        Ok(())
    }

    fn take(&mut self) -> Option<Picture> {
        self.out.pop_front()
    }
}

impl RustH264 {
    /// Outputs the held first field on its own.
    fn finish_picture(&mut self, missing: Option<&str>) -> Result<()> {
        if let Some(held) = self.held.take() {
            let frame = guarded(|| self.decoder.flush())?;
            let damage = held.damage.or(missing.map(str::to_owned));
            self.push(frame, held.token, damage);
        }
        Ok(())
    }

    fn push(&mut self, frame: Option<LibraryFrame>, token: u64, damage: Option<String>) {
        let Some(frame) = frame else {
            return;
        };
        let LibraryFrame {
            width,
            height,
            y,
            u,
            v,
            pic_order_cnt,
            chroma_format,
            bit_depth,
            ..
        } = frame;
        self.out.push_back(Picture {
            token,
            width: width as usize,
            height: height as usize,
            chroma: match chroma_format {
                LibraryChroma::Yuv422 => ChromaFormat::Yuv422,
                _ => ChromaFormat::Yuv420,
            },
            bit_depth,
            planes: [y, u, v],
            poc: Some(pic_order_cnt),
            damage,
        });
    }
}

/// The library's view of a NAL unit (header byte included); `None` for an empty
/// unit or one with the forbidden bit set.
fn library_nal(unit: &[u8]) -> Option<NalUnit<'_>> {
    let header = *unit.first()?;
    if header & 0x80 != 0 {
        return None;
    }
    let payload = &unit[1..];
    let escaped = payload.windows(3).any(|bytes| bytes == [0, 0, 3]);
    Some(NalUnit {
        nal_ref_idc: nal_ref_idc(unit).unwrap_or(0),
        nal_unit_type: NalUnitType::from(nal_type(unit).unwrap_or(0)),
        rbsp: if escaped {
            Cow::Owned(unescape_rbsp(payload))
        } else {
            Cow::Borrowed(payload)
        },
    })
}

fn is_vcl(nal: &NalUnit<'_>) -> bool {
    matches!(
        nal.nal_unit_type,
        NalUnitType::Slice | NalUnitType::SliceIdr
    )
}

/// Runs a call into the library, turning a panic into [`Error::Codec`]. The
/// decoder's state after a panic is unknown; the adapter replaces the backend.
fn guarded<T>(call: impl FnOnce() -> T) -> Result<T> {
    catch_unwind(AssertUnwindSafe(call)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        Error::codec(format!("rust_h264 panicked: {message}"))
    })
}
