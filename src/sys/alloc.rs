//! The allocator: a bump arena in `.bss` for start-up, the C library's `malloc` beyond it.
//!
//! sudrop's start-up makes a few dozen small allocations that live until the `execve`. musl's
//! allocator serves each size class from its own freshly mapped pages and unmaps them as soon
//! as they empty, so start-up paid for about twenty `mmap`/`munmap` calls and their page
//! faults. The arena hands out memory from one static block instead: no system call at all,
//! and only the pages actually used are ever faulted in. Memory freed in the arena is reused
//! only when it was the last block handed out (a stack discipline, which start-up mostly
//! follows); everything else stays until the process ends or executes. Once the arena is full,
//! every further allocation goes to `malloc`, so a long-lived init loses at most the arena's
//! size to this scheme, never more.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;

/// Bytes in the start-up arena: start-up needs a few kilobytes plus the two database files,
/// which go to `malloc` when they are larger.
pub const ARENA_BYTES: usize = 64 * 1024;

/// A bump arena of `N` bytes. Its state is only touched by one thread: sudrop never starts a
/// second one (see the module text of [`crate::sys`]).
pub struct Arena<const N: usize> {
    memory: UnsafeCell<[u8; N]>,
    /// Offset of the first free byte.
    next: UnsafeCell<usize>,
    /// One more than the offset of the last block handed out, which alone can be freed or
    /// grown in place; 0 for none. (All fields start at zero, so a static arena lives in
    /// `.bss` and costs the binary no bytes.)
    last: UnsafeCell<usize>,
}

// SAFETY: sudrop is single-threaded, so the arena's cells are never accessed concurrently.
// (Tests use their own arenas from one thread each.)
unsafe impl<const N: usize> Sync for Arena<N> {}

impl<const N: usize> Arena<N> {
    pub const fn new() -> Self {
        Arena {
            memory: UnsafeCell::new([0; N]),
            next: UnsafeCell::new(0),
            last: UnsafeCell::new(0),
        }
    }

    fn base(&self) -> usize {
        self.memory.get() as usize
    }

    /// Whether `ptr` was handed out by this arena.
    pub fn owns(&self, ptr: *mut u8) -> bool {
        (self.base()..self.base() + N).contains(&(ptr as usize))
    }

    /// A block for `layout`, or null when the arena has no room left.
    pub fn allocate(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded (see `Sync` above); no reference into the cells is kept.
        unsafe {
            let next = *self.next.get();
            let address = self.base() + next;
            let aligned = address.next_multiple_of(layout.align());
            let start = aligned - self.base();
            let Some(end) = start.checked_add(layout.size()).filter(|&end| end <= N) else {
                return std::ptr::null_mut();
            };
            *self.next.get() = end;
            *self.last.get() = start + 1;
            self.memory.get().cast::<u8>().add(start)
        }
    }

    /// Frees a block of this arena: only the last one handed out is really given back.
    pub fn free(&self, ptr: *mut u8) {
        let offset = ptr as usize - self.base();
        // SAFETY: single-threaded (see `Sync` above).
        unsafe {
            if *self.last.get() == offset + 1 {
                *self.next.get() = offset;
                *self.last.get() = 0;
            }
        }
    }

    /// Grows or shrinks the last block in place; false when `ptr` is not the last block or
    /// the arena has no room.
    pub fn resize_in_place(&self, ptr: *mut u8, new_size: usize) -> bool {
        let offset = ptr as usize - self.base();
        // SAFETY: single-threaded (see `Sync` above).
        unsafe {
            if *self.last.get() != offset + 1 {
                return false;
            }
            match offset.checked_add(new_size) {
                Some(end) if end <= N => {
                    *self.next.get() = end;
                    true
                }
                _ => false,
            }
        }
    }
}

impl<const N: usize> Default for Arena<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// The arena first, then `malloc`.
pub struct StartupAllocator<const N: usize>(pub Arena<N>);

