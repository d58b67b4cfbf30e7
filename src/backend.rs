//! Choosing the compute backend at run time.

use burn::tensor::Device;

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
