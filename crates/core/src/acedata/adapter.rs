//! AceData behind the provider seam: one operation on the route `face/swap`, key as a Bearer
//! token, results by `callback_url` or in a synchronous answer (the operator's
//! [`DELIVERY`](super::DELIVERY) setting).

use alloc::{format, string::String};

use super::{
    fault, CallbackBody, ErrorEnvelope, Request, SwapAnswer, DELIVERY, DELIVERY_SYNCHRONOUS,
    PROVIDER, SUBMIT_PATH,
};
use crate::provider::{
    Adapter, AdapterSettings, BuildError, CallbackHeaders, CallbackTarget, Catalog, Cost, CostUnit,
    FieldKind, FieldNames, FieldSpec, FormInput, OperationSpec, Prepared, PriceInputs,
    ProviderFault, ProviderInfo, SubmitOutcome, SwapFaceSpec, TaskUpdate, UpstreamRequest,
};
use crate::task::is_safe_task_id;
use crate::FieldError;

/// The AceData adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct AceData;

/// The browser-facing route, under `/api/acedata/`: AceData's own path.
pub const ROUTE: &str = "face/swap";

/// The one operation.
pub static OPERATIONS: [OperationSpec; 1] = [OperationSpec {
    name: "face_swap",
    js_name: "faceSwap",
    route: ROUTE,
    starts_task: true,
    file_fields: &[],
    form_text_fields: &[],
    repeated_fields: &[],
    accepts_json: true,
    fields: &[
        FieldSpec {
            wire: "source_image_url",
            kind: FieldKind::Image,
            required: true,
        },
        FieldSpec {
            wire: "target_image_url",
            kind: FieldKind::Image,
            required: true,
        },
        FieldSpec {
            wire: "timeout",
            kind: FieldKind::Number,
            required: false,
        },
    ],
}];

/// One request of the plan's budget, whatever the images.
const PRICE: Cost = Cost::new(1.0, CostUnit::Requests);

/// AceData in the catalog.
pub static CATALOG: Catalog = Catalog {
    info: &PROVIDER,
    operations: &OPERATIONS,
    price: catalog_price,
    field_names: FieldNames::SNAKE_CASE,
    swap_face: SwapFaceSpec {
        operation: "faceSwap",
        target: "targetImageUrl",
        face: "sourceImageUrl",
    },
    client_class: "AceDataClient",
    check: Some(Request::check_fields),
};

/// The catalog's price rule: one request, whatever the images.
fn catalog_price(_operation: &OperationSpec, _inputs: &PriceInputs) -> Result<Cost, FieldError> {
    Ok(PRICE)
}

fn shape_error(reason: FieldError) -> BuildError {
    BuildError::Shape {
        operation: OPERATIONS[0].name,
        reason,
    }
}

/// The task id of an answer, when it is one the proxy can store and serve.
fn task_id_of(answer: &SwapAnswer) -> Result<String, ProviderFault> {
    answer
        .task_id
        .clone()
        .filter(|id| is_safe_task_id(id))
        .ok_or_else(|| ProviderFault::malformed("AceData's answer has no usable task_id"))
}

