//! Small helpers shared by the test binaries (`#[path]`-included).

/// Waits for a child within `limit`; its exit code. A child still running at the limit is
/// killed and the test fails, as it does for a child killed by a signal.
pub fn wait_bounded(child: &mut std::process::Child, limit: std::time::Duration) -> i32 {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status
                .code()
                .unwrap_or_else(|| panic!("killed: {status:?}"));
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
