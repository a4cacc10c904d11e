//! The brush: strokes a person paints over a patch of wrong colour (a green beard, a red smear
//! on a wall), and the colour layer turned grey, or to the colour they picked, under them; or
//! the model's own colour given back where earlier strokes went too far. Only the model's colour
//! is touched; the photo's own luminance is merged in afterwards as everywhere else, so a
//! painted colour keeps every shade of the photo beneath it.

use image::RgbImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Share of a stroke's radius that is fully grey; beyond it the colour comes back smoothly, so
/// the edge of a brushed patch does not show.
const CORE: f32 = 0.6;

/// One stroke of the brush, in the proportions of the photo as shown (after its turn): points
/// as fractions of its width and height, the radius as a fraction of its shorter side, so a
/// stroke covers the same part of the photo at any size it is rendered or shown at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stroke {
    pub points: Vec<[f32; 2]>,
    pub radius: f32,
    #[serde(default, skip_serializing_if = "Tool::is_default")]
    pub tool: Tool,
}

/// What a stroke does to the colour under it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tool {
    /// Takes the colour away: grey.
    #[default]
    Remove,
    /// Paints this colour's hue and strength; the brightness stays the photo's.
    Paint([u8; 3]),
    /// Gives back the model's own colour, over what earlier strokes did.
    Restore,
}

impl Tool {
    fn is_default(&self) -> bool {
        *self == Tool::default()
    }

    /// Whether `other` is the same tool but for the colour it paints.
    pub fn same_kind(self, other: Tool) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

impl Stroke {
    /// The same stroke on the photo turned clockwise by `quarter_turns` more quarter turns.
    pub fn turned(&self, quarter_turns: u8) -> Stroke {
        let mut points = self.points.clone();
        for _ in 0..quarter_turns % 4 {
            // A clockwise quarter turn moves the pixel at (x, y) to (height − y, x).
            for p in &mut points {
                *p = [1.0 - p[1], p[0]];
            }
        }
        Stroke { points, ..self.clone() }
    }

