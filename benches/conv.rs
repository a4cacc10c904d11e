//! `cargo bench --bench conv`: the Winograd 3×3 convolution against candle's own CPU conv2d
//! on the shapes that carry DeOldify Artistic's arithmetic at render factor 35 (560 px).
//! Medians of 3 runs after a warm-up; GFLOP/s counts the direct convolution's 2·K·C·9·H·W.

mod common;

use candle_core::{Device, Tensor};
use tintype::model::winograd::{Epilogue, conv3x3};

fn time(f: impl FnMut()) -> f64 {
    common::median_seconds(3, f)
}

fn main() {
    // (name, in, out, side): the final res block, decoder blocks 3, 2, 1, encoder layers 1, 3
    // and 4 (the last two below the size where the model switches to Winograd).
    let shapes = [
        ("res (layers.10)", 303, 303, 560),
        ("block 3 conv2", 300, 300, 280),
        ("block 2 conv2", 672, 672, 140),
        ("block 1 conv2", 768, 768, 70),
        ("encoder layer1", 64, 64, 140),
        ("encoder layer3", 256, 256, 35),
        ("encoder layer4", 512, 512, 18),
    ];
    println!("| conv | C→K | H×W | candle s | Winograd s | speed-up | Winograd GFLOP/s (direct-equivalent) |");
    println!("|---|---|---|---:|---:|---:|---:|");
    for (name, c, k, side) in shapes {
        let x = Tensor::randn(0f32, 1.0, (1, c, side, side), &Device::Cpu).unwrap();
        let w = (Tensor::randn(0f32, 1.0, (k, c, 3, 3), &Device::Cpu).unwrap() * 0.05).unwrap();
        let xs: Vec<f32> = x.flatten_all().unwrap().to_vec1().unwrap();
        let ws: Vec<f32> = w.flatten_all().unwrap().to_vec1().unwrap();
        let candle = time(|| {
            x.conv2d(&w, 1, 1, 1, 1).unwrap();
        });
        let winograd = time(|| {
            conv3x3(&xs, (c, side, side), &ws, k, &Epilogue::default());
        });
        let gflop = 2.0 * (k * c * 9 * side * side) as f64 / 1e9;
        println!(
            "| {name} | {c}→{k} | {side}×{side} | {candle:.3} | {winograd:.3} | {:.2}× | {:.0} |",
            candle / winograd,
            gflop / winograd
        );
    }
}
