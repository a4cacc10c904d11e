//! `cargo bench --bench crop`: what Find the print and `colorize --trim`/`--split` cost on a
//! flatbed scan before the network: looking for the prints (`crop::find_print`,
//! `crop::find_prints`, each also looking for a slant), and cutting the crop out of the scan
//! (`Crop::apply`), square and straightened 3° (sampled bilinearly). Scans made here:
//! three prints of grain on a white lid, two side by side above one, at three sizes, 8 and
//! 16 bits. Medians of 5 runs after a warm-up.

mod common;

use image::{DynamicImage, ImageBuffer, Rgb};
use tintype::pipeline::crop::{Crop, find_print, find_prints};

/// A `width` × `height` scan: the lid's grainy white, and three prints of grain on it.
fn scan(width: u32, height: u32) -> ImageBuffer<Rgb<u16>, Vec<u16>> {
    let prints = [(0.04, 0.05, 0.42, 0.42), (0.52, 0.06, 0.44, 0.40), (0.25, 0.55, 0.48, 0.40)];
    ImageBuffer::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let grain = ((x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 7) as u16;
        let inside = prints.iter().any(|&(l, t, w, h)| (l..l + w).contains(&fx) && (t..t + h).contains(&fy));
        let v = if inside { 8_000 + grain % 40_000 } else { 61_000 + grain % 2_000 };
        Rgb([v, v, v])
    })
}

fn main() {
    println!("| scan | bits | find_print s | find_prints s | crop cut out s | straightened 3° s | prints found |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (width, height) in [(1300, 1000), (3000, 2000), (6000, 4000)] {
        let sixteen = DynamicImage::ImageRgb16(scan(width, height));
        let eight = DynamicImage::ImageRgb8(sixteen.to_rgb8());
        for (bits, photo) in [(8, &eight), (16, &sixteen)] {
            let one = common::median_seconds(5, || {
                std::hint::black_box(find_print(photo));
            });
            let several = common::median_seconds(5, || drop(std::hint::black_box(find_prints(photo))));
            let prints = find_prints(photo);
            let first = prints.first().copied().expect("a print");
            let cut = common::median_seconds(5, || drop(std::hint::black_box(first.apply(photo))));
            let askew = Crop { angle: 3.0, ..first };
            let turned = common::median_seconds(5, || drop(std::hint::black_box(askew.apply(photo))));
            let n = prints.len();
            println!("| {width}×{height} | {bits} | {one:.3} | {several:.3} | {cut:.3} | {turned:.3} | {n} |");
        }
    }
}
