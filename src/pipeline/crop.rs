//! Cropping: the part of a scan to colorize and keep. A flatbed scan holds the print and some of
//! the scanner's lid around it; the model sees the whole picture squeezed into its render size,
//! so a margin left on costs the print some of the model's pixels as well as spoiling the export.
//! Also finds that margin by itself ([`find_print`]), for a person to check and adjust.

use image::DynamicImage;
use serde::{Deserialize, Serialize};

use super::brush::Stroke;

/// The part kept, as fractions of the photo's width and height (the photo as turned), so it
/// keeps its place at any size the photo is read at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Crop {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

/// A crop's rectangle in a picture's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pixels {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Crop {
    pub const WHOLE: Crop = Crop { left: 0.0, top: 0.0, right: 1.0, bottom: 1.0 };
    /// The smallest side a crop can have, as a share of the photo's: small enough for any
    /// print on a scanner's bed, large enough that a slip of the mouse does not leave a sliver.
    pub const MIN_SIDE: f32 = 0.02;

    /// Whether it can be used as it is: finite, inside the photo, no side below
    /// [`Self::MIN_SIDE`]. A hand-edited file may hold anything.
    pub fn is_sound(&self) -> bool {
        let Crop { left, top, right, bottom } = *self;
        [left, top, right, bottom].iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v))
            && right - left >= Self::MIN_SIDE
            && bottom - top >= Self::MIN_SIDE
    }

    /// Whether it keeps the whole photo (to within a pixel of a large scan).
    pub fn is_whole(&self) -> bool {
        const SLACK: f32 = 1e-4;
        self.left <= SLACK && self.top <= SLACK && self.right >= 1.0 - SLACK && self.bottom >= 1.0 - SLACK
    }

    /// The same part of the photo after it is turned clockwise by `quarter_turns`.
    pub fn turned(&self, quarter_turns: u8) -> Crop {
        let mut c = *self;
        for _ in 0..quarter_turns % 4 {
            // A clockwise quarter turn moves the point (x, y) to (1 − y, x), as for the brush.
            c = Crop { left: 1.0 - c.bottom, top: c.left, right: 1.0 - c.top, bottom: c.right };
        }
        c
    }

    /// Its rectangle in a picture of `width` × `height`, rounded to whole pixels, at least one
    /// pixel each way.
    pub fn pixels(&self, (width, height): (u32, u32)) -> Pixels {
        let at = |v: f32, side: u32| ((v.clamp(0.0, 1.0) * side as f32).round() as u32).min(side);
        let (x, y) =
            (at(self.left, width).min(width.saturating_sub(1)), at(self.top, height).min(height.saturating_sub(1)));
        let (x1, y1) = (at(self.right, width).max(x + 1), at(self.bottom, height).max(y + 1));
        Pixels { x, y, width: x1 - x, height: y1 - y }
    }

    /// The part of `photo` it keeps, in the photo's own colour type.
    pub fn apply(&self, photo: &DynamicImage) -> DynamicImage {
        let Pixels { x, y, width, height } = self.pixels((photo.width(), photo.height()));
        photo.crop_imm(x, y, width, height)
    }

    /// `stroke`, painted on the cropped picture of a photo of `whole` pixels, as a stroke on the
    /// whole photo: where strokes are kept, so that a crop changed later leaves them in place.
    pub fn stroke_to_whole(&self, stroke: &Stroke, whole: (u32, u32)) -> Stroke {
        let p = self.pixels(whole);
        let crop = [p.width as f32, p.height as f32];
        reframed(stroke, crop, [p.x as f32, p.y as f32], [whole.0 as f32, whole.1 as f32])
    }

    /// `stroke`, kept on the whole photo of `whole` pixels, on the cropped picture: where the
    /// brush lays it. Points outside the crop fall outside 0–1, and the brush leaves them off.
    pub fn stroke_from_whole(&self, stroke: &Stroke, whole: (u32, u32)) -> Stroke {
        let p = self.pixels(whole);
        let crop = [p.width as f32, p.height as f32];
        reframed(stroke, [whole.0 as f32, whole.1 as f32], [-(p.x as f32), -(p.y as f32)], crop)
    }
}

