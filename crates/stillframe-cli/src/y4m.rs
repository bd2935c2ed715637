//! YUV4MPEG2 (`.y4m`) output: the decoder's planes as they are, no conversion, so
//! a frame can be checked against ffmpeg's (`ffmpeg -i out.y4m -f framemd5 -`) or
//! piped into an encoder. Several frames of one size make one stream.

use std::io::Write;

use stillframe::{ChromaFormat, Frame, FrameRate, PixelAspect};

/// The stream-level facts of a y4m header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamHeader {
    width: u32,
    height: u32,
    chroma: ChromaFormat,
    bit_depth: u8,
    rate: (u32, u32),
    aspect: (u32, u32),
    full_range: Option<bool>,
}

impl StreamHeader {
    /// The header `frame` needs, at the track's rate (25 fps when unknown: y4m
    /// requires one) and pixel aspect.
    pub fn for_frame(frame: &Frame, rate: Option<FrameRate>, aspect: PixelAspect) -> StreamHeader {
        let rate = rate
            .filter(|r| r.numerator > 0 && r.denominator > 0)
            .map_or((25, 1), |r| (r.numerator, r.denominator));
        StreamHeader {
            width: frame.width,
            height: frame.height,
            chroma: frame.format.chroma,
            bit_depth: frame.format.bit_depth,
            rate,
            aspect: (aspect.horizontal.max(1), aspect.vertical.max(1)),
            full_range: frame.colour.full_range,
        }
    }

    /// The header line, or why y4m cannot carry this format.
    pub fn line(&self) -> Result<String, String> {
        let subsampling = match self.chroma {
            ChromaFormat::Yuv420 => "420",
            ChromaFormat::Yuv422 => "422",
            ChromaFormat::Yuv444 => "444",
            ChromaFormat::Monochrome => "mono",
        };
        let colourspace = match (self.chroma, self.bit_depth) {
            // ffmpeg's name for 8-bit 4:2:0 with centred chroma, and what it reads by default.
            (ChromaFormat::Yuv420, 8) => "420jpeg".to_owned(),
            (_, 8) => subsampling.to_owned(),
            (_, 9..=16) => format!("{subsampling}p{}", self.bit_depth),
            (_, depth) => return Err(format!("y4m cannot carry {depth}-bit samples")),
        };
        // `mono` has no `p` before its depth in the y4m convention ffmpeg follows.
        let colourspace = colourspace.replace("monop", "mono");
        let mut line = format!(
            "YUV4MPEG2 W{} H{} F{}:{} Ip A{}:{} C{colourspace}",
            self.width, self.height, self.rate.0, self.rate.1, self.aspect.0, self.aspect.1
        );
        if let Some(full) = self.full_range {
            line.push_str(if full {
                " XCOLORRANGE=FULL"
            } else {
                " XCOLORRANGE=LIMITED"
            });
        }
        line.push('\n');
        Ok(line)
    }
}

/// Appends one frame (its `FRAME` line and planes) to `out`; the planes are the
/// visible samples, little-endian 16-bit above 8 bits, as y4m wants them.
pub fn write_frame(frame: &Frame, out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(b"FRAME\n")?;
    for row in frame.packed_rows() {
        out.write_all(row)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use stillframe::{ColourDescription, PixelFormat, Plane};

    fn frame(chroma: ChromaFormat, bit_depth: u8) -> Frame {
        let bytes = if bit_depth > 8 { 2 } else { 1 };
        let plane = |width: usize, height: usize, fill: u8| Plane {
            data: vec![fill; (width + 3) * bytes * height],
            stride: (width + 3) * bytes,
            width,
            height,
        };
        Frame {
            pts: 0,
            width: 4,
            height: 2,
            format: PixelFormat { chroma, bit_depth },
            planes: vec![plane(4, 2, 1), plane(2, 1, 2), plane(2, 1, 3)],
            colour: ColourDescription::UNSPECIFIED,
            damage: None,
        }
    }

    #[test]
    fn headers_name_the_format_as_ffmpeg_does() {
        let square = PixelAspect {
            horizontal: 1,
            vertical: 1,
        };
        let header = |chroma, depth| {
            StreamHeader::for_frame(&frame(chroma, depth), None, square)
                .line()
                .unwrap()
        };
        assert_eq!(
            header(ChromaFormat::Yuv420, 8),
            "YUV4MPEG2 W4 H2 F25:1 Ip A1:1 C420jpeg\n"
        );
        assert!(header(ChromaFormat::Yuv420, 10).ends_with(" C420p10\n"));
        assert!(header(ChromaFormat::Yuv422, 8).ends_with(" C422\n"));
        assert!(header(ChromaFormat::Monochrome, 10).ends_with(" Cmono10\n"));
    }

    #[test]
    fn frames_drop_row_padding() {
        let mut out = Vec::new();
        write_frame(&frame(ChromaFormat::Yuv420, 10), &mut out).unwrap();
        // FRAME\n, then 4x2 + 2x1 + 2x1 samples of 2 bytes.
        assert_eq!(out.len(), 6 + (8 + 2 + 2) * 2);
        assert_eq!(&out[..6], b"FRAME\n");
    }
}
