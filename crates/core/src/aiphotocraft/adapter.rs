//! AIPhotoCraft behind the provider seam: routes `faceswap/{op}`, multipart forms only, key in
//! `X-Api-Key`, results by polling task-status.

use super::{Operation, Request, PROVIDER, REQUESTS_PER_OPERATION, STATUS_PATH};
use crate::provider::form::stand_in_field;
use crate::provider::rate_limit;
use crate::provider::{
    Adapter, AdapterSettings, BuildError, CallbackHeaders, CallbackTarget, Catalog, Cost,
    FieldNames, FormInput, OperationSpec, Part, PartValue, Prepared, PriceInputs, ProviderFault,
    ProviderInfo, ProviderOperation, SubmitOutcome, SwapFaceSpec, TaskUpdate, UpstreamRequest,
};
use crate::task::is_safe_task_id;
use crate::FieldError;
use alloc::{borrow::ToOwned, format, vec::Vec};

/// The AIPhotoCraft adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct AiPhotoCraft;

const fn spec(op: Operation, js_name: &'static str, route: &'static str) -> OperationSpec {
    OperationSpec {
        name: match op {
            Operation::BasicSwap => "basicswap",
            Operation::CoupleSwap => "faceswap2",
            Operation::Swap1From2 => "swap1from2",
            Operation::SwapFaceSameImage => "swapfacesameimage",
        },
        js_name,
        route,
        starts_task: true,
        file_fields: op.file_fields(),
        form_text_fields: op.text_fields(),
        repeated_fields: &[],
        accepts_json: false,
        fields: &[],
    }
}

/// The four operations, in [`Operation::ALL`] order.
pub static OPERATIONS: [OperationSpec; 4] = [
    spec(Operation::BasicSwap, "basicSwap", "faceswap/basicswap"),
    spec(Operation::CoupleSwap, "coupleSwap", "faceswap/faceswap2"),
    spec(Operation::Swap1From2, "swap1From2", "faceswap/swap1from2"),
    spec(
        Operation::SwapFaceSameImage,
        "swapFaceSameImage",
        "faceswap/swapfacesameimage",
    ),
];

impl Operation {
    /// The operation's entry in the seam's table.
    pub fn spec(self) -> &'static OperationSpec {
        match self {
            Operation::BasicSwap => &OPERATIONS[0],
            Operation::CoupleSwap => &OPERATIONS[1],
            Operation::Swap1From2 => &OPERATIONS[2],
            Operation::SwapFaceSameImage => &OPERATIONS[3],
        }
    }

    /// The operation served on a browser-facing route (`faceswap/basicswap`).
    pub fn of_route(route: &str) -> Result<Self, FieldError> {
        route
            .strip_prefix("faceswap/")
            .and_then(Operation::from_name)
            .ok_or_else(|| FieldError::new("operation", format!("no operation at {route:?}")))
    }
}

fn cost() -> Cost {
    Cost::new(REQUESTS_PER_OPERATION, PROVIDER.cost_unit)
}

/// AIPhotoCraft in the catalog: its field names run words together (`srcimage`, `targetimage1`);
/// the JS name of such a field, lower-cased, is its provider name.
pub static CATALOG: Catalog = Catalog {
    info: &PROVIDER,
    operations: &OPERATIONS,
    price: catalog_price,
    field_names: FieldNames {
        wrapper: None,
        run_together: &[("srcimage", "srcImage"), ("targetimage", "targetImage")],
    },
    swap_face: SwapFaceSpec {
        operation: "basicSwap",
        target: "targetImage",
        face: "srcImage",
    },
    client_class: "AiPhotoCraftClient",
    check: None,
};

/// The catalog's price rule: every operation is its submit and a typical task's polls.
fn catalog_price(_operation: &OperationSpec, _inputs: &PriceInputs) -> Result<Cost, FieldError> {
    Ok(cost())
}

