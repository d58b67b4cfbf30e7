//! A teacher the trainer can use: the fixture plus a 512-token tokenizer trained here, and tiny corpora.

use std::path::{Path, PathBuf};

use bitdistill::tokenizer::train_byte_level_bpe;

pub const SENTENCES: [(&str, &str); 8] = [
    ("The cat sleeps on the mat.", "O gato dorme no tapete."),
    ("Open the file.", "Abra o arquivo."),
    ("The file could not be saved.", "Não foi possível salvar o arquivo."),
    ("Close the window.", "Feche a janela."),
    ("The dog runs in the park.", "O cachorro corre no parque."),
    (
        "Save the document before closing.",
        "Salve o documento antes de fechar.",
    ),
    ("The network is not available.", "A rede não está disponível."),
    ("Print the page.", "Imprima a página."),
];

/// Writes `dir/{corpus.txt, pairs.jsonl}` and a teacher directory `dir/teacher` (fixture + tokenizer.json).
pub fn training_setup(dir: &Path) -> PathBuf {
    let corpus = dir.join("corpus.txt");
    let lines: Vec<String> = SENTENCES
        .iter()
        .flat_map(|(en, pt)| [en.to_string(), pt.to_string()])
        .collect();
    std::fs::write(&corpus, lines.join("\n") + "\n").unwrap();
    let pairs: Vec<String> = SENTENCES
        .iter()
        .map(|(en, pt)| serde_json::json!({"source": en, "target": pt}).to_string())
        .collect();
    std::fs::write(dir.join("pairs.jsonl"), pairs.join("\n")).unwrap();

    let teacher = dir.join("teacher");
    std::fs::create_dir_all(&teacher).unwrap();
    for file in ["config.json", "model.safetensors"] {
        std::fs::copy(super::fixture_dir().join(file), teacher.join(file)).unwrap();
    }
    let big = dir.join("tokenizer-corpus.txt");
    std::fs::write(&big, (lines.join("\n") + "\n").repeat(20)).unwrap();
    let tokenizer = train_byte_level_bpe(&[big.as_path()], 512).unwrap();
    assert!(tokenizer.get_vocab_size(true) <= 512, "the fixture has 512 embeddings");
    tokenizer.save(teacher.join("tokenizer.json"), false).unwrap();
    teacher
}

/// A run file for the setup above; `extra` is appended verbatim (TOML).
pub fn write_run_file(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let text = format!(
        "teacher = \"teacher\"\nout = \"{name}\"\nseed = 7\n\n[stage2]\ncorpus = [\"corpus.txt\"]\ntokens = 0\nblock_len = 16\n\n{extra}\n"
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}
