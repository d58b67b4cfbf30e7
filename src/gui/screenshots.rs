//! `bitdistill gui --screenshot-dir DIR`: trains the demo for a few steps, then shows each panel and saves
//! eframe's screenshot of it as `DIR/<panel>.png`, then closes the window.

use std::path::PathBuf;

use super::app::Panel;
use super::train_panel::TrainPanel;
use super::translate_panel::TranslatePanel;

pub struct ScreenshotTour {
    dir: PathBuf,
    steps: usize,
    started: bool,
    /// Panels still to photograph; the first one is on screen.
    remaining: Vec<Panel>,
    /// Frames drawn on the current panel (plots settle over a couple of frames).
    frames_on_panel: usize,
    requested: bool,
}

impl ScreenshotTour {
    pub fn new(dir: PathBuf, steps: usize) -> Self {
        Self {
            dir,
            steps,
            started: false,
            remaining: Panel::ALL.to_vec(),
            frames_on_panel: 0,
            requested: false,
        }
    }

    pub fn advance(
        &mut self,
        ctx: &egui::Context,
        panel: &mut Panel,
        train: &mut TrainPanel,
        translate: &mut TranslatePanel,
    ) {
        ctx.request_repaint();
        if !self.started {
            if let Some(config) = &mut train.config {
                config.stage2.tokens = config.stage2.tokens.min(1024);
                config.stage3.steps = self.steps;
                config.snapshot.every = 1;
                config.out = std::env::temp_dir().join(format!("bitdistill-gui-tour-{}", std::process::id()));
            }
            train.start(false, ctx);
            self.started = true;
        }
        let trained = train.history.finished || train.history.failed.is_some();
        if !trained {
            return;
        }
        let Some(&current) = self.remaining.first() else {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        };
        *panel = current;
        if current == Panel::Translate {
            // Translate with the teacher and the student just trained, and wait for both to finish.
            if self.frames_on_panel == 0 {
                if let Some(student) = &train.history.student {
                    translate.student.dir = student.clone();
                }
                translate.translate(ctx);
            }
            if translate.is_running() {
                self.frames_on_panel = 1;
                return;
            }
        }
        self.frames_on_panel += 1;
        if self.frames_on_panel == 4 && !self.requested {
            let path = self.dir.join(format!("{}.png", current.name().to_lowercase()));
            ctx.request_screenshot(move |image| {
                let [w, h] = image.size;
                let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
                if let Err(e) = image::save_buffer(&path, &bytes, w as u32, h as u32, image::ExtendedColorType::Rgba8) {
                    eprintln!("{}: {e}", path.display());
                }
            });
            self.requested = true;
        }
        if self.frames_on_panel >= 12 {
            self.remaining.remove(0);
            self.frames_on_panel = 0;
            self.requested = false;
        }
    }
}
