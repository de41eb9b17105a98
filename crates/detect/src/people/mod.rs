//! Finding the people in a video (feature `people`, the module `pkg/detect/people/` that
//! `findPeople` loads): faces found by [`FaceDetector`] in frames sampled across the clip are
//! linked into tracklets by position ([`track`]), described by face-api.js's face recognition
//! network ([`resnet`], run by this module's own layers), and grouped into people by appearance.
//! Each person comes with the best view of their face: large, frontal, sharp ([`chip`]).

pub mod chip;
pub mod layers;
pub mod resnet;
pub mod track;
#[cfg(target_arch = "wasm32")]
mod wasm;
pub mod weights;

pub use chip::{Crop, Frame};
pub use resnet::{FaceRecognizer, DESCRIPTOR};
pub use track::{Sighting, SAME_PERSON};

use crate::{FaceDetector, ModelError};

/// The best view of a tracklet so far.
#[derive(Debug, Clone)]
struct Best {
    quality: f32,
    /// Index into the tracklet's sightings.
    sighting: usize,
    chip: Vec<u8>,
    crop: Crop,
}

/// One person found in the video.
#[derive(Debug, Clone)]
pub struct Person {
    /// Every sample the person is seen in, in time order.
    pub sightings: Vec<Sighting>,
    /// The sighting of the best view.
    pub best: Sighting,
    /// The best view, padded as `cropFaces` pads.
    pub crop: Crop,
    /// How good the best view is, 0 to 1.
    pub quality: f32,
    /// The recognition network's descriptor of the best view.
    pub descriptor: [f32; DESCRIPTOR],
}

/// Finds people frame after frame: [`PeopleFinder::add_frame`] each sample, then
/// [`PeopleFinder::finish`].
#[derive(Debug)]
pub struct PeopleFinder {
    detector: FaceDetector,
    min_score: f32,
    linker: track::Linker,
    best: Vec<Best>,
    samples: usize,
}

impl PeopleFinder {
    /// A finder keeping faces BlazeFace scores at least `min_score` (0..1).
    pub fn new(min_score: f32) -> Result<Self, ModelError> {
        Ok(Self {
            detector: FaceDetector::new()?,
            min_score,
            linker: track::Linker::default(),
            best: Vec::new(),
            samples: 0,
        })
    }

    /// Detects and links the faces of the next sample, taken at `time` seconds; answers how
    /// many faces it holds. A buffer that is not `width x height` RGBA counts as no face.
    pub fn add_frame(&mut self, frame: &Frame, time: f64) -> usize {
        let sample = self.samples;
        self.samples += 1;
        if !frame.is_valid() {
            return 0;
        }
        let faces = self
            .detector
            .detect(frame.rgba, 4, frame.width, frame.height, self.min_score);
        let tracklets = self.linker.add(sample, time, &faces);
        for (face, &t) in faces.iter().zip(&tracklets) {
            let chip = chip::chip(frame, face);
            let quality = chip::quality(face, &chip);
            let sighting = self.linker.tracklets()[t].sightings.len() - 1;
            if t == self.best.len() {
                self.best.push(Best {
                    quality,
                    sighting,
                    chip,
                    crop: chip::crop(frame, face),
                });
            } else if quality > self.best[t].quality {
                self.best[t] = Best {
                    quality,
                    sighting,
                    chip,
                    crop: chip::crop(frame, face),
                };
            }
        }
        faces.len()
    }

    /// The people: tracklets described and grouped by appearance, at most `max_people` (those
    /// seen in most samples), in the order they first appear (left to right among those who
    /// appear together).
    pub fn finish(
        &self,
        recognizer: &FaceRecognizer,
        max_people: usize,
    ) -> Result<Vec<Person>, ModelError> {
        let tracklets = self.linker.tracklets();
        let descriptors = self
            .best
            .iter()
            .map(|best| recognizer.describe(&best.chip).map(|d| vec![d]))
            .collect::<Result<Vec<_>, _>>()?;
        let mut people: Vec<Person> = track::group(tracklets, &descriptors, SAME_PERSON)
            .into_iter()
            .map(|members| {
                let top = *members
                    .iter()
                    .max_by(|&&a, &&b| self.best[a].quality.total_cmp(&self.best[b].quality))
                    .expect("groups are never empty");
                let best = &self.best[top];
                let mut sightings: Vec<Sighting> = members
                    .iter()
                    .flat_map(|&t| tracklets[t].sightings.iter().cloned())
                    .collect();
                sightings.sort_by_key(|s| s.sample);
                Person {
                    sightings,
                    best: tracklets[top].sightings[best.sighting].clone(),
                    crop: best.crop.clone(),
                    quality: best.quality,
                    descriptor: descriptors[top][0],
                }
            })
            .collect();
        people.sort_by_key(|p| std::cmp::Reverse(p.sightings.len()));
        people.truncate(max_people);
        people.sort_by(|a, b| {
            let (fa, fb) = (&a.sightings[0], &b.sightings[0]);
            fa.sample
                .cmp(&fb.sample)
                .then(fa.face.x1.total_cmp(&fb.face.x1))
        });
        Ok(people)
    }
}
