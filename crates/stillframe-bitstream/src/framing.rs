//! NAL units in a sample, for H.264 and HEVC alike: length-prefixed (ISO 14496-15
//! § 5.3.2, as MP4 and Matroska store them) or an Annex B byte stream (start codes,
//! H.264 Annex B, H.265 Annex B), and the conversion to Annex B.

use stillframe_core::{Error, Result};

const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Splits a sample into its NAL units.
///
/// A sample is read as `length_size`-byte big-endian lengths each followed by a
/// unit, if that accounts for every byte (zero bytes of padding may follow the
/// last unit; zero-length units are skipped). Otherwise, if it begins with a start
/// code (`00 00 01` or `00 00 00 01`), it is read as an Annex B byte stream: some
/// MP4 and Matroska files store samples that way. Trying lengths first matters:
/// a 4-byte length of 256 to 511 also begins `00 00 01`.
///
/// Fails with [`Error::Malformed`] when neither reading fits, e.g. a length
/// runs past the end of the sample.
pub fn split_nal_units(sample: &[u8], length_size: u8) -> Result<Vec<&[u8]>> {
    match split_length_prefixed(sample, length_size) {
        Ok(units) => Ok(units),
        Err(error) if starts_with_start_code(sample) => {
            log::trace!("sample read as Annex B: {error}");
            Ok(split_annex_b(sample))
        }
        Err(error) => Err(error),
    }
}

fn starts_with_start_code(sample: &[u8]) -> bool {
    sample.starts_with(&[0, 0, 1]) || sample.starts_with(&[0, 0, 0, 1])
}

/// Reads length-prefixed units, requiring them to cover the sample exactly.
fn split_length_prefixed(sample: &[u8], length_size: u8) -> Result<Vec<&[u8]>> {
    const LOCATION: &str = "NAL units of a sample";
    let size = usize::from(length_size);
    if !(1..=4).contains(&size) {
        return Err(Error::malformed(
            LOCATION,
            format!("NAL length size {length_size} is not 1 to 4"),
        ));
    }
    let mut units = Vec::new();
    let mut rest = sample;
    while !rest.is_empty() {
        let Some((length_bytes, after)) = rest.split_at_checked(size) else {
            if rest.iter().all(|&byte| byte == 0) {
                break;
            }
            return Err(Error::malformed(
                LOCATION,
                format!(
                    "{} bytes left after the last NAL unit, too few for a {size}-byte length",
                    rest.len()
                ),
            ));
        };
        let length = length_bytes
            .iter()
            .fold(0usize, |value, &byte| (value << 8) | usize::from(byte));
        let Some((unit, after_unit)) = after.split_at_checked(length) else {
            return Err(Error::malformed(
                LOCATION,
                format!(
                    "NAL unit length {length} runs past the end of the sample ({} bytes left)",
                    after.len()
                ),
            ));
        };
        if let Some(&header) = unit.first() {
            if header & 0x80 != 0 {
                return Err(Error::malformed(
                    LOCATION,
                    "NAL unit header has forbidden_zero_bit set",
                ));
            }
            push_splitting_embedded_start_codes(unit, &mut units);
        }
        rest = after_unit;
    }
    Ok(units)
}

/// Emulation prevention (§ 7.3.1) keeps `00 00 01` out of every valid NAL unit, so one
/// found inside a length-prefixed unit marks further units written in Annex B form
/// behind a single length (Samsung's slow-motion MP4s do this after an SVC prefix
/// unit): they are split off rather than handed to the decoder as one broken unit.
fn push_splitting_embedded_start_codes<'a>(unit: &'a [u8], units: &mut Vec<&'a [u8]>) {
    match unit.windows(3).position(|bytes| bytes == [0, 0, 1]) {
        None => units.push(unit),
        Some(at) => {
            let head = trim_trailing_zeros(&unit[..at]);
            if !head.is_empty() {
                units.push(head);
            }
            units.extend(split_annex_b(&unit[at..]));
        }
    }
}

/// Splits an Annex B byte stream at its start codes. Bytes before the first
/// start code and the zero bytes that precede each start code (`trailing_zero_8bits`,
/// or the first byte of a 4-byte start code) belong to no unit.
pub fn split_annex_b(stream: &[u8]) -> Vec<&[u8]> {
    let mut units = Vec::new();
    let mut start: Option<usize> = None;
    let mut index = 0;
    while index + 3 <= stream.len() {
        if stream[index..index + 3] == [0, 0, 1] {
            if let Some(begin) = start {
                units.push(trim_trailing_zeros(&stream[begin..index]));
            }
            index += 3;
            start = Some(index);
        } else {
            index += 1;
        }
    }
    if let Some(begin) = start {
        units.push(trim_trailing_zeros(&stream[begin..]));
    }
    units.retain(|unit| !unit.is_empty());
    units
}

