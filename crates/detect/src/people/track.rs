//! Linking faces into people. Within a run of samples a face is linked to the face of the
//! previous sample that sits where it was (same place, similar size) when neither has another
//! such candidate: a *tracklet*. Where that is ambiguous (two faces near each other, as when two
//! people cross) or a face is missing for a sample, the tracklet ends. Tracklets are then
//! grouped into people by appearance (the recognition network's descriptors), never grouping two
//! that are seen in the same sample, so a person who leaves and comes back, or two who cross,
//! stay themselves.

use super::resnet::{distance, DESCRIPTOR};
use crate::Face;

/// How far a face's centre may move between two samples, in face sides.
const MAX_STEP: f32 = 0.6;
/// How much a face's side may grow or shrink between two samples (ratio).
const MAX_GROWTH: f32 = 1.5;
/// The Euclidean distance under which two descriptors are taken for one person (face-api.js's
/// usual threshold is 0.6).
pub const SAME_PERSON: f32 = 0.6;

/// A face seen in one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    /// The sample's index (0, 1, ...).
    pub sample: usize,
    /// The sample's time in seconds.
    pub time: f64,
    /// The face.
    pub face: Face,
}

/// Sightings of one face in consecutive samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tracklet {
    /// In sample order.
    pub sightings: Vec<Sighting>,
}

/// Builds tracklets sample after sample.
#[derive(Debug, Default)]
pub struct Linker {
    tracklets: Vec<Tracklet>,
    /// The tracklets extended by the last sample.
    active: Vec<usize>,
    last_sample: Option<usize>,
}

impl Linker {
    /// Adds the faces of sample `sample` (increasing) at `time`; answers the tracklet of each.
    pub fn add(&mut self, sample: usize, time: f64, faces: &[Face]) -> Vec<usize> {
        let follows = self.last_sample.is_some_and(|last| last + 1 == sample);
        let active = if follows {
            std::mem::take(&mut self.active)
        } else {
            Vec::new()
        };
        let near: Vec<Vec<usize>> = faces
            .iter()
            .map(|face| {
                active
                    .iter()
                    .copied()
                    .filter(|&t| {
                        let last = &self.tracklets[t]
                            .sightings
                            .last()
                            .expect("never empty")
                            .face;
                        close(last, face)
                    })
                    .collect()
            })
            .collect();
        let mut assigned = Vec::with_capacity(faces.len());
        for (i, face) in faces.iter().enumerate() {
            let sighting = Sighting {
                sample,
                time,
                face: *face,
            };
            let unique = match near[i].as_slice() {
                [t] if near.iter().filter(|n| n.contains(t)).count() == 1 => Some(*t),
                _ => None,
            };
            let t = match unique {
                Some(t) => t,
                None => {
                    self.tracklets.push(Tracklet::default());
                    self.tracklets.len() - 1
                }
            };
            self.tracklets[t].sightings.push(sighting);
            assigned.push(t);
        }
        self.active = assigned.clone();
        self.last_sample = Some(sample);
        assigned
    }

    /// The tracklets so far.
    pub fn tracklets(&self) -> &[Tracklet] {
        &self.tracklets
    }
}

/// Whether `b` can be the face `a` one sample later.
fn close(a: &Face, b: &Face) -> bool {
    let (side_a, side_b) = (a.width().max(a.height()), b.width().max(b.height()));
    let ((ax, ay), (bx, by)) = (a.centre(), b.centre());
    let step = ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt() / side_a.max(side_b).max(1.0);
    let growth = side_a.max(side_b) / side_a.min(side_b).max(1.0);
    step <= MAX_STEP && growth <= MAX_GROWTH
}

