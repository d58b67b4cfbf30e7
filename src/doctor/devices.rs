//! The GPUs (and software rasterisers) wgpu offers burn, with the limits that decide what a run may allocate.

use eframe::wgpu;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct DeviceFacts {
    pub name: String,
    /// Vulkan, Metal, DX12, GL or BrowserWebGpu.
    pub backend: String,
    /// Discrete, integrated, virtual GPU or CPU (a software device such as lavapipe).
    pub device_type: String,
    pub driver: String,
    pub max_buffer_size: u64,
    pub max_storage_buffer_binding_size: u64,
}

/// Every adapter wgpu finds on this machine (none where it finds no driver).
pub fn wgpu_adapters() -> Vec<DeviceFacts> {
    let instance = wgpu::Instance::default();
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .iter()
        .map(facts)
        .collect()
}

/// The adapter `backend = "wgpu"` runs on: burn's default device asks wgpu for a high-performance adapter
/// (cubecl-wgpu's `request_adapter_with_preference`), which prefers a discrete GPU to an integrated one to a
/// software device.
pub fn burn_default_adapter() -> Option<DeviceFacts> {
    let instance = wgpu::Instance::default();
    let options = wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..wgpu::RequestAdapterOptions::default()
    };
    pollster::block_on(instance.request_adapter(&options))
        .ok()
        .as_ref()
        .map(facts)
}

fn facts(adapter: &wgpu::Adapter) -> DeviceFacts {
    let (info, limits) = (adapter.get_info(), adapter.limits());
    DeviceFacts {
        name: info.name,
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
        max_buffer_size: limits.max_buffer_size,
        max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
    }
}
