//! Which device runs the network: CUDA or Metal when this build has it and the machine has
//! one, else the CPU; a user's choice overrides. GPU out-of-memory is recognised so callers
//! can fall back to the CPU instead of returning a grey picture as DeOldify does.

use candle_core::Device;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The fastest device present.
    Auto,
    Cpu,
    Cuda,
    Metal,
}

impl DeviceChoice {
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "cpu" => Some(Self::Cpu),
            "cuda" | "gpu" => Some(Self::Cuda),
            "metal" => Some(Self::Metal),
            _ => None,
        }
    }
}

/// Opens the chosen device. `Auto` never fails: without a usable GPU it is the CPU.
pub fn open(choice: DeviceChoice) -> Result<Device, String> {
    let gpu = |d: candle_core::Result<Device>, what: &str, feature: &str, built: bool| -> Result<Device, String> {
        if !built {
            return Err(format!(
                "this Tintype was built without {what} support (cargo feature `{feature}`); use --device cpu"
            ));
        }
        d.map_err(|e| format!("no usable {what} device: {e}; use --device cpu"))
    };
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Cuda => gpu(Device::new_cuda(0), "CUDA", "cuda", cfg!(feature = "cuda")),
        DeviceChoice::Metal => gpu(Device::new_metal(0), "Metal", "metal", cfg!(feature = "metal")),
        DeviceChoice::Auto => {
            Ok(open(DeviceChoice::Cuda).or_else(|_| open(DeviceChoice::Metal)).unwrap_or(Device::Cpu))
        }
    }
}

/// A short name for messages and benchmark lines.
pub fn name(device: &Device) -> &'static str {
    match device {
        Device::Cpu => "cpu",
        Device::Cuda(_) => "cuda",
        Device::Metal(_) => "metal",
    }
}

/// The device's name for people: "CPU", "GPU (CUDA)" or "GPU (Metal)".
pub fn title(device: &Device) -> &'static str {
    match device {
        Device::Cpu => "CPU",
        Device::Cuda(_) => "GPU (CUDA)",
        Device::Metal(_) => "GPU (Metal)",
    }
}

/// Whether an error from a forward pass means the GPU ran out of memory.
pub fn is_out_of_memory(error: &candle_core::Error) -> bool {
    let text = error.to_string().to_ascii_lowercase();
    text.contains("out of memory") || text.contains("out_of_memory") || text.contains("outofmemory")
}

/// CPU threads for the network: the cores not already busy (1-minute load average), at
/// least one. Read once at start-up, before the first tensor operation.
pub fn free_cores() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let busy = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0, |l| l.round() as usize);
    cores.saturating_sub(busy).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_falls_back_to_the_cpu_and_missing_backends_say_so() {
        if !cfg!(feature = "cuda") && !cfg!(feature = "metal") {
            assert!(open(DeviceChoice::Auto).unwrap().is_cpu());
            let err = open(DeviceChoice::Cuda).unwrap_err();
            assert!(err.contains("without CUDA support") && err.contains("--device cpu"), "{err}");
        }
        assert!(open(DeviceChoice::Cpu).unwrap().is_cpu());
        assert_eq!(DeviceChoice::from_name("GPU"), Some(DeviceChoice::Cuda));
        assert_eq!(DeviceChoice::from_name("tpu"), None);
    }

    #[test]
    fn out_of_memory_is_recognised() {
        let oom = candle_core::Error::Msg("DriverError(CUDA_ERROR_OUT_OF_MEMORY, \"out of memory\")".into());
        assert!(is_out_of_memory(&oom));
        assert!(!is_out_of_memory(&candle_core::Error::Msg("shape mismatch".into())));
        assert!(free_cores() >= 1);
    }
}
