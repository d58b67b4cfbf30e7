//! BitDistill: the Stage-1 student and the distillation losses.

mod losses;
mod student;

pub use losses::{
    RelationKind, RelationOptions, attention_distillation, log_relations, logits_distillation, masked_cross_entropy,
    reference_relation_kl, relation_heads, relation_kl,
};
pub use student::{check_compatible, student_from_teacher};
