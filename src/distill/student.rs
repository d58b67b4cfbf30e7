//! Stage 1: the student is the teacher with every layer's seven linears made BitLinear (latent weights copied
//! from the teacher) and SubLN inserted with scales initialised to 1 (BitDistill §3.1).

use std::path::Path;

use burn::tensor::{Device, TensorData};

use crate::checkpoint::{Checkpoint, ModelFiles};
use crate::error::{Error, Result};
use crate::model::{HunYuan, HunYuanConfig, StudentConfig, SublnPlacement, WeightSource};

/// Serves the teacher's weights, and ones for every SubLN scale the teacher does not have.
struct StudentInit<'a> {
    teacher: &'a mut Checkpoint,
}

impl WeightSource for StudentInit<'_> {
    fn weight(&mut self, path: &str, shape: &[usize]) -> Result<TensorData> {
        if path.ends_with(".rms_norm.gamma") {
            return Ok(TensorData::new(vec![1.0f32; shape.iter().product()], shape.to_vec()));
        }
        self.teacher.weight(path, shape)
    }
}

/// Builds the Stage-1 student of the teacher checkpoint made of `teacher_files`.
pub fn student_from_teacher(
    teacher_files: &ModelFiles,
    subln: SublnPlacement,
    provenance: serde_json::Value,
    device: &Device,
) -> Result<(HunYuanConfig, HunYuan)> {
    let mut teacher = Checkpoint::from_files(teacher_files, None)?;
    if teacher.config.student.is_some() {
        return Err(Error::config(
            teacher_files.path("config.json"),
            "this is already a BitDistill student (it has a `bitdistill` section); give the full-precision teacher",
        ));
    }
    let config = teacher.config.clone().with_student(Some(StudentConfig {
        subln,
        provenance,
        packing: None,
    }));
    let model = HunYuan::from_source(&config, &mut StudentInit { teacher: &mut teacher }, device)?;
    Ok((config, model))
}

/// Checks that a teacher and a student share the architecture distillation compares.
pub fn check_compatible(teacher: &HunYuanConfig, student: &HunYuanConfig, student_dir: &Path) -> Result<()> {
    let shape = |c: &HunYuanConfig| {
        [
            c.vocab_size,
            c.hidden_size,
            c.intermediate_size,
            c.num_hidden_layers,
            c.num_attention_heads,
            c.num_key_value_heads,
            c.head_dim,
        ]
    };
    if shape(teacher) != shape(student) {
        return Err(Error::config(
            student_dir.join("config.json"),
            format!(
                "student shape [vocab, hidden, mlp, layers, heads, kv_heads, head_dim] = {:?} does not match the teacher's {:?}",
                shape(student),
                shape(teacher)
            ),
        ));
    }
    Ok(())
}
