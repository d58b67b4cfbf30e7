//! Training a byte-level BPE `tokenizer.json` that carries HY-MT's special tokens, so the chat template works
//! unchanged on models this project trains.

use std::path::Path;

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, Tokenizer};

use crate::error::{Error, Result};
use crate::prompt::CHAT_SPECIAL_TOKENS;

/// Trains on the text files `corpus` and returns a tokenizer whose first ids are HY-MT's chat tokens.
pub fn train_byte_level_bpe(corpus: &[&Path], vocab_size: usize) -> Result<Tokenizer> {
    let specials: Vec<AddedToken> = CHAT_SPECIAL_TOKENS.iter().map(|t| AddedToken::from(*t, true)).collect();
    let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
        .vocab_size(vocab_size)
        .min_frequency(2)
        .show_progress(false)
        .special_tokens(specials)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build()
        .into();
    let mut tokenizer = Tokenizer::new(BPE::default());
    tokenizer
        .with_pre_tokenizer(Some(ByteLevel::new(false, true, true)))
        .with_decoder(Some(ByteLevelDecoder::default()));
    let files: Vec<String> = corpus.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    tokenizer
        .train_from_files(&mut trainer, files)
        .map_err(|e| Error::Tokenizer {
            path: corpus.first().map(|p| p.to_path_buf()).unwrap_or_default(),
            message: format!("training failed: {e}"),
        })?;
    Ok(tokenizer)
}
