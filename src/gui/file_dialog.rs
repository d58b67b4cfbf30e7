//! "Browse…" buttons: rfd's native dialogs (the XDG desktop portal on Linux) opened on a background thread, the
//! chosen path written into the text field it belongs to on a later frame. The path fields stay the way to type a
//! path, and the only way in the browser, where these buttons are not built.

/// What a dialog picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    Folder,
    File,
}

/// One path field's dialog: at most one open at a time.
#[derive(Default)]
pub struct Browse {
    #[cfg(not(target_arch = "wasm32"))]
    open: Option<poll_promise::Promise<Option<std::path::PathBuf>>>,
}

impl Browse {
    /// A "Browse…" button next to `field`; a path chosen in the dialog replaces the field's text. Returns true on
    /// the frame a path arrives.
    pub fn button(&mut self, ui: &mut egui::Ui, field: &mut String, pick: Pick) -> bool {
        #[cfg(target_arch = "wasm32")]
        {
            let _ = (ui, field, pick);
            false
        }
        #[cfg(not(target_arch = "wasm32"))]
        self.native_button(ui, field, pick)
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn native_button(&mut self, ui: &mut egui::Ui, field: &mut String, pick: Pick) -> bool {
        if let Some(promise) = self.open.take() {
            match promise.try_take() {
                Ok(Some(path)) => {
                    *field = path.display().to_string();
                    return true;
                }
                Ok(None) => {}
                Err(promise) => self.open = Some(promise),
            }
        }
        if ui
            .add_enabled(self.open.is_none(), egui::Button::new("Browse…"))
            .clicked()
        {
            let start = std::path::PathBuf::from(field.trim());
            self.open = Some(poll_promise::Promise::spawn_thread("file-dialog", move || {
                let dialog = rfd::FileDialog::new();
                let dialog = match start.parent().filter(|p| p.is_dir()) {
                    Some(dir) => dialog.set_directory(dir),
                    None => dialog,
                };
                match pick {
                    Pick::Folder => dialog.pick_folder(),
                    Pick::File => dialog.pick_file(),
                }
            }));
        }
        false
    }
}
