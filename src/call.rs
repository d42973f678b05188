//! The system calls sudrop makes, as values: what failed is an [`crate::error::Error::Syscall`]
//! holding one of these and the errno, shared by the real kernel and the test models, so a
//! unit test asserts the very words a user reads (`prctl(PR_CAPBSET_DROP, 21): Operation not
//! permitted`).

use crate::capability::CapSets;
use crate::id::{Gid, Uid};
use crate::limits::Ulimit;
use crate::signals::{Signal, signal_name};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    SetLimit(Ulimit),
    Umask(u32),
    GetResUid,
    GetResGid,
    GetGroups,
    CapGet,
    /// The three sets, in one `capset`.
    CapSet(CapSets),
    /// Reading the bounding set, capability by capability.
    BoundingRead,
    BoundingDrop(u8),
    AmbientIsSet(u8),
    AmbientRaise(u8),
    KeepCaps(bool),
    SetGroups(Vec<Gid>),
    SetResGid(Gid),
    SetResUid(Uid),
    NoNewPrivs,
    /// Installing the terminal-injection filter.
    Seccomp,
    /// The stdio hand-over of one descriptor: its group, then its mode.
    HandOver {
        fd: i32,
        gid: Gid,
    },
    BlockSignals,
    SignalFd,
    Clone,
    ChildSubreaper,
    ParentDeathSignal(Signal),
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::SetLimit(limit) => write!(f, "setrlimit({limit})"),
            Call::Umask(mode) => write!(f, "umask({mode:04o})"),
            Call::GetResUid => f.write_str("getresuid"),
            Call::GetResGid => f.write_str("getresgid"),
            Call::GetGroups => f.write_str("getgroups"),
            Call::CapGet => f.write_str("capget"),
            Call::CapSet(_) => f.write_str("capset"),
            Call::BoundingRead => f.write_str("prctl(PR_CAPBSET_READ)"),
            Call::BoundingDrop(number) => write!(f, "prctl(PR_CAPBSET_DROP, {number})"),
            Call::AmbientIsSet(number) => write!(f, "prctl(PR_CAP_AMBIENT_IS_SET, {number})"),
            Call::AmbientRaise(number) => write!(f, "prctl(PR_CAP_AMBIENT_RAISE, {number})"),
            Call::KeepCaps(on) => write!(f, "prctl(PR_SET_KEEPCAPS, {})", u8::from(*on)),
            Call::SetGroups(groups) => write!(f, "setgroups({})", list(groups)),
            Call::SetResGid(gid) => write!(f, "setresgid({gid},{gid},{gid})"),
            Call::SetResUid(uid) => write!(f, "setresuid({uid},{uid},{uid})"),
            Call::NoNewPrivs => f.write_str("prctl(PR_SET_NO_NEW_PRIVS)"),
            Call::Seccomp => f.write_str("prctl(PR_SET_SECCOMP)"),
            Call::HandOver { fd, gid } => write!(f, "fchown({fd}, -1, {gid}) and fchmod"),
            Call::BlockSignals => f.write_str("sigprocmask(SIG_SETMASK, all)"),
            Call::SignalFd => f.write_str("signalfd"),
            Call::Clone => f.write_str("clone"),
            Call::ChildSubreaper => f.write_str("prctl(PR_SET_CHILD_SUBREAPER)"),
            Call::ParentDeathSignal(signal) => {
                write!(f, "prctl(PR_SET_PDEATHSIG, {})", signal_name(*signal))
            }
        }
    }
}

/// Groups for a message: the first few, then how many more.
pub fn list(groups: &[Gid]) -> String {
    const SHOWN: usize = 16;
    let mut text = String::new();
    for (index, gid) in groups.iter().take(SHOWN).enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(&gid.to_string());
    }
    if groups.len() > SHOWN {
        text += &format!(",… ({} more)", groups.len() - SHOWN);
    }
    text
}
