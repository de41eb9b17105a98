//! The OpenAPI 3.1 document of the proxy's own routes, `GET /api/openapi.json`: made from the
//! code (utoipa's schemas of the answers, each served provider's operations from its adapter, the
//! error shape from core's error codes), never written by hand. A test compares its paths with
//! the router's table ([`crate::routes::table`]): a route cannot be served undocumented.

use axum::http::Method;
use faceswap_core::provider::{Adapter, Cost, CostUnit, ResultInfo};
use faceswap_core::task::{LegacyTaskView, TaskStatus, TaskView};
use faceswap_core::ErrorCode;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Type};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr, Required,
    ResponseBuilder, Schema,
};
use utoipa::ToSchema;

use crate::providers::{Mode, Providers};
use crate::routes::info::{PublicConfig, PublicOperation, PublicProvider, PublicSwapFace};
use crate::routes::uploads::Uploaded;

/// The name of the error shape among the document's schemas.
const ERROR: &str = "Error";

/// The document of a proxy serving `providers`.
pub fn document(providers: &Providers) -> OpenApi {
    let mut paths = PathsBuilder::new();
    for served in providers.iter() {
        for (_, path, item) in provider_paths(served.adapter) {
            paths = paths.path(path, item);
        }
    }
    for (path, item) in shared_paths() {
        paths = paths.path(path, item);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("faceswap-proxy")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The key-holding proxy of faceswap-wasm: each served provider's operations, \
                     its tasks as JSON and as server-sent events, uploads, provider callbacks and \
                     health. Every error is the JSON shape `Error`.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components()))
        .build()
}

/// The schemas the paths refer to.
fn components() -> utoipa::openapi::Components {
    ComponentsBuilder::new()
        .schema_from::<TaskView>()
        .schema_from::<LegacyTaskView>()
        .schema_from::<TaskStatus>()
        .schema_from::<ResultInfo>()
        .schema_from::<Cost>()
        .schema_from::<CostUnit>()
        .schema_from::<PublicConfig>()
        .schema_from::<PublicProvider>()
        .schema_from::<PublicSwapFace>()
        .schema_from::<PublicOperation>()
        .schema_from::<Mode>()
        .schema_from::<Uploaded>()
        .schema(ERROR, error_schema())
        .build()
}

/// `{"code","error","message","field"?,"provider_code"?}`, its words core's error codes.
fn error_schema() -> Schema {
    ObjectBuilder::new()
        .description(Some(
            "Every error answer of the proxy: the HTTP status, a stable error word, a message, \
             the field at fault where there is one, and the provider's own code where it gave one.",
        ))
        .property("code", ObjectBuilder::new().schema_type(Type::Integer))
        .required("code")
        .property(
            "error",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(ErrorCode::ALL.iter().map(|code| code.as_str()))),
        )
        .required("error")
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .required("message")
        .property("field", ObjectBuilder::new().schema_type(Type::String))
        .property(
            "provider_code",
            ObjectBuilder::new().schema_type(Type::String),
        )
        .into()
}

/// A reference to the schema of `T`.
fn schema_ref<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

