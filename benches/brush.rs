//! `cargo bench --bench brush`: what a brush stroke costs after the network, on the path the
//! window's worker takes for a photo on screen: the colour layer greyed (or painted) under the
//! strokes (`brush::apply`), then merged under the photo's luminance (`chroma::merge_8bit`).
//! Strokes as the window makes them: a hand's wavy path across half the photo's width, points a
//! quarter of the radius apart, simplified to a tenth of the radius; the radius 4 % of the
//! shorter side. Medians of 5 runs after a warm-up.

mod common;

use image::{Rgb, RgbImage};
use tintype::pipeline::brush::{Stroke, Tool, apply, simplify};
use tintype::pipeline::chroma::{ChromaControls, merge_8bit};

fn time(f: impl FnMut()) -> f64 {
    common::median_seconds(5, f)
}

/// `count` strokes, one under the other, each across the middle half of the photo, waving up
/// and down by a third of the radius; `simplified` as the window stores them, or else with
/// every point drawn; with `mixed`, every other stroke paints a colour (the most runs of one kind
/// that `apply` lays apart).
fn strokes(count: usize, width: u32, height: u32, simplified: bool, mixed: bool) -> Vec<Stroke> {
    let (w, h) = (width as f32, height as f32);
    let r = 0.04 * w.min(h);
    (0..count)
        .map(|i| {
            let y = (0.1 + 0.04 * i as f32) * h;
            let path: Vec<[f32; 2]> = (0..)
                .map(|j| 0.25 * w + r / 4.0 * j as f32)
                .take_while(|&x| x <= 0.75 * w)
                .map(|x| [x, y + r / 3.0 * (x / (2.0 * r)).sin()])
                .collect();
            let path = if simplified { simplify(&path, r / 10.0) } else { path };
            let points = path.iter().map(|p| [p[0] / w, p[1] / h]).collect();
            let tool = if mixed && i % 2 == 1 { Tool::Paint([200, 150, 120]) } else { Tool::Remove };
            Stroke { points, radius: 0.04, tool }
        })
        .collect()
}

fn main() {
    println!("| photo | strokes | points each | strokes laid s | merge s | together s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (width, height) in [(768, 621), (3000, 2000), (6000, 4000)] {
        let orig = RgbImage::from_fn(width, height, |x, y| Rgb([((x ^ y) % 256) as u8; 3]));
        let colour = RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 120]));
        let controls = ChromaControls::default();
        // The last rows: the same 20 strokes with every point drawn, not simplified; and
        // simplified, every other one painting.
        for (count, simplified, mixed) in [
            (0, true, false),
            (1, true, false),
            (5, true, false),
            (20, true, false),
            (20, false, false),
            (20, true, true),
        ] {
            let brush = strokes(count, width, height, simplified, mixed);
            let grey = time(|| drop(std::hint::black_box(apply(&colour, &brush))));
            let merge = time(|| drop(std::hint::black_box(merge_8bit(&orig, &colour, &controls))));
            let together = time(|| {
                let layer = if brush.is_empty() { colour.clone() } else { apply(&colour, &brush) };
                drop(std::hint::black_box(merge_8bit(&orig, &layer, &controls)));
            });
            let points = brush.first().map_or(0, |s| s.points.len());
            let count = if mixed { format!("{count}, half painting") } else { count.to_string() };
            println!("| {width}×{height} | {count} | {points} | {grey:.3} | {merge:.3} | {together:.3} |");
        }
    }
}