impl Adapter for AiPhotoCraft {
    fn info(&self) -> &'static ProviderInfo {
        CATALOG.info
    }

    fn operations(&self) -> &'static [OperationSpec] {
        CATALOG.operations
    }

    fn price(&self, operation: &OperationSpec, inputs: &PriceInputs) -> Cost {
        CATALOG.price_of(operation, inputs).unwrap_or(cost())
    }

    fn prepare_json(&self, route: &str, _body: &[u8]) -> Result<Prepared, FieldError> {
        Operation::of_route(route)?;
        Err(FieldError::new(
            "body",
            "AIPhotoCraft takes a multipart form with image files, not JSON",
        ))
    }

    fn prepare_form(&self, route: &str, form: &FormInput) -> Result<Prepared, FieldError> {
        let op = Operation::of_route(route)?;
        let request = Request::from_object(op, &form.to_json_object())?;
        Ok(Prepared {
            operation: op.spec(),
            request: serde_json::Value::Object(request.to_object()),
            cost: cost(),
            multipart: true,
        })
    }

    fn upstream_request(
        &self,
        prepared: &Prepared,
        _callback: Option<&CallbackTarget>,
        _settings: &AdapterSettings,
    ) -> Result<UpstreamRequest, BuildError> {
        let name = prepared.operation.name;
        let shape = |reason| BuildError::Shape {
            operation: name,
            reason,
        };
        let op = Operation::from_name(name).ok_or_else(|| {
            shape(FieldError::new(
                "operation",
                "not an AIPhotoCraft operation",
            ))
        })?;
        let object = prepared
            .request
            .as_object()
            .ok_or_else(|| shape(FieldError::new("body", "not an object")))?;
        let request = Request::from_object(op, object).map_err(shape)?;
        let mut parts: Vec<Part> = request
            .images
            .iter()
            .map(|(field, value)| Part {
                name: (*field).to_owned(),
                value: match stand_in_field(value) {
                    Some(file) => PartValue::File(file.to_owned()),
                    None => PartValue::Text(value.clone()),
                },
            })
            .collect();
        // The text fields in the operation's order, in their normal form.
        let object = request.to_object();
        for &field in op.text_fields() {
            if let Some(text) = object.get(field).and_then(|v| v.as_str()) {
                parts.push(Part {
                    name: field.to_owned(),
                    value: PartValue::Text(text.to_owned()),
                });
            }
        }
        Ok(UpstreamRequest::post_form(op.upstream_path(), parts))
    }

    fn read_submit(
        &self,
        _prepared: &Prepared,
        body: &[u8],
    ) -> Result<SubmitOutcome, ProviderFault> {
        Ok(SubmitOutcome::Started {
            task_id: super::read_task_id(body)?,
            points: None,
        })
    }

    fn read_error(&self, status: u16, body: &[u8]) -> ProviderFault {
        super::read_error(status, body)
    }

    /// Images are files: a URL input is read by the proxy and sent as one.
    fn files_only(&self) -> bool {
        true
    }

    /// `X-RateLimit-Remaining: 0` until `X-RateLimit-Reset` (epoch seconds).
    fn exhausted_until(&self, headers: &[(&str, &str)], now: u64) -> Option<u64> {
        rate_limit::x_ratelimit_exhausted_until(headers, now)
    }

    fn read_callback(
        &self,
        _body: &[u8],
        _headers: CallbackHeaders<'_>,
    ) -> Result<TaskUpdate, FieldError> {
        Err(FieldError::new(
            "body",
            "AIPhotoCraft does not call back; its tasks are polled",
        ))
    }

    fn typical_task_time(&self) -> Option<core::time::Duration> {
        Some(core::time::Duration::from_secs(super::TYPICAL_TASK_SECS))
    }

    fn poll_request(&self, task_id: &str) -> Option<UpstreamRequest> {
        is_safe_task_id(task_id).then(|| UpstreamRequest::get(format!("{STATUS_PATH}/{task_id}")))
    }

    fn read_poll(&self, task_id: &str, body: &[u8]) -> Result<TaskUpdate, ProviderFault> {
        super::read_status(task_id, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::form::file_stand_in;
    use crate::provider::{CostUnit, FaultKind, FormValue, ResultDelivery, UpstreamBody};
    use crate::MediaType;

    fn form(fields: &[(&str, FormValue)]) -> FormInput {
        FormInput {
            fields: fields
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect(),
        }
    }

    fn file() -> FormValue {
        FormValue::File(MediaType::Jpeg)
    }

    #[test]
    fn the_table_names_four_form_operations_polled() {
        assert_eq!(PROVIDER.delivery, ResultDelivery::Polling);
        for &op in Operation::ALL {
            let spec = op.spec();
            assert_eq!(spec.name, op.name());
            assert_eq!(Operation::of_route(spec.route), Ok(op));
            assert_eq!(spec.route, format!("faceswap/{}", op.name()));
            assert_eq!(op.upstream_path(), format!("api/{}", spec.route));
            assert!(!spec.accepts_json && spec.starts_task);
            assert_eq!(AiPhotoCraft.operation_named(spec.js_name), Some(spec));
            assert_eq!(
                AiPhotoCraft.price(spec, &PriceInputs::default()),
                Cost::new(3.0, CostUnit::Requests),
                "the submit and a typical task's two polls"
            );
        }
        let js: Vec<_> = OPERATIONS.iter().map(|op| op.js_name).collect();
        assert_eq!(
            js,
            ["basicSwap", "coupleSwap", "swap1From2", "swapFaceSameImage"]
        );
        assert_eq!(
            AiPhotoCraft
                .prepare_json("faceswap/basicswap", b"{}")
                .unwrap_err()
                .field,
            "body"
        );
        assert_eq!(
            AiPhotoCraft
                .prepare_form("faceswap/other", &FormInput::default())
                .unwrap_err()
                .field,
            "operation"
        );
    }

    #[test]
    fn forms_become_the_providers_parts() {
        let prepared = AiPhotoCraft
            .prepare_form(
                "faceswap/basicswap",
                &form(&[
                    ("targetimage", file()),
                    ("srcimage", file()),
                    ("enhance", FormValue::Text("TRUE".into())),
                ]),
            )
            .unwrap();
        assert_eq!(prepared.cost, Cost::new(3.0, CostUnit::Requests));
        assert_eq!(prepared.request["srcimage"], file_stand_in("srcimage"));
        let request = AiPhotoCraft
            .upstream_request(&prepared, None, &AdapterSettings::new())
            .unwrap();
        assert_eq!(request.path, "api/faceswap/basicswap");
        let UpstreamBody::Multipart(parts) = request.body else {
            panic!("a form")
        };
        let shown: Vec<_> = parts
            .iter()
            .map(|p| (p.name.as_str(), p.value.clone()))
            .collect();
        assert_eq!(
            shown,
            [
                ("srcimage", PartValue::File("srcimage".into())),
                ("targetimage", PartValue::File("targetimage".into())),
                ("enhance", PartValue::Text("true".into())),
            ]
        );
        let couple = AiPhotoCraft
            .prepare_form(
                "faceswap/faceswap2",
                &form(&[
                    ("srcimage", file()),
                    ("targetimage", file()),
                    ("swap_index", FormValue::Text("2,1".into())),
                ]),
            )
            .unwrap();
        let request = AiPhotoCraft
            .upstream_request(&couple, None, &AdapterSettings::new())
            .unwrap();
        let UpstreamBody::Multipart(parts) = request.body else {
            panic!("a form")
        };
        let text: Vec<_> = parts[2..]
            .iter()
            .map(|p| (p.name.as_str(), p.value.clone()))
            .collect();
        assert_eq!(text, [("swap_index", PartValue::Text("2,1".into())),]);
        let err = AiPhotoCraft
            .prepare_form(
                "faceswap/swap1from2",
                &form(&[("srcimage", file()), ("targetimage1", file())]),
            )
            .unwrap_err();
        assert_eq!(err.field, "targetimage2");
        let err = AiPhotoCraft
            .prepare_form(
                "faceswap/faceswap2",
                &form(&[
                    ("srcimage", file()),
                    ("targetimage", file()),
                    ("swap_index", FormValue::Text("1,1".into())),
                ]),
            )
            .unwrap_err();
        assert_eq!(err.field, "swap_index");
    }

    #[test]
    fn answers_polls_and_errors_read_through_the_seam() {
        let prepared = AiPhotoCraft
            .prepare_form("faceswap/swapfacesameimage", &form(&[("srcimage", file())]))
            .unwrap();
        assert_eq!(
            AiPhotoCraft.read_submit(&prepared, br#"{"success":true,"data":{"task_id":"t-1"}}"#),
            Ok(SubmitOutcome::Started {
                task_id: "t-1".into(),
                points: None
            })
        );
        assert_eq!(
            AiPhotoCraft.poll_request("t-1"),
            Some(UpstreamRequest::get("api/task-status/t-1"))
        );
        assert_eq!(AiPhotoCraft.poll_request("../t"), None);
        let update = AiPhotoCraft
            .read_poll(
                "t-1",
                br#"{"status":"completed","image_url":"https://r.example/x.png"}"#,
            )
            .unwrap();
        assert!(update.is_terminal());
        let fault = AiPhotoCraft.read_error(
            400,
            br#"{"success":false,"error":{"code":"no_face_detected","message":"No face detected in srcimage","details":{}}}"#,
        );
        assert_eq!(fault.kind, FaultKind::InvalidInput);
        assert_eq!(fault.provider_code.as_deref(), Some("no_face_detected"));
        assert!(AiPhotoCraft.read_callback(b"{}", &[]).is_err());
        assert!(AiPhotoCraft.files_only() && !crate::piapi::PiApi.files_only());
        let spent = [
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", "1764550800"),
        ];
        assert_eq!(
            AiPhotoCraft.exhausted_until(&spent, 1_764_547_200),
            Some(1_764_550_800)
        );
        assert_eq!(
            crate::piapi::PiApi.exhausted_until(&spent, 1_764_547_200),
            None,
            "by default no budget is read"
        );
    }
}
