//! Quantizers of BitNet b1.58 and BitDistill, as plain tensor functions (the reference path).

mod activation;
mod ste;
mod ternary;

pub use activation::{ACTIVATION_EPS, int8_codes, int8_fake_quant, int8_scales, per_token_relative_error};
pub use ste::{straight_through, warmup_blend};
pub use ternary::{
    WEIGHT_SCALE_FLOOR, absmean_scale, absmean_scale_of, ternary_code, ternary_codes, ternary_fake_quant,
};
