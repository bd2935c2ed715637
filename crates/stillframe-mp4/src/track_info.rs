//! What a `trak` says about itself: header boxes, sample description and picture
//! properties (ISO 14496-12 § 8.3–8.5, § 12.1; QuickTime File Format for `nclc`).
//!
//! Header boxes (`mvhd`, `tkhd`, `mdhd`, `hdlr`, `pasp`) are decoded by mp4-atom.
//! The sample entry is walked here so that `avcC`/`av1C` can be handed on as the
//! exact bytes of the file rather than re-encoded, and so that `colr`'s range flag
//! and QuickTime's `nclc` are read as written.

use stillframe_core::{
    CleanAperture, Codec, ColourDescription, Fraction, Orientation, PixelAspect, Result, TrackKind,
};

use crate::boxes::{decode_atom, fourcc_str, BoxRef, Children, FourCc};
use crate::sample_table::StblBoxes;

/// The boxes of one `trak` that the demuxer uses.
#[derive(Debug, Default)]
pub(crate) struct TrakBoxes<'a> {
    pub tkhd: Option<BoxRef<'a>>,
    pub mdhd: Option<BoxRef<'a>>,
    pub hdlr: Option<BoxRef<'a>>,
    pub stsd: Option<BoxRef<'a>>,
    pub elst: Option<BoxRef<'a>>,
    pub stbl: StblBoxes<'a>,
}

