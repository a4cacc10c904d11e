//! Tintype: brings old black-and-white photos back to colour with DeOldify's generators
//! (ported to candle) and a built-in compact colorizer.

pub mod app;
pub mod bench;
pub mod engine;
pub mod eval;
pub mod io;
pub mod model;
pub mod pipeline;
pub mod store;