/// `stroke`, in shares of a picture of `from` pixels whose top left lies at `offset` among the
/// pixels of another of `to` pixels, in shares of that other; its radius follows the shorter
/// sides.
fn reframed(stroke: &Stroke, from: [f32; 2], offset: [f32; 2], to: [f32; 2]) -> Stroke {
    Stroke {
        points: stroke
            .points
            .iter()
            .map(|&[x, y]| [(offset[0] + x * from[0]) / to[0], (offset[1] + y * from[1]) / to[1]])
            .collect(),
        radius: stroke.radius * from[0].min(from[1]) / to[0].min(to[1]),
        tool: stroke.tool,
    }
}

/// The longest side the scan is looked at with when its margin is sought: the margin's edge is
/// found to within a pixel of that, a quarter of a percent.
const LOOK_SIDE: u32 = 400;
/// How far a pixel's grey may be from the margin's and still be margin: a lid's white varies
/// with dust, its shadow and the scanner's noise.
const MARGIN_TOLERANCE: f32 = 18.0;
/// The share of a line's pixels that must look like the margin for the line to be margin: a
/// speck of dust or a hair across the lid does not end it.
const MARGIN_SHARE: f32 = 0.97;
/// The least of the scan's width or height a margin takes from a side.
const MARGIN_MIN: f32 = 0.01;
/// The share of a line just inside the margin that must be unlike it: the print's edge.
const EDGE_SHARE: f32 = 0.4;
/// The most of the scan's width or height a margin may take from one side: a print has to be
/// more than a sliver of its scan.
const MARGIN_MAX: f32 = 0.45;

/// The print inside a flatbed scan's margin: on each side, the lines of even grey (the scanner's
/// lid, white or black) from the edge inwards, and one more line for the soft edge between lid
/// and print. `None` when no side has a margin: the photo was cropped already.
pub fn find_print(photo: &DynamicImage) -> Option<Crop> {
    Look::new(photo).and_then(|look| look.print())
}

/// What Find the print and `colorize --split` frame: each print of a scan of several, else the
/// one print inside the margin, else nothing. The scan is looked at once for both.
pub fn find_each_print(photo: &DynamicImage) -> Vec<Crop> {
    let Some(look) = Look::new(photo) else { return Vec::new() };
    match look.prints() {
        several if several.len() > 1 => several,
        _ => look.print().into_iter().collect(),
    }
}

impl Look {
    /// See [`find_print`].
    fn print(&self) -> Option<Crop> {
        let look = self;
        let whole = look.whole();
        let print = look.trim(whole, MARGIN_MAX);
        (print != whole).then(|| look.crop(print)).filter(Crop::is_sound)
    }
}

/// The prints on a flatbed scan of several, in reading order (rows from the top, each from the
/// left): the scan is cut along bands of lid that run right across it, or across a part already
/// cut, and each part is trimmed as [`find_print`] trims one. A scan of one print gives that
/// print; a photo with no lid around it, nothing.
pub fn find_prints(photo: &DynamicImage) -> Vec<Crop> {
    Look::new(photo).map(|look| look.prints()).unwrap_or_default()
}

impl Look {
    /// See [`find_prints`].
    fn prints(&self) -> Vec<Crop> {
        let look = self;
        let whole = look.whole();
        // The lid: the grey most of the scan's outer ring has.
        let ring: Vec<f32> = (0..look.w)
            .flat_map(|x| [look.at(x, 0), look.at(x, look.h - 1)])
            .chain((0..look.h).flat_map(|y| [look.at(0, y), look.at(look.w - 1, y)]))
            .collect();
        // Prints laid against the glass's edges cover some of the ring: the lid must hold most of
        // it, not all. And it is a lid's white or black: an even sky or backdrop round a photo's
        // subject is not cut into pieces.
        let lid = median(ring.clone());
        if like_share(&ring, lid) < 0.5 || (LID_DARKEST..=LID_LIGHTEST).contains(&lid) {
            return Vec::new();
        }
        let mut parts = Vec::new();
        look.cut(whole, lid, &mut parts);
        let smallest = |side: usize| (PRINT_MIN * side as f32) as usize;
        let prints: Vec<Area> = parts
            .into_iter()
            // A part of a row of prints may be mostly lid: the size left is what is checked.
            .map(|part| look.trim(part, 1.0 - PRINT_MIN))
            .filter(|p| p.width() >= smallest(look.w) && p.height() >= smallest(look.h))
            .collect();
        // A print is a rectangle of picture. Objects photographed on white or black (a teapot, a
        // lynx in the snow) leave lid round them inside their box: such a photo is not cut up.
        let rectangles = prints.iter().all(|&p| like_share(&look.pixels(p), lid) <= 1.0 - PRINT_CONTENT);
        if !rectangles {
            return Vec::new();
        }
        prints.into_iter().map(|p| look.crop(p)).filter(Crop::is_sound).collect()
    }
}

