//! Choosing the compute backend at run time.

use burn::tensor::{Device, DeviceKind};

/// The backends this crate is built and tested with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn's NdArray CPU backend.
    #[default]
    Ndarray,
    /// burn's wgpu backend (Vulkan, Metal, DX12; WGSL shaders), on the default adapter.
    Wgpu,
}

impl BackendKind {
    // burn 0.22 marks NdArray deprecated in favour of Flex; this project's CPU backend is NdArray by choice
    // (see README), so the warning is silenced here, at the one place that names it.
    #[allow(deprecated)]
    pub fn device(self) -> Device {
        match self {
            Self::Ndarray => Device::ndarray(),
            Self::Wgpu => Device::wgpu(DeviceKind::DefaultDevice),
        }
    }
}
