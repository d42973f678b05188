//! Writing to the standard descriptors without ever failing the process: a closed or broken
//! stderr must not turn into a panic or a signal while sudrop reports something.

use super::Errno;

pub const STDOUT: i32 = 1;
pub const STDERR: i32 = 2;

/// Writes all of `bytes` to `fd`, as far as the descriptor takes them. False when it took
/// not all of them (closed, a broken pipe, full disk): there is nowhere left to report that.
pub fn write_all(fd: i32, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        // SAFETY: write reads at most `bytes.len()` bytes from a valid slice.
        let written = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        match written {
            n if n > 0 => bytes = bytes.get(n as usize..).unwrap_or_default(),
            n if n < 0 && Errno::last() == Errno::EINTR => {}
            _ => return false,
        }
    }
    true
}

/// Closes every descriptor numbered `first` or above, except `keep`: with `close_range`
/// (Linux 5.9), else each one listed in /proc/self/fd, else each one up to the soft limit on
/// open files (at most 65,536).
pub fn close_all_from(first: i32, keep: i32) {
    let ranges = [(first, keep - 1), (keep + 1, i32::MAX)];
    let closed_by_range = ranges.iter().all(|&(low, high)| {
        low > high
            // SAFETY: integer arguments only; closing descriptors touches no memory of ours.
            || unsafe { libc::syscall(libc::SYS_close_range, low as u32, high as u32, 0) } == 0
    });
    if closed_by_range {
        return;
    }
    let listed: Option<Vec<i32>> = std::fs::read_dir("/proc/self/fd").ok().map(|entries| {
        entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
            .collect()
    });
    let candidates = listed.unwrap_or_else(|| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into a valid rlimit.
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
        let last = limit.rlim_cur.min(65_536) as i32;
        (first..last).collect()
    });
    for fd in candidates {
        if fd >= first && fd != keep {
            // SAFETY: closes a descriptor the init does not use; errors (EBADF) are harmless.
            unsafe { libc::close(fd) };
        }
    }
}

/// Opens `path` for reading, close-on-exec, with `flags` added. (std's `File::open` does the
/// same, but sits in the binary amid code start-up never runs, and its page costs a fault.)
pub fn open_for_reading(path: &std::path::Path, flags: i32) -> std::io::Result<std::fs::File> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::FromRawFd;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: `path` is NUL-terminated; open only reads it.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC | flags) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened here and nothing else owns it.
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}

/// Whether the process may search (enter) directory `path`, by its effective ids.
pub fn can_search(path: &std::ffi::CStr) -> bool {
    // SAFETY: `path` is NUL-terminated; faccessat only reads it.
    unsafe { libc::faccessat(libc::AT_FDCWD, path.as_ptr(), libc::X_OK, libc::AT_EACCESS) == 0 }
}

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: i32) -> bool {
    // SAFETY: isatty takes a descriptor number only.
    unsafe { libc::isatty(fd) == 1 }
}

/// Stdin, stdout and stderr, asked once each whether they are terminals: how many are open
/// (a closed one answers EBADF), and whether one is a terminal.
pub struct StandardDescriptors {
    pub open: usize,
    pub terminal: bool,
}

pub fn standard_descriptors() -> StandardDescriptors {
    let mut found = StandardDescriptors {
        open: 0,
        terminal: false,
    };
    for fd in 0..=2 {
        if is_terminal(fd) {
            found.open += 1;
            found.terminal = true;
        } else if Errno::last() != Errno::EBADF {
            found.open += 1;
        }
    }
    found
}

/// Whether the process has a controlling terminal: `/dev/tty` opens. `None` when that cannot
/// be told (no `/dev/tty`, or another error than ENXIO, the kernel's "no controlling terminal").
pub fn has_controlling_terminal() -> Option<bool> {
    // SAFETY: the path is a NUL-terminated literal; a descriptor that opens is closed at once.
    let fd = unsafe {
        libc::open(
            c"/dev/tty".as_ptr(),
            libc::O_RDONLY | libc::O_NOCTTY | libc::O_CLOEXEC | libc::O_NONBLOCK,
        )
    };
    if fd >= 0 {
        // SAFETY: closes the descriptor just opened.
        unsafe { libc::close(fd) };
        return Some(true);
    }
    match Errno::last() {
        Errno::ENXIO => Some(false),
        _ => None,
    }
}

/// Whether any open descriptor numbered 3 or above is a terminal; `None` without `/proc`.
///
/// Since Linux 6.2 `stat` of `/proc/self/fd` gives the number of open descriptors as its
/// size, at no measurable cost: when that is just those of 0, 1 and 2, there is nothing
/// else to look at. Otherwise (more are open, or an older kernel answers 0) the directory is
/// listed, which sees every descriptor (a `poll` over a range could not see one above the
/// open-file limit, opened before the limit was lowered) but costs tens of microseconds.
///
/// `low` is how many of 0, 1 and 2 are open ([`standard_descriptors`]); `own` is a descriptor
/// of sudrop's own (the init's signalfd), counted but not looked at.
pub fn any_high_descriptor_is_a_terminal(low: usize, own: Option<i32>) -> Option<bool> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: the path is a NUL-terminated literal; stat fills the structure it is given.
    let counted = unsafe { libc::stat(c"/proc/self/fd".as_ptr(), stat.as_mut_ptr()) } == 0;
    if counted {
        // SAFETY: stat succeeded, so it wrote the structure.
        let open = unsafe { stat.assume_init() }.st_size;
        // (Counted once, should it ever be one of 0, 1 and 2: std reopens a closed one.)
        let expected = low + usize::from(own.is_some_and(|fd| fd > 2));
        if open > 0 && open == expected as i64 {
            return Some(false);
        }
    }
    listed_descriptor_is_a_terminal()
}

