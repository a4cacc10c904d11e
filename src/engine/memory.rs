//! How the C allocator treats the large buffers tensors live in.
//!
//! glibc serves every allocation over its mmap threshold (128 KiB, rising to at most 32 MiB)
//! with a fresh mapping and unmaps it at free, so each layer's output — 115 MB for the compact
//! model's logits at render factor 35 — had its pages faulted in and zeroed by the kernel
//! afresh, about a quarter of the compact model's time (perf). Keeping freed memory in the heap
//! for the next layer measured, on a 2-core CPU: compact 0.52 → 0.36 s, Artistic 4.95 → 4.04 s
//! at render factor 35, Artistic's peak memory 1.22 → 1.41 GiB; a 24 MP scan's pipeline
//! 1.10 → 0.97 s, its peak 438 → 695 MiB (BENCHMARKS.md). Other platforms' allocators are left
//! as they are (not measured).

/// Keep freed memory for reuse: no mappings for large blocks, no trimming of the heap's top.
/// Call first thing in `main`, before other threads start.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

/// Hand the memory kept by `keep_freed_memory` back to the system, when there is no work.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
