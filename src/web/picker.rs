//! The browser's folder picker: an `<input type=file webkitdirectory>` clicked on the frame of the button's click
//! (within the click's user activation, which the browser requires). The chosen folder's files become `blob:` URLs
//! named in a [`PickedModel`] address; cancelling gives `None`.

use std::cell::RefCell;
use std::rc::Rc;

use poll_promise::Promise;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::picked::PickedModel;

#[wasm_bindgen]
extern "C" {
    /// `URL.createObjectURL(file)`: a URL of the page's origin for the file's bytes, read when fetched.
    #[wasm_bindgen(js_namespace = URL, js_name = createObjectURL, catch)]
    fn create_object_url(file: &web_sys::File) -> Result<String, JsValue>;
}

type Answer = Rc<RefCell<Option<poll_promise::Sender<Option<Result<String, String>>>>>>;

fn answer(sender: &Answer, value: Option<Result<String, String>>) {
    if let Some(sender) = sender.borrow_mut().take() {
        sender.send(value);
    }
}

/// The picked folder's address, an error naming what is wrong with the pick, or `None` if the user cancelled.
pub fn pick_model_folder() -> Promise<Option<Result<String, String>>> {
    let (sender, promise) = Promise::new();
    let sender: Answer = Rc::new(RefCell::new(Some(sender)));
    if let Err(error) = open(&sender) {
        answer(&sender, Some(Err(format!("opening the folder picker: {error:?}"))));
    }
    promise
}

fn open(sender: &Answer) -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|window| window.document())
        .ok_or("no document")?;
    let input: web_sys::HtmlInputElement = document.create_element("input")?.dyn_into()?;
    input.set_type("file");
    input.set_multiple(true);
    js_sys::Reflect::set(&input, &"webkitdirectory".into(), &true.into())?;
    let on_change = {
        let (input, sender) = (input.clone(), sender.clone());
        Closure::once_into_js(move || answer(&sender, Some(picked(&input))))
    };
    input.add_event_listener_with_callback("change", on_change.unchecked_ref())?;
    let on_cancel = {
        let sender = sender.clone();
        Closure::once_into_js(move || answer(&sender, None))
    };
    input.add_event_listener_with_callback("cancel", on_cancel.unchecked_ref())?;
    input.click();
    Ok(())
}

fn picked(input: &web_sys::HtmlInputElement) -> Result<String, String> {
    let files = input.files().ok_or("the picker gave no file list")?;
    let mut paths = Vec::new();
    for i in 0..files.length() {
        let Some(file) = files.get(i) else { continue };
        let path = js_sys::Reflect::get(&file, &"webkitRelativePath".into())
            .ok()
            .and_then(|path| path.as_string())
            .unwrap_or_else(|| file.name());
        let url = create_object_url(&file).map_err(|e| format!("{path}: {e:?}"))?;
        paths.push((path, url));
    }
    PickedModel::from_relative_paths(paths).map(|picked| picked.address())
}
