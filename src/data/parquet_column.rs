//! One column of a Parquet file read row by row through the `parquet` crate's record API (no Arrow), with
//! only that column projected: the text column of a pre-training shard (FALCON RefinedWeb's `content`,
//! FineWeb's `text`) or the `translation` struct of an OPUS-100 shard (`{"en": ..., "de": ...}`).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};
use parquet::schema::types::Type;

use crate::error::{Error, Result};

/// The rows of `path` with only `column` read; errors name the file and the columns it has.
fn projected_rows(path: &Path, column: &str, mut visit: impl FnMut(usize, &Field) -> Result<()>) -> Result<()> {
    let bad = |what: String| Error::Invalid(format!("{}: {what}", path.display()));
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
    let schema = reader.metadata().file_metadata().schema();
    let Some(field) = schema.get_fields().iter().find(|f| f.name() == column) else {
        let names: Vec<&str> = schema.get_fields().iter().map(|f| f.name()).collect();
        return Err(bad(format!("no column `{column}` (columns: {})", names.join(", "))));
    };
    let projection = Type::group_type_builder(schema.name())
        .with_fields(vec![Arc::clone(field)])
        .build()
        .map_err(|e| bad(e.to_string()))?;
    let rows = reader.get_row_iter(Some(projection)).map_err(|e| bad(e.to_string()))?;
    for (index, row) in rows.enumerate() {
        let row: Row = row.map_err(|e| bad(format!("row {}: {e}", index + 1)))?;
        let (_, value) = row
            .get_column_iter()
            .next()
            .ok_or_else(|| bad(format!("row {}: empty", index + 1)))?;
        visit(index + 1, value)?;
    }
    Ok(())
}

/// Calls `visit` with the string `column` of every row of `path`; null and empty values are skipped (web
/// crawls have them), any other type is an error naming the file, row and column.
pub fn for_each_string(path: &Path, column: &str, mut visit: impl FnMut(&str) -> Result<()>) -> Result<()> {
    projected_rows(path, column, |row, value| match value {
        Field::Str(text) if !text.trim().is_empty() => visit(text),
        Field::Str(_) | Field::Null => Ok(()),
        other => Err(Error::Invalid(format!(
            "{}: row {row}: column `{column}` holds {other:?}, not a string",
            path.display()
        ))),
    })
}

/// Calls `visit(source, target)` for every row of the struct `column` (OPUS-100's `translation`) with the
/// strings under the language keys `source_key` and `target_key`.
pub fn for_each_translation(
    path: &Path,
    column: &str,
    (source_key, target_key): (&str, &str),
    mut visit: impl FnMut(&str, &str) -> Result<()>,
) -> Result<()> {
    projected_rows(path, column, |row, value| {
        let bad = |what: String| Error::Invalid(format!("{}: row {row}: column `{column}` {what}", path.display()));
        let Field::Group(group) = value else {
            return Err(bad(format!("holds {value:?}, not a struct of languages")));
        };
        let text = |key: &str| {
            group
                .get_column_iter()
                .find(|(name, _)| name.as_str() == key)
                .and_then(|(_, field)| match field {
                    Field::Str(text) => Some(text.as_str()),
                    _ => None,
                })
                .ok_or_else(|| bad(format!("has no string `{key}`")))
        };
        visit(text(source_key)?, text(target_key)?)
    })
}

/// Parquet files written the way the data sets ship them, for this module's tests and the pairs' tests.
#[cfg(test)]
pub(crate) mod write {
    use std::path::Path;
    use std::sync::Arc;

    use parquet::data_type::{ByteArray, ByteArrayType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    /// Writes `columns` (each a list of required UTF-8 values, all of one length) under `schema`, a Parquet
    /// message type whose leaves are those columns in order; snappy-compressed like Hugging Face's shards.
    pub fn strings(path: &Path, schema: &str, columns: &[Vec<&str>]) {
        let schema = Arc::new(parse_message_type(schema).unwrap());
        let properties = WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut writer = SerializedFileWriter::new(file, schema, Arc::new(properties)).unwrap();
        let mut group = writer.next_row_group().unwrap();
        for values in columns {
            let mut column = group.next_column().unwrap().unwrap();
            let values: Vec<ByteArray> = values.iter().map(|v| ByteArray::from(*v)).collect();
            column
                .typed::<ByteArrayType>()
                .write_batch(&values, None, None)
                .unwrap();
            column.close().unwrap();
        }
        group.close().unwrap();
        writer.close().unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("bitdistill-parquet-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reads_the_named_string_column_and_names_what_is_missing() {
        let path = scratch("text").join("train-00000-of-00001.parquet");
        write::strings(
            &path,
            "message schema { required binary url (UTF8); required binary content (UTF8); }",
            &[vec!["u1", "u2", "u3"], vec!["Erster Text.", "", "Dritter"]],
        );
        let mut seen = Vec::new();
        for_each_string(&path, "content", |text| {
            seen.push(text.to_string());
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, ["Erster Text.", "Dritter"], "the empty row is skipped");
        let missing = for_each_string(&path, "text", |_| Ok(())).unwrap_err().to_string();
        assert!(
            missing.contains("no column `text` (columns: url, content)"),
            "{missing}"
        );
        let not_parquet = path.with_file_name("fake.parquet");
        std::fs::write(&not_parquet, "not parquet").unwrap();
        let error = for_each_string(&not_parquet, "text", |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("fake.parquet") && error.contains("not a readable Parquet file"),
            "{error}"
        );
    }

    #[test]
    fn reads_opus_translation_structs() {
        let path = scratch("opus").join("train.parquet");
        write::strings(
            &path,
            "message schema { required group translation { required binary de (UTF8); required binary en (UTF8); } }",
            &[vec!["Hallo", "Danke"], vec!["Hello", "Thanks"]],
        );
        let mut pairs = Vec::new();
        for_each_translation(&path, "translation", ("en", "de"), |s, t| {
            pairs.push((s.to_string(), t.to_string()));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            pairs,
            [("Hello".into(), "Hallo".into()), ("Thanks".into(), "Danke".into())]
        );
        let error = for_each_translation(&path, "translation", ("en", "pt"), |_, _| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("row 1") && error.contains("has no string `pt`"),
            "{error}"
        );
    }
}
