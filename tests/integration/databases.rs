//! User databases shared by the root tests.

/// The lab database of ../shared/reference/privilege-droppers.md (gosu's answers were measured
/// on it), plus `app` for general use.
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
games:x:5:60:games:/usr/games:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/sh
nohome:x:1001:1001:::/bin/sh
1234:x:2000:2000::/home/n:/bin/sh
app:x:3000:3000::/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
";

pub const GROUP: &str = "root:x:0:
daemon:x:1:
staff:x:50:alice
games:x:60:
audio:x:29:alice,games
users:x:100:games,alice
alice:x:1000:
nohome:x:1001:
g2000:x:2000:
app:x:3000:
4242:x:4300:
nogroup:x:65534:
";
