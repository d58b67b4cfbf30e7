//! A model directory fetched over HTTP into memory: the browser has no filesystem, so the page (or its worker)
//! asks the server (or the picked folder's `blob:` URLs) for the directory's files by name, exactly the files the
//! CLI reads from disk.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::picked::PickedModel;
use crate::checkpoint::{CONFIG_FILE, INDEX_FILE, ModelFiles, SINGLE_FILE};
use crate::tokenizer::TOKENIZER_FILE;

/// The body of `url`, or `None` when the server answers 404.
pub async fn fetch_bytes(url: &str) -> Result<Option<Vec<u8>>, String> {
    let global = js_sys::global();
    let pending = match global.dyn_ref::<web_sys::Window>() {
        Some(window) => window.fetch_with_str(url),
        None => global.unchecked_ref::<web_sys::WorkerGlobalScope>().fetch_with_str(url),
    };
    let response: web_sys::Response = JsFuture::from(pending)
        .await
        .map_err(|e| format!("{url}: the request failed: {e:?}"))?
        .unchecked_into();
    if response.status() == 404 {
        return Ok(None);
    }
    if !response.ok() {
        return Err(format!("{url}: HTTP {} {}", response.status(), response.status_text()));
    }
    let body = response.array_buffer().map_err(|e| format!("{url}: {e:?}"))?;
    let buffer = JsFuture::from(body)
        .await
        .map_err(|e| format!("{url}: reading the body: {e:?}"))?;
    Ok(Some(js_sys::Uint8Array::new(&buffer).to_vec()))
}

/// The files of the model directory at `address` (a URL, or a folder the picker opened, [`PickedModel`]):
/// `config.json`, `tokenizer.json` if there is one, and `model.safetensors` or the shard index with every shard it
/// names.
pub async fn fetch_model(address: &str) -> Result<ModelFiles, String> {
    match PickedModel::parse(address) {
        Some(picked) => {
            let picked = picked?;
            fetch_files(&picked.folder, |name| picked.url_of(name).map(String::from)).await
        }
        None => {
            let base = address.trim_end_matches('/');
            fetch_files(base, |name| Some(format!("{base}/{name}"))).await
        }
    }
}

/// The model files named `label` in errors, file `name` being at `url_of(name)` (`None`: there is no such file).
async fn fetch_files(label: &str, url_of: impl Fn(&str) -> Option<String>) -> Result<ModelFiles, String> {
    let get = async |name: &str| match url_of(name) {
        Some(url) => fetch_bytes(&url).await,
        None => Ok(None),
    };
    let required = |name: &str, bytes: Option<Vec<u8>>| bytes.ok_or_else(|| format!("{label}/{name}: not found"));
    let mut files = vec![(CONFIG_FILE.to_string(), required(CONFIG_FILE, get(CONFIG_FILE).await?)?)];
    if let Some(tokenizer) = get(TOKENIZER_FILE).await? {
        files.push((TOKENIZER_FILE.to_string(), tokenizer));
    }
    match get(SINGLE_FILE).await? {
        Some(weights) => files.push((SINGLE_FILE.to_string(), weights)),
        None => {
            let index = required(INDEX_FILE, get(INDEX_FILE).await?)?;
            for shard in shard_names(&index).map_err(|e| format!("{label}/{INDEX_FILE}: {e}"))? {
                let bytes = required(&shard, get(&shard).await?)?;
                files.push((shard, bytes));
            }
            files.push((INDEX_FILE.to_string(), index));
        }
    }
    Ok(ModelFiles::memory(label, files))
}

/// The distinct shard files a `model.safetensors.index.json` names, sorted.
fn shard_names(index: &[u8]) -> Result<Vec<String>, String> {
    let index: serde_json::Value = serde_json::from_slice(index).map_err(|e| e.to_string())?;
    let map = index["weight_map"].as_object().ok_or("no `weight_map` object")?;
    let mut names: Vec<String> = map.values().filter_map(|v| v.as_str().map(String::from)).collect();
    names.sort();
    names.dedup();
    Ok(names)
}
