//! A checked aifaceswap request as data ([`Plan`]), and the one async function that sends any
//! plan ([`send`]).
//!
//! Each operation's reader ([`super::operations`]) is synchronous: it reads the JS request,
//! validates it with faceswap-core's request of that operation (a Blob seen as its stand-in URL,
//! so nothing is uploaded for a request that would be refused) and lists the body's parts. Only
//! [`send`] awaits: it checks every Blob by its magic bytes, then sends the image operations'
//! Blobs as multipart files (the provider's file form) and uploads the video operations' Blobs
//! through the proxy (the provider takes only URLs there), and reads the provider's envelope. One
//! async function for the six operations keeps one state machine in the wasm.

use alloc::{borrow::ToOwned, string::String, vec::Vec};

use faceswap_core::aifaceswap::Operation;
use faceswap_core::MediaType;
use js_sys::{Array, Object};
use wasm_bindgen::JsValue;
use web_sys::FormData;

use crate::error::ClientError;
use crate::js;
use crate::media::{append_to_form, check_media, resolve_media, Kind, Medium, Source};
use crate::provider_client::{envelope_data, CallOptions, ProviderClient};

/// One field of the provider's body.
pub enum Part {
    /// A media input, by its index in [`Plan::media`].
    Media(usize),
    /// Several media inputs under one name (`face_image` of `multiFaceSwap`).
    MediaList(Vec<usize>),
    /// Whole numbers (`index`): an array in JSON, one text part each in a form.
    Integers(Vec<i64>),
    /// A number (`duration`, `enhance`).
    Number(f64),
    /// Text (`base64_img`, normalised by validation).
    Text(String),
    /// `ref_info`: each `face_ref` (normalised) with the media index of its `face_url`.
    RefInfo(Vec<(String, usize)>),
}

/// What an operation resolves, read from the envelope's `data`.
#[derive(Clone, Copy)]
pub enum Answer {
    /// `{ taskId, points }`.
    Task,
    /// `{ faces, points }` (`extractFace`).
    Faces,
    /// `{ pos }` (`extractBase64Face`).
    Pos,
}

/// A request read and validated, ready to send.
pub struct Plan {
    /// The operation.
    pub op: Operation,
    /// Its images and videos, in the order the body lists them.
    pub media: Vec<Medium>,
    /// The body's fields by the provider's names, in its order.
    pub body: Vec<(&'static str, Part)>,
    /// What it resolves.
    pub answer: Answer,
}

impl Plan {
    /// An empty plan of `op`.
    pub fn new(op: Operation, answer: Answer) -> Self {
        Plan {
            op,
            media: Vec::new(),
            body: Vec::new(),
            answer,
        }
    }

    /// Adds a medium and returns its index.
    pub fn add_medium(&mut self, source: Source, kind: Kind, field: String) -> usize {
        self.media.push(Medium {
            source,
            kind,
            field,
        });
        self.media.len() - 1
    }

    /// Adds a medium as the body's field `wire`.
    pub fn medium(&mut self, wire: &'static str, source: Source, kind: Kind, field: &str) {
        let index = self.add_medium(source, kind, field.to_owned());
        self.body.push((wire, Part::Media(index)));
    }
}

/// Sends `plan`: checks its Blobs, sends them as files (image operations) or uploads them
/// (video operations), POSTs the body, and reads the envelope into the operation's answer.
pub async fn send(
    client: &ProviderClient,
    plan: Plan,
    options: &CallOptions,
) -> Result<JsValue, ClientError> {
    let types = check_media(&plan.media).await?;
    let spec = plan.op.spec();
    let answer = if !spec.file_fields.is_empty() && types.iter().any(Option::is_some) {
        let form = form(&plan, &types)?;
        client.submit_form(spec, form, options).await?
    } else {
        let urls = resolve_media(client, &plan.media, options.signal.as_ref()).await?;
        client
            .submit_body(spec, json(&plan, &urls), options)
            .await?
    };
    read_answer(plan.answer, &envelope_data(&answer)?)
}

/// The provider's file form: media as file parts (URLs as text parts), numbers and text as text
/// parts, one part per entry of a list.
fn form(plan: &Plan, types: &[Option<MediaType>]) -> Result<FormData, ClientError> {
    let form = FormData::new().map_err(|_| ClientError::network("FormData unavailable"))?;
    let media = |name: &str, index: usize| {
        append_to_form(&form, name, &plan.media[index].source, types[index])
    };
    let text = |name: &str, value: &str| {
        form.append_with_str(name, value).map_err(|_| {
            ClientError::invalid_field(
                name,
                faceswap_core::text!(name, " cannot be added to the form"),
            )
        })
    };
    for (name, part) in &plan.body {
        match part {
            Part::Media(index) => media(name, *index)?,
            Part::MediaList(indexes) => {
                for index in indexes {
                    media(name, *index)?;
                }
            }
            Part::Integers(numbers) => {
                for number in numbers {
                    text(name, &faceswap_core::text!(*number))?;
                }
            }
            Part::Number(number) => text(name, &faceswap_core::text!(*number as i64))?,
            Part::Text(value) => text(name, value)?,
            Part::RefInfo(_) => {
                return Err(ClientError::internal("ref_info is never sent as a form"))
            }
        }
    }
    Ok(form)
}

/// The JSON body, with `urls[i]` the URL of medium `i`.
fn json(plan: &Plan, urls: &[String]) -> Object {
    let body = Object::new();
    for (name, part) in &plan.body {
        let value: JsValue = match part {
            Part::Media(index) => JsValue::from_str(&urls[*index]),
            Part::MediaList(indexes) => indexes
                .iter()
                .map(|index| JsValue::from_str(&urls[*index]))
                .collect::<Array>()
                .into(),
            Part::Integers(numbers) => numbers
                .iter()
                .map(|number| JsValue::from_f64(*number as f64))
                .collect::<Array>()
                .into(),
            Part::Number(number) => JsValue::from_f64(*number),
            Part::Text(text) => JsValue::from_str(text),
            Part::RefInfo(pairs) => pairs
                .iter()
                .map(|(face_ref, index)| {
                    let item = Object::new();
                    js::set(&item, "face_ref", &JsValue::from_str(face_ref));
                    js::set(&item, "face_url", &JsValue::from_str(&urls[*index]));
                    JsValue::from(item)
                })
                .collect::<Array>()
                .into(),
        };
        js::set(&body, name, &value);
    }
    body
}

/// The operation's answer from the envelope's `data`.
fn read_answer(answer: Answer, data: &JsValue) -> Result<JsValue, ClientError> {
    let (first, second) = match answer {
        Answer::Task => {
            if js::get(data, "task_id").as_string().is_none() {
                return Err(ClientError::upstream(
                    "the provider's answer has no task_id",
                ));
            }
            (("task_id", "taskId"), Some("points"))
        }
        Answer::Faces => (("faces", "faces"), Some("points")),
        Answer::Pos => (("pos", "pos"), None),
    };
    let result = Object::new();
    js::set(&result, first.1, &js::get(data, first.0));
    if let Some(name) = second {
        js::set(&result, name, &js::get(data, name));
    }
    Ok(result.into())
}