/// A JSON content of `schema`.
fn json(schema: impl Into<RefOr<Schema>>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

/// Any JSON object (a provider's own answer, passed on as it is).
fn any_object(description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .into()
}

/// A required string path parameter.
fn path_parameter(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// The error answers a route may give: each of core's codes whose status is in `statuses`.
fn with_errors(mut operation: OperationBuilder, statuses: &[u16]) -> OperationBuilder {
    for status in statuses {
        let words: Vec<&str> = ErrorCode::ALL
            .iter()
            .filter(|code| code.http_status() == *status)
            .map(|code| code.as_str())
            .collect();
        operation = operation.response(
            status.to_string(),
            ResponseBuilder::new()
                .description(format!("`{}`", words.join("`, `")))
                .content(
                    "application/json",
                    json(RefOr::Ref(Ref::from_schema_name(ERROR))),
                ),
        );
    }
    operation
}

/// A `200` with a JSON body of `schema`.
fn ok_json(
    operation: OperationBuilder,
    description: &str,
    schema: impl Into<RefOr<Schema>>,
) -> OperationBuilder {
    operation.response(
        "200",
        ResponseBuilder::new()
            .description(description)
            .content("application/json", json(schema)),
    )
}

/// Statuses every `/api` route may answer: rate limit, a refused `Host`, server faults.
const API_ERRORS: &[u16] = &[403, 429, 500];

/// The routes of one provider, as [`crate::routes::provider::routes`] serves them.
pub fn provider_paths(adapter: &'static dyn Adapter) -> Vec<(Method, String, PathItem)> {
    let info = adapter.info();
    let id = info.id;
    let mut routes: Vec<&'static str> = adapter.operations().iter().map(|op| op.route).collect();
    routes.dedup();
    let mut paths: Vec<(Method, String, PathItem)> = routes
        .into_iter()
        .map(|route| {
            let operations: Vec<_> = adapter
                .operations()
                .iter()
                .filter(|op| op.route == route)
                .collect();
            let names: Vec<String> = operations
                .iter()
                .map(|op| {
                    let mut name = format!("`{}` ({})", op.name, op.js_name);
                    if !op.file_fields.is_empty() {
                        name.push_str(&format!(", files: {}", op.file_fields.join(", ")));
                    }
                    name
                })
                .collect();
            let starts_task = operations.iter().any(|op| op.starts_task);
            let body = RequestBodyBuilder::new()
                .description(Some(format!(
                    "The provider's own request, checked by the proxy before anything is sent: \
                     JSON, or for operations taking files a multipart form whose file fields \
                     carry files or URLs ({}).",
                    names.join("; ")
                )))
                .content(
                    "application/json",
                    json(any_object(
                        "The operation's fields, on the provider's names.",
                    )),
                )
                .content(
                    "multipart/form-data",
                    json(any_object("The operation's fields; files as parts.")),
                )
                .required(Some(Required::True))
                .build();
            let operation = OperationBuilder::new()
                .tag(id)
                .operation_id(Some(format!("{id}_{}", route.replace(['/', '-'], "_"))))
                .summary(Some(format!("{id}: {}", names.join("; "))))
                .description(Some(format!(
                    "Forwards the operation to {id} with the operator's key, within the client's \
                     rate and spend cap ({} per hour). An `Idempotency-Key` header answers a retry \
                     with the first answer.{}",
                    info.cost_unit.as_str(),
                    if starts_task {
                        format!(" The task is then followed at `/api/{id}/tasks/{{task_id}}`.")
                    } else {
                        String::new()
                    }
                )))
                .request_body(Some(body));
            let operation = ok_json(
                operation,
                "The provider's answer, as the library reads it.",
                any_object("The provider's answer."),
            );
            let operation = with_errors(
                operation,
                &[400, 401, 403, 404, 409, 413, 415, 429, 500, 502, 503, 504],
            );
            (
                Method::POST,
                format!("/api/{id}/{route}"),
                PathItem::new(HttpMethod::Post, operation),
            )
        })
        .collect();
    let task_id = || path_parameter("task_id", "The provider's task id.");
    let task = OperationBuilder::new()
        .tag(id)
        .operation_id(Some(format!("{id}_task")))
        .summary(Some(format!("A {id} task as stored")))
        .parameter(task_id());
    let task = with_errors(
        ok_json(task, "The task.", schema_ref::<TaskView>()),
        &[401, 403, 404, 429, 500],
    );
    paths.push((
        Method::GET,
        format!("/api/{id}/tasks/{{task_id}}"),
        PathItem::new(HttpMethod::Get, task),
    ));
    paths.push((
        Method::GET,
        format!("/api/{id}/tasks/{{task_id}}/events"),
        PathItem::new(HttpMethod::Get, events(id, schema_ref::<TaskView>())),
    ));
    paths
}

/// A task's event stream.
fn events(tag: &str, view: RefOr<Schema>) -> OperationBuilder {
    let operation = OperationBuilder::new()
        .tag(tag)
        .operation_id(Some(format!("{tag}_task_events")))
        .summary(Some("The task's server-sent events"))
        .description(Some(
            "A `status` event at connect and at each change (its id the change counter; resume \
             with `Last-Event-ID`), each carrying the task as JSON; the stream ends after a \
             terminal status.",
        ))
        .parameter(path_parameter("task_id", "The provider's task id."))
        .response(
            "200",
            ResponseBuilder::new()
                .description("`text/event-stream` of `status` events whose data is the task.")
                .content("text/event-stream", json(view)),
        );
    with_errors(operation, &[401, 403, 404, 429, 500])
}

/// The routes every proxy serves, whatever its providers.
fn shared_paths() -> Vec<(String, PathItem)> {
    let first = OperationBuilder::new()
        .tag("tasks")
        .operation_id(Some("first_version_task"))
        .summary(Some("An aifaceswap task in the first version's shape"))
        .parameter(path_parameter("task_id", "aifaceswap's task id."));
    let first = with_errors(
        ok_json(first, "The task.", schema_ref::<LegacyTaskView>()),
        &[401, 403, 404, 429, 500],
    );
    let first_events = {
        let mut operation = events("tasks", schema_ref::<LegacyTaskView>());
        operation = operation.operation_id(Some("first_version_task_events"));
        operation
    };
    let upload = OperationBuilder::new()
        .tag("uploads")
        .operation_id(Some("upload"))
        .summary(Some("Stores an image or video for the providers to fetch"))
        .description(Some(
            "A raw body (its `Content-Type` the file's) or a multipart form with a `file` part; \
             checked by magic bytes (a video also by its container), within `UPLOAD_MAX_BYTES` \
             and the client's `UPLOAD_BYTES_PER_HOUR`.",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .content(
                    "application/octet-stream",
                    ContentBuilder::new()
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .content_media_type("application/octet-stream"),
                        ))
                        .build(),
                )
                .content(
                    "multipart/form-data",
                    json(
                        ObjectBuilder::new()
                            .property(
                                "file",
                                ObjectBuilder::new()
                                    .schema_type(Type::String)
                                    .content_media_type("application/octet-stream"),
                            )
                            .required("file"),
                    ),
                )
                .required(Some(Required::True))
                .build(),
        ));
    let upload = with_errors(
        ok_json(
            upload,
            "Where the file is served.",
            schema_ref::<Uploaded>(),
        ),
        &[400, 401, 403, 413, 415, 429, 500],
    );
    let config = OperationBuilder::new()
        .tag("proxy")
        .operation_id(Some("config"))
        .summary(Some("The served providers and their modes, never a key"));
    let config = with_errors(
        ok_json(config, "The configuration.", schema_ref::<PublicConfig>()),
        API_ERRORS,
    );
    let openapi = OperationBuilder::new()
        .tag("proxy")
        .operation_id(Some("openapi"))
        .summary(Some("This document"));
    let openapi = with_errors(
        ok_json(
            openapi,
            "The OpenAPI 3.1 document of this proxy's routes.",
            any_object("An OpenAPI 3.1 document."),
        ),
        API_ERRORS,
    );
    let hook = OperationBuilder::new()
        .tag("providers")
        .operation_id(Some("callback"))
        .summary(Some("A provider's callback about one task"))
        .description(Some(
            "Checked by the task's token (and the provider's per-task secret where it echoes \
             one) before the body is read; answered as the provider expects.",
        ))
        .parameter(path_parameter("provider", "The provider's id."))
        .parameter(path_parameter("token", "The task's callback token."))
        .request_body(Some(
            RequestBodyBuilder::new()
                .content(
                    "application/json",
                    json(any_object("The provider's callback.")),
                )
                .required(Some(Required::True))
                .build(),
        ));
    let hook = with_errors(
        ok_json(
            hook,
            "The acknowledgement the provider expects.",
            any_object("The provider's acknowledgement."),
        ),
        &[401, 403, 404, 413, 429, 500],
    );
    let stored = OperationBuilder::new()
        .tag("uploads")
        .operation_id(Some("uploaded_file"))
        .summary(Some("A stored upload, whole or one byte range"))
        .parameter(path_parameter(
            "name",
            "The stored name (`<32 hex>.<ext>`).",
        ))
        .response(
            "200",
            ResponseBuilder::new().description("The file.").content(
                "application/octet-stream",
                ContentBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .content_media_type("application/octet-stream"),
                    ))
                    .build(),
            ),
        )
        .response(
            "206",
            ResponseBuilder::new().description("The byte range asked for with `Range`."),
        )
        .response(
            "416",
            ResponseBuilder::new().description("A range past the end of the file."),
        );
    let stored = with_errors(stored, &[403, 404, 429, 500]);
    let kept = OperationBuilder::new()
        .tag("results")
        .operation_id(Some("kept_result"))
        .summary(Some(
            "A succeeded task's result kept by the proxy (KEEP_RESULTS), whole or one byte range",
        ))
        .parameter(path_parameter("provider", "The provider's id."))
        .parameter(path_parameter("task_id", "The task's id."))
        .response(
            "200",
            ResponseBuilder::new().description("The result.").content(
                "application/octet-stream",
                ContentBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .content_media_type("application/octet-stream"),
                    ))
                    .build(),
            ),
        )
        .response(
            "206",
            ResponseBuilder::new().description("The byte range asked for with `Range`."),
        )
        .response(
            "307",
            ResponseBuilder::new()
                .description("Not copied yet (or it could not be): the provider's URL."),
        )
        .response(
            "416",
            ResponseBuilder::new().description("A range past the end of the result."),
        );
    let kept = with_errors(kept, &[404, 429, 500]);
    let health = OperationBuilder::new()
        .tag("proxy")
        .operation_id(Some("health"))
        .summary(Some("200 when the task store answers, 503 otherwise"));
    let status = |word: &str| {
        ObjectBuilder::new()
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([word])),
            )
            .required("status")
    };
    let health = health
        .response(
            "200",
            ResponseBuilder::new()
                .description("The store answers.")
                .content("application/json", json(status("ok"))),
        )
        .response(
            "503",
            ResponseBuilder::new()
                .description("The store does not answer.")
                .content("application/json", json(status("unavailable"))),
        );
    vec![
        (
            "/api/tasks/{task_id}".into(),
            PathItem::new(HttpMethod::Get, first),
        ),
        (
            "/api/tasks/{task_id}/events".into(),
            PathItem::new(HttpMethod::Get, first_events),
        ),
        (
            "/api/uploads".into(),
            PathItem::new(HttpMethod::Post, upload),
        ),
        ("/api/config".into(), PathItem::new(HttpMethod::Get, config)),
        (
            "/api/openapi.json".into(),
            PathItem::new(HttpMethod::Get, openapi),
        ),
        (
            "/hooks/{provider}/{token}".into(),
            PathItem::new(HttpMethod::Post, hook),
        ),
        (
            "/uploads/{name}".into(),
            PathItem::new(HttpMethod::Get, stored),
        ),
        (
            "/results/{provider}/{task_id}".into(),
            PathItem::new(HttpMethod::Get, kept),
        ),
        ("/healthz".into(), PathItem::new(HttpMethod::Get, health)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::table;
    use crate::Config;

    fn every_provider() -> Providers {
        let mut argv = vec!["faceswap-proxy".to_owned()];
        for id in ["aifaceswap", "piapi", "aiphotocraft", "acedata"] {
            argv.extend([format!("--{id}-base-url"), "http://127.0.0.1:9".into()]);
        }
        let config = Config::try_from_args(argv).expect("flags");
        Providers::resolve(&config, None).expect("providers")
    }

    /// The (method, path) pairs of the document.
    fn documented(document: &OpenApi) -> Vec<(Method, String)> {
        let mut found = Vec::new();
        for (path, item) in &document.paths.paths {
            if item.get.is_some() {
                found.push((Method::GET, path.clone()));
            }
            if item.post.is_some() {
                found.push((Method::POST, path.clone()));
            }
            assert!(
                item.put.is_none() && item.delete.is_none() && item.patch.is_none(),
                "{path}: only GET and POST are served"
            );
        }
        found.sort_by(|a, b| (a.1.as_str(), a.0.as_str()).cmp(&(b.1.as_str(), b.0.as_str())));
        found
    }

    #[test]
    fn every_route_of_the_router_is_documented_and_nothing_else() {
        let providers = every_provider();
        let mut served = table::paths(&providers);
        served.sort_by(|a, b| (a.1.as_str(), a.0.as_str()).cmp(&(b.1.as_str(), b.0.as_str())));
        let document = document(&providers);
        assert_eq!(documented(&document), served);
        assert!(served.len() > 20, "{} routes", served.len());
    }

    #[test]
    fn the_document_is_openapi_3_1_with_the_error_shape() {
        let document = serde_json::to_value(document(&every_provider())).expect("json");
        assert!(
            document["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "{}",
            document["openapi"]
        );
        let error = &document["components"]["schemas"]["Error"];
        let words = error["properties"]["error"]["enum"]
            .as_array()
            .expect("words");
        assert_eq!(words.len(), ErrorCode::ALL.len());
        for schema in ["TaskView", "TaskStatus", "PublicConfig", "Uploaded", "Mode"] {
            assert!(
                document["components"]["schemas"][schema].is_object(),
                "{schema}"
            );
        }
        let submit = &document["paths"]["/api/aifaceswap/v1/faceswap"]["post"];
        assert_eq!(
            submit["responses"]["429"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error"
        );
    }
}
