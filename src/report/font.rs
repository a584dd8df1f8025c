//! The charts' one font, embedded (DejaVu Sans Mono, `assets/fonts/`, its licence beside it) and
//! drawn with ab_glyph: no fontconfig and no system fonts needed, so a headless host or CI
//! renders the same PNGs.

use plotters::style::{FontStyle, register_font};
use std::sync::OnceLock;

/// The family name the charts ask for.
pub const FAMILY: &str = "sans-serif";

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

/// The embedded font could not be loaded (a build that embedded something else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the embedded chart font is not a valid font")]
pub struct BadFont;

/// Registers the font once per process.
pub fn ensure_registered() -> Result<(), BadFont> {
    static DONE: OnceLock<Result<(), BadFont>> = OnceLock::new();
    *DONE.get_or_init(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            register_font(FAMILY, style, FONT).map_err(|_| BadFont)?;
        }
        Ok(())
    })
}
