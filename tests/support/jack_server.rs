//! A dummy-driver JACK server per test scenario, and child processes stopped politely.
//! Shared by the JACK end-to-end tests (`#[path]`-included: each test binary uses a part).
#![allow(dead_code)]

#[path = "requires.rs"]
pub mod requires;

use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What every JACK scenario runs: the server, and `jack_lsp` to see that it is up.
pub const JACK_PROGRAMS: &[&str] = &["jackd", "jack_lsp"];

/// The right to run a JACK scenario in this test binary, held for the whole test. One
/// scenario runs at a time: a scenario points the JACK clients it opens in this process
/// at its own server through the environment, which no other thread may be reading then;
/// and two dummy-driver servers side by side on a shared machine miss their deadlines.
pub struct OneAtATime(MutexGuard<'static, ()>);

/// Wait for the right to run a scenario. Every test of a binary that includes this file
/// takes it, JACK or not, so that none reads the environment while one sets it.
pub fn one_at_a_time() -> OneAtATime {
    static SCENARIO: Mutex<()> = Mutex::new(());
    // A failed scenario poisons the lock; the next one starts its own server regardless.
    OneAtATime(
        SCENARIO
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    )
}

/// A JACK scenario's right to run, or `None` (the test returns) when JACK or one of the
/// `more` programs it drives is missing: reported as skipped, a failure under `CI=true`.
pub fn jack_scenario(more: &[&str]) -> Option<OneAtATime> {
    let programs: Vec<&str> = JACK_PROGRAMS.iter().chain(more).copied().collect();
    if requires::skipped_without(&programs) {
        return None;
    }
    Some(one_at_a_time())
}

impl OneAtATime {
    /// Point the JACK clients this process opens (the jack crate's, cpal's JACK host, the
    /// library's probes) at `server`, and never start one of their own.
    pub fn clients_use(&self, server: &str) {
        // SAFETY: `self` holds the lock every test of this binary takes before it opens a
        // JACK client or touches the environment, so no other thread reads it meanwhile.
        unsafe {
            std::env::set_var("JACK_DEFAULT_SERVER", server);
            std::env::set_var("JACK_NO_START_SERVER", "1");
        }
    }
}

/// A JACK server with the dummy driver, stopped on drop.
pub struct JackServer {
    pub name: String,
    pub process: Child,
}

impl JackServer {
    pub fn start(name: &str) -> JackServer {
        reclaim_slots_of_dead_servers();
        // A loaded machine can make a server slow to come up, or fail the first time:
        // try twice, and show what jackd said if it never does.
        let log = std::env::temp_dir().join(format!("{name}.jackd.log"));
        for attempt in 0..2 {
            let process = Command::new("jackd")
                .args([
                    "-n",
                    name,
                    "--no-realtime",
                    "-d",
                    "dummy",
                    "-r",
                    "48000",
                    "-p",
                    "64",
                ])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("jackd log"))
                .spawn()
                .expect("start jackd");
            let mut server = JackServer {
                name: name.to_string(),
                process,
            };
            if server.has_port("system:playback_1", Duration::from_secs(15)) {
                return server;
            }
            server.stop();
            eprintln!(
                "jackd '{name}' did not start (attempt {}):\n{}",
                attempt + 1,
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        panic!("jackd '{name}' did not start; see above");
    }

    pub fn has_port(&self, port: &str, timeout: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if self.ports().lines().any(|l| l.trim() == port) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The server's ports as `jack_lsp` lists them; empty if it cannot tell within a
    /// few seconds (a client can block on a server that is still coming up).
    pub fn ports(&self) -> String {
        let Ok(mut lsp) = Command::new("jack_lsp")
            .env("JACK_DEFAULT_SERVER", &self.name)
            .env("JACK_NO_START_SERVER", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        else {
            return String::new();
        };
        let started = Instant::now();
        loop {
            match lsp.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if started.elapsed() < Duration::from_secs(5) => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    let _ = lsp.kill();
                    let _ = lsp.wait();
                    return String::new();
                }
            }
        }
        let mut listed = String::new();
        if let Some(mut out) = lsp.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut out, &mut listed);
        }
        listed
    }

    pub fn wait_for_port(&self, port: &str, timeout: Duration) {
        let started = Instant::now();
        while !self.ports().lines().any(|l| l.trim() == port) {
            assert!(
                started.elapsed() < timeout,
                "port {port} did not appear on server {}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A program that plays on this server. Its data directory (where `play` records
    /// takes and the practice history) is [`JackServer::data_home`], never the user's.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("JACK_DEFAULT_SERVER", &self.name)
            .env("JACK_NO_START_SERVER", "1")
            .env("XDG_DATA_HOME", self.data_home());
        command
    }

    /// The `XDG_DATA_HOME` of the programs this scenario starts; removed with the server.
    pub fn data_home(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("{}.data", self.name))
    }

    /// Stop the server politely (SIGTERM) so it releases its shared memory; a server
    /// killed outright leaves its entry in JACK's registry, which holds only a few.
    pub fn stop(&mut self) {
        if let Ok(None) = self.process.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.process.id().to_string()])
                .status();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = self.process.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.process.kill();
        }
        let _ = self.process.wait();
    }
}