    /// Whether the stroke can be used as it is: finite, inside the photo, with a radius in the
    /// brush's range. A hand-edited file may hold anything.
    pub fn is_sound(&self) -> bool {
        !self.points.is_empty()
            && self.points.iter().flatten().all(|v| v.is_finite() && (0.0..=1.0).contains(v))
            && self.radius.is_finite()
            && (MIN_RADIUS..=MAX_RADIUS).contains(&self.radius)
    }
}

/// `points` (a stroke's path, in pixels) with the points dropped that lie within `tolerance` of
/// the line through their neighbours kept (Ramer–Douglas–Peucker). A stroke drawn with points a
/// few pixels apart loses most of them along its straight stretches; painting a segment costs
/// its whole reach, so fewer segments make a long stroke on a large scan many times quicker.
pub fn simplify(points: &[[f32; 2]], tolerance: f32) -> Vec<[f32; 2]> {
    if points.len() < 3 {
        return points.to_vec();
    }
    let mut keep = vec![false; points.len()];
    let (first, last) = (0, points.len() - 1);
    (keep[first], keep[last]) = (true, true);
    let mut spans = vec![(first, last)];
    while let Some((a, b)) = spans.pop() {
        let segment = Segment::new(points[a], points[b], 1.0);
        let farthest = (a + 1..b).map(|i| (i, segment.distance(points[i]))).max_by(|x, y| x.1.total_cmp(&y.1));
        if let Some((i, d)) = farthest
            && d > tolerance
        {
            keep[i] = true;
            spans.extend([(a, i), (i, b)]);
        }
    }
    points.iter().zip(keep).filter(|(_, k)| *k).map(|(p, _)| *p).collect()
}

/// The brush's radius range, as a share of the photo's shorter side.
pub const MIN_RADIUS: f32 = 0.001;
pub const MAX_RADIUS: f32 = 0.5;

/// How much of each pixel's colour the strokes take away, 0 (none) to 1 (all), over the
/// smallest rectangle of the picture that holds every stroke (a few strokes on a 24-megapixel
/// scan need not cost a full-size buffer).
pub struct Coverage {
    /// The rectangle's left, top, width and height, in the picture's pixels.
    x0: usize,
    y0: usize,
    width: usize,
    height: usize,
    /// Row by row.
    values: Vec<f32>,
}

impl Coverage {
    /// The coverage of `strokes` on a picture of `width` × `height`.
    pub fn of(strokes: &[Stroke], width: u32, height: u32) -> Coverage {
        let scale = [width as f32, height as f32];
        let shorter = width.min(height) as f32;
        // Each stroke in the picture's pixels, with its reach: the bounds of its points, widened
        // by its radius and held to the picture.
        let (w, h) = (width as usize, height as usize);
        let bounds = |points: &[[f32; 2]], r: f32| {
            let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
            for p in points {
                for i in 0..2 {
                    (lo[i], hi[i]) = (lo[i].min(p[i]), hi[i].max(p[i]));
                }
            }
            let clamp = |v: f32, max: usize| (v.max(0.0) as usize).min(max);
            [
                clamp((lo[0] - r).floor(), w),
                clamp((lo[1] - r).floor(), h),
                clamp((hi[0] + r).ceil(), w),
                clamp((hi[1] + r).ceil(), h),
            ]
        };
        let strokes: Vec<(Vec<[f32; 2]>, f32)> = strokes
            .iter()
            .map(|s| (s.points.iter().map(|p| [p[0] * scale[0], p[1] * scale[1]]).collect(), s.radius * shorter))
            .filter(|(points, r): &(Vec<_>, f32)| !points.is_empty() && *r > 0.0)
            .collect();
        let reach = strokes
            .iter()
            .map(|(points, r)| bounds(points, *r))
            .reduce(|a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])]);
        let [x0, y0, x1, y1] = reach.unwrap_or([0; 4]);
        let (cw, ch) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
        // Every segment with its reach; a single point is a segment of no length: a dab.
        let segments: Vec<(Segment, [usize; 4])> = strokes
            .iter()
            .flat_map(|(pixels, r)| {
                let single = (pixels.len() == 1).then(|| (pixels[0], pixels[0]));
                let pairs = pixels.windows(2).map(|s| (s[0], s[1])).chain(single);
                pairs.map(|(a, b)| (Segment::new(a, b, *r), bounds(&[a, b], *r)))
            })
            .collect();
        let mut values = vec![0.0f32; cw * ch];
        // Rows in parallel: a long stroke over a large scan is millions of distances.
        values.par_chunks_mut(cw.max(1)).enumerate().for_each(|(i, row)| {
            let y = y0 + i;
            for (segment, [sx0, sy0, sx1, sy1]) in &segments {
                if !(*sy0..*sy1).contains(&y) {
                    continue;
                }
                for (x, c) in (*sx0..*sx1).zip(&mut row[sx0 - x0..sx1 - x0]) {
                    if *c < 1.0 {
                        *c = c.max(segment.cover([x as f32 + 0.5, y as f32 + 0.5]));
                    }
                }
            }
        });
        Coverage { x0, y0, width: cw, height: ch, values }
    }

    /// The share of the colour taken away at pixel (x, y).
    pub fn at(&self, x: usize, y: usize) -> f32 {
        match (x.checked_sub(self.x0), y.checked_sub(self.y0)) {
            (Some(dx), Some(dy)) if dx < self.width && dy < self.height => self.values[dy * self.width + dx],
            _ => 0.0,
        }
    }
}

/// A stretch of a stroke between two of its points, in the picture's pixels.
struct Segment {
    a: [f32; 2],
    ab: [f32; 2],
    /// 1 / |ab|², or 0 for a dab.
    inverse_length2: f32,
    radius: f32,
}

impl Segment {
    fn new(a: [f32; 2], b: [f32; 2], radius: f32) -> Self {
        let ab = [b[0] - a[0], b[1] - a[1]];
        let length2 = ab[0] * ab[0] + ab[1] * ab[1];
        Segment { a, ab, inverse_length2: if length2 > 0.0 { 1.0 / length2 } else { 0.0 }, radius }
    }

    /// The squared distance from `p` to the segment.
    fn distance2(&self, p: [f32; 2]) -> f32 {
        let ap = [p[0] - self.a[0], p[1] - self.a[1]];
        let t = ((ap[0] * self.ab[0] + ap[1] * self.ab[1]) * self.inverse_length2).clamp(0.0, 1.0);
        let (dx, dy) = (ap[0] - t * self.ab[0], ap[1] - t * self.ab[1]);
        dx * dx + dy * dy
    }

    fn distance(&self, p: [f32; 2]) -> f32 {
        self.distance2(p).sqrt()
    }

