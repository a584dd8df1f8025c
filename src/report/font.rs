//! The charts' one font, embedded (DejaVu Sans Mono, `assets/fonts/`, its licence beside it) and
//! drawn with ab_glyph: no fontconfig and no system fonts needed, so a headless host or CI
//! renders the same PNGs.

use plotters::style::{FontStyle, register_font};
use std::sync::OnceLock;

/// The family name the charts ask for.
pub const FAMILY: &str = "sans-serif";

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

/// Registers the font once per process.
pub fn ensure_registered() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            register_font(FAMILY, style, FONT)
                .map_err(|_| "the embedded chart font is not a valid font".to_string())?;
        }
        Ok(())
    })
    .clone()
}
