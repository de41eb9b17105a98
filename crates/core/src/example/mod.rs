//! An example provider that exists only to prove the provider seam, behind the cargo feature
//! `example-provider` (which only tests enable). No hosted API answers like this: its shapes are
//! the project's own, as small as a provider can be: two image URLs in, a webhook out.
//!
//! - `POST v1/swap` with `Authorization: Bearer KEY` and `{"target_url", "face_url",
//!   "webhook_url"}` answers `{"id"}`;
//! - the result is POSTed to `webhook_url` as `{"id", "state": "succeeded", "output_url"}` or
//!   `{"id", "state": "failed", "error"}`;
//! - an error answer is `{"error": "..."}` with an HTTP status.
//!
//! Everything the project needs of it is here and in the sandbox's fake
//! (`faceswap_sandbox::providers::example`): every other layer reads it through the registry.

use alloc::{format, string::String};

use serde::{Deserialize, Serialize};

use crate::parse::{from_json, from_value};
use crate::provider::{
    Adapter, AdapterSettings, AuthScheme, BuildError, CallbackAck, CallbackHeaders, CallbackTarget,
    Catalog, Cost, CostUnit, FieldKind, FieldNames, FieldSpec, FieldValues, FormInput,
    OperationSpec, Prepared, PriceInputs, ProviderFault, ProviderInfo, ResultDelivery,
    SubmitOutcome, SwapFaceSpec, TaskUpdate, UpstreamRequest,
};
use crate::task::is_safe_task_id;
use crate::url::check_http_url;
use crate::FieldError;

/// The example provider's fixed facts.
pub const PROVIDER: ProviderInfo = ProviderInfo {
    id: "example",
    // `.invalid` never resolves (RFC 2606): only the sandbox answers this provider.
    default_base_url: "https://api.example-provider.invalid",
    auth: AuthScheme::Bearer,
    delivery: ResultDelivery::Callback,
    callback_secret_header: None,
    cost_unit: CostUnit::Credits,
    settings: &[],
    callback_ack: CallbackAck::OK,
    longest_submit_wait: None,
    legacy_spend_cap: None,
};

/// The route of the swap, under `/api/example/`, and its path at the provider.
pub const ROUTE: &str = "v1/swap";

/// The one operation: the face of `face_url` onto the picture `target_url`.
pub static OPERATIONS: [OperationSpec; 1] = [OperationSpec {
    name: "swap",
    js_name: "faceSwap",
    route: ROUTE,
    starts_task: true,
    file_fields: &[],
    form_text_fields: &[],
    repeated_fields: &[],
    accepts_json: true,
    fields: &[
        FieldSpec {
            wire: "target_url",
            kind: FieldKind::Image,
            required: true,
        },
        FieldSpec {
            wire: "face_url",
            kind: FieldKind::Image,
            required: true,
        },
    ],
}];

/// Two credits a swap.
const PRICE: Cost = Cost::new(2.0, CostUnit::Credits);

/// The example provider in the catalog.
pub static CATALOG: Catalog = Catalog {
    info: &PROVIDER,
    operations: &OPERATIONS,
    price: catalog_price,
    field_names: FieldNames::SNAKE_CASE,
    swap_face: SwapFaceSpec {
        operation: "faceSwap",
        target: "targetUrl",
        face: "faceUrl",
    },
    client_class: "ExampleClient",
    check: Some(Request::check_fields),
};

fn catalog_price(_operation: &OperationSpec, _inputs: &PriceInputs) -> Result<Cost, FieldError> {
    Ok(PRICE)
}

/// A validated swap request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The picture that receives the face.
    pub target_url: String,
    /// The image that supplies the face.
    pub face_url: String,
}

impl Request {
    /// Parses and validates a JSON body.
    pub fn from_json(body: &[u8]) -> Result<Self, FieldError> {
        let request: Self = from_json(body)?;
        check_images(&request.target_url, &request.face_url)?;
        Ok(request)
    }