// SAFETY: every block comes either from the arena (aligned to `layout.align()`, `layout.size()`
// bytes, inside the arena, never handed out twice while live: the bump pointer only moves back
// over the last block when that block is freed) or from `System`, and each is freed or resized
// by the one that handed it out, told apart by address.
unsafe impl<const N: usize> GlobalAlloc for StartupAllocator<N> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let block = self.0.allocate(layout);
        if block.is_null() {
            // SAFETY: `layout` is the caller's valid, non-zero-size layout.
            unsafe { System.alloc(layout) }
        } else {
            block
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.0.owns(ptr) {
            self.0.free(ptr);
        } else {
            // SAFETY: not the arena's, so `System` handed it out with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !self.0.owns(ptr) {
            // SAFETY: not the arena's, so `System` handed it out with this layout.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        if self.0.resize_in_place(ptr, new_size) {
            return ptr;
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: a fresh block of `new_size` bytes; the old one holds `layout.size()` live
        // bytes, and the two do not overlap (the old block stays reserved until freed).
        unsafe {
            let moved = self.alloc(new_layout);
            if !moved.is_null() {
                std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            moved
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_inside() {
        let arena = Arena::<256>::new();
        let a = arena.allocate(layout(3, 1));
        let b = arena.allocate(layout(8, 8));
        let c = arena.allocate(layout(16, 16));
        for (block, align) in [(a, 1), (b, 8), (c, 16)] {
            assert!(arena.owns(block));
            assert_eq!(block as usize % align, 0);
        }
        assert!(b as usize >= a as usize + 3);
        assert!(c as usize >= b as usize + 8);
    }

    #[test]
    fn only_the_last_block_is_given_back_and_grown_in_place() {
        let arena = Arena::<256>::new();
        let a = arena.allocate(layout(32, 8));
        let b = arena.allocate(layout(32, 8));
        assert!(!arena.resize_in_place(a, 64), "a is not the last block");
        assert!(arena.resize_in_place(b, 64));
        arena.free(a);
        let c = arena.allocate(layout(8, 8));
        assert!(c as usize >= b as usize + 64, "a's space is not reused");
        arena.free(c);
        assert_eq!(arena.allocate(layout(8, 8)), c, "the last block is reused");
    }

    #[test]
    fn a_full_arena_says_so_and_the_allocator_falls_back() {
        let arena = Arena::<64>::new();
        assert!(!arena.allocate(layout(48, 8)).is_null());
        assert!(arena.allocate(layout(48, 8)).is_null());
        let allocator = StartupAllocator(Arena::<64>::new());
        let big = layout(1000, 8);
        // SAFETY: a valid layout; the block is written within its size and freed once.
        unsafe {
            let block = allocator.alloc(big);
            assert!(!block.is_null() && !allocator.0.owns(block));
            block.write_bytes(7, 1000);
            allocator.dealloc(block, big);
        }
    }

    #[test]
    fn realloc_keeps_the_contents_wherever_the_block_goes() {
        let allocator = StartupAllocator(Arena::<128>::new());
        let small = layout(16, 8);
        // SAFETY: valid layouts; each block is used within its size and freed once.
        unsafe {
            let first = allocator.alloc(small);
            first.copy_from_nonoverlapping(b"0123456789abcdef".as_ptr(), 16);
            let grown = allocator.realloc(first, small, 64);
            assert_eq!(grown, first, "last block grows in place");
            let other = allocator.alloc(layout(8, 8));
            let moved = allocator.realloc(grown, layout(64, 8), 4096);
            assert!(!allocator.0.owns(moved), "too big for the arena: malloc");
            assert_eq!(std::slice::from_raw_parts(moved, 16), b"0123456789abcdef");
            allocator.dealloc(moved, layout(4096, 8));
            allocator.dealloc(other, layout(8, 8));
        }
    }
}