fn trim_trailing_zeros(unit: &[u8]) -> &[u8] {
    let end = unit
        .iter()
        .rposition(|&byte| byte != 0)
        .map_or(0, |last| last + 1);
    &unit[..end]
}

/// Appends each unit to `out` behind a 4-byte start code.
///
/// Units whose payload ends in zero bytes cannot occur (an RBSP ends with its
/// stop bit, § 7.4.1), so the result splits back into the same units.
pub fn write_annex_b<'a>(units: impl IntoIterator<Item = &'a [u8]>, out: &mut Vec<u8>) {
    for unit in units {
        out.extend_from_slice(&START_CODE);
        out.extend_from_slice(unit);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixed_units_of_each_size() {
        let sample = [0, 0, 0, 2, 0x65, 0xaa, 0, 0, 0, 1, 0x41];
        assert_eq!(
            split_nal_units(&sample, 4).unwrap(),
            [&[0x65, 0xaa][..], &[0x41]]
        );
        let sample = [0, 2, 0x65, 0xaa, 0, 1, 0x41];
        assert_eq!(split_nal_units(&sample, 2).unwrap().len(), 2);
        let sample = [2, 0x65, 0xaa, 1, 0x41];
        assert_eq!(split_nal_units(&sample, 1).unwrap().len(), 2);
        let sample = [0, 0, 2, 0x65, 0xaa];
        assert_eq!(split_nal_units(&sample, 3).unwrap(), [&[0x65, 0xaa][..]]);
    }

    #[test]
    fn length_past_the_end_is_malformed() {
        let sample = [0, 0, 0, 9, 0x65, 0xaa];
        let error = split_nal_units(&sample, 4).unwrap_err();
        assert!(error.to_string().contains("runs past the end"), "{error}");
        // Leftover bytes too few for a length.
        let error = split_nal_units(&[0, 0, 0, 2, 0x65, 0x11, 0, 7], 4).unwrap_err();
        assert!(error.to_string().contains("too few"), "{error}");
        assert!(split_nal_units(&[0, 1, 0x65], 0).is_err());
        assert!(split_nal_units(&[0, 1, 0x65], 5).is_err());
    }

    #[test]
    fn padding_and_zero_lengths_are_skipped() {
        assert!(split_nal_units(&[], 4).unwrap().is_empty());
        assert!(split_nal_units(&[0, 0, 0, 0], 4).unwrap().is_empty());
        let sample = [0, 0, 0, 1, 0x65, 0, 0];
        assert_eq!(split_nal_units(&sample, 4).unwrap(), [&[0x65][..]]);
    }

    #[test]
    fn annex_b_samples_are_recognised() {
        let sample = [
            0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88, 0,
        ];
        let units = split_nal_units(&sample, 4).unwrap();
        assert_eq!(units, [&[0x67, 0x42][..], &[0x68, 0xce], &[0x65, 0x88]]);
        // Garbage before the first start code is dropped.
        assert_eq!(split_annex_b(&[9, 9, 0, 0, 1, 0x41]), [&[0x41][..]]);
        assert!(split_annex_b(&[0, 0, 1]).is_empty());
        assert!(split_annex_b(&[]).is_empty());
    }

    #[test]
    fn length_prefixed_reading_wins_over_start_code_look_alikes() {
        // A 4-byte length of 257 begins 00 00 01.
        let mut sample = vec![0, 0, 1, 1, 0x65];
        sample.extend(std::iter::repeat_n(0x11, 256));
        let units = split_nal_units(&sample, 4).unwrap();
        assert_eq!(units.len(), 1);
        assert_eq!(units[0].len(), 257);
    }

    #[test]
    fn forbidden_bit_is_malformed() {
        assert!(split_nal_units(&[0, 1, 0xe5], 2).is_err());
    }

    #[test]
    fn annex_b_round_trip() {
        let units: [&[u8]; 3] = [&[0x67, 0, 0, 3, 1], &[0x68, 0xce], &[0x65, 0x88, 0x84]];
        let mut stream = Vec::new();
        write_annex_b(units, &mut stream);
        assert_eq!(&stream[..5], &[0, 0, 0, 1, 0x67]);
        assert_eq!(split_annex_b(&stream), units);
    }

    #[test]
    fn start_codes_inside_a_length_prefixed_unit_split_it() {
        // One 4-byte length covering a prefix unit (type 14) then two Annex B units,
        // as in Samsung's slow-motion files.
        let sample = [
            0, 0, 0, 13, 0x6e, 0xc0, 0, 0, 0, 1, 0x65, 0xaa, 0, 0, 1, 0x41, 0xbb,
        ];
        let units = split_nal_units(&sample, 4).unwrap();
        assert_eq!(
            units,
            vec![&[0x6e, 0xc0][..], &[0x65, 0xaa][..], &[0x41, 0xbb][..]]
        );
    }
}
