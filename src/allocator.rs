//! The global allocator of the wasm build: rlsf's TLSF tuned for code size, a fraction of the size
//! of the standard library's dlmalloc. The library spends its time waiting on the network and the
//! browser, not allocating, so the smaller allocator costs nothing that matters.

/// Takes memory from `memory.grow` as needed; single-threaded, like the library.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: rlsf::SmallGlobalTlsf = rlsf::SmallGlobalTlsf::new();