impl Drop for JackServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(self.data_home());
    }
}

/// A child process killed on drop (if still running).
pub struct Running(pub Child);

impl Running {
    /// Send it `signal` ("-TERM", "-KILL"…), as `kill` does.
    pub fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, &self.0.id().to_string()])
            .status();
    }

    /// Its exit status, once it has exited; fails the test if that takes over `within`.
    pub fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().expect("wait") {
                return status;
            }
            assert!(
                started.elapsed() < within,
                "the process did not stop within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    /// SIGTERM first, so a JACK client closes cleanly; SIGKILL if it does not.
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(3) {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// The server name for a scenario. Fixed rather than per-process: JACK's registry holds
/// only a few servers, and a server that died without cleaning up keeps its slot until a
/// server of the same name takes it back — so a crashed run is healed by the next one.
pub fn unique(name: &str) -> String {
    // Per process: a server left behind by a run that was killed (and its clients'
    // semaphores) can never be mistaken for this run's.
    format!("asc-{name}-{}", std::process::id())
}

/// Free the slots of JACK's server registry held by servers that died without leaving it.
///
/// The registry (`/dev/shm/jack-shm-registry`) has room for eight servers, and a server
/// killed outright (SIGKILL, or its test process killed before it could stop it) keeps
/// its slot: jackd only takes one back for a server of the same name, and every test
/// server's name is new (it carries its process id). Once eight are held, every jackd
/// fails with "Too many servers already active", on this machine and for whoever comes
/// next. A slot whose process is gone is emptied here, under the registry's own lock (the
/// System V semaphore jackd takes for it), as jackd itself would empty it.
#[cfg(target_os = "linux")]
pub fn reclaim_slots_of_dead_servers() {
    use std::os::unix::fs::FileExt;
    /// JACK 2's `shm.c`: the registry's lock, its magic number, and the layout of its
    /// header's server table (`jack_shm_header_t`: six fields in 24 bytes, then eight
    /// `jack_shm_server_t` of a pid and a 257-byte name, 264 bytes apart).
    const LOCK_KEY: libc::key_t = 0x0028_2929;
    const MAGIC: u32 = 0x4a41_434b;
    const SERVERS: usize = 8;
    const FIRST: usize = 24;
    const STRIDE: usize = 264;
    const ENTRY: usize = 4 + 257;
    let Ok(registry) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/shm/jack-shm-registry")
    else {
        return;
    };
    // SAFETY: plain System V calls on a key; no memory is shared with them.
    let lock = unsafe { libc::semget(LOCK_KEY, 1, 0) };
    if lock < 0 {
        return;
    }
    let take = |op: i16| {
        let mut sembuf = libc::sembuf {
            sem_num: 0,
            sem_op: op,
            sem_flg: (libc::SEM_UNDO | libc::IPC_NOWAIT) as i16,
        };
        // SAFETY: `sembuf` is a valid operation on semaphore 0 of the set `lock`.
        unsafe { libc::semop(lock, &mut sembuf, 1) == 0 }
    };
    let started = Instant::now();
    while !take(-1) {
        if started.elapsed() > Duration::from_secs(2) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut header = vec![0u8; FIRST + SERVERS * STRIDE];
    if registry.read_exact_at(&mut header, 0).is_ok()
        && u32::from_ne_bytes(header[..4].try_into().unwrap()) == MAGIC
    {
        for slot in 0..SERVERS {
            let at = FIRST + slot * STRIDE;
            let pid = i32::from_ne_bytes(header[at..at + 4].try_into().unwrap());
            let name = &header[at + 4..at + ENTRY];
            // SAFETY: signal 0 only asks whether the process exists.
            let gone = pid > 0
                && unsafe { libc::kill(pid, 0) } != 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            if gone && name.starts_with(b"jack-") {
                let _ = registry.write_all_at(&[0u8; ENTRY], at as u64);
            }
        }
    }
    take(1);
}

#[cfg(not(target_os = "linux"))]
pub fn reclaim_slots_of_dead_servers() {}
