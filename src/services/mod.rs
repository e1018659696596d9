//! Use cases. Each takes a connection, owns its transaction, and is shared by HTTP and the CLI.

pub mod api_keys;
pub mod articles;
pub mod audit;
pub mod erasure;
pub mod health;
pub mod interests;
pub mod lead_management;
pub mod leads;
pub mod opt_out;
pub mod seed;
pub mod tags;
