//! Face detection for the sandbox: faceswap-detect's detector (the same code the browser runs as
//! wasm) on `image` buffers.

use image::{GrayImage, RgbImage};

pub use faceswap_detect::Face;

/// A configured detector working on `image` buffers. Not `Send`: make one per thread.
pub struct FaceDetector {
    inner: faceswap_detect::SeetaDetector,
}

impl FaceDetector {
    /// A detector with the default settings; `None` only if the built-in model is corrupt.
    pub fn new() -> Option<Self> {
        faceswap_detect::SeetaDetector::new().map(|inner| Self { inner })
    }

    /// A detector that ignores faces smaller than `min_face_size` pixels (at least 20).
    pub fn with_min_face_size(min_face_size: u32) -> Option<Self> {
        faceswap_detect::SeetaDetector::with_min_face_size(min_face_size)
            .map(|inner| Self { inner })
    }

    /// The faces of a grey image, sorted left to right (then top to bottom).
    pub fn detect_gray(&mut self, gray: &GrayImage) -> Vec<Face> {
        let (width, height) = gray.dimensions();
        self.inner.detect_gray(gray.as_raw(), width, height)
    }

    /// The faces of a colour image, sorted left to right.
    pub fn detect_rgb(&mut self, rgb: &RgbImage) -> Vec<Face> {
        let (width, height) = rgb.dimensions();
        let gray = faceswap_detect::to_gray(rgb.as_raw(), 3);
        self.inner.detect_gray(&gray, width, height)
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
