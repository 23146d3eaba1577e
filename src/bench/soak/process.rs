//! This process's resident memory, open file descriptors and threads, as the kernel
//! counts them (Linux's `/proc/self`; elsewhere unknown).

use serde::Serialize;

/// What the process holds at one moment; `None` where the platform does not say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProcessFigures {
    /// Resident set size, KiB.
    pub rss_kib: Option<u64>,
    pub fds: Option<u64>,
    pub threads: Option<u64>,
}

impl ProcessFigures {
    /// The figures now. Main thread (reads `/proc`).
    pub fn now() -> ProcessFigures {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status.lines().find_map(|line| {
                line.strip_prefix(name)?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
        };
        ProcessFigures {
            rss_kib: field("VmRSS:"),
            threads: field("Threads:"),
            fds: std::fs::read_dir("/proc/self/fd")
                .ok()
                .map(|entries| entries.count() as u64),
        }
    }

    /// Resident memory in MiB.
    pub fn rss_mib(&self) -> Option<f64> {
        self.rss_kib.map(|kib| kib as f64 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_threads_and_descriptors() {
        let figures = ProcessFigures::now();
        if cfg!(target_os = "linux") {
            assert!(figures.rss_kib.unwrap() > 100, "{figures:?}");
            assert!(figures.threads.unwrap() >= 1, "{figures:?}");
            // stdin, stdout, stderr and the directory being read.
            assert!(figures.fds.unwrap() >= 3, "{figures:?}");
        }
    }
}
