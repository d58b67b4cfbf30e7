//! What this machine offers: CPU, SIMD paths, memory, disk, versions. Linux facts come from /proc; elsewhere
//! the fields that need it are `None`.

use std::path::Path;

use serde::Serialize;

/// The pinned burn version (Cargo.toml pins `=0.22.1`; a test keeps the two equal).
pub const BURN_VERSION: &str = "0.22.1";
/// The wgpu that burn and eframe share.
pub const WGPU_VERSION: &str = "30";

#[derive(Clone, Debug, Serialize)]
pub struct SystemFacts {
    pub cpu: String,
    pub logical_cores: usize,
    /// rayon's pool: what the CPU backends, the shards and the ternary engine run on.
    pub threads: usize,
    /// SIMD extensions the CPU reports, of those the kernels here could use.
    pub simd: Vec<&'static str>,
    /// The path the ternary × int8 kernel takes on this CPU.
    pub ternary_kernel: &'static str,
    pub ram_total_bytes: Option<u64>,
    pub ram_available_bytes: Option<u64>,
    /// Free bytes where the run writes (its `out` folder, or its nearest existing parent).
    pub disk_free_bytes: Option<u64>,
    pub crate_version: &'static str,
    pub burn_version: &'static str,
    pub wgpu_version: &'static str,
}

impl SystemFacts {
    /// The facts, with free disk space measured at `out`.
    pub fn gather(out: &Path) -> Self {
        Self {
            cpu: cpu_model().unwrap_or_else(|| std::env::consts::ARCH.to_string()),
            logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            threads: rayon::current_num_threads(),
            simd: simd_features(),
            ternary_kernel: crate::ternary::kernel_path(),
            ram_total_bytes: meminfo("MemTotal:"),
            ram_available_bytes: meminfo("MemAvailable:"),
            disk_free_bytes: disk_free(out),
            crate_version: env!("CARGO_PKG_VERSION"),
            burn_version: BURN_VERSION,
            wgpu_version: WGPU_VERSION,
        }
    }
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name") || l.starts_with("Model"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

fn simd_features() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        let checks = [
            ("AVX2", std::arch::is_x86_feature_detected!("avx2")),
            ("F16C", std::arch::is_x86_feature_detected!("f16c")),
            ("AVX-512F", std::arch::is_x86_feature_detected!("avx512f")),
            ("AVX-512 VNNI", std::arch::is_x86_feature_detected!("avx512vnni")),
        ];
        found.extend(checks.iter().filter(|(_, on)| *on).map(|(name, _)| *name));
    }
    #[cfg(target_arch = "aarch64")]
    found.push("NEON");
    found
}

/// A `/proc/meminfo` field, in bytes.
fn meminfo(field: &str) -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// This process's resident memory now (`VmRSS`), in bytes.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line["VmRSS:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(unix)]
fn disk_free(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let existing = path.ancestors().find(|p| p.exists()).unwrap_or(Path::new("."));
    let existing = if existing.as_os_str().is_empty() {
        Path::new(".")
    } else {
        existing
    };
    let name = std::ffi::CString::new(existing.as_os_str().as_bytes()).ok()?;
    // SAFETY: `name` is a NUL-terminated path and `stats` a properly sized, zeroed out-parameter.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(name.as_ptr(), &mut stats) } != 0 {
        return None;
    }
    Some(stats.f_bavail as u64 * stats.f_frsize as u64)
}

#[cfg(not(unix))]
fn disk_free(_: &Path) -> Option<u64> {
    None
}