/// The greys between which a scanner's lid is not: its white is lighter, its black darker.
const LID_DARKEST: f32 = 50.0;
const LID_LIGHTEST: f32 = 200.0;
/// The least gap of lid between two prints, as a share of the scan's side.
const GAP_MIN: f32 = 0.01;
/// The least side of a print, as a share of the scan's: smaller parts are dust, a label, the
/// lid's own edge.
const PRINT_MIN: f32 = 0.05;
/// The least share of a print's pixels unlike the lid (a print of a snowy field may have
/// some that are not).
const PRINT_CONTENT: f32 = 0.7;

/// A rectangle of the scan as it is looked at: columns `x0..x1`, rows `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Area {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Area {
    fn width(&self) -> usize {
        self.x1 - self.x0
    }

    fn height(&self) -> usize {
        self.y1 - self.y0
    }
}

/// The scan's grey, small, for finding its prints.
struct Look {
    grey: image::ImageBuffer<image::Luma<f32>, Vec<f32>>,
    w: usize,
    h: usize,
}

impl Look {
    fn new(photo: &DynamicImage) -> Option<Look> {
        let grey = photo.thumbnail(LOOK_SIDE, LOOK_SIDE).to_luma32f();
        let (w, h) = (grey.width() as usize, grey.height() as usize);
        (w >= 8 && h >= 8).then_some(Look { grey, w, h })
    }

    fn whole(&self) -> Area {
        Area { x0: 0, y0: 0, x1: self.w, y1: self.h }
    }

    fn at(&self, x: usize, y: usize) -> f32 {
        self.grey.get_pixel(x as u32, y as u32).0[0] * 255.0
    }

    fn row(&self, y: usize, a: Area) -> Vec<f32> {
        (a.x0..a.x1).map(|x| self.at(x, y)).collect()
    }

    fn column(&self, x: usize, a: Area) -> Vec<f32> {
        (a.y0..a.y1).map(|y| self.at(x, y)).collect()
    }

    fn pixels(&self, a: Area) -> Vec<f32> {
        (a.y0..a.y1).flat_map(|y| self.row(y, a)).collect()
    }

    fn crop(&self, a: Area) -> Crop {
        let (w, h) = (self.w as f32, self.h as f32);
        Crop { left: a.x0 as f32 / w, top: a.y0 as f32 / h, right: a.x1 as f32 / w, bottom: a.y1 as f32 / h }
    }

