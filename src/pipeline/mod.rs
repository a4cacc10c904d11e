//! Pure functions on image buffers between decoding and the model, and between the model
//! and encoding. No files, threads or windows here.

pub mod brush;
pub mod chroma;
pub mod crop;
pub mod defade;
pub mod deoldify;
pub mod grain;
