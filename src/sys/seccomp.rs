//! A seccomp filter that fails the `ioctl`s which push input into a terminal: TIOCSTI (fake
//! a typed character) and TIOCLINUX (on a virtual console, among others, paste the selection).
//! A command that inherits its caller's terminal could otherwise type a command into the root
//! shell that started it. Everything else is allowed.
//!
//! The filter checks the architecture of each call: every ABI the kernel may run a process of
//! this build in (on x86_64 also i386 and x32; an i686 process can enter the 64-bit ABI too),
//! each with its own ioctl number. The request numbers and the native ioctl number are the
//! target's own (`libc`); the `AUDIT_ARCH_*` values are the kernel's, from `linux/audit.h`.

use super::{Errno, check};

const LOAD_WORD: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JUMP_IF_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const RETURN: u16 = 0x06; // BPF_RET | BPF_K

const ALLOW: u32 = 0x7fff_0000; // SECCOMP_RET_ALLOW
const FAIL_EPERM: u32 = 0x0005_0000 | libc::EPERM as u32; // SECCOMP_RET_ERRNO | EPERM

// Offsets in struct seccomp_data: nr, arch, instruction pointer, then six u64 arguments.
// The ioctl request is the second argument; the kernel reads it as 32 bits: the first four
// bytes of the u64 on a little-endian machine, the last four on a big-endian one.
const NR: u32 = 0;
const ARCH: u32 = 4;
const REQUEST: u32 = 16 + 8 + if cfg!(target_endian = "big") { 4 } else { 0 };

const TIOCSTI: u32 = libc::TIOCSTI as u32;
const TIOCLINUX: u32 = libc::TIOCLINUX as u32;

/// `AUDIT_ARCH_*`: the ELF machine, `__AUDIT_ARCH_64BIT` (0x8000_0000) for a 64-bit ABI and
/// `__AUDIT_ARCH_LE` (0x4000_0000) for a little-endian one. (Each build uses its own few.)
#[allow(dead_code)]
mod audit_arch {
    pub const X86_64: u32 = 0xc000_003e;
    pub const I386: u32 = 0x4000_0003;
    pub const AARCH64: u32 = 0xc000_00b7;
    pub const ARM: u32 = 0x4000_0028;
    pub const PPC64LE: u32 = 0xc000_0015;
    pub const PPC: u32 = 0x0000_0014;
    pub const RISCV64: u32 = 0xc000_00f3;
    pub const RISCV32: u32 = 0x4000_00f3;
    pub const LOONGARCH64: u32 = 0xc000_0102;
    pub const S390X: u32 = 0x8000_0016;
    pub const S390: u32 = 0x0000_0016;
    /// MIPS n64; n32 adds `__AUDIT_ARCH_CONVENTION_MIPS64_N32` (0x2000_0000).
    pub const MIPS64EL: u32 = 0xc000_0008;
    pub const MIPS64EL_N32: u32 = 0xe000_0008;
    pub const MIPSEL: u32 = 0x4000_0008;
}

/// One ABI a process of this build may make system calls in: its `AUDIT_ARCH_*` value and the
/// numbers of ioctl there (x86_64's table also serves x32, with bit 30 set).
#[derive(Clone, Copy, Debug)]
struct Abi {
    arch: u32,
    ioctls: &'static [u32],
}

/// The ABIs of each architecture sudrop is built for; a build uses its own ([`ABIS`]), and the
/// tests check the program of every one.
#[allow(dead_code)]
mod abis {
    use super::{Abi, audit_arch};

    /// x86_64, and x32 (bit 30) and i386 beside it.
    pub const X86_64: &[Abi] = &[
        Abi {
            arch: audit_arch::X86_64,
            ioctls: &[16, 0x4000_0000 | 514],
        },
        Abi {
            arch: audit_arch::I386,
            ioctls: &[54],
        },
    ];
    /// i386; on a 64-bit kernel a 32-bit process can switch to 64-bit code and call there.
    pub const I386: &[Abi] = &[
        Abi {
            arch: audit_arch::I386,
            ioctls: &[54],
        },
        Abi {
            arch: audit_arch::X86_64,
            ioctls: &[16, 0x4000_0000 | 514],
        },
    ];
    pub const AARCH64: &[Abi] = &[
        Abi {
            arch: audit_arch::AARCH64,
            ioctls: &[29],
        },
        Abi {
            arch: audit_arch::ARM,
            ioctls: &[54],
        },
    ];
    pub const ARM: &[Abi] = &[Abi {
        arch: audit_arch::ARM,
        ioctls: &[54],
    }];
    pub const PPC64LE: &[Abi] = &[
        Abi {
            arch: audit_arch::PPC64LE,
            ioctls: &[54],
        },
        Abi {
            arch: audit_arch::PPC,
            ioctls: &[54],
        },
    ];
    pub const RISCV64: &[Abi] = &[
        Abi {
            arch: audit_arch::RISCV64,
            ioctls: &[29],
        },
        Abi {
            arch: audit_arch::RISCV32,
            ioctls: &[29],
        },
    ];
    pub const LOONGARCH64: &[Abi] = &[Abi {
        arch: audit_arch::LOONGARCH64,
        ioctls: &[29],
    }];
    pub const S390X: &[Abi] = &[
        Abi {
            arch: audit_arch::S390X,
            ioctls: &[54],
        },
        Abi {
            arch: audit_arch::S390,
            ioctls: &[54],
        },
    ];
    /// MIPS n64, with n32 and o32 beside it.
    pub const MIPS64EL: &[Abi] = &[
        Abi {
            arch: audit_arch::MIPS64EL,
            ioctls: &[5015],
        },
        Abi {
            arch: audit_arch::MIPS64EL_N32,
            ioctls: &[6015],
        },
        Abi {
            arch: audit_arch::MIPSEL,
            ioctls: &[4054],
        },
    ];

