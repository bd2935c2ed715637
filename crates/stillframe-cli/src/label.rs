//! Time labels drawn into contact-sheet tiles with a built-in 3×5 pixel font (digits,
//! `:` and `.`), so labelling needs no font file and no font library.

use image::{Rgb, RgbImage};

/// Rows of each glyph, three bits a row (the high bit is the left column).
fn glyph(character: char) -> Option<[u8; 5]> {
    Some(match character {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b010, 0b010, 0b010],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        ':' => [0b000, 0b010, 0b000, 0b010, 0b000],
        '.' => [0b000, 0b000, 0b000, 0b000, 0b010],
        _ => return None,
    })
}

/// Draws `text` white on a black box in the bottom-left corner of the region
/// `(x, y, width, height)` of `sheet`, scaled so it stays legible on large tiles
/// and fits small ones; characters the font lacks are left out.
pub fn draw(sheet: &mut RgbImage, (x, y, width, height): (u32, u32, u32, u32), text: &str) {
    let glyphs: Vec<[u8; 5]> = text.chars().filter_map(glyph).collect();
    let columns = u32::try_from(glyphs.len())
        .unwrap_or(u32::MAX)
        .saturating_mul(4);
    if columns == 0 {
        return;
    }
    // One font pixel per 45 tile pixels of height, at least one, and never wider
    // than the tile.
    let scale = (height / 45).max(1).min(width.saturating_sub(2) / columns);
    if scale == 0 {
        return;
    }
    let box_width = (columns + 1) * scale;
    let box_height = 7 * scale;
    let (left, top) = (x, (y + height).saturating_sub(box_height));
    fill(sheet, left, top, box_width, box_height, Rgb([0, 0, 0]));
    for (n, rows) in glyphs.iter().enumerate() {
        let origin = left + scale + u32::try_from(n).unwrap_or(0) * 4 * scale;
        for (row, bits) in rows.iter().enumerate() {
            for column in 0..3u32 {
                if bits & (0b100 >> column) != 0 {
                    let px = origin + column * scale;
                    let py = top + scale + u32::try_from(row).unwrap_or(0) * scale;
                    fill(sheet, px, py, scale, scale, Rgb([255, 255, 255]));
                }
            }
        }
    }
}

fn fill(sheet: &mut RgbImage, x: u32, y: u32, width: u32, height: u32, colour: Rgb<u8>) {
    for py in y..(y + height).min(sheet.height()) {
        for px in x..(x + width).min(sheet.width()) {
            sheet.put_pixel(px, py, colour);
        }
    }
}

/// A time as the label shows it: `M:SS` under an hour, `H:MM:SS` after.
pub fn clock(seconds: f64) -> String {
    let whole = seconds.max(0.0).floor() as u64;
    let (hours, minutes, secs) = (whole / 3600, whole / 60 % 60, whole % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{secs:02}")
    } else {
        format!("{minutes}:{secs:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_drawn_inside_their_tile() {
        let mut sheet = RgbImage::from_pixel(200, 120, Rgb([9, 9, 9]));
        draw(&mut sheet, (100, 0, 100, 120), "1:05");
        // Left half untouched; white pixels drawn in the right half's bottom rows.
        assert!((0..100).all(|x| (0..120).all(|y| sheet.get_pixel(x, y).0 == [9, 9, 9])));
        let white = sheet.pixels().filter(|p| p.0 == [255, 255, 255]).count();
        assert!(white > 0);
        assert_eq!(clock(65.9), "1:05");
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
