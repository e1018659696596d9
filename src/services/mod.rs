//! Use cases. Each takes a connection, owns its transaction, and is shared by HTTP and the CLI.

pub mod api_keys;
pub mod articles;
pub mod interests;
pub mod leads;
pub mod seed;
pub mod tags;