    /// `a` without the margin on each of its sides, none taking more than `most` of `a`'s side.
    fn trim(&self, a: Area, most: f32) -> Area {
        if a.width() < 2 || a.height() < 2 {
            return a;
        }
        // How many lines from one side are margin; `line(i)` gives the i-th line from that
        // side, and `count` is how many there are.
        let margin = |count: usize, line: &dyn Fn(usize) -> Vec<f32>| -> usize {
            // The margin's grey: the median of the outermost line, so a print that reaches
            // one edge does not stop the others from being found.
            let lid = median(line(0));
            let most = (most * count as f32) as usize;
            let lines = (0..most).take_while(|&i| like_share(&line(i), lid) >= MARGIN_SHARE).count();
            // A print's edge is straight: within a line or two of where the margin ends, most
            // of a line is print. An even backdrop or sky in the photo itself ends at the
            // outline of what stands in front of it, a few pixels of a line at a time, and is
            // not cut.
            let edge = (lines..(lines + 3).min(count)).map(|i| 1.0 - like_share(&line(i), lid)).fold(0.0, f32::max);
            // A line or two of another grey at the edge is the scanner's or the camera's, not
            // a margin worth a crop.
            let fewest = (MARGIN_MIN * count as f32).ceil().max(2.0) as usize;
            if lines < fewest || lines >= most || edge < EDGE_SHARE {
                return 0;
            }
            // The line where lid turns to print is part of both: it goes with the margin.
            lines + 1
        };
        // Margins that would meet leave nothing of a print: the part is left as it is.
        let sides = |a: Area| {
            let left = margin(a.width(), &|i| self.column(a.x0 + i, a));
            let right = margin(a.width(), &|i| self.column(a.x1 - 1 - i, a));
            if left + right + 2 > a.width() {
                return a;
            }
            Area { x0: a.x0 + left, x1: a.x1 - right, ..a }
        };
        let ends = |a: Area| {
            let top = margin(a.height(), &|i| self.row(a.y0 + i, a));
            let bottom = margin(a.height(), &|i| self.row(a.y1 - 1 - i, a));
            if top + bottom + 2 > a.height() {
                return a;
            }
            Area { y0: a.y0 + top, y1: a.y1 - bottom, ..a }
        };
        // Sides, ends, and sides again: a print narrower than its part of a row of prints
        // fills the lines of its own ends only once the lid beside it is gone, and the other
        // way round.
        sides(ends(sides(a)))
    }

    /// Cuts `a` at its first band of lid lines (rows, else columns) with something other than
    /// lid on both sides, and each part again; the parts no band crosses go to `out`.
    fn cut(&self, a: Area, lid: f32, out: &mut Vec<Area>) {
        // A sliver between a band and the edge of what is cut is no print.
        if a.width() < 2 || a.height() < 2 {
            return;
        }
        let gap = |side: usize| (GAP_MIN * side as f32).ceil().max(2.0) as usize;
        let rows: Vec<bool> = (a.y0..a.y1).map(|y| like_share(&self.row(y, a), lid) >= MARGIN_SHARE).collect();
        // The line on each side of a band, where lid turns to print, goes with the band.
        if let Some((start, end)) = inner_run(&rows, gap(self.h)) {
            self.cut(Area { y1: a.y0 + start - 1, ..a }, lid, out);
            self.cut(Area { y0: a.y0 + end + 1, ..a }, lid, out);
            return;
        }
        let columns: Vec<bool> = (a.x0..a.x1).map(|x| like_share(&self.column(x, a), lid) >= MARGIN_SHARE).collect();
        if let Some((start, end)) = inner_run(&columns, gap(self.w)) {
            self.cut(Area { x1: a.x0 + start - 1, ..a }, lid, out);
            self.cut(Area { x0: a.x0 + end + 1, ..a }, lid, out);
            return;
        }
        out.push(a);
    }
}

