//! Pure types and rules: no actix, no diesel, no I/O. Each type parses its input once and is
//! valid from then on.

pub mod article;
pub mod contact_deadline;
pub mod csv;
pub mod cursor;
pub mod email;
pub mod markdown;
pub mod phone;
pub mod pipeline;
pub mod preview;
pub mod share;
pub mod slug;
pub mod text;
