//! The global allocator of the wasm build: lol_alloc's free-list allocator, the smallest in code
//! that reuses freed memory (its list is kept sorted by address and neighbours are merged), about
//! 250 bytes gzipped smaller than rlsf's TLSF and far smaller than the standard library's
//! dlmalloc. Each allocation walks the free list, which costs nothing that matters here: the
//! library spends its time waiting on the network and the browser, with a few live allocations
//! per call. The `LockedAllocator` wrapper needs no `unsafe` (the workspace forbids it); in a
//! single-threaded module its lock is never contended.

/// Takes memory from `memory.grow` as needed.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
