//! Cropping: the part of a scan to colorize and keep. A flatbed scan holds the print and some of
//! the scanner's lid around it; the model sees the whole picture squeezed into its render size,
//! so a margin left on costs the print some of the model's pixels as well as spoiling the export.
//! A print laid askew on the glass is straightened first. Also finds that margin, and the print's
//! slant, by itself ([`find_print`]), for a person to check and adjust.

use image::{DynamicImage, ImageBuffer, Pixel, Primitive};
use num_traits::{NumCast, ToPrimitive};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::brush::Stroke;

/// The part kept, as fractions of the photo's width and height (the photo as turned, then
/// straightened by `angle`), so it keeps its place at any size the photo is read at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Crop {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
    /// Degrees clockwise the photo is turned about its centre before the rectangle is cut from
    /// it, on a canvas of its own size: a print askew on the scanner's glass, straightened.
    #[serde(default)]
    pub angle: f32,
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
    pub const WHOLE: Crop = Crop { left: 0.0, top: 0.0, right: 1.0, bottom: 1.0, angle: 0.0 };
    /// The most a photo is straightened either way: past that it is a turn, which the photo's
    /// quarter turns give without resampling it.
    pub const MAX_ANGLE: f32 = 45.0;
    /// The smallest side a crop can have, as a share of the photo's: small enough for any
    /// print on a scanner's bed, large enough that a slip of the mouse does not leave a sliver.
    pub const MIN_SIDE: f32 = 0.02;

    /// Whether it can be used as it is: finite, inside the photo, no side below
    /// [`Self::MIN_SIDE`], straightened by no more than [`Self::MAX_ANGLE`]. A hand-edited file
    /// may hold anything.
    pub fn is_sound(&self) -> bool {
        let Crop { left, top, right, bottom, angle } = *self;
        [left, top, right, bottom].iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v))
            && right - left >= Self::MIN_SIDE
            && bottom - top >= Self::MIN_SIDE
            && angle.abs() <= Self::MAX_ANGLE
    }

    /// Whether it keeps the whole photo as it is (to within a pixel of a large scan).
    pub fn is_whole(&self) -> bool {
        const SLACK: f32 = 1e-4;
        self.angle == 0.0
            && self.left <= SLACK
            && self.top <= SLACK
            && self.right >= 1.0 - SLACK
            && self.bottom >= 1.0 - SLACK
    }

    /// The same part of the photo after it is turned clockwise by `quarter_turns`. (Turns about
    /// the centre add up in any order, so the straightening angle stays as it is.)
    pub fn turned(&self, quarter_turns: u8) -> Crop {
        let mut c = *self;
        for _ in 0..quarter_turns % 4 {
            // A clockwise quarter turn moves the point (x, y) to (1 − y, x), as for the brush.
            c = Crop { left: 1.0 - c.bottom, top: c.left, right: 1.0 - c.top, bottom: c.right, ..c };
        }
        c
    }

    /// Where the point `p` of a photo of `whole` pixels lies once the photo is straightened
    /// (turned `angle` degrees clockwise about its centre, on a canvas of its own size), in
    /// pixels. A negative `angle` takes a straightened point back.
    pub fn straighten_point(p: [f32; 2], whole: (u32, u32), angle: f32) -> [f32; 2] {
        if angle == 0.0 {
            return p;
        }
        let (sin, cos) = angle.to_radians().sin_cos();
        let (cx, cy) = (whole.0 as f32 / 2.0, whole.1 as f32 / 2.0);
        let (dx, dy) = (p[0] - cx, p[1] - cy);
        // Screen rows run downwards, so this turn is clockwise as seen.
        [cx + cos * dx - sin * dy, cy + sin * dx + cos * dy]
    }

    /// The corners of the part kept (top left, top right, bottom right, bottom left) on the photo
    /// as it lies before straightening, in shares of its width and height: where a picture of
    /// the photo is sampled to show the part.
    pub fn corners(&self, whole: (u32, u32)) -> [[f32; 2]; 4] {
        let (w, h) = (whole.0 as f32, whole.1 as f32);
        [[self.left, self.top], [self.right, self.top], [self.right, self.bottom], [self.left, self.bottom]].map(
            |[x, y]| {
                let [px, py] = Self::straighten_point([x * w, y * h], whole, -self.angle);
                [px / w, py / h]
            },
        )
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

    /// Whether all of it lies on the photo of `whole` pixels once straightened (to within a
    /// pixel of a large scan), none on the corners a slant leaves empty.
    pub fn lies_inside(&self, whole: (u32, u32)) -> bool {
        const SLACK: f32 = 1e-4;
        self.corners(whole).iter().flatten().all(|v| (-SLACK..=1.0 + SLACK).contains(v))
    }

    /// The frame drawn in towards the photo's centre, as little as need be, until none of it
    /// lies beyond the photo once straightened: a slant leaves the canvas's corners empty, and
    /// they are not kept. (The centre always lies inside the photo, so there is such a frame.)
    pub fn inside_photo(&self, whole: (u32, u32)) -> Crop {
        let inside = |c: &Crop| c.lies_inside(whole);
        let drawn_in = |s: f32| Crop {
            left: 0.5 + (self.left - 0.5) * s,
            top: 0.5 + (self.top - 0.5) * s,
            right: 0.5 + (self.right - 0.5) * s,
            bottom: 0.5 + (self.bottom - 0.5) * s,
            angle: self.angle,
        };
        if inside(self) {
            return *self;
        }
        drawn_in(furthest(|s| inside(&drawn_in(s))))
    }

    /// The part of `photo` it keeps, in the photo's own colour type. Straightened, each pixel
    /// is sampled bilinearly from the photo (at its edge where the part reaches past it).
    pub fn apply(&self, photo: &DynamicImage) -> DynamicImage {
        let whole = (photo.width(), photo.height());
        let part = self.pixels(whole);
        if self.angle == 0.0 {
            return photo.crop_imm(part.x, part.y, part.width, part.height);
        }
        let angle = self.angle;
        match photo {
            DynamicImage::ImageLuma8(p) => DynamicImage::ImageLuma8(straightened(p, part, angle)),
            DynamicImage::ImageLumaA8(p) => DynamicImage::ImageLumaA8(straightened(p, part, angle)),
            DynamicImage::ImageRgb8(p) => DynamicImage::ImageRgb8(straightened(p, part, angle)),
            DynamicImage::ImageRgba8(p) => DynamicImage::ImageRgba8(straightened(p, part, angle)),
            DynamicImage::ImageLuma16(p) => DynamicImage::ImageLuma16(straightened(p, part, angle)),
            DynamicImage::ImageLumaA16(p) => DynamicImage::ImageLumaA16(straightened(p, part, angle)),
            DynamicImage::ImageRgb16(p) => DynamicImage::ImageRgb16(straightened(p, part, angle)),
            DynamicImage::ImageRgba16(p) => DynamicImage::ImageRgba16(straightened(p, part, angle)),
            DynamicImage::ImageRgb32F(p) => DynamicImage::ImageRgb32F(straightened(p, part, angle)),
            DynamicImage::ImageRgba32F(p) => DynamicImage::ImageRgba32F(straightened(p, part, angle)),
            // Colour types image may add later: as 16-bit RGBA, which loses nothing of today's.
            other => DynamicImage::ImageRgba16(straightened(&other.to_rgba16(), part, angle)),
        }
    }

    /// `stroke`, painted on the cropped picture of a photo of `whole` pixels, as a stroke on the
    /// whole photo as it lies before straightening: where strokes are kept, so that a crop or a
    /// straightening changed later leaves them on what they were painted on.
    pub fn stroke_to_whole(&self, stroke: &Stroke, whole: (u32, u32)) -> Stroke {
        let p = self.pixels(whole);
        let (w, h) = (whole.0 as f32, whole.1 as f32);
        let points = stroke.points.iter().map(|&[x, y]| {
            let on_canvas = [p.x as f32 + x * p.width as f32, p.y as f32 + y * p.height as f32];
            let [px, py] = Self::straighten_point(on_canvas, whole, -self.angle);
            [px / w, py / h]
        });
        let radius = stroke.radius * p.width.min(p.height) as f32 / w.min(h);
        Stroke { points: points.collect(), radius, tool: stroke.tool }
    }

    /// `stroke`, kept on the whole photo of `whole` pixels, on the cropped picture: where the
    /// brush lays it. Points outside the crop fall outside 0–1, and the brush leaves them off.
    pub fn stroke_from_whole(&self, stroke: &Stroke, whole: (u32, u32)) -> Stroke {
        let p = self.pixels(whole);
        let (w, h) = (whole.0 as f32, whole.1 as f32);
        let points = stroke.points.iter().map(|&[x, y]| {
            let [qx, qy] = Self::straighten_point([x * w, y * h], whole, self.angle);
            [(qx - p.x as f32) / p.width as f32, (qy - p.y as f32) / p.height as f32]
        });
        let radius = stroke.radius * w.min(h) / p.width.min(p.height) as f32;
        Stroke { points: points.collect(), radius, tool: stroke.tool }
    }
}

