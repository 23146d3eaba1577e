//! The subcommands too large to sit in `main.rs`.

pub mod bench;
