//! A desktop sound server of the test's own: PipeWire with WirePlumber as its session
//! manager, on a session bus of its own, in a folder of its own (`XDG_RUNTIME_DIR`,
//! configuration, state), playing into a null sink — a sound card that keeps time and
//! throws the sound away, whose monitor the test records with `pw-record`.
//!
//! Programs the test starts through [`SoundServer::command`] see what a desktop session
//! gives them: the server's socket in `XDG_RUNTIME_DIR`, the session bus, and ALSA's
//! `default` device routed to the server by the `pipewire` ALSA plugin (pipewire-alsa),
//! which is what `make run` plays on with no `--host` or `--device`. The ALSA
//! configuration is the system's with `default` pointed at the server, given through
//! `ALSA_CONFIG_PATH`, so nothing outside the test changes.
//!
//! WirePlumber needs a session bus (it exits without one): the test runs its own
//! `dbus-daemon --session`, as a desktop login does. `#[path]`-included.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What a sound-server scenario runs.
pub const SOUND_SERVER_PROGRAMS: &[&str] = &[
    "dbus-daemon",
    "pipewire",
    "wireplumber",
    "pw-record",
    "pw-metadata",
    "pw-dump",
];

/// The null sink's node name: the server's only output device, and so its default.
pub const SINK: &str = "ascenseur-test-speakers";
/// How the sink describes itself.
pub const SINK_DESCRIPTION: &str = "Test Speakers";

/// The server's own configuration added to the system's: a null sink paced by the
/// server's clock at 48 kHz, stereo, like a sound card's analog output.
const NULL_SINK_CONF: &str = r#"context.objects = [
    { factory = adapter
        args = {
            factory.name     = support.null-audio-sink
            node.name        = "ascenseur-test-speakers"
            node.description = "Test Speakers"
            media.class      = Audio/Sink
            audio.position   = [ FL FR ]
            audio.rate       = 48000
            monitor.channel-volumes = true
        }
    }
]
"#;

/// Where the system's ALSA configuration starts (Debian and most distributions).
const ALSA_CONF: &[&str] = &["/usr/share/alsa/alsa.conf", "/etc/alsa/alsa.conf"];

/// A headless PipeWire session, stopped (and its folder removed) on drop.
pub struct SoundServer {
    pub name: String,
    dir: PathBuf,
    bus: Option<Child>,
    pipewire: Option<Child>,
    wireplumber: Option<Child>,
    /// When the server (re)started last.
    pub started: Instant,
}

