//! Pure types and rules: no actix, no diesel, no I/O. Each type parses its input once and is
//! valid from then on.

pub mod api_key;
pub mod article;
pub mod audit;
pub mod change;
pub mod client;
pub mod client_ip;
pub mod contact_deadline;
pub mod crisis;
pub mod csv;
pub mod cursor;
pub mod email;
pub mod event;
pub mod external_lead;
pub mod form_page;
pub mod idempotency;
pub mod instant;
pub mod lead;
pub mod lead_change;
pub mod lead_query;
pub mod lead_source;
pub mod markdown;
pub mod meta;
pub mod notification;
pub mod origin;
pub mod phone;
pub mod pipeline;
pub mod preview;
pub mod rate_limit;
pub mod scope;
pub mod share;
pub mod slug;
pub mod source_key;
pub mod suppression;
pub mod text;
pub mod webhook;
