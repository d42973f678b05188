//! A seccomp filter that fails the `ioctl`s which push input into a terminal: TIOCSTI (fake
//! a typed character) and TIOCLINUX (on a virtual console, among others, paste the selection).
//! A command that inherits its caller's terminal could otherwise type a command into the root
//! shell that started it. Everything else is allowed.
//!
//! The filter checks the architecture of each call: the native one and the 32-bit one the
//! kernel also runs (i386 and x32 on x86_64, arm on aarch64), each with its own ioctl number.

use super::{Errno, check};

const LOAD_WORD: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JUMP_IF_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const RETURN: u16 = 0x06; // BPF_RET | BPF_K

const ALLOW: u32 = 0x7fff_0000; // SECCOMP_RET_ALLOW
const FAIL_EPERM: u32 = 0x0005_0000 | libc::EPERM as u32; // SECCOMP_RET_ERRNO | EPERM

// Offsets in struct seccomp_data: nr, arch, instruction pointer, then six u64 arguments.
// The ioctl request is the second argument; the kernel reads it as 32 bits, and on these
// little-endian machines those are the first four bytes.
const NR: u32 = 0;
const ARCH: u32 = 4;
const REQUEST: u32 = 16 + 8;

const TIOCSTI: u32 = 0x5412;
const TIOCLINUX: u32 = 0x541c;

#[cfg(target_arch = "x86_64")]
const NATIVE: (u32, u32, u32) = (0xc000_003e, 16, 0x4000_0000 | 514); // x86_64, ioctl, x32 ioctl
#[cfg(target_arch = "x86_64")]
const COMPAT: (u32, u32) = (0x4000_0003, 54); // i386, ioctl
#[cfg(target_arch = "aarch64")]
const NATIVE: (u32, u32, u32) = (0xc000_00b7, 29, 29); // aarch64, ioctl (no second ABI)
#[cfg(target_arch = "aarch64")]
const COMPAT: (u32, u32) = (0x4000_0028, 54); // arm, ioctl

fn statement(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(k: u32, if_equal: u8, otherwise: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: JUMP_IF_EQUAL,
        jt: if_equal,
        jf: otherwise,
        k,
    }
}

/// The program; jump offsets count the instructions skipped after the jump.
fn program() -> [libc::sock_filter; 14] {
    let (native_arch, native_ioctl, second_ioctl) = NATIVE;
    let (compat_arch, compat_ioctl) = COMPAT;
    [
        statement(LOAD_WORD, ARCH),    // 0
        jump(native_arch, 0, 3),       // 1: native → 2, else → 5
        statement(LOAD_WORD, NR),      // 2
        jump(native_ioctl, 5, 0),      // 3: ioctl → 9
        jump(second_ioctl, 4, 7),      // 4: ioctl → 9, else → 12 (allow)
        jump(compat_arch, 0, 6),       // 5: compat → 6, else → 12 (allow)
        statement(LOAD_WORD, NR),      // 6
        jump(compat_ioctl, 1, 0),      // 7: ioctl → 9
        statement(RETURN, ALLOW),      // 8
        statement(LOAD_WORD, REQUEST), // 9
        jump(TIOCSTI, 2, 0),           // 10: → 13 (fail)
        jump(TIOCLINUX, 1, 0),         // 11: → 13 (fail)
        statement(RETURN, ALLOW),      // 12
        statement(RETURN, FAIL_EPERM), // 13
    ]
}

/// Installs the filter for this process and everything it executes. The kernel allows that
/// under no_new_privs, or with CAP_SYS_ADMIN.
pub fn block_terminal_injection() -> Result<(), Errno> {
    let mut filter = program();
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: the kernel copies the program, which points at `filter`, alive for the call.
    check(unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as libc::c_ulong,
            &program as *const libc::sock_fprog,
            0,
            0,
        )
    })
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the program over one call, as the kernel would.
    fn verdict(arch: u32, nr: u32, request: u32) -> u32 {
        let program = program();
        let data = |offset: u32| match offset {
            NR => nr,
            ARCH => arch,
            REQUEST => request,
            _ => panic!("reads offset {offset}"),
        };
        let (mut accumulator, mut pc) = (0u32, 0usize);
        loop {
            let op = program[pc];
            pc += 1;
            match op.code {
                LOAD_WORD => accumulator = data(op.k),
                JUMP_IF_EQUAL if accumulator == op.k => pc += usize::from(op.jt),
                JUMP_IF_EQUAL => pc += usize::from(op.jf),
                RETURN => return op.k,
                other => panic!("unexpected code {other:#x}"),
            }
        }
    }

    #[test]
    fn terminal_injection_fails_on_every_abi_and_nothing_else_does() {
        let (native, ioctl, second) = NATIVE;
        let (compat, compat_ioctl) = COMPAT;
        for (arch, nr) in [(native, ioctl), (native, second), (compat, compat_ioctl)] {
            assert_eq!(verdict(arch, nr, TIOCSTI), FAIL_EPERM, "{arch:#x} {nr}");
            assert_eq!(verdict(arch, nr, TIOCLINUX), FAIL_EPERM, "{arch:#x} {nr}");
            // TIOCGWINSZ and TCGETS: ordinary terminal ioctls still work.
            assert_eq!(verdict(arch, nr, 0x5413), ALLOW);
            assert_eq!(verdict(arch, nr, 0x5401), ALLOW);
        }
        // Another system call whose second argument happens to look like TIOCSTI.
        assert_eq!(verdict(native, 1, TIOCSTI), ALLOW);
        assert_eq!(verdict(compat, 4, TIOCSTI), ALLOW);
        assert_eq!(
            verdict(0x1234, ioctl, TIOCSTI),
            ALLOW,
            "an architecture this kernel never runs"
        );
    }
}
