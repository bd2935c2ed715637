//! What a raw stream says about its track, from what was read at open: codec,
//! configuration record, picture size, pixel aspect, colour and timing.

use std::num::NonZeroU32;

use stillframe_core::{Codec, ColourDescription, PixelAspect};

use crate::{av1, ivf, FrameRateSource, Scanner};

/// A track's timing: the frame rate, and how timestamps are made from it.
pub(crate) struct Timing {
    pub timescale: NonZeroU32,
    pub frame_duration: u32,
    pub rate: (u32, u32),
    pub source: FrameRateSource,
}

impl Timing {
    const DEFAULT: Timing = Timing {
        timescale: match NonZeroU32::new(25) {
            Some(rate) => rate,
            None => NonZeroU32::MIN,
        },
        frame_duration: 1,
        rate: (25, 1),
        source: FrameRateSource::Default,
    };

    /// `frames / seconds` frames a second, in lowest terms, if both fit and are
    /// not zero.
    fn from_rate(frames: u64, seconds: u64) -> Option<Timing> {
        if frames == 0 || seconds == 0 {
            return None;
        }
        let divisor = gcd(frames, seconds);
        let numerator = u32::try_from(frames / divisor).ok()?;
        let denominator = u32::try_from(seconds / divisor).ok()?;
        Some(Timing {
            timescale: NonZeroU32::new(numerator)?,
            frame_duration: denominator,
            rate: (numerator, denominator),
            source: FrameRateSource::Bitstream,
        })
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// What the track says of itself, from what priming read.
pub(crate) struct Description {
    pub codec: Codec,
    pub config: Vec<u8>,
    pub size: Option<(u32, u32)>,
    /// The bitstream's pixel aspect and colour: a raw stream has no container to
    /// state them, so the stream's own word is the track's.
    pub pixel_aspect: Option<PixelAspect>,
    pub colour: ColourDescription,
    pub timing: Timing,
}

pub(crate) fn describe(scanner: &Scanner, ivf: Option<&ivf::IvfHeader>) -> Description {
    match scanner {
        Scanner::H264(scanner) => {
            let sps = scanner.first_sps();
            let timing = sps
                .and_then(|sps| sps.vui.as_ref())
                .and_then(|vui| vui.timing)
                .and_then(|(units, scale, _)| {
                    Timing::from_rate(u64::from(scale), 2 * u64::from(units))
                })
                .unwrap_or(Timing::DEFAULT);
            Description {
                codec: Codec::H264,
                config: scanner.leading_avcc(),
                size: sps.map(|sps| sps.visible_size()),
                pixel_aspect: sps.and_then(|sps| sps.pixel_aspect()),
                colour: sps.map_or(ColourDescription::UNSPECIFIED, |sps| sps.colour()),
                timing,
            }
        }
        Scanner::Hevc(scanner) => {
            let sps = scanner.first_sps();
            let timing = sps
                .and_then(|sps| sps.vui.as_ref())
                .and_then(|vui| vui.timing)
                .and_then(|timing| {
                    Timing::from_rate(
                        u64::from(timing.time_scale),
                        u64::from(timing.num_units_in_tick),
                    )
                })
                .unwrap_or(Timing::DEFAULT);
            Description {
                codec: Codec::Hevc,
                config: scanner.leading_hvcc(),
                size: sps.map(|sps| sps.visible_size()),
                pixel_aspect: sps.and_then(|sps| sps.pixel_aspect()),
                colour: sps.map_or(ColourDescription::UNSPECIFIED, |sps| sps.colour()),
                timing,
            }
        }
        Scanner::Ivf(scanner) => {
            let header = ivf.cloned().unwrap_or(ivf::IvfHeader {
                fourcc: *b"\0\0\0\0",
                width: 0,
                height: 0,
                time_base: (0, 0),
            });
            let timing = match header.timescale() {
                Some((timescale, ticks)) => Timing {
                    timescale: NonZeroU32::new(timescale).unwrap_or(NonZeroU32::MIN),
                    frame_duration: ticks,
                    rate: (timescale, ticks),
                    source: FrameRateSource::Container,
                },
                None => Timing::DEFAULT,
            };
            let codec = header.codec();
            let av1 = scanner.av1();
            let (config, colour) = if codec == Codec::Av1 {
                let colour = av1
                    .first()
                    .map_or(ColourDescription::UNSPECIFIED, |h| h.colour);
                (av1.av1c(), colour)
            } else {
                (Vec::new(), ColourDescription::UNSPECIFIED)
            };
            Description {
                codec,
                config,
                size: Some((u32::from(header.width), u32::from(header.height))),
                pixel_aspect: None,
                colour,
                timing,
            }
        }
        Scanner::Obu(scanner) => describe_av1(scanner.sequence()),
        Scanner::Av1AnnexB(scanner) => describe_av1(scanner.sequence()),
    }
}

fn describe_av1(sequence: &av1::Av1Sequence) -> Description {
    let timing = sequence
        .timing()
        .and_then(|(seconds, frames)| Timing::from_rate(frames, seconds))
        .unwrap_or(Timing::DEFAULT);
    let first = sequence.first();
    Description {
        codec: Codec::Av1,
        config: sequence.av1c(),
        size: first.map(|header| (header.max_frame_width, header.max_frame_height)),
        pixel_aspect: None,
        colour: first.map_or(ColourDescription::UNSPECIFIED, |header| header.colour),
        timing,
    }
}