/// The largest share `t` of 0–1 (to within 1e-5) for which `fits(t)` holds, given that it
/// holds at 0 and, past some share, no longer: how far a frame can be moved or grown and stay
/// on a straightened photo.
pub fn furthest(fits: impl Fn(f32) -> bool) -> f32 {
    let (mut yes, mut no) = (0.0, 1.0);
    for _ in 0..17 {
        let t = (yes + no) / 2.0;
        if fits(t) { yes = t } else { no = t }
    }
    yes
}

/// The `part` of `photo` straightened by `angle` degrees clockwise: each of its pixels sampled
/// bilinearly where it lay before the turn, the photo's edge held beyond it.
fn straightened<P>(
    photo: &ImageBuffer<P, Vec<P::Subpixel>>,
    part: Pixels,
    angle: f32,
) -> ImageBuffer<P, Vec<P::Subpixel>>
where
    P: Pixel + Send + Sync,
    P::Subpixel: Send + Sync,
{
    let whole = photo.dimensions();
    let (w, h) = (whole.0 as usize, whole.1 as usize);
    let channels = P::CHANNEL_COUNT as usize;
    let source: &[P::Subpixel] = photo.as_raw();
    // Integer samples are rounded back; float ones kept as they come.
    let integer = P::Subpixel::DEFAULT_MAX_VALUE.to_f32().is_some_and(|max| max > 1.0);
    let mut out = ImageBuffer::<P, Vec<P::Subpixel>>::new(part.width, part.height);
    let row_len = part.width as usize * channels;
    out.par_chunks_mut(row_len).enumerate().for_each(|(j, row)| {
        for i in 0..part.width as usize {
            let centre = [part.x as f32 + i as f32 + 0.5, part.y as f32 + j as f32 + 0.5];
            let [sx, sy] = Crop::straighten_point(centre, whole, -angle);
            // Pixel centres lie at half pixels; the edge is held beyond the photo.
            let (fx, fy) = ((sx - 0.5).clamp(0.0, (w - 1) as f32), (sy - 0.5).clamp(0.0, (h - 1) as f32));
            let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
            let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
            let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
            let at = |x: usize, y: usize, c: usize| source[(y * w + x) * channels + c].to_f32().unwrap_or(0.0);
            for c in 0..channels {
                let top = at(x0, y0, c) * (1.0 - ax) + at(x1, y0, c) * ax;
                let bottom = at(x0, y1, c) * (1.0 - ax) + at(x1, y1, c) * ax;
                let v = top * (1.0 - ay) + bottom * ay;
                let v = if integer { v.round() } else { v };
                row[i * channels + c] = NumCast::from(v).unwrap_or(P::Subpixel::DEFAULT_MIN_VALUE);
            }
        }
    });
    out
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
        if let Some(askew) = look.lid().and_then(|lid| look.straightened(whole, lid)) {
            return Some(askew);
        }
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
        let Some(lid) = look.lid() else { return Vec::new() };
        let mut parts = Vec::new();
        look.cut(look.whole(), lid, &mut parts);
        let mut prints = Vec::new();
        for part in parts {
            // A print askew in its part is straightened (its outline is a rectangle: checked).
            if let Some(askew) = look.straightened(part, lid) {
                if askew.right - askew.left >= PRINT_MIN && askew.bottom - askew.top >= PRINT_MIN {
                    prints.push(askew);
                }
                continue;
            }
            // A part of a row of prints may be mostly lid: the size left is what is checked.
            let p = look.trim(part, 1.0 - PRINT_MIN);
            let smallest = |side: usize| (PRINT_MIN * side as f32) as usize;
            if p.width() < smallest(look.w) || p.height() < smallest(look.h) {
                continue;
            }
            // A print is a rectangle of picture. Objects photographed on white or black (a
            // teapot, a lynx in the snow) leave lid round them inside their box: such a photo is
            // not cut up.
            if like_share(&look.pixels(p), lid) > 1.0 - PRINT_CONTENT {
                return Vec::new();
            }
            prints.push(look.crop(p));
        }
        prints.retain(Crop::is_sound);
        prints
    }

    /// The scanner's lid: the grey most of the scan's outer ring has, when there is one.
    fn lid(&self) -> Option<f32> {
        let look = self;
        let ring: Vec<f32> = (0..look.w)
            .flat_map(|x| [look.at(x, 0), look.at(x, look.h - 1)])
            .chain((0..look.h).flat_map(|y| [look.at(0, y), look.at(look.w - 1, y)]))
            .collect();
        // Prints laid against the glass's edges cover some of the ring: the lid must hold most of
        // it, not all. And it is a lid's white or black: an even sky or backdrop round a photo's
        // subject is not cut into pieces.
        let lid = median(ring.clone());
        (like_share(&ring, lid) >= 0.5 && !(LID_DARKEST..=LID_LIGHTEST).contains(&lid)).then_some(lid)
    }

    /// The print in `a`, straightened, when it lies askew on the lid: the slant that gives the
    /// print's outline the smallest box, when that outline is a rectangle's. `None` for a print
    /// that lies square (or nearly: [`SLANT_MIN`]) and for anything that is not a rectangle.
    fn straightened(&self, a: Area, lid: f32) -> Option<Crop> {
        // The outline: the first and the last pixels of print along each row and each column
        // (two side by side, so a speck of dust on the lid is not one), at their centres.
        let unlike = |x: usize, y: usize| (self.at(x, y) - lid).abs() > MARGIN_TOLERANCE;
        let ends = |line: &[bool]| {
            let first = line.windows(2).position(|p| p[0] && p[1])?;
            let last = line.windows(2).rposition(|p| p[0] && p[1])? + 1;
            Some((first, last))
        };
        let mut outline = Vec::new();
        for y in a.y0..a.y1 {
            let row: Vec<bool> = (a.x0..a.x1).map(|x| unlike(x, y)).collect();
            if let Some((first, last)) = ends(&row) {
                outline.extend([[a.x0 + first, y], [a.x0 + last, y]]);
            }
        }
        for x in a.x0..a.x1 {
            let column: Vec<bool> = (a.y0..a.y1).map(|y| unlike(x, y)).collect();
            if let Some((first, last)) = ends(&column) {
                outline.extend([[x, a.y0 + first], [x, a.y0 + last]]);
            }
        }
        if outline.len() < 16 {
            return None;
        }
        let outline: Vec<[f32; 2]> = outline.iter().map(|&[x, y]| [x as f32 + 0.5, y as f32 + 0.5]).collect();
        let look = (self.w as u32, self.h as u32);
        // The outline straightened by `angle`: its box (left, top, right, bottom) and points.
        let turned = |angle: f32| outline.iter().map(move |&p| Crop::straighten_point(p, look, angle));
        let bounds = |angle: f32| {
            turned(angle).fold([f32::MAX, f32::MAX, f32::MIN, f32::MIN], |b, [x, y]| {
                [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)]
            })
        };
        let area = |b: [f32; 4]| (b[2] - b[0]) * (b[3] - b[1]);
        let steps = (SLANT_MAX / SLANT_STEP).round() as i32;
        let (angle, _) = (-steps..=steps)
            .map(|k| k as f32 * SLANT_STEP)
            .map(|angle| (angle, area(bounds(angle))))
            .min_by(|x, y| x.1.total_cmp(&y.1))?;
        if angle.abs() < SLANT_MIN {
            return None;
        }
        // A rectangle's outline lies along its box's edges; a teapot's does not.
        let b = bounds(angle);
        let on_edge = turned(angle).filter(|&[x, y]| (x - b[0]).min(b[2] - x).min(y - b[1]).min(b[3] - y) <= 2.0);
        if (on_edge.count() as f32) < OUTLINE_ON_EDGE * outline.len() as f32 {
            return None;
        }
        // The outline's pixels are part lid, part print: each side moves in past them.
        let (w, h) = (self.w as f32, self.h as f32);
        let inset = 1.0;
        Some(Crop {
            left: ((b[0] + inset) / w).max(0.0),
            top: ((b[1] + inset) / h).max(0.0),
            right: ((b[2] - inset) / w).min(1.0),
            bottom: ((b[3] - inset) / h).min(1.0),
            angle,
        })
        .filter(Crop::is_sound)
    }
}