/// Finds the boxes of a `trak`, first of each kind winning.
pub(crate) fn split_trak<'a>(trak: &BoxRef<'a>) -> TrakBoxes<'a> {
    let mut boxes = TrakBoxes::default();
    for child in trak.children("moov/trak") {
        match &child.kind {
            b"tkhd" => set(&mut boxes.tkhd, child),
            b"edts" => {
                if let Some(elst) = child
                    .children("moov/trak/edts")
                    .find(|b| &b.kind == b"elst")
                {
                    set(&mut boxes.elst, elst);
                }
            }
            b"mdia" => {
                for child in child.children("moov/trak/mdia") {
                    match &child.kind {
                        b"mdhd" => set(&mut boxes.mdhd, child),
                        b"hdlr" => set(&mut boxes.hdlr, child),
                        b"minf" => {
                            let stbl = child
                                .children("moov/trak/mdia/minf")
                                .find(|b| &b.kind == b"stbl");
                            if let Some(stbl) = stbl {
                                split_stbl(&stbl, &mut boxes);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    boxes
}

fn split_stbl<'a>(stbl: &BoxRef<'a>, boxes: &mut TrakBoxes<'a>) {
    let t = &mut boxes.stbl;
    for child in stbl.children("moov/trak/mdia/minf/stbl") {
        let slot = match &child.kind {
            b"stsd" => &mut boxes.stsd,
            b"stts" => &mut t.stts,
            b"ctts" => &mut t.ctts,
            b"stss" => &mut t.stss,
            b"stps" => &mut t.stps,
            b"stsc" => &mut t.stsc,
            b"stsz" => &mut t.stsz,
            b"stz2" => &mut t.stz2,
            b"stco" => &mut t.stco,
            b"co64" => &mut t.co64,
            _ => continue,
        };
        set(slot, child);
    }
}

fn set<'a>(slot: &mut Option<BoxRef<'a>>, b: BoxRef<'a>) {
    if slot.is_some() {
        log::warn!(
            "duplicate '{}' box at byte {}; the first is used",
            fourcc_str(b.kind),
            b.offset
        );
    } else {
        *slot = Some(b);
    }
}

/// The fields of `tkhd` the demuxer uses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrackHeader {
    pub track_id: u32,
    /// The 3×3 display matrix, row by row (`a b u / c d v / x y w`).
    pub matrix: [i32; 9],
    pub width: u32,
    pub height: u32,
}

/// Decodes `tkhd` (§ 8.3.2).
pub(crate) fn read_tkhd(b: &BoxRef<'_>) -> Result<TrackHeader> {
    let tkhd: mp4_atom::Tkhd = decode_atom(b, "moov/trak/tkhd")?;
    Ok(TrackHeader {
        track_id: tkhd.track_id,
        matrix: matrix_array(&tkhd.matrix),
        width: u32::from(tkhd.width.integer()),
        height: u32::from(tkhd.height.integer()),
    })
}

pub(crate) fn matrix_array(m: &mp4_atom::Matrix) -> [i32; 9] {
    [m.a, m.b, m.u, m.c, m.d, m.v, m.x, m.y, m.w]
}

/// Decodes `mdhd` (§ 8.4.2): timescale and duration.
pub(crate) fn read_mdhd(b: &BoxRef<'_>) -> Result<(u32, u64)> {
    let mdhd: mp4_atom::Mdhd = decode_atom(b, "moov/trak/mdia/mdhd")?;
    Ok((mdhd.timescale, mdhd.duration))
}

/// Decodes `hdlr` (§ 8.4.3) into a track kind.
pub(crate) fn read_hdlr(b: &BoxRef<'_>) -> Result<TrackKind> {
    // QuickTime's `hdlr` names its handler as a Pascal string, which mp4-atom reads
    // fine; only the handler type matters here, so read it directly if that fails.
    let handler = match decode_atom::<mp4_atom::Hdlr>(b, "moov/trak/mdia/hdlr") {
        Ok(hdlr) => hdlr.handler.into(),
        Err(error) => {
            let mut r = b.reader("moov/trak/mdia/hdlr");
            r.skip(8).map_err(|_| error)?;
            let bytes = r.bytes(4)?;
            [bytes[0], bytes[1], bytes[2], bytes[3]]
        }
    };
    Ok(match &handler {
        b"vide" => TrackKind::Video,
        b"soun" => TrackKind::Audio,
        b"subt" | b"sbtl" | b"text" | b"clcp" => TrackKind::Subtitle,
        _ => TrackKind::Other,
    })
}

/// What the first sample entry of `stsd` says.
#[derive(Debug, Clone)]
pub(crate) struct SampleEntry {
    pub codec: Codec,
    pub codec_config: Vec<u8>,
    /// The configuration records of `stsd` entries 2, 3, ... (empty where an
    /// entry has none), for streams whose parameters change mid-track.
    pub extra_configs: Vec<Vec<u8>>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub pixel_aspect: Option<PixelAspect>,
    pub clean_aperture: Option<CleanAperture>,
    pub colour: ColourDescription,
}

/// Maps a sample entry type to a codec.
pub(crate) fn codec_for(fourcc: FourCc) -> Codec {
    match &fourcc {
        b"avc1" | b"avc3" => Codec::H264,
        b"av01" => Codec::Av1,
        // Dolby Vision's dvh1/dvhe entries carry an HEVC base layer with its hvcC.
        b"hvc1" | b"hev1" | b"dvh1" | b"dvhe" => Codec::Hevc,
        b"vp09" => Codec::Vp9,
        b"mp4a" => Codec::Other("aac".into()),
        _ => Codec::Other(fourcc_str(fourcc).trim().to_ascii_lowercase()),
    }
}

/// The codec configuration boxes a visual sample entry may carry.
const CONFIG_BOXES: [&FourCc; 4] = [b"avcC", b"hvcC", b"vpcC", b"av1C"];

/// Reads the first entry of `stsd` (§ 8.5.2), and the configuration records of the
/// others. `visual` selects the VisualSampleEntry layout (§ 12.1.3) for video tracks.
pub(crate) fn read_stsd(b: &BoxRef<'_>, visual: bool) -> Result<SampleEntry> {
    let mut r = b.reader("moov/trak/mdia/minf/stbl/stsd");
    r.full_box()?;
    let count = r.u32()?;
    let entries_at = r.offset();
    let mut entries = Children::new(r.rest(), entries_at, "moov/trak/mdia/minf/stbl/stsd");
    let Some(entry) = entries.next() else {
        return Err(r.error(format!("stsd lists {count} entries but holds none")));
    };
    let mut out = SampleEntry {
        codec: codec_for(entry.kind),
        codec_config: Vec::new(),
        extra_configs: entries
            .take(usize::from(u16::MAX))
            .map(|other| visual_config(&other))
            .collect(),
        width: None,
        height: None,
        pixel_aspect: None,
        clean_aperture: None,
        colour: ColourDescription::UNSPECIFIED,
    };
    // SampleEntry: 6 reserved bytes and a data reference index.
    const SAMPLE_ENTRY: usize = 8;
    // VisualSampleEntry adds 70 bytes before its child boxes.
    const VISUAL_ENTRY: usize = SAMPLE_ENTRY + 70;
    if !visual || entry.body().len() < VISUAL_ENTRY {
        return Ok(out);
    }
    let mut v = entry.reader("moov/trak/mdia/minf/stbl/stsd/entry");
    v.skip(SAMPLE_ENTRY + 16)?;
    out.width = Some(u32::from(v.u16()?));
    out.height = Some(u32::from(v.u16()?));
    v.skip(VISUAL_ENTRY - SAMPLE_ENTRY - 20)?;
    let mut original_format = None;
    for child in Children::new(v.rest(), v.offset(), "moov/trak/mdia/minf/stbl/stsd/entry") {
        match &child.kind {
            kind if CONFIG_BOXES.contains(&kind) && out.codec_config.is_empty() => {
                out.codec_config = child.body().to_vec();
            }
            b"pasp" => match decode_atom::<mp4_atom::Pasp>(&child, "stsd/entry/pasp") {
                Ok(pasp) => out.pixel_aspect = PixelAspect::new(pasp.h_spacing, pasp.v_spacing),
                Err(error) => log::warn!("{error}; pixel aspect ignored"),
            },
            b"clap" => match read_clap(&child) {
                Ok(clap) => out.clean_aperture = clap,
                Err(error) => log::warn!("{error}; clean aperture ignored"),
            },
            b"colr" if out.colour == ColourDescription::UNSPECIFIED => match read_colr(&child) {
                Ok(Some(colour)) => out.colour = colour,
                Ok(None) => {}
                Err(error) => log::warn!("{error}; colour description ignored"),
            },
            b"sinf" => {
                let frma = child
                    .children("stsd/entry/sinf")
                    .find(|b| &b.kind == b"frma");
                if let Some(frma) = frma {
                    let mut r = frma.reader("stsd/entry/sinf/frma");
                    let f = r.bytes(4)?;
                    original_format = Some([f[0], f[1], f[2], f[3]]);
                }
            }
            _ => {}
        }
    }
    if let (b"encv", Some(original)) = (&entry.kind, original_format) {
        out.codec = Codec::Other(format!("{} (encrypted)", codec_for(original).name()));
    }
    Ok(out)
}

/// The configuration record of a further visual sample entry, or nothing.
fn visual_config(entry: &BoxRef<'_>) -> Vec<u8> {
    const VISUAL_ENTRY: usize = 78;
    let Some(children) = entry.body().get(VISUAL_ENTRY..) else {
        return Vec::new();
    };
    let offset = entry.body_offset() + VISUAL_ENTRY as u64;
    Children::new(children, offset, "moov/trak/mdia/minf/stbl/stsd/entry")
        .find(|child| CONFIG_BOXES.contains(&&child.kind))
        .map(|child| child.body().to_vec())
        .unwrap_or_default()
}

/// Reads `clap` (§ 12.1.4.2). `None` when a denominator is zero.
fn read_clap(b: &BoxRef<'_>) -> Result<Option<CleanAperture>> {
    let mut r = b.reader("stsd/entry/clap");
    let width_n = r.u32()?;
    let width_d = r.u32()?;
    let height_n = r.u32()?;
    let height_d = r.u32()?;
    let horizontal_n = r.i32()?;
    let horizontal_d = r.u32()?;
    let vertical_n = r.i32()?;
    let vertical_d = r.u32()?;
    if [width_d, height_d, horizontal_d, vertical_d].contains(&0) {
        log::warn!("clap at byte {} has a zero denominator; ignored", b.offset);
        return Ok(None);
    }
    let fraction = |numerator: i64, denominator: u32| Fraction {
        numerator,
        denominator: u64::from(denominator),
    };
    Ok(Some(CleanAperture {
        width: fraction(i64::from(width_n), width_d),
        height: fraction(i64::from(height_n), height_d),
        horizontal_offset: fraction(i64::from(horizontal_n), horizontal_d),
        vertical_offset: fraction(i64::from(vertical_n), vertical_d),
    }))
}

/// Reads `colr` (§ 12.1.5): `nclx` and QuickTime's `nclc`; ICC profiles are ignored.
fn read_colr(b: &BoxRef<'_>) -> Result<Option<ColourDescription>> {
    let mut r = b.reader("stsd/entry/colr");
    let kind = r.bytes(4)?;
    if kind != b"nclx" && kind != b"nclc" {
        return Ok(None);
    }
    // Code points above 255 are not defined by H.273; treat them as unspecified.
    let code = |v: u16| u8::try_from(v).unwrap_or(ColourDescription::UNSPECIFIED_CODE);
    let primaries = code(r.u16()?);
    let transfer = code(r.u16()?);
    let matrix = code(r.u16()?);
    let full_range = if kind == b"nclx" {
        Some(r.u8()? & 0x80 != 0)
    } else {
        None
    };
    Ok(Some(ColourDescription {
        primaries,
        transfer,
        matrix,
        full_range,
    }))
}

/// What the display matrices say: the picture's orientation, and a pixel aspect
/// when the matrix stretches one axis more than the other.
///
/// The track matrix is composed with the movie matrix, as ffmpeg composes them. A
/// per-axis scale does not hide a rotation (ffmpeg reads a 90° turn through it, and
/// turns the scale into a sample aspect ratio); a matrix that is not a multiple of
/// 90° shows the picture as decoded.
pub(crate) fn display(track: &[i32; 9], movie: &[i32; 9]) -> (Orientation, Option<PixelAspect>) {
    let element = |i: usize, j: usize| -> i64 {
        (0..3)
            .map(|e| {
                let shift = if e == 2 { 30 } else { 16 };
                let t = i64::from(track.get(i * 3 + e).copied().unwrap_or(0));
                let m = i64::from(movie.get(e * 3 + j).copied().unwrap_or(0));
                (t * m) >> shift
            })
            .sum()
    };
    let (a, b, c, d) = (element(0, 0), element(0, 1), element(1, 0), element(1, 1));
    const ONE: i64 = 1 << 16;
    let axis_aligned =
        (b == 0 && c == 0 && a != 0 && d != 0) || (a == 0 && d == 0 && b != 0 && c != 0);
    let orientation = if axis_aligned {
        Orientation::from_matrix(
            a.signum() * ONE,
            b.signum() * ONE,
            c.signum() * ONE,
            d.signum() * ONE,
        )
    } else {
        Orientation::from_matrix(a, b, c, d)
    };
    let orientation = orientation.unwrap_or_else(|| {
        log::warn!("display matrix ({a}, {b}, {c}, {d}) is not a multiple of 90°; ignored");
        Orientation::default()
    });
    // ffmpeg's scale test: each axis between 1/65536 and 256, differing by over 1%.
    let aspect = if axis_aligned {
        let (x, y) = ((a + c).unsigned_abs(), (b + d).unsigned_abs());
        let in_range = |v: u64| v > 1 && v < 1 << 24;
        let differs = x.abs_diff(y) * 100 > y;
        if in_range(x) && in_range(y) && differs {
            PixelAspect::new(u32::try_from(x).unwrap_or(0), u32::try_from(y).unwrap_or(0))
        } else {
            None
        }
    } else {
        None
    };
    (orientation, aspect)
}

/// ffmpeg's last resort for a pixel aspect: `tkhd`'s size against the sample entry's.
pub(crate) fn aspect_from_sizes(entry: (u32, u32), tkhd: (u32, u32)) -> Option<PixelAspect> {
    let ((w, h), (tw, th)) = (entry, tkhd);
    if w == 0 || h == 0 || tw == 0 || th == 0 || (w, h) == (tw, th) {
        return None;
    }
    let (mut x, mut y) = (u64::from(h) * u64::from(tw), u64::from(w) * u64::from(th));
    let (mut p, mut q) = (x, y);
    while q != 0 {
        (p, q) = (q, p % q);
    }
    x /= p.max(1);
    y /= p.max(1);
    PixelAspect::new(u32::try_from(x).ok()?, u32::try_from(y).ok()?)
}

/// The identity display matrix.
pub(crate) const IDENTITY: [i32; 9] = [1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30];
