//! Request handlers, one file per resource, named `verb_resource`.

pub mod account_handlers;
pub mod ops;
pub mod org_handlers;
pub mod token_handlers;
