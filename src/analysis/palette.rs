//! Frame colours shared by the app and the exported SVGs, so a frame has the
//! same colour on screen and in the ticket it is attached to.
//!
//! The hue tells what kind of code a frame is (warm for the application,
//! green for its dependencies, blue for the standard library, grey for the
//! runtime); within that band the package picks the hue and the function
//! the lightness, from a stable hash, so colours never change between runs
//! or machines.

use crate::analysis::frames::{self, FrameClass};

/// An sRGB colour.
pub type Rgb = [u8; 3];

/// The colour of a box without a function (the root, `[no stack]`).
pub const NO_STACK: Rgb = [160, 160, 160];

/// FNV-1a: stable across runs, platforms and Rust versions (unlike `std`'s hasher).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Colour of a frame given its function name and its kind of code.
pub fn frame_color(function: &str, class: FrameClass) -> Rgb {
    let pkg = frames::package_path(function);
    let hp = stable_hash(pkg);
    let hf = stable_hash(function);
    let unit = |h: u64, shift: u32| ((h >> shift) & 0xffff) as f32 / 65535.0;
    let (hue_lo, hue_hi, sat) = match class {
        FrameClass::App => (8.0, 48.0, 0.78),
        FrameClass::ThirdParty => (95.0, 150.0, 0.50),
        FrameClass::Stdlib => (195.0, 235.0, 0.50),
        FrameClass::WaitWrapper | FrameClass::Runtime => (210.0, 220.0, 0.08),
    };
    let hue = hue_lo + (hue_hi - hue_lo) * unit(hp, 7);
    let light = 0.52 + 0.16 * unit(hf, 23);
    hsl_to_rgb(hue, sat, light)
}

/// Colour of a frame in a differential view: red where it grew, blue where
/// it shrank, by how much relative to the larger side (`-1..=1`).
pub fn diff_color(change: f32) -> Rgb {
    let c = change.clamp(-1.0, 1.0);
    if c.abs() < 0.02 {
        return [220, 220, 220];
    }
    let strength = 0.25 + 0.75 * c.abs();
    if c > 0.0 {
        hsl_to_rgb(2.0, 0.85, 0.92 - 0.42 * strength)
    } else {
        hsl_to_rgb(215.0, 0.80, 0.92 - 0.42 * strength)
    }
}

/// `#rrggbb`.
pub fn to_hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

fn hsl_to_rgb(h: f32, s: f32, l: f32) -> Rgb {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = (h.rem_euclid(360.0)) / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f32| ((v + m).clamp(0.0, 1.0) * 255.0).round() as u8;
    [to(r), to(g), to(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stable_and_tell_kinds_apart() {
        let a = frame_color("main.querySearchBackend", FrameClass::App);
        assert_eq!(a, frame_color("main.querySearchBackend", FrameClass::App));
        // Warm for the app: red dominates blue.
        assert!(a[0] > a[2], "{a:?}");
        let s = frame_color("net/http.(*conn).serve", FrameClass::Stdlib);
        assert!(s[2] > s[0], "{s:?}");
        let r = frame_color("runtime.gopark", FrameClass::Runtime);
        assert!(r[0].abs_diff(r[2]) < 30, "{r:?}");
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(to_hex([255, 0, 16]), "#ff0010");
        assert!(diff_color(1.0)[0] > diff_color(1.0)[2]);
        assert!(diff_color(-1.0)[2] > diff_color(-1.0)[0]);
    }
}
