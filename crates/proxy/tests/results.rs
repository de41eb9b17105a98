//! Results that outlive the provider (`KEEP_RESULTS`): a succeeded task's result is copied under
//! the rules of URL inputs and served at `PUBLIC_URL/results/{provider}/{task_id}` with range
//! requests, after the provider deleted its own copy; a result those rules refuse is never read.

mod common;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use common::{deliver, proxy, valid_body, Fake, Proxy, PNG};
use faceswap_proxy::store::postgres::PostgresStore;
use faceswap_proxy::store::TaskKey;
use faceswap_proxy::upload_store::{DiskUploads, UploadStore};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A provider's file host on loopback: `/r.png` until it deletes it.
#[derive(Clone, Default)]
struct Cdn {
    deleted: Arc<AtomicBool>,
    fetches: Arc<AtomicUsize>,
}

impl Cdn {
    /// Starts it; returns the result's URL.
    async fn start(&self) -> String {
        async fn file(State(cdn): State<Cdn>) -> axum::response::Response {
            cdn.fetches.fetch_add(1, Ordering::SeqCst);
            if cdn.deleted.load(Ordering::SeqCst) {
                return StatusCode::NOT_FOUND.into_response();
            }
            ([("content-type", "image/png")], PNG).into_response()
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind cdn");
        let url = format!("http://{}/r.png", listener.local_addr().expect("addr"));
        let router = Router::new()
            .route("/r.png", get(file))
            .with_state(self.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        url
    }
}

/// Submits a face swap and delivers its success with `result` as the provider's result URL;
/// returns the task id.
async fn succeeded(proxy: &Proxy, fake: &Fake, result: &str) -> String {
    let answer: Value = proxy
        .submit("faceswap", valid_body("faceswap"))
        .await
        .json()
        .await
        .expect("json");
    let task_id = answer["data"]["task_id"].as_str().expect("task").to_owned();
    let hook = fake.last().webhook().expect("webhook");
    let body = json!({"success": 1, "type": 1, "task_id": task_id, "result_image": result});
    assert_eq!(deliver(&hook, body).await, 200);
    task_id
}

async fn view(proxy: &Proxy, task_id: &str) -> Value {
    proxy
        .get(&format!("/api/aifaceswap/tasks/{task_id}"))
        .await
        .json()
        .await
        .expect("task json")
}

/// Waits until the store says the result is copied.
async fn until_kept(proxy: &Proxy, task_id: &str) {
    let key = TaskKey::new("aifaceswap", task_id);
    for _ in 0..100 {
        let copy = proxy.state.store.result_copy(&key).await.expect("copy");
        if copy.and_then(|c| c.kept).is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the result was not copied within 5 s");
}

#[tokio::test]
async fn a_kept_result_is_served_after_the_provider_deleted_its_copy() {
    let fake = Fake::start().await;
    let cdn = Cdn::default();
    let result = cdn.start().await;
    // The cdn is on loopback over http, as the sandbox is: FETCH_ALLOW_PRIVATE admits it.
    let proxy = proxy(&fake, &["--keep-results", "--fetch-allow-private"]).await;
    let task_id = succeeded(&proxy, &fake, &result).await;
    let task = view(&proxy, &task_id).await;
    let kept = format!("{}/results/aifaceswap/{task_id}", proxy.url);
    assert_eq!(task["status"], "succeeded");
    assert_eq!(task["result_url"], kept.as_str());
    assert_eq!(task["provider_result_url"], result.as_str());
    until_kept(&proxy, &task_id).await;
    cdn.deleted.store(true, Ordering::SeqCst);
    assert_eq!(
        proxy.http.get(&result).send().await.expect("cdn").status(),
        404
    );

    let whole = proxy.http.get(&kept).send().await.expect("result");
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "image/png");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.bytes().await.expect("body").as_ref(), PNG);
    let part = proxy
        .http
        .get(&kept)
        .header("range", "bytes=1-3")
        .send()
        .await
        .expect("range");
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 1-3/{}", PNG.len()).as_str()
    );
    assert_eq!(part.bytes().await.expect("body").as_ref(), &PNG[1..4]);
    assert_eq!(cdn.fetches.load(Ordering::SeqCst), 2, "copied once");
    // The first version's view gives the lasting URL too.
    assert_eq!(proxy.task(&task_id).await["result_url"], kept.as_str());
}