    /// How much of the colour at `p` (a pixel's centre) it takes away: 1 in the stroke's core,
    /// 0 from its radius on, smooth between.
    fn cover(&self, p: [f32; 2]) -> f32 {
        let distance2 = self.distance2(p);
        if distance2 >= self.radius * self.radius {
            return 0.0;
        }
        let s = ((1.0 - distance2.sqrt() / self.radius) / (1.0 - CORE)).clamp(0.0, 1.0);
        s * s * (3.0 - 2.0 * s)
    }
}

/// `colour` with `strokes` laid on it, oldest first, each pixel moved by the stroke's coverage:
/// under a stroke that takes colour away towards the grey of its own luma; under one that
/// paints towards its own luma with the painted colour's chroma; under one that restores back
/// towards `colour` itself. Taking away and painting keep the pixel's luma (Y) and change only
/// its chroma (R − Y, G − Y, B − Y). Pixels no stroke reaches are left exactly as they were.
pub fn apply(colour: &RgbImage, strokes: &[Stroke]) -> RgbImage {
    let mut out = colour.clone();
    // A run of strokes with one tool is laid as one coverage: where they overlap the patch is
    // as even as under one stroke, rather than darker at every crossing.
    for run in strokes.chunk_by(|a, b| a.tool == b.tool) {
        lay(&mut out, colour, &Coverage::of(run, colour.width(), colour.height()), run[0].tool);
    }
    out
}

