//! A model folder opened with the browser's folder picker, as an address that stands where a model directory's
//! URL would: the picker turns each file of the folder into a `blob:` URL (the page's origin, so its workers can
//! fetch it too) and names them all in one string, `picked:<folder>|config.json=blob:…|…`, which the Model,
//! Quantize, Translate and Train panels pass along like any URL and `fetch_model` reads file by file.

/// What every picked address starts with.
pub const PICKED_SCHEME: &str = "picked:";
const SEPARATOR: char = '|';

/// A picked folder: its name and, per file directly inside it, the file's `blob:` URL.
#[derive(Clone, Debug, PartialEq)]
pub struct PickedModel {
    pub folder: String,
    pub files: Vec<(String, String)>,
}

impl PickedModel {
    /// The folder from the picker's `(relative path, URL)` pairs (`folder/config.json`): files in subfolders are
    /// left out, as a model directory's loader never reads them.
    pub fn from_relative_paths(paths: impl IntoIterator<Item = (String, String)>) -> Result<Self, String> {
        let mut folder = None;
        let mut files = Vec::new();
        for (path, url) in paths {
            let Some((top, name)) = path.split_once('/') else {
                continue;
            };
            if name.contains('/') {
                continue;
            }
            if folder.get_or_insert_with(|| top.to_string()) != top {
                return Err(format!(
                    "the picked files come from two folders, {} and {top}",
                    folder.unwrap()
                ));
            }
            if name.contains(SEPARATOR) || name.contains('=') {
                return Err(format!("{path}: a model file's name cannot hold `|` or `=`"));
            }
            files.push((name.to_string(), url));
        }
        let folder = folder.ok_or("the picked folder has no files")?;
        files.sort();
        Ok(Self { folder, files })
    }

    pub fn address(&self) -> String {
        let mut address = format!("{PICKED_SCHEME}{}", self.folder);
        for (name, url) in &self.files {
            address.push(SEPARATOR);
            address.push_str(&format!("{name}={url}"));
        }
        address
    }

    /// `None` when `address` is not a picked one (an ordinary URL).
    pub fn parse(address: &str) -> Option<Result<Self, String>> {
        let rest = address.strip_prefix(PICKED_SCHEME)?;
        let mut parts = rest.split(SEPARATOR);
        let folder = parts.next().unwrap_or_default().to_string();
        let files = parts
            .map(|part| {
                part.split_once('=')
                    .map(|(name, url)| (name.to_string(), url.to_string()))
                    .ok_or_else(|| format!("picked folder {folder}: `{part}` is not `file=url`"))
            })
            .collect::<Result<Vec<_>, _>>();
        Some(files.map(|files| Self { folder, files }))
    }

    /// The URL of file `name`, if the folder has it.
    pub fn url_of(&self, name: &str) -> Option<&str> {
        self.files.iter().find(|(n, _)| n == name).map(|(_, url)| url.as_str())
    }
}

/// How to show `address` to the user: a picked folder by its name, anything else as it is.
pub fn display_name(address: &str) -> String {
    match PickedModel::parse(address) {
        Some(Ok(picked)) => format!("{} (a folder opened from this computer)", picked.folder),
        _ => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picked_folder_survives_its_address_and_leaves_subfolders_out() {
        let picked = PickedModel::from_relative_paths([
            (
                "my-student/model.safetensors".to_string(),
                "blob:http://127.0.0.1:8000/b2".to_string(),
            ),
            (
                "my-student/config.json".to_string(),
                "blob:http://127.0.0.1:8000/a1".to_string(),
            ),
            (
                "my-student/checkpoints/step-10/state.json".to_string(),
                "blob:x".to_string(),
            ),
        ])
        .unwrap();
        assert_eq!(picked.folder, "my-student");
        let address = picked.address();
        assert_eq!(
            address,
            "picked:my-student|config.json=blob:http://127.0.0.1:8000/a1|model.safetensors=blob:http://127.0.0.1:8000/b2"
        );
        let back = PickedModel::parse(&address).unwrap().unwrap();
        assert_eq!(back, picked);
        assert_eq!(back.url_of("config.json"), Some("blob:http://127.0.0.1:8000/a1"));
        assert_eq!(back.url_of("tokenizer.json"), None);
        assert!(PickedModel::parse("models/teacher").is_none());
        assert_eq!(
            display_name(&address),
            "my-student (a folder opened from this computer)"
        );
        assert_eq!(display_name("models/teacher"), "models/teacher");
    }

    #[test]
    fn bad_picks_are_named() {
        let two = PickedModel::from_relative_paths([
            ("a/config.json".to_string(), "blob:1".to_string()),
            ("b/config.json".to_string(), "blob:2".to_string()),
        ]);
        assert_eq!(two.unwrap_err(), "the picked files come from two folders, a and b");
        let empty = PickedModel::from_relative_paths([("a/sub/config.json".to_string(), "blob:1".to_string())]);
        assert_eq!(empty.unwrap_err(), "the picked folder has no files");
        let broken = PickedModel::parse("picked:a|config.json").unwrap();
        assert_eq!(broken.unwrap_err(), "picked folder a: `config.json` is not `file=url`");
    }
}