/// Whether any descriptor listed in `/proc/self/fd`, numbered 3 or above, is a terminal (one
/// `getdents64` into a buffer on the stack); `None` without `/proc`.
fn listed_descriptor_is_a_terminal() -> Option<bool> {
    // SAFETY: the path is a NUL-terminated literal.
    let dir = unsafe {
        libc::open(
            c"/proc/self/fd".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if dir < 0 {
        return None;
    }
    let mut buffer = [0u8; 1024];
    let mut found = Some(false);
    'read: loop {
        // SAFETY: getdents64 writes at most `buffer.len()` bytes into `buffer`.
        let length =
            unsafe { libc::syscall(libc::SYS_getdents64, dir, buffer.as_mut_ptr(), buffer.len()) };
        let Ok(length) = usize::try_from(length) else {
            found = None;
            break;
        };
        if length == 0 {
            break;
        }
        // Each record: inode (8), offset (8), record length (2), type (1), name (NUL-ended).
        let mut at = 0;
        while at + 19 <= length {
            let record = usize::from(u16::from_ne_bytes([buffer[at + 16], buffer[at + 17]]));
            if record == 0 || at + record > length {
                found = None;
                break 'read;
            }
            let name = &buffer[at + 19..at + record];
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            let fd = std::str::from_utf8(name)
                .ok()
                .and_then(|name| name.parse::<i32>().ok());
            if let Some(fd) = fd
                && fd > 2
                && fd != dir
                && is_terminal(fd)
            {
                found = Some(true);
                break 'read;
            }
            at += record;
        }
    }
    // SAFETY: closes the descriptor opened above.
    unsafe { libc::close(dir) };
    found
}

/// `statfs.f_type` of the kernel's anonymous pipes (`PIPEFS_MAGIC` in linux/magic.h).
const PIPEFS_MAGIC: i64 = 0x5049_5045;

/// What the stdio hand-over needs to know about a descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileFacts {
    /// An anonymous pipe (pipefs): no name in any file system. A named FIFO is not one.
    pub anonymous_pipe: bool,
    pub owner: u32,
    /// The device and inode, to tell two descriptors of the same pipe.
    pub device: u64,
    pub inode: u64,
    /// The descriptor's access mode: `O_RDONLY`, `O_WRONLY` or `O_RDWR`.
    pub access: i32,
}

/// The facts about the file behind `fd`.
pub fn file_facts(fd: i32) -> Result<FileFacts, Errno> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat fills the stat structure it is given.
    super::check(unsafe { libc::fstat(fd, stat.as_mut_ptr()) })?;
    // SAFETY: fstat succeeded, so it wrote the structure.
    let stat = unsafe { stat.assume_init() };
    let mut anonymous_pipe = false;
    if stat.st_mode & libc::S_IFMT == libc::S_IFIFO {
        let mut fs = std::mem::MaybeUninit::<libc::statfs>::uninit();
        // SAFETY: fstatfs fills the statfs structure it is given.
        super::check(unsafe { libc::fstatfs(fd, fs.as_mut_ptr()) })?;
        // SAFETY: fstatfs succeeded, so it wrote the structure.
        let fs = unsafe { fs.assume_init() };
        #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
        let kind = i64::from(fs.f_type as i64);
        anonymous_pipe = kind == PIPEFS_MAGIC;
    }
    // SAFETY: F_GETFL takes a descriptor number only.
    let flags = super::check(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    Ok(FileFacts {
        anonymous_pipe,
        owner: stat.st_uid,
        device: stat.st_dev,
        inode: stat.st_ino,
        access: flags & libc::O_ACCMODE,
    })
}

/// Gives the file behind `fd` the group `gid` and the permission bits `mode` (its owner stays).
pub fn set_group_and_mode(fd: i32, gid: u32, mode: u32) -> Result<(), Errno> {
    // SAFETY: integer arguments only; a uid of -1 leaves the owner as it is.
    super::check(unsafe { libc::fchown(fd, u32::MAX, gid) })?;
    // SAFETY: integer arguments only.
    super::check(unsafe { libc::fchmod(fd, mode as libc::mode_t) }).map(drop)
}

/// The permitted capabilities the file at `path` carries (its `security.capability`
/// attribute, `struct vfs_cap_data`), following symbolic links as `execve` does; `None` when
/// it has none.
pub fn file_capabilities(path: &std::ffi::CStr) -> Option<u64> {
    let mut data = [0u8; 24];
    // SAFETY: both strings are NUL-terminated; the kernel writes at most `data.len()` bytes.
    let size = unsafe {
        libc::getxattr(
            path.as_ptr(),
            c"security.capability".as_ptr(),
            data.as_mut_ptr().cast(),
            data.len(),
        )
    };
    // magic_etc, then permitted and inheritable for capabilities 0-31, then for 32-63.
    let word = |at: usize| {
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if size < 12 {
        return None;
    }
    let low = word(4)?;
    let high = if size >= 20 { word(12)? } else { 0 };
    Some(u64::from(low) | u64::from(high) << 32)
}
