//! "Browse…" buttons: rfd's native dialogs (the XDG desktop portal on Linux) opened on a background thread, the
//! chosen path written into the text field it belongs to on a later frame. In the browser a folder field gets
//! "Open folder…", the browser's folder picker, which writes the picked folder's address (`crate::web::picked`);
//! a file field there has no button (a run file names its teacher and data relative to its own URL).

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
    #[cfg(target_arch = "wasm32")]
    open: Option<poll_promise::Promise<Option<Result<String, String>>>>,
    #[cfg(target_arch = "wasm32")]
    error: Option<String>,
}

impl Browse {
    /// A "Browse…" button next to `field`; a path chosen in the dialog replaces the field's text. Returns true on
    /// the frame a path arrives.
    pub fn button(&mut self, ui: &mut egui::Ui, field: &mut String, pick: Pick) -> bool {
        #[cfg(target_arch = "wasm32")]
        return self.web_button(ui, field, pick);
        #[cfg(not(target_arch = "wasm32"))]
        self.native_button(ui, field, pick)
    }

    #[cfg(target_arch = "wasm32")]
    fn web_button(&mut self, ui: &mut egui::Ui, field: &mut String, pick: Pick) -> bool {
        if pick == Pick::File {
            return false;
        }
        let mut arrived = false;
        if let Some(promise) = self.open.take() {
            match promise.try_take() {
                Ok(Some(Ok(address))) => {
                    *field = address;
                    self.error = None;
                    arrived = true;
                }
                Ok(Some(Err(message))) => self.error = Some(message),
                Ok(None) => {}
                Err(promise) => self.open = Some(promise),
            }
        }
        if ui
            .add_enabled(self.open.is_none(), egui::Button::new("Open folder…"))
            .on_hover_text("a model folder of your own: config.json, tokenizer.json, model.safetensors")
            .clicked()
        {
            self.open = Some(crate::web::pick_model_folder());
        }
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        arrived
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