impl Adapter for AceData {
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
        let value = request
            .to_value()
            .map_err(|e| FieldError::new("body", format!("the request cannot be read: {e}")))?;
        Ok(Prepared {
            operation: &OPERATIONS[0],
            request: value,
            cost: PRICE,
            multipart: false,
        })
    }

    fn prepare_form(&self, _route: &str, _form: &FormInput) -> Result<Prepared, FieldError> {
        Err(FieldError::new(
            "body",
            "AceData takes a JSON body, not a multipart form",
        ))
    }

    /// The browser's `callback_url` was dropped by [`Request`]; the proxy's goes in its place,
    /// unless the operator chose synchronous answers, whose call may then take AceData's
    /// `timeout` and a margin.
    fn upstream_request(
        &self,
        prepared: &Prepared,
        callback: Option<&CallbackTarget>,
        settings: &AdapterSettings,
    ) -> Result<UpstreamRequest, BuildError> {
        let request = Request::from_value(&prepared.request).map_err(shape_error)?;
        let synchronous = settings.get(DELIVERY.name) == Some(DELIVERY_SYNCHRONOUS);
        let callback_url = callback
            .filter(|_| !synchronous)
            .map(|target| target.url.as_str());
        let json = request.to_upstream_json(callback_url)?;
        let call = UpstreamRequest::post_json(SUBMIT_PATH, json);
        Ok(match callback_url {
            Some(_) => call,
            None => call.with_timeout(request.synchronous_wait()),
        })
    }

    /// `ACEDATA_DELIVERY=synchronous` sends no callback URL.
    fn calls_back(&self, settings: &AdapterSettings) -> bool {
        settings.get(DELIVERY.name) != Some(DELIVERY_SYNCHRONOUS)
    }

    /// `image_url` in the answer: the task finished at once; `{task_id}` alone: started.
    fn read_submit(
        &self,
        _prepared: &Prepared,
        body: &[u8],
    ) -> Result<SubmitOutcome, ProviderFault> {
        let answer = serde_json::from_slice::<SwapAnswer>(body).map_err(|_| {
            ProviderFault::malformed("AceData answered with something other than its JSON")
        })?;
        if answer.success == Some(false) || answer.error.is_some() {
            return Err(fault(200, answer.error.as_ref()));
        }
        let task_id = task_id_of(&answer)?;
        let info = answer.result_info();
        Ok(match answer.image_url.filter(|url| !url.is_empty()) {
            Some(url) => SubmitOutcome::Finished {
                update: TaskUpdate::succeeded(Some(task_id.clone()), url).with_result_info(info),
                task_id,
            },
            None => SubmitOutcome::Started {
                task_id,
                points: None,
            },
        })
    }

    fn read_error(&self, status: u16, body: &[u8]) -> ProviderFault {
        let envelope = serde_json::from_slice::<ErrorEnvelope>(body).unwrap_or_default();
        fault(status, envelope.error.as_ref())
    }

    fn read_callback(
        &self,
        body: &[u8],
        _headers: CallbackHeaders<'_>,
    ) -> Result<TaskUpdate, FieldError> {
        CallbackBody::from_json(body)?.update()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acedata::{MAX_TIMEOUT_SECS, SYNC_MARGIN_SECS};
    use crate::provider::{FaultKind, UpstreamBody, UpstreamMethod};
    use crate::TaskStatus;
    use alloc::string::ToString;
    use core::time::Duration;
    use serde_json::{json, Value};

    fn prepare(body: Value) -> Result<Prepared, FieldError> {
        AceData.prepare_json(ROUTE, &serde_json::to_vec(&body).unwrap())
    }

    fn swap() -> Prepared {
        prepare(json!({"source_image_url": "https://cdn.example/face.jpg",
            "target_image_url": "https://cdn.example/picture.jpg", "timeout": 100,
            "callback_url": "https://evil.example/hook"}))
        .unwrap()
    }

    fn sent(request: &UpstreamRequest) -> Value {
        let UpstreamBody::Json(json) = &request.body else {
            panic!("JSON")
        };
        serde_json::from_slice(json).unwrap()
    }

    #[test]
    fn one_operation_on_acedatas_path_priced_one_request() {
        assert_eq!(AceData.info().id, "acedata");
        assert_eq!(AceData.info().default_base_url, "https://api.acedata.cloud");
        assert!(AceData.serves_route("face/swap"));
        assert_eq!(AceData.operation_named("faceSwap"), Some(&OPERATIONS[0]));
        assert_eq!(AceData.operation_named("face_swap"), Some(&OPERATIONS[0]));
        let prepared = swap();
        assert_eq!(prepared.cost, Cost::new(1.0, CostUnit::Requests));
        assert_eq!(
            AceData.price(&OPERATIONS[0], &PriceInputs::default()),
            prepared.cost
        );
        assert!(!prepared.request.to_string().contains("evil.example"));
        assert_eq!(
            AceData.prepare_json("face/other", b"{}").unwrap_err().field,
            "operation"
        );
        assert_eq!(
            AceData
                .prepare_form(ROUTE, &FormInput::default())
                .unwrap_err()
                .field,
            "body"
        );
        let bad = prepare(json!({"source_image_url": "file:///etc/passwd",
            "target_image_url": "https://cdn.example/picture.jpg"}));
        assert_eq!(bad.unwrap_err().field, "source_image_url");
    }

    #[test]
    fn the_proxys_callback_replaces_the_browsers() {
        let callback = CallbackTarget {
            url: "https://proxy.example/hooks/acedata/tok".into(),
            secret: None,
        };
        let request = AceData
            .upstream_request(&swap(), Some(&callback), &AdapterSettings::new())
            .unwrap();
        assert_eq!(
            (request.method, request.path.as_str(), request.timeout),
            (UpstreamMethod::Post, "face/swap", None)
        );
        assert_eq!(
            sent(&request),
            json!({"source_image_url": "https://cdn.example/face.jpg",
                "target_image_url": "https://cdn.example/picture.jpg", "timeout": 100,
                "callback_url": "https://proxy.example/hooks/acedata/tok"})
        );
    }

    #[test]
    fn a_synchronous_call_may_take_acedatas_timeout_and_a_margin() {
        let callback = CallbackTarget {
            url: "https://proxy.example/hooks/acedata/tok".into(),
            secret: None,
        };
        let settings = AdapterSettings::new().with("delivery", "synchronous");
        let request = AceData
            .upstream_request(&swap(), Some(&callback), &settings)
            .unwrap();
        assert!(sent(&request).get("callback_url").is_none());
        assert_eq!(request.timeout, Some(Duration::from_secs(130)));
        let without = AceData
            .upstream_request(&swap(), None, &AdapterSettings::new())
            .unwrap();
        assert_eq!(without.timeout, Some(Duration::from_secs(130)));
        let longest = AceData.longest_upstream_wait().unwrap();
        assert!(longest >= Duration::from_secs(MAX_TIMEOUT_SECS + SYNC_MARGIN_SECS));
        assert!(AceData.calls_back(&AdapterSettings::new()));
        assert!(!AceData.calls_back(&settings));
        let callback_mode = AdapterSettings::new().with("delivery", "callback");
        let request = AceData
            .upstream_request(&swap(), Some(&callback), &callback_mode)
            .unwrap();
        assert_eq!(request.timeout, None);
    }

    #[test]
    fn answers_read_as_finished_or_started() {
        let finished = AceData
            .read_submit(
                &swap(),
                br#"{"image_url":"https://cdn.acedata.cloud/r.png","image_width":512,"image_height":512,"image_size":40960,"task_id":"9b1d-77"}"#,
            )
            .unwrap();
        let SubmitOutcome::Finished { task_id, update } = finished else {
            panic!("finished: {finished:?}")
        };
        assert_eq!(task_id, "9b1d-77");
        assert_eq!(update.status, TaskStatus::Succeeded);
        assert_eq!(update.task_id.as_deref(), Some("9b1d-77"));
        assert_eq!(
            update.result_url.as_deref(),
            Some("https://cdn.acedata.cloud/r.png")
        );
        assert_eq!(
            AceData
                .read_submit(&swap(), br#"{"task_id":"9b1d-78"}"#)
                .unwrap(),
            SubmitOutcome::Started {
                task_id: "9b1d-78".into(),
                points: None
            }
        );
        for odd in [
            &br#"{}"#[..],
            br#"{"task_id":"../x"}"#,
            br#"{"task_id":""}"#,
            br#"{"image_url":"https://cdn.acedata.cloud/r.png"}"#,
            b"<html>",
        ] {
            let fault = AceData.read_submit(&swap(), odd).unwrap_err();
            assert_eq!(
                fault.kind,
                FaultKind::Upstream,
                "{}",
                String::from_utf8_lossy(odd)
            );
        }
        let refused = AceData
            .read_submit(
                &swap(),
                br#"{"success":false,"error":{"code":"forbidden","message":"content refused"},"trace_id":"tr-1"}"#,
            )
            .unwrap_err();
        assert_eq!(refused.kind, FaultKind::Refused);
        assert_eq!(refused.provider_code.as_deref(), Some("forbidden"));
    }

    #[test]
    fn error_envelopes_keep_acedatas_code() {
        let body = |code: &str| {
            serde_json::to_vec(&json!({"success": false,
                "error": {"code": code, "message": format!("{code} happened")}, "trace_id": "tr-9"}))
            .unwrap()
        };
        let forbidden = AceData.read_error(403, &body("forbidden"));
        assert_eq!(forbidden.kind, FaultKind::Refused);
        assert_eq!(forbidden.provider_code.as_deref(), Some("forbidden"));
        assert_eq!(
            forbidden.message,
            "AceData refused the content: forbidden happened"
        );
        assert_eq!(
            AceData.read_error(401, &body("invalid_token")).kind,
            FaultKind::Upstream
        );
        assert_eq!(
            AceData.read_error(400, &body("token_mismatched")).kind,
            FaultKind::InvalidInput,
            "the page: Bad request, possibly due to missing or invalid parameters"
        );
        assert_eq!(
            AceData.read_error(429, &body("too_many_requests")).kind,
            FaultKind::RateLimited
        );
        let unreadable = AceData.read_error(400, b"not json");
        assert_eq!(unreadable.kind, FaultKind::InvalidInput);
        assert_eq!(unreadable.provider_code.as_deref(), Some("400"));
    }

    #[test]
    fn callbacks_read_through_the_adapter() {
        let update = AceData
            .read_callback(
                br#"{"success":true,"task_id":"9b1d-77","image_url":"https://cdn.acedata.cloud/r.png","image_width":512,"image_height":512,"image_size":40960}"#, &[],
            )
            .unwrap();
        assert_eq!(update.status, TaskStatus::Succeeded);
        let failed = AceData
            .read_callback(br#"{"success":false,"task_id":"9b1d-77","error":{"code":"api_error","message":"no face"}}"#, &[])
            .unwrap();
        assert_eq!(failed.status, TaskStatus::Failed);
        assert_eq!(failed.error.as_deref(), Some("api_error: no face"));
        assert_eq!(AceData.read_callback(b"[]", &[]).unwrap_err().field, "body");
    }

    /// One number: the catalog's longest submit wait (which the browser library's default submit
    /// time limit is made from) is the adapter's longest upstream wait, and covers a synchronous
    /// call with the largest `timeout` the proxy accepts.
    #[test]
    fn the_catalogs_longest_submit_wait_is_the_adapters() {
        let catalog = CATALOG.info.longest_submit_wait;
        assert_eq!(catalog, AceData.longest_upstream_wait());
        let longest = catalog.expect("AceData may answer a submit late");
        let largest = serde_json::json!({
            "source_image_url": "https://cdn.example/face.jpg",
            "target_image_url": "https://cdn.example/target.jpg",
            "timeout": MAX_TIMEOUT_SECS,
        });
        let request = Request::from_value(&largest).unwrap();
        assert_eq!(longest, request.synchronous_wait());
    }
}
