mod files;
pub mod kit;