/// The luma of an RGB colour (BT.601, as the merge with the photo uses).
fn luma([r, g, b]: [f32; 3]) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// Moves `out` by `cover` towards what `tool` makes of each pixel; `model` is the colour layer
/// before any stroke.
fn lay(out: &mut RgbImage, model: &RgbImage, cover: &Coverage, tool: Tool) {
    if cover.values.is_empty() {
        return;
    }
    let paint = match tool {
        Tool::Paint(c) => {
            let c = c.map(f32::from);
            let y = luma(c);
            c.map(|v| v - y)
        }
        _ => [0.0; 3],
    };
    let row_bytes = 3 * out.width() as usize;
    let rows = out.par_chunks_mut(row_bytes).zip(model.par_chunks(row_bytes)).skip(cover.y0).take(cover.height);
    rows.zip(cover.values.par_chunks(cover.width)).for_each(|((row, model_row), shares)| {
        let span = 3 * cover.x0..3 * (cover.x0 + cover.width);
        let pixels = row[span.clone()].chunks_exact_mut(3).zip(model_row[span].chunks_exact(3));
        for ((px, model_px), &m) in pixels.zip(shares) {
            if m <= 0.0 {
                continue;
            }
            let rgb = [px[0], px[1], px[2]].map(f32::from);
            if tool == Tool::Restore {
                for ((c, v), o) in px.iter_mut().zip(rgb).zip(model_px) {
                    *c = (v + (*o as f32 - v) * m).round() as u8;
                }
            } else {
                let y = luma(rgb);
                for ((c, v), t) in px.iter_mut().zip(rgb).zip(paint) {
                    *c = (y + (v - y) * (1.0 - m) + t * m).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stroke(points: &[[f32; 2]], radius: f32) -> Stroke {
        Stroke { points: points.to_vec(), radius, tool: Tool::Remove }
    }

    #[test]
    fn a_stroke_greys_what_it_covers_and_leaves_the_rest_exactly() {
        let colour = RgbImage::from_fn(100, 60, |x, y| image::Rgb([200, (x * 2) as u8, (y * 3) as u8]));
        // Across the middle, radius 10 px (a sixth of the shorter side).
        let out = apply(&colour, &[stroke(&[[0.2, 0.5], [0.8, 0.5]], 10.0 / 60.0)]);
        for (x, y, px) in out.enumerate_pixels() {
            let before = colour.get_pixel(x, y).0;
            let d = if (20..80).contains(&x) { (y as f32 + 0.5 - 30.0).abs() } else { f32::INFINITY };
            if d < 5.0 {
                let [r, g, b] = px.0;
                assert!(r.abs_diff(g) <= 1 && g.abs_diff(b) <= 1, "grey in the core at ({x}, {y}): {:?}", px.0);
                let luma = |p: [u8; 3]| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
                assert!((luma(px.0) - luma(before)).abs() <= 1.0, "luma kept at ({x}, {y})");
            }
            if (y as f32 + 0.5 - 30.0).abs() > 10.5 || !(9..=91).contains(&x) {
                assert_eq!(px.0, before, "untouched outside the stroke at ({x}, {y})");
            }
        }
        // Between the core and the radius, part of the colour stays.
        let edge = out.get_pixel(50, 38).0; // 8.5 px from the line: t = 0.85
        let orig = colour.get_pixel(50, 38).0;
        assert!(edge != orig && edge[0].abs_diff(edge[2]) > 10, "the edge is a blend: {edge:?} from {orig:?}");
    }

    #[test]
    fn a_painted_stroke_gives_its_colour_under_the_photos_own_shades() {
        // A grey ramp from dark to light, with a little colour of its own.
        let colour = RgbImage::from_fn(100, 60, |x, _| {
            let v = (40 + 2 * x) as u8;
            image::Rgb([v, v.saturating_add(6), v])
        });
        let skin = [200, 150, 120];
        let painted = Stroke { tool: Tool::Paint(skin), ..stroke(&[[0.2, 0.5], [0.8, 0.5]], 10.0 / 60.0) };
        let out = apply(&colour, std::slice::from_ref(&painted));
        let luma = |p: [u8; 3]| luma(p.map(f32::from));
        let chroma = |p: [u8; 3]| p.map(|v| v as f32 - luma(p));
        for (x, y, px) in out.enumerate_pixels() {
            let before = colour.get_pixel(x, y).0;
            if (25..75).contains(&x) && (y as f32 + 0.5 - 30.0).abs() < 5.0 {
                assert!((luma(px.0) - luma(before)).abs() <= 1.0, "luma kept at ({x}, {y})");
                for (got, want) in chroma(px.0).iter().zip(chroma(skin)) {
                    assert!((got - want).abs() <= 1.0, "the skin's chroma at ({x}, {y}): {:?}", px.0);
                }
            }
            if (y as f32 + 0.5 - 30.0).abs() > 10.5 || !(9..=91).contains(&x) {
                assert_eq!(px.0, before, "untouched outside the stroke at ({x}, {y})");
            }
        }
        // The ramp's shades are still there under the paint.
        assert!(luma(out.get_pixel(70, 30).0) > luma(out.get_pixel(30, 30).0) + 70.0);
    }

    #[test]
    fn a_later_stroke_lies_over_an_earlier_one() {
        let colour = RgbImage::from_pixel(40, 40, image::Rgb([90, 140, 60]));
        let dab = stroke(&[[0.5, 0.5]], 0.25);
        let blue = Stroke { tool: Tool::Paint([60, 90, 200]), ..dab.clone() };
        let centre = |strokes: &[Stroke]| apply(&colour, strokes).get_pixel(20, 20).0;
        let [r, g, b] = centre(&[blue.clone(), dab.clone()]);
        assert!(r.abs_diff(g) <= 1 && g.abs_diff(b) <= 1, "taken away after painting: grey, {:?}", [r, g, b]);
        let [r, g, b] = centre(&[dab.clone(), blue.clone()]);
        assert!(b > r + 80 && b > g + 60, "painted after taking away: blue, {:?}", [r, g, b]);
        // Two overlapping strokes of one kind are one patch: no darker crossing.
        let crossing = [stroke(&[[0.2, 0.5], [0.8, 0.5]], 0.1), stroke(&[[0.5, 0.2], [0.5, 0.8]], 0.1)];
        let once = Coverage::of(&crossing, 40, 40);
        let strokes: Vec<Stroke> =
            crossing.iter().map(|s| Stroke { tool: Tool::Paint([60, 90, 200]), ..s.clone() }).collect();
        assert_eq!(apply(&colour, &strokes), {
            let mut one = colour.clone();
            lay(&mut one, &colour, &once, Tool::Paint([60, 90, 200]));
            one
        });
    }

    #[test]
    fn a_restoring_stroke_gives_the_models_colour_back() {
        let colour = RgbImage::from_fn(100, 60, |x, y| image::Rgb([200, (x * 2) as u8, (y * 3) as u8]));
        let blue = Stroke { tool: Tool::Paint([60, 90, 200]), ..stroke(&[[0.1, 0.5], [0.9, 0.5]], 0.2) };
        let restore = Stroke { tool: Tool::Restore, ..stroke(&[[0.5, 0.2], [0.5, 0.8]], 0.1) };
        let painted = apply(&colour, std::slice::from_ref(&blue));
        let out = apply(&colour, &[blue.clone(), restore.clone()]);
        for (x, y, px) in out.enumerate_pixels() {
            let dx = (x as f32 + 0.5 - 50.0).abs();
            if dx < 3.5 && (15..45).contains(&y) {
                assert_eq!(px, colour.get_pixel(x, y), "the model's own colour in the core at ({x}, {y})");
            } else if dx > 6.5 {
                assert_eq!(px, painted.get_pixel(x, y), "the paint stays beyond the stroke at ({x}, {y})");
            }
        }
        // With nothing to undo it changes nothing.
        assert_eq!(apply(&colour, &[restore]), colour);
    }

    #[test]
    fn a_single_point_is_a_round_dab() {
        let cover = Coverage::of(&[stroke(&[[0.5, 0.5]], 0.2)], 50, 50);
        let at = |x: usize, y: usize| cover.at(x, y);
        assert_eq!(at(25, 25), 1.0);
        assert_eq!(at(25, 30), 1.0); // 5.5 px out of 10: in the core
        assert!(at(25, 33) > 0.0 && at(25, 33) < 1.0);
        assert_eq!(at(25, 36), 0.0);
        assert_eq!(at(31, 31), at(18, 18), "round");
        assert_eq!(at(31, 25), at(25, 31), "round");
    }

    #[test]
    fn a_dab_on_a_large_scan_costs_only_its_own_rectangle() {
        // 40 px in radius on a 6000 × 4000 scan.
        let cover = Coverage::of(&[stroke(&[[0.5, 0.5]], 0.01)], 6000, 4000);
        assert_eq!((cover.x0, cover.y0, cover.width, cover.height), (2960, 1960, 80, 80));
        assert_eq!(cover.at(3000, 2000), 1.0);
        assert_eq!(cover.at(0, 0), 0.0);
        assert!(Coverage::of(&[], 6000, 4000).values.is_empty());
    }

    #[test]
    fn a_turned_stroke_covers_the_turned_pixels() {
        let s = stroke(&[[0.1, 0.2], [0.3, 0.25]], 0.05);
        let (w, h) = (80, 40);
        let before = Coverage::of(std::slice::from_ref(&s), w, h);
        let after = Coverage::of(&[s.turned(1)], h, w);
        // Pixel (x, y) of the photo is (h − 1 − y, x) once turned clockwise.
        let mut differ = 0;
        for y in 0..h as usize {
            for x in 0..w as usize {
                let turned = after.at(h as usize - 1 - y, x);
                differ += ((before.at(x, y) - turned).abs() > 1e-4) as usize;
            }
        }
        assert_eq!(differ, 0);
        assert_eq!(s.turned(4), s);
        let round_trip = s.turned(1).turned(3);
        for (a, b) in round_trip.points.iter().flatten().zip(s.points.iter().flatten()) {
            assert!((a - b).abs() < 1e-6, "four quarter turns give the stroke back: {a} against {b}");
        }
    }

    #[test]
    fn simplifying_keeps_the_corners_and_drops_the_straight_runs() {
        // An L drawn with a point every pixel, and a little wobble along its first arm.
        let mut points: Vec<[f32; 2]> = (0..=100).map(|x| [x as f32, if x % 2 == 1 { 0.3 } else { 0.0 }]).collect();
        points.extend((1..=50).map(|y| [100.0, y as f32]));
        let kept = simplify(&points, 0.5);
        assert_eq!(kept, vec![[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]]);
        let kept = simplify(&points, 0.1);
        assert!(kept.len() > 50, "the wobble is kept at a finer tolerance: {}", kept.len());
        assert_eq!(simplify(&points[..2], 5.0), points[..2]);
        assert_eq!(simplify(&[], 5.0), Vec::<[f32; 2]>::new());
    }

    #[test]
    fn unsound_strokes_are_told_apart() {
        assert!(stroke(&[[0.0, 1.0]], 0.05).is_sound());
        assert!(!stroke(&[], 0.05).is_sound());
        assert!(!stroke(&[[f32::NAN, 0.5]], 0.05).is_sound());
        assert!(!stroke(&[[1.5, 0.5]], 0.05).is_sound());
        assert!(!stroke(&[[0.5, 0.5]], 0.0).is_sound());
        assert!(!stroke(&[[0.5, 0.5]], 2.0).is_sound());
    }
}