/// The steepest slant of a print on the glass looked for, either way, in degrees: prints are
/// laid down by hand, a few degrees off at most.
const SLANT_MAX: f32 = 10.0;
/// The step the slant is looked for in: a tenth of a degree moves the end of a 400-pixel edge
/// by under a pixel at the size the scan is looked at.
const SLANT_STEP: f32 = 0.1;
/// The least slant straightened: less moves the corner of the print by under two pixels at the
/// size the scan is looked at, which the frame square to the scan already leaves out.
const SLANT_MIN: f32 = 0.3;
/// The share of a print's outline that must lie along its straightened box's edges.
const OUTLINE_ON_EDGE: f32 = 0.8;

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
        Crop {
            left: a.x0 as f32 / w,
            top: a.y0 as f32 / h,
            right: a.x1 as f32 / w,
            bottom: a.y1 as f32 / h,
            angle: 0.0,
        }
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

    /// A scan of `print` laid askew, turned `slant` degrees clockwise about its centre at
    /// `centre`, on a lid of `lid`'s grey with its grain.
    fn askew_scan(size: (u32, u32), print: &DynamicImage, centre: (f32, f32), slant: f32, lid: u8) -> DynamicImage {
        let mut scan = scan(size, Pixels { x: 0, y: 0, width: 0, height: 0 }, lid).to_rgb8();
        let print = print.to_rgb8();
        let (pw, ph) = (print.width() as f32, print.height() as f32);
        let (sin, cos) = slant.to_radians().sin_cos();
        for (x, y, pixel) in scan.enumerate_pixels_mut() {
            // Back from the scan to the print: turned the other way about the print's centre.
            let (dx, dy) = (x as f32 + 0.5 - centre.0, y as f32 + 0.5 - centre.1);
            let (px, py) = (cos * dx + sin * dy + pw / 2.0, -sin * dx + cos * dy + ph / 2.0);
            if (0.0..pw).contains(&px) && (0.0..ph).contains(&py) {
                *pixel = *print.get_pixel(px as u32, py as u32);
            }
        }
        DynamicImage::ImageRgb8(scan)
    }

    /// The share of `picture`'s pixels as grey as the lid.
    fn lid_share(picture: &DynamicImage, lid: u8) -> f32 {
        let grey = picture.to_luma8();
        grey.pixels().filter(|p| p.0[0].abs_diff(lid) <= MARGIN_TOLERANCE as u8).count() as f32 / grey.len() as f32
    }

    #[test]
    fn a_print_askew_on_the_glass_is_straightened() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples");
        for (name, lid, slant) in [("walt-whitman.jpg", 236, 3.0), ("migrant-mother.jpg", 10, -6.5)] {
            let print = image::open(dir.join(name)).unwrap().resize(500, 500, image::imageops::Triangle);
            let scan = askew_scan((900, 800), &print, (420.0, 430.0), slant, lid);
            let found = find_print(&scan).expect("a print");
            assert!((found.angle + slant).abs() <= 0.25, "{name}: {found:?} for a slant of {slant}°");
            // The print and nothing of the lid, and nearly all the print.
            let kept = found.apply(&scan);
            // (Whitman's collar is as white as the lid: the print's own share is allowed for.)
            let (share, own) = (lid_share(&kept, lid), lid_share(&print, lid));
            assert!(
                share < own + 0.005,
                "{name}: {:.2} % of the crop is lid, {:.2} % of the print",
                share * 100.0,
                own * 100.0
            );
            let area = (kept.width() * kept.height()) as f32 / (print.width() * print.height()) as f32;
            assert!(area > 0.9, "{name}: {:.1} % of the print kept", area * 100.0);
            // Square to the scan, the same print is framed as before: no slant.
            let square = askew_scan((900, 800), &print, (420.0, 430.0), 0.0, lid);
            assert_eq!(find_print(&square).expect("a print").angle, 0.0, "{name}");
        }
        // A scan of two prints, each askew its own way.
        let print = image::open(dir.join("walt-whitman.jpg")).unwrap().resize(300, 300, image::imageops::Triangle);
        let mut scan = askew_scan((900, 500), &print, (220.0, 250.0), 4.0, 240);
        let right = askew_scan((900, 500), &print, (660.0, 240.0), -2.0, 240).crop_imm(450, 0, 450, 500);
        image::imageops::replace(&mut scan, &right, 450, 0);
        let found = find_prints(&scan);
        assert_eq!(found.len(), 2, "{found:?}");
        for (crop, slant) in found.iter().zip([4.0, -2.0]) {
            assert!((crop.angle + slant).abs() <= 0.25, "{crop:?} for a slant of {slant}°");
            assert!(lid_share(&crop.apply(&scan), 240) < lid_share(&print, 240) + 0.005, "{crop:?}");
            if std::env::var_os("TINTYPE_LOOK").is_some() {
                crop.apply(&scan).save(format!("/tmp/askew-{slant}.png")).unwrap();
                scan.save("/tmp/askew-scan.png").unwrap();
            }
        }
    }

    #[test]
    fn a_straightened_crop_keeps_the_colour_type_and_the_strokes_their_place() {
        let photo = DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(300, 200, |x, y| {
            image::Rgb([(x * 200) as u16, (y * 300) as u16, 40_000])
        }));
        let crop = Crop { left: 0.2, top: 0.1, right: 0.7, bottom: 0.9, angle: -5.0 };
        let kept = crop.apply(&photo);
        assert!(matches!(kept, DynamicImage::ImageRgb16(_)));
        assert_eq!((kept.width(), kept.height()), (150, 160));
        // The crop's centre pixel is the photo's pixel there, turned back (the ramp is linear,
        // so bilinear sampling finds it to within rounding).
        // (Pixel (75, 80) of the crop has its centre at (135.5, 100.5) on the straightened canvas.)
        let [cx, cy] = Crop::straighten_point([135.5, 100.5], (300, 200), 5.0);
        let want = [(cx - 0.5) * 200.0, (cy - 0.5) * 300.0];
        let got = kept.as_rgb16().unwrap().get_pixel(75, 80).0;
        assert!((got[0] as f32 - want[0]).abs() <= 1.0 && (got[1] as f32 - want[1]).abs() <= 1.0, "{got:?} {want:?}");
        // A stroke painted on the crop is kept on the photo as it lay, and comes back.
        let painted = Stroke { points: vec![[0.0, 0.0], [0.5, 0.5], [1.0, 0.3]], radius: 0.05, tool: Tool::Remove };
        let kept = crop.stroke_to_whole(&painted, (300, 200));
        // The crop's centre is where it was on the photo: straightening turns about the photo's.
        let [x, y] = Crop::straighten_point([135.0, 100.0], (300, 200), 5.0);
        assert!((kept.points[1][0] - x / 300.0).abs() < 1e-5 && (kept.points[1][1] - y / 200.0).abs() < 1e-5);
        let back = crop.stroke_from_whole(&kept, (300, 200));
        for (a, b) in back.points.iter().zip(&painted.points) {
            assert!((a[0] - b[0]).abs() < 1e-5 && (a[1] - b[1]).abs() < 1e-5, "{a:?} {b:?}");
        }
        assert!((back.radius - painted.radius).abs() < 1e-6);
        // Drawn in, the straightened whole photo loses the corners the slant left empty, and
        // no more: a corner of the frame touches the photo's edge.
        let fitted = Crop { angle: -5.0, ..Crop::WHOLE }.inside_photo((300, 200));
        let corners = fitted.corners((300, 200));
        assert!(corners.iter().flatten().all(|v| (-1e-4..=1.0001).contains(v)), "{corners:?}");
        assert!(corners.iter().flatten().any(|v| v.abs() < 1e-3 || (v - 1.0).abs() < 1e-3), "{corners:?}");
        assert_eq!(crop.inside_photo((300, 200)), crop, "a frame inside the photo stays");
        // Its corners on the photo as it lay: a rectangle turned 5° anticlockwise.
        let corners = crop.corners((300, 200));
        let slope = (corners[1][1] - corners[0][1]) * 200.0 / ((corners[1][0] - corners[0][0]) * 300.0);
        assert!((slope.atan().to_degrees() - 5.0).abs() < 1e-3, "{corners:?}");
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
        let crop = Crop { left: 0.25, top: 0.5, right: 0.75, bottom: 1.0, angle: 0.0 };
        for turns in 0..4 {
            let turned = crate::engine::turn(crop.apply(&photo), turns);
            let from_turned = crop.turned(turns).apply(&crate::engine::turn(photo.clone(), turns));
            assert_eq!(turned.as_bytes(), from_turned.as_bytes(), "{turns} turns");
        }
        assert_eq!(crop.turned(4), crop);
    }

    #[test]
    fn a_stroke_kept_on_the_whole_photo_comes_back_where_it_was_painted() {
        let crop = Crop { left: 0.1, top: 0.2, right: 0.6, bottom: 0.9, angle: 0.0 };
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
        assert!(!Crop { angle: 1.0, ..Crop::WHOLE }.is_whole());
        for bad in [
            Crop { left: 0.5, top: 0.0, right: 0.4, bottom: 1.0, angle: 0.0 },
            Crop { left: 0.0, top: 0.0, right: 1.5, bottom: 1.0, angle: 0.0 },
            Crop { left: f32::NAN, top: 0.0, right: 1.0, bottom: 1.0, angle: 0.0 },
            Crop { left: 0.0, top: 0.0, right: 0.01, bottom: 1.0, angle: 0.0 },
            Crop { angle: 60.0, ..Crop::WHOLE },
        ] {
            assert!(!bad.is_sound(), "{bad:?}");
        }
    }
}
