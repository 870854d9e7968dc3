//! Unique worker names: the SQLite queue refuses a second live worker with the same name.

/// `{prefix}-{hostname}-{pid}-{random}`, or `configured` when one was set.
pub fn unique_worker_name(configured: &str) -> String {
    if !configured.is_empty() {
        return configured.to_owned();
    }
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "obscura".to_owned());
    let random: u32 = rand::random();
    format!("{hostname}-{}-{random:08x}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_differ_and_configured_names_are_kept() {
        assert_ne!(unique_worker_name(""), unique_worker_name(""));
        assert_eq!(unique_worker_name("worker-a"), "worker-a");
    }
}
