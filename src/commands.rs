//! The subcommands too large to sit in `main.rs`.

pub mod bench;

use ascenseur::io::cpal_out::OutputOptions;

/// Where the audio goes, for `play` and the hardware benches alike.
#[derive(clap::Args, Debug)]
pub struct DeviceArgs {
    /// Audio host: "jack" for ascenseur's own JACK client, or a cpal host such as
    /// "alsa" (default: the system's default host; see `ascenseur devices`).
    #[arg(long)]
    pub host: Option<String>,
    /// Output device (cpal hosts): name, unique part of a name, id or index from
    /// `ascenseur devices` (default: the host's default device).
    #[arg(long)]
    pub device: Option<String>,
    /// Sample rate in Hz (cpal hosts; default: 48000 if the device offers it, else its
    /// own).
    #[arg(long)]
    pub rate: Option<u32>,
}

impl DeviceArgs {
    /// `--host jack`: ascenseur's own JACK client rather than a cpal host.
    pub fn is_native_jack(&self) -> bool {
        self.host
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case("jack"))
    }

    /// The cpal output these options name, with `buffer` frames per callback.
    pub fn output_options(&self, buffer: Option<u32>) -> OutputOptions {
        OutputOptions {
            host: self.host.clone(),
            device: self.device.clone(),
            rate: self.rate,
            buffer,
        }
    }
}