#[tokio::test]
async fn a_result_the_fetch_rules_refuse_is_never_read_and_its_address_redirects() {
    let fake = Fake::start().await;
    let cdn = Cdn::default();
    let result = cdn.start().await;
    // Without FETCH_ALLOW_PRIVATE: plain http on loopback is never fetched.
    let proxy = proxy(&fake, &["--keep-results"]).await;
    let task_id = succeeded(&proxy, &fake, &result).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(cdn.fetches.load(Ordering::SeqCst), 0, "never read");
    let kept = format!("{}/results/aifaceswap/{task_id}", proxy.url);
    let answer = proxy.http.get(&kept).send().await.expect("result");
    assert_eq!(answer.status(), 307);
    assert_eq!(answer.headers()["location"], result.as_str());
    let unknown = proxy.get("/results/aifaceswap/no-such-task").await.status();
    assert_eq!(unknown, 404);
}

#[tokio::test]
async fn without_keep_results_the_provider_url_is_the_result() {
    let fake = Fake::start().await;
    let cdn = Cdn::default();
    let result = cdn.start().await;
    let proxy = proxy(&fake, &[]).await;
    let task_id = succeeded(&proxy, &fake, &result).await;
    let task = view(&proxy, &task_id).await;
    assert_eq!(task["result_url"], result.as_str());
    assert!(task.get("provider_result_url").is_none(), "{task}");
    let answer = proxy
        .get(&format!("/results/aifaceswap/{task_id}"))
        .await
        .status();
    assert_eq!(answer, 404);
}

/// A stored PNG, ready for `put`.
fn incoming(dir: &std::path::Path) -> faceswap_proxy::upload_store::Incoming {
    let path = tempfile::NamedTempFile::new_in(dir)
        .expect("temp")
        .into_temp_path();
    std::fs::write(&path, PNG).expect("write");
    let file = std::fs::File::open(&path).expect("open");
    faceswap_proxy::upload_store::Incoming {
        path,
        file: tokio::fs::File::from_std(file),
        len: PNG.len() as u64,
        media: faceswap_core::MediaType::Png,
        duration_ms: None,
    }
}

/// Kept results live beside the uploads under the same names, and each sweep removes its own.
async fn results_live_apart_from_uploads(uploads: UploadStore, spool: &std::path::Path) {
    let results = uploads.results();
    let name = format!("{}.png", "b".repeat(32));
    uploads.put(&name, incoming(spool)).await.expect("upload");
    results.put(&name, incoming(spool)).await.expect("result");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        uploads
            .remove_older_than(Duration::ZERO)
            .await
            .expect("sweep"),
        1
    );
    assert!(uploads.meta(&name).await.expect("meta").is_none());
    let kept = results
        .meta(&name)
        .await
        .expect("meta")
        .expect("the result stays");
    assert_eq!(kept.size, PNG.len() as u64);
    assert_eq!(
        results
            .remove_older_than(Duration::ZERO)
            .await
            .expect("sweep"),
        1
    );
    assert!(results.meta(&name).await.expect("meta").is_none());
}

#[tokio::test]
async fn on_disk_results_live_apart_from_uploads() {
    let dir = tempfile::tempdir().expect("dir");
    let uploads = dir.path().join("uploads");
    std::fs::create_dir_all(uploads.join("results")).expect("folders");
    results_live_apart_from_uploads(UploadStore::Disk(DiskUploads::new(&uploads)), dir.path())
        .await;
}

#[tokio::test]
async fn in_postgresql_results_live_apart_from_uploads() {
    let Some(server) = common::pg::server() else {
        return;
    };
    let url = server.database().await;
    let store = PostgresStore::connect(&url, tokio::runtime::Handle::current())
        .await
        .expect("store");
    let dir = tempfile::tempdir().expect("dir");
    results_live_apart_from_uploads(UploadStore::Postgres(store.uploads()), dir.path()).await;
}
