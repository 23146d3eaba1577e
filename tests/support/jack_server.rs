//! A JACK server with the dummy driver for one test, paced like a sound card, and the
//! `CI=true` rule: a missing `jackd` fails under CI and skips the test elsewhere.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A JACK server with the dummy driver (48 kHz, 64 frames), stopped on drop.
pub struct JackServer {
    pub name: String,
    process: Child,
}

impl JackServer {
    pub fn start(name: &str) -> JackServer {
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
            if server.wait_for_port("system:playback_1", Duration::from_secs(15)) {
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

    /// Whether `port` appears within `timeout`.
    pub fn wait_for_port(&self, port: &str, timeout: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if self.ports().lines().any(|l| l.trim() == port) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    pub fn ports(&self) -> String {
        self.command("jack_lsp")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default()
    }

    /// A command that is a client of this server.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("JACK_DEFAULT_SERVER", &self.name)
            .env("JACK_NO_START_SERVER", "1");
        command
    }

    /// Stop the server politely (SIGTERM) so it releases its shared memory and tells its
    /// clients; a server killed outright keeps its entry in JACK's registry, which holds
    /// only a few.
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
    }
}

/// Whether `jackd` is installed; under `CI=true` its absence fails the test.
pub fn jack_available() -> bool {
    let found = Command::new("jackd").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "jackd is missing under CI=true: run scripts/setup"
        );
        eprintln!("skipping: jackd is not installed (scripts/setup installs it)");
    }
    found
}