impl SoundServer {
    /// Start a session bus, PipeWire and WirePlumber in a new folder named after `name`,
    /// and wait until the null sink is the default output.
    pub fn start(name: &str) -> SoundServer {
        let dir = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        for sub in [
            "runtime",
            "config/pipewire/pipewire.conf.d",
            "state",
            "data",
        ] {
            std::fs::create_dir_all(dir.join(sub)).expect("the server's folder");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // PipeWire, like every XDG runtime directory user, wants it private.
            std::fs::set_permissions(dir.join("runtime"), std::fs::Permissions::from_mode(0o700))
                .expect("runtime folder permissions");
        }
        std::fs::write(
            dir.join("config/pipewire/pipewire.conf.d/ascenseur-null-sink.conf"),
            NULL_SINK_CONF,
        )
        .expect("null sink configuration");
        let system = ALSA_CONF
            .iter()
            .find(|path| Path::new(path).is_file())
            .expect("the system's alsa.conf");
        std::fs::write(
            dir.join("asound.conf"),
            format!(
                "<{system}>\n\
                 pcm.!default {{\n    type pipewire\n    playback_node \"-1\"\n    capture_node \"-1\"\n    \
                 hint {{\n        show on\n        description \"Default ALSA Output (currently PipeWire Media Server)\"\n    }}\n}}\n\
                 ctl.!default {{\n    type pipewire\n}}\n"
            ),
        )
        .expect("ALSA configuration");
        let mut server = SoundServer {
            name: name.to_string(),
            dir,
            bus: None,
            pipewire: None,
            wireplumber: None,
            started: Instant::now(),
        };
        let bus = server
            .command("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile"])
            .arg(format!("--address={}", server.bus_address()))
            .stdout(Stdio::null())
            .stderr(server.log("dbus"))
            .spawn()
            .expect("start dbus-daemon");
        server.bus = Some(bus);
        let socket = server.dir.join("bus");
        let waited = Instant::now();
        while !socket.exists() {
            assert!(
                waited.elapsed() < Duration::from_secs(10),
                "the session bus did not come up:\n{}",
                server.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server.start_again();
        server
    }

    /// Start PipeWire and WirePlumber (again, after [`SoundServer::kill`]) and wait until
    /// the null sink is the default output; [`SoundServer::started`] is when PipeWire was
    /// started.
    pub fn start_again(&mut self) {
        self.started = Instant::now();
        let pipewire = self
            .command("pipewire")
            .stdout(Stdio::null())
            .stderr(self.log("pipewire"))
            .spawn()
            .expect("start pipewire");
        self.pipewire = Some(pipewire);
        let socket = self.runtime_dir().join("pipewire-0");
        while !socket.exists() {
            assert!(
                self.started.elapsed() < Duration::from_secs(10),
                "PipeWire did not come up:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let wireplumber = self
            .command("wireplumber")
            .stdout(Stdio::null())
            .stderr(self.log("wireplumber"))
            .spawn()
            .expect("start wireplumber");
        self.wireplumber = Some(wireplumber);
        while self.default_sink().as_deref() != Some(SINK) {
            assert!(
                self.started.elapsed() < Duration::from_secs(15),
                "WirePlumber did not make {SINK} the default sink:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kill PipeWire outright (SIGKILL), as a crash would; WirePlumber loses it and is
    /// stopped too. The session bus stays, as a desktop's does.
    pub fn kill(&mut self) {
        for child in [self.pipewire.take(), self.wireplumber.take()]
            .into_iter()
            .flatten()
        {
            kill_child(child, "KILL");
        }
        let _ = std::fs::remove_file(self.runtime_dir().join("pipewire-0"));
        let _ = std::fs::remove_file(self.runtime_dir().join("pipewire-0.lock"));
    }

    /// The environment of a program of this desktop session.
    pub fn environment<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .env("XDG_RUNTIME_DIR", self.runtime_dir())
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("XDG_STATE_HOME", self.dir.join("state"))
            .env("XDG_DATA_HOME", self.data_home())
            .env("DBUS_SESSION_BUS_ADDRESS", self.bus_address())
            .env("ALSA_CONFIG_PATH", self.dir.join("asound.conf"))
            .env_remove("PIPEWIRE_REMOTE")
            .env_remove("PIPEWIRE_RUNTIME_DIR")
            .env_remove("PULSE_SERVER")
            // No JACK server belongs to this session; its clients must not start one.
            .env("JACK_NO_START_SERVER", "1")
            .env("JACK_DEFAULT_SERVER", format!("{}-no-jack", self.name))
    }

    /// A program of this desktop session.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        self.environment(&mut command);
        command
    }

    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.join("runtime")
    }

    /// The `XDG_DATA_HOME` of the programs this scenario starts (takes, history).
    pub fn data_home(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn bus_address(&self) -> String {
        format!("unix:path={}", self.dir.join("bus").display())
    }

    fn log(&self, program: &str) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{program}.log")))
            .expect("log file")
    }

    /// What the server's programs said, for a failure message.
    pub fn logs(&self) -> String {
        ["dbus", "pipewire", "wireplumber"]
            .iter()
            .map(|program| {
                let text = std::fs::read_to_string(self.dir.join(format!("{program}.log")))
                    .unwrap_or_default();
                format!("--- {program}\n{text}")
            })
            .collect()
    }

    fn run(&self, program: &str, args: &[&str]) -> Option<Output> {
        self.command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()
            .filter(|output| output.status.success())
    }

    /// The node name of the default sink, as the session manager set it.
    pub fn default_sink(&self) -> Option<String> {
        let output = self.run("pw-metadata", &["-n", "default", "0", "default.audio.sink"])?;
        let text = String::from_utf8_lossy(&output.stdout);
        // "update: id:0 key:'default.audio.sink' value:'{ "name": "…" }' type:'Spa:String:JSON'"
        let value = text.split("value:'").nth(1)?;
        let name = value.split("\"name\":").nth(1)?;
        Some(
            name.trim()
                .trim_start_matches('"')
                .split('"')
                .next()?
                .to_string(),
        )
    }

    /// Every object of the server, as `pw-dump` gives them.
    pub fn dump(&self) -> serde_json::Value {
        self.run("pw-dump", &[])
            .and_then(|output| serde_json::from_slice(&output.stdout).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// The playback stream node whose application name contains `client`.
    fn stream_node(dump: &serde_json::Value, client: &str) -> Option<serde_json::Value> {
        dump.as_array()?
            .iter()
            .find(|object| {
                let props = &object["info"]["props"];
                object["type"] == "PipeWire:Interface:Node"
                    && props["media.class"] == "Stream/Output/Audio"
                    && props["application.name"]
                        .as_str()
                        .is_some_and(|name| name.contains(client))
            })
            .cloned()
    }

    /// The properties of the playback stream whose application name contains `client`.
    pub fn stream_props(&self, client: &str) -> Option<serde_json::Value> {
        Self::stream_node(&self.dump(), client).map(|node| node["info"]["props"].clone())
    }

    /// The latency the server reports for what follows `client`'s stream (its ports'
    /// latency parameters: the sink and the graph after it), in frames at `rate` for a
    /// quantum of `quantum` frames. The largest the ports give.
    pub fn downstream_latency_frames(&self, client: &str, quantum: u32, rate: u32) -> f64 {
        let dump = self.dump();
        let Some(stream) = Self::stream_node(&dump, client) else {
            return 0.0;
        };
        let Some(objects) = dump.as_array() else {
            return 0.0;
        };
        objects
            .iter()
            .filter(|object| {
                object["type"] == "PipeWire:Interface:Port"
                    && object["info"]["props"]["node.id"] == stream["id"]
            })
            .flat_map(|port| {
                port["info"]["params"]["Latency"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|latency| {
                let field = |name: &str| latency[name].as_f64().unwrap_or(0.0);
                field("maxQuantum") * f64::from(quantum)
                    + field("maxRate")
                    + field("maxNs") * f64::from(rate) / 1e9
            })
            .fold(0.0, f64::max)
    }

    /// Whether `client`'s playback stream is linked to the sink and the links run.
    pub fn is_playing_into_sink(&self, client: &str) -> bool {
        let dump = self.dump();
        let Some(stream) = Self::stream_node(&dump, client) else {
            return false;
        };
        let Some(objects) = dump.as_array() else {
            return false;
        };
        let sink = objects.iter().find(|object| {
            object["type"] == "PipeWire:Interface:Node"
                && object["info"]["props"]["node.name"] == SINK
        });
        let Some(sink) = sink else {
            return false;
        };
        objects.iter().any(|object| {
            let info = &object["info"];
            object["type"] == "PipeWire:Interface:Link"
                && info["output-node-id"] == stream["id"]
                && info["input-node-id"] == sink["id"]
                && info["state"] == "active"
        })
    }

    /// Record the sink's monitor — what the speakers would play — for `seconds`, as
    /// 48 kHz stereo f32: (left, right).
    pub fn record_monitor(&self, seconds: f64) -> [Vec<f32>; 2] {
        let file = self.dir.join(format!(
            "monitor-{}.wav",
            Instant::now().duration_since(self.started).as_millis()
        ));
        let recorder = self
            .command("pw-record")
            .args(["--target", SINK, "-P", "{ stream.capture.sink = true }"])
            .args(["--rate", "48000", "--channels", "2", "--format", "f32"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(self.log("pw-record"))
            .spawn()
            .expect("start pw-record");
        std::thread::sleep(Duration::from_secs_f64(seconds));
        // SIGINT: pw-record finishes the file's header.
        kill_child(recorder, "INT");
        let (channels, rate) = ascenseur_analysis::read_wav(&file).unwrap_or_else(|e| {
            panic!(
                "pw-record wrote no readable file ({e}):\n{}",
                std::fs::read_to_string(self.dir.join("pw-record.log")).unwrap_or_default()
            )
        });
        let _ = std::fs::remove_file(&file);
        assert_eq!(rate, 48_000, "pw-record's rate");
        let mut channels = channels.into_iter();
        [
            channels.next().unwrap_or_default(),
            channels.next().unwrap_or_default(),
        ]
    }
}

/// Signal `child` (`TERM`, `INT`, `KILL`) and wait for it, killing it after 5 s.
fn kill_child(mut child: Child, signal: &str) {
    if let Ok(None) = child.try_wait() {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
    }
    let _ = child.wait();
}

impl Drop for SoundServer {
    fn drop(&mut self) {
        for child in [
            self.wireplumber.take(),
            self.pipewire.take(),
            self.bus.take(),
        ]
        .into_iter()
        .flatten()
        {
            kill_child(child, "TERM");
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The folder name for a scenario: per process, so a server left behind by a run that
/// was killed is never mistaken for this run's.
pub fn unique(name: &str) -> String {
    format!("asc-pw-{name}-{}", std::process::id())
}
