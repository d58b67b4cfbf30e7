//! Fonts for every script the translator writes: egui's defaults cover Latin only, so DejaVu Sans (Greek,
//! Cyrillic, Arabic, Hebrew, math symbols such as ‖) and Droid Sans Fallback (Chinese, Japanese, Korean) are
//! added as fallbacks, both bundled in assets/fonts/ with their licences.

use std::sync::Arc;

use egui::{FontData, FontDefinitions, FontFamily};

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static DROID_SANS_FALLBACK: &[u8] = include_bytes!("../../assets/fonts/DroidSansFallback.ttf");

/// egui's fonts with the bundled fallbacks after them, for both families.
pub fn font_definitions() -> FontDefinitions {
    let mut fonts = FontDefinitions::default();
    for (name, bytes) in [("DejaVuSans", DEJAVU_SANS), ("DroidSansFallback", DROID_SANS_FALLBACK)] {
        fonts
            .font_data
            .insert(name.to_owned(), Arc::new(FontData::from_static(bytes)));
        for family in [FontFamily::Proportional, FontFamily::Monospace] {
            fonts.families.entry(family).or_default().push(name.to_owned());
        }
    }
    fonts
}

pub fn install_fonts(ctx: &egui::Context) {
    ctx.set_fonts(font_definitions());
}