/// The first run of at least `least` true values with a false one somewhere before it and
/// somewhere after it: a band of lid between two prints, not the margin at an edge.
fn inner_run(lines: &[bool], least: usize) -> Option<(usize, usize)> {
    let first_print = lines.iter().position(|&lid| !lid)?;
    let last_print = lines.iter().rposition(|&lid| !lid)?;
    let mut i = first_print;
    while i < last_print {
        if lines[i] {
            let end = i + lines[i..].iter().take_while(|&&lid| lid).count();
            if end - i >= least {
                return Some((i, end));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    None
}

fn median(mut values: Vec<f32>) -> f32 {
    values.sort_by(f32::total_cmp);
    values[values.len() / 2]
}

/// The share of `values` within the tolerance of the lid's grey.
fn like_share(values: &[f32], lid: f32) -> f32 {
    values.iter().filter(|v| (**v - lid).abs() <= MARGIN_TOLERANCE).count() as f32 / values.len().max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::brush::Tool;
    use image::{Rgb, RgbImage};

    /// A scan: a print of random greys (grain) at `print`'s place on a lid of `lid`'s grey.
    fn scan(size: (u32, u32), print: Pixels, lid: u8) -> DynamicImage {
        let mut state = 12345u32;
        let mut noise = move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        };
        let inside = |x: u32, y: u32| {
            (print.x..print.x + print.width).contains(&x) && (print.y..print.y + print.height).contains(&y)
        };
        DynamicImage::ImageRgb8(RgbImage::from_fn(size.0, size.1, |x, y| {
            let g = if inside(x, y) { noise() / 2 + 60 } else { lid.saturating_add(noise() % 9) };
            Rgb([g, g, g])
        }))
    }

    #[test]
    fn a_print_is_found_on_a_white_lid_and_on_a_black_one() {
        let print = Pixels { x: 120, y: 90, width: 500, height: 340 };
        for lid in [240, 8] {
            let found = find_print(&scan((800, 600), print, lid)).expect("a margin");
            let p = found.pixels((800, 600));
            // Within the soft edge's line at the size it is looked at (2 pixels here) of the
            // print's, and never outside it.
            for (got, want, outside) in [
                (p.x, print.x, p.x < print.x),
                (p.y, print.y, p.y < print.y),
                (p.x + p.width, print.x + print.width, p.x + p.width > print.x + print.width),
                (p.y + p.height, print.y + print.height, p.y + p.height > print.y + print.height),
            ] {
                assert!(got.abs_diff(want) <= 6 && !outside, "lid {lid}: {p:?} against {print:?}");
            }
        }
    }

    #[test]
    fn a_photo_with_no_margin_is_left_whole() {
        let whole = Pixels { x: 0, y: 0, width: 640, height: 480 };
        assert_eq!(find_print(&scan((640, 480), whole, 240)), None);
        // A print touching two edges: only the other two are cut.
        let corner = Pixels { x: 0, y: 0, width: 500, height: 400 };
        let found = find_print(&scan((640, 480), corner, 240)).expect("a margin");
        assert_eq!((found.left, found.top), (0.0, 0.0));
        assert!(found.right < 500.0 / 640.0 + 0.01 && found.bottom < 400.0 / 480.0 + 0.01, "{found:?}");
    }

    #[test]
    fn a_real_print_is_found_on_a_lid_and_its_own_backdrop_is_not_cut() {
        // Walt Whitman's portrait has an even grey backdrop down both sides: it ends at his
        // outline, not at a straight edge, and stays.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples");
        // The migrant mother's sand at the print's foot is as bright as a white lid, so there
        // the margin would be left on (never cut into the print): she lies on a black one.
        for (name, lid) in [("walt-whitman.jpg", 236), ("migrant-mother.jpg", 10)] {
            let print = image::open(dir.join(name)).unwrap();
            assert_eq!(find_print(&print), None, "{name}");
            // On a scanner's lid, off centre, with the lid's grain.
            let (w, h) = (print.width(), print.height());
            let (x, y) = (w / 5, h / 9);
            let mut scan =
                scan((w + w / 5 + w / 3, h + h / 9 + h / 4), Pixels { x: 0, y: 0, width: 0, height: 0 }, lid);
            image::imageops::overlay(&mut scan, &print, x.into(), y.into());
            let found = find_print(&scan).expect("a margin").pixels((scan.width(), scan.height()));
            let inset = [found.x - x, found.y - y, x + w - found.x - found.width, y + h - found.y - found.height];
            // Inside the print by at most the soft edge's line and one for rounding, at the
            // size the scan is looked at.
            let most = scan.width().max(scan.height()).div_ceil(LOOK_SIDE) * 2;
            assert!(inset.iter().all(|&i| i <= most), "{name}: {found:?}, inset {inset:?}, at most {most}");
        }
    }

    #[test]
    fn the_prints_of_a_scan_of_several_are_found_in_reading_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples");
        let whitman = image::open(dir.join("walt-whitman.jpg")).unwrap().resize(400, 400, image::imageops::Triangle);
        let mother = image::open(dir.join("migrant-mother.jpg")).unwrap().resize(420, 420, image::imageops::Triangle);
        let mut scan = scan((1100, 900), Pixels { x: 0, y: 0, width: 0, height: 0 }, 10);
        // Two prints side by side at the top, one below, as they lie on the glass.
        let places = [(40, 30, &whitman), (520, 50, &mother), (200, 450, &whitman)];
        for (x, y, print) in places {
            image::imageops::overlay(&mut scan, print, x, y);
        }
        let found = find_prints(&scan);
        assert_eq!(found.len(), 3, "{found:?}");
        let most = 1100u32.div_ceil(LOOK_SIDE) * 2;
        for (crop, (x, y, print)) in found.iter().zip(places) {
            let p = crop.pixels((1100, 900));
            let (x, y) = (x as u32, y as u32);
            let inset = [p.x - x, p.y - y, x + print.width() - p.x - p.width, y + print.height() - p.y - p.height];
            assert!(inset.iter().all(|&i| i <= most), "{p:?} for the print at ({x}, {y}): inset {inset:?}");
        }
        // One print: itself, laid against the glass's corner or not; a photo with no lid round
        // it: nothing.
        let one = find_prints(&scan.crop_imm(0, 0, 500, 440));
        assert_eq!(one.len(), 1, "{one:?}");
        let in_the_corner = find_prints(&scan.crop_imm(40, 30, 460, 400));
        assert_eq!(in_the_corner.len(), 1, "{in_the_corner:?}");
        assert_eq!((in_the_corner[0].left, in_the_corner[0].top), (0.0, 0.0));
        assert!(find_prints(&whitman).is_empty());
    }

    #[test]
    fn a_turned_crop_keeps_the_same_part_of_the_photo() {
        // A 4 × 2 photo whose pixel (x, y) holds x + 10 y: the crop's pixels, turned, are the
        // turned photo's crop.
        let photo = DynamicImage::ImageLuma8(image::GrayImage::from_fn(4, 2, |x, y| image::Luma([(x + 10 * y) as u8])));
        let crop = Crop { left: 0.25, top: 0.5, right: 0.75, bottom: 1.0 };
        for turns in 0..4 {
            let turned = crate::engine::turn(crop.apply(&photo), turns);
            let from_turned = crop.turned(turns).apply(&crate::engine::turn(photo.clone(), turns));
            assert_eq!(turned.as_bytes(), from_turned.as_bytes(), "{turns} turns");
        }
        assert_eq!(crop.turned(4), crop);
    }

    #[test]
    fn a_stroke_kept_on_the_whole_photo_comes_back_where_it_was_painted() {
        let crop = Crop { left: 0.1, top: 0.2, right: 0.6, bottom: 0.9 };
        let whole = (1000, 500);
        let painted = Stroke { points: vec![[0.0, 0.0], [0.5, 0.25], [1.0, 1.0]], radius: 0.05, tool: Tool::Remove };
        let kept = crop.stroke_to_whole(&painted, whole);
        // The crop is 500 × 350 px from (100, 100): its corners on the whole photo.
        assert_eq!(kept.points[0], [0.1, 0.2]);
        assert_eq!(kept.points[2], [0.6, 0.9]);
        // 5 % of the crop's 350 px is 17.5 px, 3.5 % of the photo's 500.
        assert!((kept.radius - 0.035).abs() < 1e-6);
        let back = crop.stroke_from_whole(&kept, whole);
        for (a, b) in back.points.iter().zip(&painted.points) {
            assert!((a[0] - b[0]).abs() < 1e-6 && (a[1] - b[1]).abs() < 1e-6);
        }
        assert!((back.radius - painted.radius).abs() < 1e-6);
    }

    #[test]
    fn an_unsound_crop_is_told_apart() {
        assert!(Crop::WHOLE.is_sound() && Crop::WHOLE.is_whole());
        for bad in [
            Crop { left: 0.5, top: 0.0, right: 0.4, bottom: 1.0 },
            Crop { left: 0.0, top: 0.0, right: 1.5, bottom: 1.0 },
            Crop { left: f32::NAN, top: 0.0, right: 1.0, bottom: 1.0 },
            Crop { left: 0.0, top: 0.0, right: 0.01, bottom: 1.0 },
        ] {
            assert!(!bad.is_sound(), "{bad:?}");
        }
    }
}