/// Groups tracklets into people: each person is a list of tracklet indices. `descriptors` holds
/// one or more descriptors per tracklet. Repeatedly joins the two groups whose closest
/// descriptors are nearest, while under `threshold`, never joining groups seen in one sample.
pub fn group(
    tracklets: &[Tracklet],
    descriptors: &[Vec<[f32; DESCRIPTOR]>],
    threshold: f32,
) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = (0..tracklets.len()).map(|t| vec![t]).collect();
    let samples = |group: &[usize]| -> Vec<usize> {
        group
            .iter()
            .flat_map(|&t| tracklets[t].sightings.iter().map(|s| s.sample))
            .collect()
    };
    loop {
        let mut best: Option<(f32, usize, usize)> = None;
        for a in 0..groups.len() {
            let seen_a = samples(&groups[a]);
            for b in a + 1..groups.len() {
                if samples(&groups[b]).iter().any(|s| seen_a.contains(s)) {
                    continue;
                }
                let d = groups[a]
                    .iter()
                    .flat_map(|&ta| groups[b].iter().map(move |&tb| (ta, tb)))
                    .flat_map(|(ta, tb)| {
                        descriptors[ta].iter().flat_map(move |da| {
                            descriptors[tb].iter().map(move |db| distance(da, db))
                        })
                    })
                    .fold(f32::INFINITY, f32::min);
                if d < threshold && best.is_none_or(|(bd, ..)| d < bd) {
                    best = Some((d, a, b));
                }
            }
        }
        let Some((_, a, b)) = best else { break };
        let joined = groups.remove(b);
        groups[a].extend(joined);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, y: f32, side: f32) -> Face {
        Face {
            x1: x,
            y1: y,
            x2: x + side,
            y2: y + side,
            score: 0.9,
            keypoints: None,
        }
    }

    #[test]
    fn a_face_moving_a_little_stays_one_tracklet() {
        let mut linker = Linker::default();
        assert_eq!(
            linker.add(0, 0.0, &[face(0.0, 0.0, 100.0), face(500.0, 0.0, 100.0)]),
            vec![0, 1]
        );
        assert_eq!(
            linker.add(1, 0.5, &[face(20.0, 5.0, 105.0), face(480.0, 0.0, 100.0)]),
            vec![0, 1]
        );
        assert_eq!(linker.tracklets()[0].sightings.len(), 2);
    }

    #[test]
    fn a_gap_a_jump_or_two_faces_close_together_start_new_tracklets() {
        let mut linker = Linker::default();
        linker.add(0, 0.0, &[face(0.0, 0.0, 100.0)]);
        assert_eq!(
            linker.add(2, 1.0, &[face(0.0, 0.0, 100.0)]),
            vec![1],
            "a missing sample"
        );
        assert_eq!(
            linker.add(3, 1.5, &[face(300.0, 0.0, 100.0)]),
            vec![2],
            "a jump"
        );
        assert_eq!(
            linker.add(4, 2.0, &[face(280.0, 0.0, 100.0), face(330.0, 0.0, 100.0)]),
            vec![3, 4],
            "two candidates"
        );
    }

    #[test]
    fn tracklets_group_by_descriptor_but_never_when_seen_together() {
        let mut linker = Linker::default();
        linker.add(0, 0.0, &[face(0.0, 0.0, 100.0), face(500.0, 0.0, 100.0)]);
        linker.add(2, 1.0, &[face(0.0, 0.0, 100.0)]);
        let tracklets = linker.tracklets();
        let (mut a, mut b) = ([0.0; DESCRIPTOR], [0.0; DESCRIPTOR]);
        a[0] = 1.0;
        b[1] = 1.0;
        let mut a2 = a;
        a2[2] = 0.1;
        // Tracklets 0 and 2 look alike, 1 does not.
        let people = group(tracklets, &[vec![a], vec![b], vec![a2]], SAME_PERSON);
        assert_eq!(people, vec![vec![0, 2], vec![1]]);
        // Two alike faces seen in one sample stay two people.
        let people = group(&tracklets[..2], &[vec![a], vec![a]], SAME_PERSON);
        assert_eq!(people.len(), 2);
    }
}