    /// Every table, for the tests; the native ioctl of this build's is checked against libc's.
    pub const ALL: [&[Abi]; 9] = [
        X86_64,
        I386,
        AARCH64,
        ARM,
        PPC64LE,
        RISCV64,
        LOONGARCH64,
        S390X,
        MIPS64EL,
    ];
}

#[cfg(target_arch = "x86_64")]
const ABIS: &[Abi] = abis::X86_64;
#[cfg(target_arch = "x86")]
const ABIS: &[Abi] = abis::I386;
#[cfg(target_arch = "aarch64")]
const ABIS: &[Abi] = abis::AARCH64;
#[cfg(target_arch = "arm")]
const ABIS: &[Abi] = abis::ARM;
#[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
const ABIS: &[Abi] = abis::PPC64LE;
#[cfg(target_arch = "riscv64")]
const ABIS: &[Abi] = abis::RISCV64;
#[cfg(target_arch = "loongarch64")]
const ABIS: &[Abi] = abis::LOONGARCH64;
#[cfg(target_arch = "s390x")]
const ABIS: &[Abi] = abis::S390X;
#[cfg(all(target_arch = "mips64", target_endian = "little"))]
const ABIS: &[Abi] = abis::MIPS64EL;

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

/// The program for `abis`; jump offsets count the instructions skipped after the jump.
///
/// ```text
/// load arch
/// per ABI:  arch? (else to the next ABI) · load nr · nr = an ioctl? → check · allow
/// allow                                   (an ABI this build never runs in)
/// check:    load request · TIOCSTI? → fail · TIOCLINUX? → fail · allow
/// fail:     EPERM
/// ```
fn program(abis: &[Abi]) -> Vec<libc::sock_filter> {
    let block = |abi: &Abi| abi.ioctls.len() + 3;
    let check = 1 + abis.iter().map(block).sum::<usize>() + 1;
    let offset = |from: usize, to: usize| u8::try_from(to - from - 1).unwrap_or(u8::MAX);
    let mut program = vec![statement(LOAD_WORD, ARCH)];
    for abi in abis {
        let at = program.len();
        program.push(jump(abi.arch, 0, offset(at, at + block(abi))));
        program.push(statement(LOAD_WORD, NR));
        for &ioctl in abi.ioctls {
            let at = program.len();
            program.push(jump(ioctl, offset(at, check), 0));
        }
        program.push(statement(RETURN, ALLOW));
    }
    program.push(statement(RETURN, ALLOW));
    let fail = check + 4;
    program.push(statement(LOAD_WORD, REQUEST));
    let at = program.len();
    program.push(jump(TIOCSTI, offset(at, fail), 0));
    program.push(jump(TIOCLINUX, offset(at + 1, fail), 0));
    program.push(statement(RETURN, ALLOW));
    program.push(statement(RETURN, FAIL_EPERM));
    program
}

/// Installs the filter for this process and everything it executes. The kernel allows that
/// under no_new_privs, or with CAP_SYS_ADMIN.
pub fn block_terminal_injection() -> Result<(), Errno> {
    let mut filter = program(ABIS);
    let program = libc::sock_fprog {
        len: u16::try_from(filter.len()).map_err(|_| Errno::E2BIG)?,
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
    fn verdict(program: &[libc::sock_filter], arch: u32, nr: u32, request: u32) -> u32 {
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
        for abis in abis::ALL {
            let program = program(abis);
            for abi in abis {
                for &nr in abi.ioctls {
                    let arch = abi.arch;
                    assert_eq!(
                        verdict(&program, arch, nr, TIOCSTI),
                        FAIL_EPERM,
                        "{arch:#x} {nr}"
                    );
                    assert_eq!(verdict(&program, arch, nr, TIOCLINUX), FAIL_EPERM);
                    // TIOCGWINSZ and TCGETS: ordinary terminal ioctls still work.
                    assert_eq!(verdict(&program, arch, nr, 0x5413), ALLOW);
                    assert_eq!(verdict(&program, arch, nr, 0x5401), ALLOW);
                    // Another system call whose second argument looks like TIOCSTI.
                    assert_eq!(verdict(&program, arch, nr + 1, TIOCSTI), ALLOW);
                }
            }
            assert_eq!(
                verdict(&program, 0x1234, abis[0].ioctls[0], TIOCSTI),
                ALLOW,
                "an architecture this kernel never runs"
            );
        }
    }

    #[test]
    fn the_native_abi_is_the_targets_own() {
        // The tables write the numbers out; this build's must be its libc's.
        assert_eq!(ABIS[0].ioctls[0], libc::SYS_ioctl as u32);
        assert_eq!(REQUEST % 4, 0);
    }
}