    /// The catalog's check: the values the browser library read, by the rules of
    /// [`Request::from_json`].
    pub fn check_fields(
        _operation: &OperationSpec,
        fields: &FieldValues,
    ) -> Result<(), FieldError> {
        check_images(fields.text("target_url")?, fields.text("face_url")?)
    }
}

fn check_images(target: &str, face: &str) -> Result<(), FieldError> {
    check_http_url("target_url", target)?;
    check_http_url("face_url", face)
}

/// The body sent upstream: the request and the proxy's webhook.
#[derive(Serialize)]
struct Upstream<'a> {
    target_url: &'a str,
    face_url: &'a str,
    webhook_url: &'a str,
}

/// The submit's answer, `{"id"}`.
#[derive(Deserialize)]
struct Created {
    id: String,
}

/// The webhook's body.
#[derive(Debug, Deserialize)]
pub struct Webhook {
    /// The task.
    pub id: String,
    /// `succeeded` or `failed`.
    pub state: String,
    /// The result, when succeeded.
    #[serde(default)]
    pub output_url: Option<String>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
}

/// An error answer, `{"error"}`.
#[derive(Deserialize, Default)]
struct ErrorAnswer {
    #[serde(default)]
    error: Option<String>,
}

/// The example provider's adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Example;

impl Adapter for Example {
    fn info(&self) -> &'static ProviderInfo {
        CATALOG.info
    }

    fn operations(&self) -> &'static [OperationSpec] {
        CATALOG.operations
    }

    fn price(&self, operation: &OperationSpec, inputs: &PriceInputs) -> Cost {
        CATALOG.price_of(operation, inputs).unwrap_or(PRICE)
    }

    fn prepare_json(&self, route: &str, body: &[u8]) -> Result<Prepared, FieldError> {
        if route != ROUTE {
            return Err(FieldError::new(
                "operation",
                format!("no operation at {route:?}"),
            ));
        }
        let request = Request::from_json(body)?;
        let value = serde_json::to_value(&request)
            .map_err(|e| FieldError::new("body", format!("the request cannot be read: {e}")))?;
        Ok(Prepared {
            operation: &OPERATIONS[0],
            request: value,
            cost: PRICE,
            multipart: false,
        })
    }

    fn prepare_form(&self, _route: &str, _form: &FormInput) -> Result<Prepared, FieldError> {
        Err(FieldError::new("body", "the example provider takes JSON"))
    }

    fn upstream_request(
        &self,
        prepared: &Prepared,
        callback: Option<&CallbackTarget>,
        _settings: &AdapterSettings,
    ) -> Result<UpstreamRequest, BuildError> {
        let request: Request =
            from_value(&prepared.request).map_err(|reason| BuildError::Shape {
                operation: OPERATIONS[0].name,
                reason,
            })?;
        let webhook_url = callback.map_or("", |target| target.url.as_str());
        let json = serde_json::to_vec(&Upstream {
            target_url: &request.target_url,
            face_url: &request.face_url,
            webhook_url,
        })?;
        Ok(UpstreamRequest::post_json(ROUTE, json))
    }

    fn read_submit(
        &self,
        _prepared: &Prepared,
        body: &[u8],
    ) -> Result<SubmitOutcome, ProviderFault> {
        let created = serde_json::from_slice::<Created>(body)
            .map_err(|_| ProviderFault::malformed("the answer has no id"))?;
        if !is_safe_task_id(&created.id) {
            return Err(ProviderFault::malformed("the answer's id is not usable"));
        }
        Ok(SubmitOutcome::Started {
            task_id: created.id,
            points: None,
        })
    }

    fn read_error(&self, status: u16, body: &[u8]) -> ProviderFault {
        let answer = serde_json::from_slice::<ErrorAnswer>(body).unwrap_or_default();
        let message = answer
            .error
            .unwrap_or_else(|| format!("the provider rejected the request (code {status})"));
        ProviderFault::new(crate::provider::FaultKind::Upstream, message)
    }

    fn read_callback(
        &self,
        body: &[u8],
        _headers: CallbackHeaders<'_>,
    ) -> Result<TaskUpdate, FieldError> {
        let hook: Webhook = from_json(body)?;
        let task_id = Some(hook.id);
        match hook.state.as_str() {
            "succeeded" => match hook.output_url.filter(|url| !url.is_empty()) {
                Some(url) => Ok(TaskUpdate::succeeded(task_id, url)),
                None => Err(FieldError::required("output_url")),
            },
            "failed" => Ok(TaskUpdate::failed(task_id, hook.error)),
            _ => Err(FieldError::new(
                "state",
                "state must be succeeded or failed",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{FieldValue, UpstreamBody};
    use crate::TaskStatus;
    use serde_json::{json, Value};

    fn prepare(body: Value) -> Result<Prepared, FieldError> {
        Example.prepare_json(ROUTE, &serde_json::to_vec(&body).unwrap())
    }

    #[test]
    fn a_swap_is_checked_priced_and_sent_with_the_proxys_webhook() {
        let prepared = prepare(json!({"target_url": "https://a.example/t.png",
            "face_url": "https://a.example/f.png"}))
        .unwrap();
        assert_eq!(prepared.cost, Cost::new(2.0, CostUnit::Credits));
        let callback = CallbackTarget {
            url: "https://proxy.example/hooks/example/tok".into(),
            secret: None,
        };
        let request = Example
            .upstream_request(&prepared, Some(&callback), &AdapterSettings::new())
            .unwrap();
        let UpstreamBody::Json(json) = &request.body else {
            panic!("JSON")
        };
        assert_eq!(
            serde_json::from_slice::<Value>(json).unwrap(),
            json!({"target_url": "https://a.example/t.png", "face_url": "https://a.example/f.png",
                "webhook_url": "https://proxy.example/hooks/example/tok"})
        );
        let bad = prepare(json!({"target_url": "ftp://a.example/t.png",
            "face_url": "https://a.example/f.png"}));
        assert_eq!(bad.unwrap_err().field, "target_url");
        let extra = prepare(json!({"target_url": "https://a.example/t.png",
            "face_url": "https://a.example/f.png", "webhook_url": "https://evil.example"}));
        assert!(extra.is_err(), "the browser cannot name the webhook");
    }

    #[test]
    fn the_catalog_check_is_the_bodys() {
        let check = CATALOG.check.unwrap();
        let mut fields = FieldValues::default();
        fields.values.push((
            "target_url",
            FieldValue::Text("https://a.example/t.png".into()),
        ));
        assert_eq!(
            check(&OPERATIONS[0], &fields).unwrap_err().field,
            "face_url"
        );
        fields
            .values
            .push(("face_url", FieldValue::Text("file:///etc/passwd".into())));
        assert_eq!(
            check(&OPERATIONS[0], &fields).unwrap_err().field,
            "face_url"
        );
    }

    #[test]
    fn answers_and_webhooks_read_as_updates() {
        let prepared = prepare(json!({"target_url": "https://a.example/t.png",
            "face_url": "https://a.example/f.png"}))
        .unwrap();
        assert!(matches!(
            Example.read_submit(&prepared, br#"{"id":"ex-1"}"#),
            Ok(SubmitOutcome::Started { task_id, .. }) if task_id == "ex-1"
        ));
        assert!(Example.read_submit(&prepared, b"{}").is_err());
        let done = Example
            .read_callback(
                br#"{"id":"ex-1","state":"succeeded","output_url":"https://cdn.example/r.png"}"#,
                &[],
            )
            .unwrap();
        assert_eq!(done.status, TaskStatus::Succeeded);
        let failed = Example
            .read_callback(br#"{"id":"ex-1","state":"failed","error":"no face"}"#, &[])
            .unwrap();
        assert_eq!(
            (failed.status, failed.error.as_deref()),
            (TaskStatus::Failed, Some("no face"))
        );
        let odd = Example.read_callback(br#"{"id":"ex-1","state":"odd"}"#, &[]);
        assert_eq!(odd.unwrap_err().field, "state");
        assert_eq!(
            Example
                .read_error(400, br#"{"error":"target_url is required"}"#)
                .message,
            "target_url is required"
        );
    }
}
