//! Face detection for the sandbox: faceswap-detect's detector (the same BlazeFace code the
//! browser runs as wasm, plus rustface for the small faces BlazeFace cannot see, as the browser's
//! `detectFaces(source, { smallFaces: true })` does) on `image` buffers.

use image::{GrayImage, RgbImage};

pub use faceswap_detect::Face;

/// A detector working on `image` buffers. Not `Send`: make one per thread.
pub struct FaceDetector {
    inner: faceswap_detect::CombinedDetector,
}

impl FaceDetector {
    /// A detector with the built-in models; `None` only if one is corrupt.
    pub fn new() -> Option<Self> {
        faceswap_detect::CombinedDetector::new()
            .ok()
            .map(|inner| Self { inner })
    }

    /// The faces of a colour image (BlazeFace's with keypoints, then rustface's small ones),
    /// sorted left to right.
    pub fn detect_rgb(&mut self, rgb: &RgbImage) -> Vec<Face> {
        let (width, height) = rgb.dimensions();
        self.inner
            .detect(rgb.as_raw(), 3, width, height, faceswap_detect::MIN_SCORE)
    }
}

/// Luma of an RGB image, with faceswap-detect's conversion (the browser uses the same one).
pub fn to_gray(rgb: &RgbImage) -> GrayImage {
    let (width, height) = rgb.dimensions();
    let mut gray = GrayImage::new(width, height);
    // One luma byte per pixel: the two buffers have the same length.
    for (out, luma) in gray
        .iter_mut()
        .zip(faceswap_detect::to_gray(rgb.as_raw(), 3))
    {
        *out = luma;
    }
    gray
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_conversion_keeps_the_size() {
        let rgb = RgbImage::from_pixel(7, 5, image::Rgb([10, 200, 30]));
        let gray = to_gray(&rgb);
        assert_eq!(gray.dimensions(), (7, 5));
        assert_eq!(gray.get_pixel(3, 3)[0], 124);
    }
}
