//! The people finder's exports for the worker: load the recognition model once, then one
//! session per `findPeople` call (frames in, people out).

use std::cell::RefCell;
use std::collections::HashMap;

use wasm_bindgen::prelude::*;

use super::{FaceRecognizer, Frame, PeopleFinder, Person};

thread_local! {
    static MODEL: RefCell<Option<FaceRecognizer>> = const { RefCell::new(None) };
    static SESSIONS: RefCell<HashMap<u32, Session>> = RefCell::new(HashMap::new());
}

/// A finder, then its people once finished.
struct Session {
    finder: PeopleFinder,
    people: Vec<Person>,
}

fn js_error(err: impl std::fmt::Display) -> JsError {
    JsError::new(&err.to_string())
}

/// Loads face-api.js's face recognition model from its manifest (JSON text) and weight file,
/// once; later calls do nothing.
#[wasm_bindgen(js_name = peopleLoadModel)]
pub fn people_load_model(manifest: &str, bin: &[u8]) -> Result<(), JsError> {
    MODEL.with(|model| {
        if model.borrow().is_none() {
            *model.borrow_mut() = Some(FaceRecognizer::new(manifest, bin).map_err(js_error)?);
        }
        Ok(())
    })
}

/// Whether the recognition model is loaded.
#[wasm_bindgen(js_name = peopleModelLoaded)]
pub fn people_model_loaded() -> bool {
    MODEL.with(|model| model.borrow().is_some())
}

/// Starts session `id` keeping faces scored at least `min_score`.
#[wasm_bindgen(js_name = peopleStart)]
pub fn people_start(id: u32, min_score: f32) -> Result<(), JsError> {
    let finder = PeopleFinder::new(min_score).map_err(js_error)?;
    SESSIONS.with(|s| {
        s.borrow_mut().insert(
            id,
            Session {
                finder,
                people: Vec::new(),
            },
        )
    });
    Ok(())
}

/// Adds the next sample (RGBA, taken at `time` seconds) to session `id`; answers its faces.
#[wasm_bindgen(js_name = peopleAddFrame)]
pub fn people_add_frame(
    id: u32,
    rgba: &[u8],
    width: u32,
    height: u32,
    time: f64,
) -> Result<u32, JsError> {
    SESSIONS.with(|s| {
        let mut sessions = s.borrow_mut();
        let session = sessions
            .get_mut(&id)
            .ok_or_else(|| JsError::new("no such session"))?;
        Ok(session.finder.add_frame(
            &Frame {
                rgba,
                width,
                height,
            },
            time,
        ) as u32)
    })
}

/// Finishes session `id`: answers the people, flattened, one row per sighting:
/// `[person, time, x1, y1, x2, y2, best (1 or 0), quality]`. Crops and descriptors follow by
/// [`people_crop`] and [`people_descriptor`].
#[wasm_bindgen(js_name = peopleFinish)]
pub fn people_finish(id: u32, max_people: u32) -> Result<Vec<f64>, JsError> {
    let people = MODEL.with(|model| {
        let model = model.borrow();
        let model = model
            .as_ref()
            .ok_or_else(|| JsError::new("the recognition model is not loaded"))?;
        SESSIONS.with(|s| {
            let mut sessions = s.borrow_mut();
            let session = sessions
                .get_mut(&id)
                .ok_or_else(|| JsError::new("no such session"))?;
            session.people = session
                .finder
                .finish(model, max_people as usize)
                .map_err(js_error)?;
            Ok::<_, JsError>(session.people.clone())
        })
    })?;
    let mut flat = Vec::new();
    for (i, person) in people.iter().enumerate() {
        for sighting in &person.sightings {
            let f = &sighting.face;
            flat.extend([
                i as f64,
                sighting.time,
                f64::from(f.x1),
                f64::from(f.y1),
                f64::from(f.x2),
                f64::from(f.y2),
            ]);
            flat.push(if sighting.sample == person.best.sample {
                1.0
            } else {
                0.0
            });
            flat.push(f64::from(person.quality));
        }
    }
    Ok(flat)
}

/// Person `index`'s crop of a finished session: `[x, y, width, height]` then the RGBA bytes.
#[wasm_bindgen(js_name = peopleCrop)]
pub fn people_crop(id: u32, index: usize) -> Result<Vec<u8>, JsError> {
    SESSIONS.with(|s| {
        let sessions = s.borrow();
        let person = sessions
            .get(&id)
            .and_then(|session| session.people.get(index))
            .ok_or_else(|| JsError::new("no such person"))?;
        let c = &person.crop;
        let mut out = Vec::with_capacity(16 + c.rgba.len());
        for v in [c.x, c.y, c.width, c.height] {
            out.extend(v.to_le_bytes());
        }
        out.extend_from_slice(&c.rgba);
        Ok(out)
    })
}

/// Person `index`'s descriptor (128 values) of a finished session.
#[wasm_bindgen(js_name = peopleDescriptor)]
pub fn people_descriptor(id: u32, index: usize) -> Result<Vec<f32>, JsError> {
    SESSIONS.with(|s| {
        let sessions = s.borrow();
        sessions
            .get(&id)
            .and_then(|session| session.people.get(index))
            .map(|p| p.descriptor.to_vec())
            .ok_or_else(|| JsError::new("no such person"))
    })
}

/// Ends session `id` (after its results are read, or when the call is aborted).
#[wasm_bindgen(js_name = peopleEnd)]
pub fn people_end(id: u32) {
    SESSIONS.with(|s| s.borrow_mut().remove(&id));
}

/// The descriptor of a face in an RGBA image (the largest face BlazeFace finds), or an empty
/// list when it finds none: lets an app (and the tests) compare a person with a portrait.
#[wasm_bindgen(js_name = peopleDescribeImage)]
pub fn people_describe_image(rgba: &[u8], width: u32, height: u32) -> Result<Vec<f32>, JsError> {
    let frame = Frame {
        rgba,
        width,
        height,
    };
    if !frame.is_valid() {
        return Err(JsError::new("the image is not width x height RGBA pixels"));
    }
    let mut detector = crate::FaceDetector::new().map_err(js_error)?;
    let faces = detector.detect(rgba, 4, width, height, crate::MIN_SCORE);
    let Some(face) = faces
        .iter()
        .max_by(|a, b| (a.width() * a.height()).total_cmp(&(b.width() * b.height())))
    else {
        return Ok(Vec::new());
    };
    MODEL.with(|model| {
        let model = model.borrow();
        let model = model
            .as_ref()
            .ok_or_else(|| JsError::new("the recognition model is not loaded"))?;
        Ok(model
            .describe(&super::chip::chip(&frame, face))
            .map_err(js_error)?
            .to_vec())
    })
}

/// The descriptor of a face already cut out: `rgba` holds 150 x 150 RGBA pixels (as
/// face-api.js's `computeFaceDescriptor` takes a 150 x 150 canvas), for comparing this runner
/// with face-api.js's own.
#[wasm_bindgen(js_name = peopleDescribeChip)]
pub fn people_describe_chip(rgba: &[u8]) -> Result<Vec<f32>, JsError> {
    let rgb: Vec<u8> = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    MODEL.with(|model| {
        let model = model.borrow();
        let model = model
            .as_ref()
            .ok_or_else(|| JsError::new("the recognition model is not loaded"))?;
        Ok(model.describe(&rgb).map_err(js_error)?.to_vec())
    })
}
