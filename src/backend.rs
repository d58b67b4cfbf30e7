//! Choosing the compute backend at run time.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// The backends this crate is built and tested with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn's Flex CPU backend (pure Rust, gemm; multi-threaded natively): the CPU default, measured 1.3-1.6×
    /// NdArray's training throughput here (README, "Training throughput").
    #[default]
    Flex,
    /// burn's NdArray CPU backend (multi-threaded natively; deprecated by burn 0.22, kept for existing run files).
    /// Not in the browser build, which has Flex only (README, "Web").
    #[cfg(not(target_arch = "wasm32"))]
    Ndarray,
    /// burn's wgpu backend (Vulkan, Metal, DX12; WGSL shaders), on the default adapter. Not in the browser build.
    #[cfg(not(target_arch = "wasm32"))]
    Wgpu,
}

impl BackendKind {
    // burn 0.22 marks NdArray deprecated in favour of Flex; it stays selectable for existing run files, so the
    // warning is silenced here, at the one place that names it.
    #[allow(deprecated)]
    pub fn device(self) -> Device {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Self::Ndarray => Device::ndarray(),
            Self::Flex => Device::flex(),
            #[cfg(not(target_arch = "wasm32"))]
            Self::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
        }
    }

    /// "burn (Flex)" and so on: what runs a burn model, in words.
    pub fn burn_label(self) -> &'static str {
        match self {
            Self::Flex => "burn (Flex)",
            #[cfg(not(target_arch = "wasm32"))]
            Self::Ndarray => "burn (NdArray)",
            #[cfg(not(target_arch = "wasm32"))]
            Self::Wgpu => "burn (wgpu)",
        }
    }
}

/// Reads a one-element tensor back; a failure of the device (out of memory, lost device) becomes an error.
pub fn read_scalar(t: burn::tensor::Tensor<1>) -> crate::error::Result<f64> {
    t.try_into_scalar::<f32>()
        .map(f64::from)
        .map_err(|e| crate::error::Error::Invalid(format!("the compute device failed: {e}")))
}

/// One device of a run's `devices` list: `flex`, `ndarray`, `wgpu` (the default adapter) or `wgpu:N` (the N-th
/// discrete GPU). burn's CUDA backend, the one with NCCL collectives, cannot be built on these machines (its build
/// downloads LLVM), so `cuda:N` is refused by name rather than taken for something else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceSpec {
    pub backend: BackendKind,
    /// The discrete GPU's index (wgpu only); `None` is the backend's default device.
    pub index: Option<usize>,
}

impl DeviceSpec {
    /// The backend's default device.
    pub fn default_of(backend: BackendKind) -> Self {
        Self { backend, index: None }
    }

    pub fn device(&self) -> Device {
        match (self.backend, self.index) {
            #[cfg(not(target_arch = "wasm32"))]
            (BackendKind::Wgpu, Some(index)) => Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(index)),
            (backend, _) => backend.device(),
        }
    }
}

impl TryFrom<String> for DeviceSpec {
    type Error = String;

    fn try_from(spec: String) -> Result<Self, String> {
        let (name, index) = match spec.split_once(':') {
            Some((name, index)) => {
                let index = index
                    .parse()
                    .map_err(|_| format!("device `{spec}`: `{index}` is not a device index"))?;
                (name, Some(index))
            }
            None => (spec.as_str(), None),
        };
        let backend = match name {
            "flex" => BackendKind::Flex,
            #[cfg(not(target_arch = "wasm32"))]
            "ndarray" => BackendKind::Ndarray,
            #[cfg(not(target_arch = "wasm32"))]
            "wgpu" => BackendKind::Wgpu,
            "cuda" => {
                return Err(format!(
                    "device `{spec}`: burn's CUDA backend is not built into this binary (its build downloads LLVM); \
                     use `wgpu:N` for the N-th GPU"
                ));
            }
            _ => return Err(format!("device `{spec}`: expected flex, ndarray, wgpu or wgpu:N")),
        };
        #[cfg(not(target_arch = "wasm32"))]
        let indexed = backend == BackendKind::Wgpu;
        #[cfg(target_arch = "wasm32")]
        let indexed = false;
        if index.is_some() && !indexed {
            return Err(format!(
                "device `{spec}`: only wgpu devices take an index (the CPU backends have one)"
            ));
        }
        Ok(Self { backend, index })
    }
}

impl From<DeviceSpec> for String {
    fn from(spec: DeviceSpec) -> String {
        spec.to_string()
    }
}

impl std::fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.backend {
            BackendKind::Flex => "flex",
            #[cfg(not(target_arch = "wasm32"))]
            BackendKind::Ndarray => "ndarray",
            #[cfg(not(target_arch = "wasm32"))]
            BackendKind::Wgpu => "wgpu",
        };
        match self.index {
            Some(index) => write!(f, "{name}:{index}"),
            None => write!(f, "{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_specs_parse_and_print_back() {
        for spec in ["flex", "ndarray", "wgpu", "wgpu:1"] {
            let parsed = DeviceSpec::try_from(spec.to_string()).unwrap();
            assert_eq!(parsed.to_string(), spec);
        }
        assert_eq!(
            DeviceSpec::try_from("wgpu:3".to_string()).unwrap(),
            DeviceSpec {
                backend: BackendKind::Wgpu,
                index: Some(3)
            }
        );
        let error = |spec: &str| DeviceSpec::try_from(spec.to_string()).unwrap_err();
        assert!(
            error("cuda:0").contains("CUDA backend is not built"),
            "{}",
            error("cuda:0")
        );
        assert!(error("flex:1").contains("only wgpu devices take an index"));
        assert!(error("wgpu:x").contains("`x` is not a device index"));
        assert!(error("tpu").contains("expected flex, ndarray, wgpu or wgpu:N"));
    }
}
