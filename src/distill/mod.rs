//! BitDistill: the Stage-1 student and the Stage-3 objective.

mod chunked;
mod logits;
mod loss_inputs;
mod objective;
mod relation;
mod student;

pub use chunked::TermValues;
pub use logits::{logits_distillation, masked_cross_entropy, row_kl, target_log_probs};
pub use loss_inputs::read_loss_inputs;
pub use objective::{LossPositions, Stage3Objective, Stage3Terms, TermShares};
pub use relation::{
    RELATION_PROBABILITY_FLOOR, RelationKind, RelationOptions, RelationReduction, RelationStates,
    attention_distillation, check_relation_heads, log_relations, reference_relation_kl, relation_kl,
};
pub use student::{check_compatible, student_from_teacher};
