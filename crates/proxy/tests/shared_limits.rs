//! Proxies behind a load balancer: the test client is the balancer (peer 127.0.0.1, listed in
//! `TRUSTED_PROXIES`) and names each client in `X-Forwarded-For`. Two proxies on one PostgreSQL
//! database (the `pg` harness) share each client's rate limit and spend cap; two clients have
//! budgets of their own; a forwarding header from an untrusted peer changes nothing. The fake
//! upstream answers as aifaceswap, so no provider is called.

mod common;

use common::logs::log_text;
use common::{pg, serve, valid_body, Behaviour, Fake, Proxy, KEY};
use faceswap_proxy::Config;
use secrecy::SecretString;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ALICE: &str = "203.0.113.1";
const BOB: &str = "203.0.113.2";

/// A proxy on `database_url` whose aifaceswap upstream is `fake`, with these limits.
async fn proxy_on(
    fake: &Fake,
    database_url: Option<&str>,
    trusted: Option<&str>,
    rate_per_min: &str,
    credits_per_hour: &str,
) -> Proxy {
    proxy_with(
        fake,
        database_url,
        trusted,
        rate_per_min,
        credits_per_hour,
        &[],
    )
    .await
}

/// [`proxy_on`] with `extra` flags.
async fn proxy_with(
    fake: &Fake,
    database_url: Option<&str>,
    trusted: Option<&str>,
    rate_per_min: &str,
    credits_per_hour: &str,
    extra: &[&str],
) -> Proxy {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let sqlite = format!("sqlite://{}", dir.path().join("tasks.db").display());
    let mut args: Vec<String> = [
        "faceswap-proxy",
        "--public-url",
        &url,
        "--database-url",
        database_url.unwrap_or(&sqlite),
        "--upload-dir",
        &dir.path().join("uploads").display().to_string(),
        "--aifaceswap-base-url",
        &fake.url,
        "--piapi-base-url",
        &fake.url,
        "--aiphotocraft-base-url",
        &fake.url,
        "--acedata-base-url",
        &fake.url,
        "--rate-limit-per-min",
        rate_per_min,
        "--spend-cap-credits-per-hour",
        credits_per_hour,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if let Some(trusted) = trusted {
        args.extend(["--trusted-proxies".to_owned(), trusted.to_owned()]);
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let mut config = Config::try_from_args(args).expect("flags");
    config
        .provider_mut("aifaceswap")
        .expect("registered")
        .api_key = Some(SecretString::from(KEY.to_owned()));
    serve(config, listener, dir).await
}

/// A faceswap (2 credits) sent by the balancer for `client`: the status and the error word.
async fn faceswap_for(proxy: &Proxy, client: &str) -> (u16, Option<String>) {
    let response = proxy
        .http
        .post(format!("{}/api/aifaceswap/v1/faceswap", proxy.url))
        .header("x-forwarded-for", client)
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("submit");
    let status = response.status().as_u16();
    if status == 200 {
        return (status, None);
    }
    assert!(
        status != 429 || response.headers().contains_key("retry-after"),
        "a 429 says when to retry"
    );
    let body: serde_json::Value = response.json().await.expect("a JSON error");
    (status, body["error"].as_str().map(str::to_owned))
}

/// `GET /api/config` sent by the balancer for `client`: the status.
async fn config_for(proxy: &Proxy, client: &str) -> u16 {
    proxy
        .http
        .get(format!("{}/api/config", proxy.url))
        .header("x-forwarded-for", client)
        .send()
        .await
        .expect("get")
        .status()
        .as_u16()
}

fn spend_refused() -> (u16, Option<String>) {
    (429, Some("spend_cap_exceeded".to_owned()))
}

/// Waits out the end of the current minute when less than `margin` of it is left, so that a
/// test of one minute's counter does not straddle two windows.
async fn inside_one_minute(margin: Duration) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    let left = Duration::from_secs(60) - Duration::from_millis(now.as_millis() as u64 % 60_000);
    if left < margin {
        tokio::time::sleep(left + Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn two_proxies_on_one_database_hold_each_clients_spend_cap_together() {
    let Some(server) = pg::server() else { return };
    let database = server.database().await;
    let fake = Fake::start().await;
    let a = proxy_on(&fake, Some(&database), Some("127.0.0.1"), "100000", "10").await;
    let b = proxy_on(&fake, Some(&database), Some("127.0.0.1"), "100000", "10").await;

    // A call the provider refuses (a 4xx: no task was made) is given back: it spends nothing.
    fake.set(Behaviour::Status(400, None));
    assert_eq!(faceswap_for(&a, ALICE).await.0, 502);
    fake.set(Behaviour::Normal);
    let refused_calls = fake.count();

    // Alice's 10 credits an hour are 5 faceswaps, whichever proxy takes them.
    for (i, proxy) in [&a, &b, &a, &b, &b].into_iter().enumerate() {
        assert_eq!(faceswap_for(proxy, ALICE).await, (200, None), "swap {i}");
    }
    assert_eq!(faceswap_for(&a, ALICE).await, spend_refused());
    assert_eq!(faceswap_for(&b, ALICE).await, spend_refused());
    // A client-written entry left of the balancer's changes nothing: the right-most counts.
    assert_eq!(
        faceswap_for(&b, &format!("{BOB}, {ALICE}")).await,
        spend_refused()
    );
    assert_eq!(
        fake.count() - refused_calls,
        5,
        "10 credits spent through both"
    );

    // Bob has a budget of his own, on both proxies.
    assert_eq!(faceswap_for(&b, BOB).await, (200, None));
    assert_eq!(faceswap_for(&a, BOB).await, (200, None));
}

#[tokio::test]
async fn concurrent_spends_through_two_proxies_never_pass_the_cap() {
    let Some(server) = pg::server() else { return };
    let database = server.database().await;
    let fake = Fake::start().await;
    let a = proxy_on(&fake, Some(&database), Some("127.0.0.1"), "100000", "10").await;
    let b = proxy_on(&fake, Some(&database), Some("127.0.0.1"), "100000", "10").await;
    let sends = (0..12).map(|i| faceswap_for(if i % 2 == 0 { &a } else { &b }, ALICE));
    let answers = futures_util::future::join_all(sends).await;
    let accepted = answers.iter().filter(|answer| answer.0 == 200).count();
    assert_eq!(accepted, 5, "{answers:?}");
    assert!(answers
        .iter()
        .all(|answer| answer.0 == 200 || *answer == spend_refused()));
    assert_eq!(fake.count(), 5);
}

#[tokio::test]
async fn two_proxies_on_one_database_share_each_clients_rate_limit() {
    let Some(server) = pg::server() else { return };
    let database = server.database().await;
    let fake = Fake::start().await;
    let a = proxy_on(&fake, Some(&database), Some("127.0.0.1"), "4", "1000").await;
    let b = proxy_on(&fake, Some(&database), Some("127.0.0.1"), "4", "1000").await;
    inside_one_minute(Duration::from_secs(10)).await;
    for proxy in [&a, &b, &a, &b] {
        assert_eq!(config_for(proxy, ALICE).await, 200);
    }
    assert_eq!(config_for(&a, ALICE).await, 429);
    assert_eq!(config_for(&b, ALICE).await, 429);
    assert_eq!(
        config_for(&b, BOB).await,
        200,
        "another client, another count"
    );
}

#[tokio::test]
async fn behind_a_trusted_balancer_one_proxy_counts_each_client_apart() {
    // SQLite: this proxy's own limiters, under the forwarded address.
    let fake = Fake::start().await;
    let proxy = proxy_on(&fake, None, Some("127.0.0.0/8"), "100000", "4").await;
    assert_eq!(faceswap_for(&proxy, ALICE).await, (200, None));
    assert_eq!(faceswap_for(&proxy, ALICE).await, (200, None));
    assert_eq!(faceswap_for(&proxy, ALICE).await, spend_refused());
    assert_eq!(faceswap_for(&proxy, BOB).await, (200, None));
    assert_eq!(faceswap_for(&proxy, "2001:db8::1").await, (200, None));
}

#[tokio::test]
async fn a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let fake = Fake::start().await;
    // Without TRUSTED_PROXIES, and with a balancer that is not this peer.
    for trusted in [None, Some("10.0.0.0/8")] {
        let proxy = proxy_on(&fake, None, trusted, "100000", "4").await;
        assert_eq!(faceswap_for(&proxy, ALICE).await, (200, None));
        assert_eq!(faceswap_for(&proxy, BOB).await, (200, None));
        // Every header named another client; the peer's budget (4 credits) is spent anyway.
        assert_eq!(
            faceswap_for(&proxy, "198.51.100.7").await,
            spend_refused(),
            "{trusted:?}"
        );
    }
}

#[tokio::test]
async fn a_forged_forwarded_for_does_not_escape_a_shared_cap_either() {
    let Some(server) = pg::server() else { return };
    let database = server.database().await;
    let fake = Fake::start().await;
    let a = proxy_on(&fake, Some(&database), None, "100000", "4").await;
    let b = proxy_on(&fake, Some(&database), None, "100000", "4").await;
    assert_eq!(faceswap_for(&a, ALICE).await, (200, None));
    assert_eq!(faceswap_for(&b, BOB).await, (200, None));
    assert_eq!(faceswap_for(&a, "198.51.100.7").await, spend_refused());
    assert_eq!(faceswap_for(&b, "198.51.100.8").await, spend_refused());
}

#[tokio::test]
async fn a_proxy_that_cannot_count_in_the_database_refuses_rather_than_spends() {
    let Some(server) = pg::server() else { return };
    let database = server.database().await;
    let fake = Fake::start().await;
    let proxy = proxy_on(&fake, Some(&database), Some("127.0.0.1"), "100000", "10").await;
    assert_eq!(faceswap_for(&proxy, ALICE).await, (200, None));
    // The counters become unreadable (as when the database does not answer).
    let (client, connection) = tokio_postgres::connect(&database, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let driver = tokio::spawn(connection);
    client
        .batch_execute("DROP TABLE limit_counters")
        .await
        .expect("drop the counters");
    drop(client);
    let _ = driver.await;
    let calls = fake.count();
    let response = proxy
        .http
        .post(format!("{}/api/aifaceswap/v1/faceswap", proxy.url))
        .header("x-forwarded-for", ALICE)
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("submit");
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("a JSON error");
    assert_eq!(body["error"], "internal");
    assert!(
        !body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("limit_counters"),
        "no database detail shown: {body}"
    );
    assert_eq!(fake.count(), calls, "nothing reached the provider");
}

#[tokio::test]
async fn request_logs_name_the_client_never_a_forged_one() {
    log_text();
    let fake = Fake::start().await;
    let behind = proxy_on(&fake, None, Some("127.0.0.1"), "100000", "1000").await;
    assert_eq!(config_for(&behind, "203.0.113.77").await, 200);
    let open = proxy_on(&fake, None, None, "100000", "1000").await;
    assert_eq!(config_for(&open, "198.51.100.99").await, 200);
    let logs = log_text();
    assert!(logs.contains("client=203.0.113.77"), "{logs}");
    assert!(logs.contains("client=127.0.0.1"), "{logs}");
    assert!(!logs.contains("client=198.51.100.99"), "{logs}");
}

/// A `GET /api/config` and a faceswap sent by the balancer for `client`, with an idempotency key.
async fn keyed_faceswap_for(proxy: &Proxy, client: &str, key: &str) -> serde_json::Value {
    proxy
        .http
        .post(format!("{}/api/aifaceswap/v1/faceswap", proxy.url))
        .header("x-forwarded-for", client)
        .header("idempotency-key", key)
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json")
}

/// One IPv6 host may use any address of its /64: every budget counts the /64, on one proxy
/// (SQLite, this proxy's own counters) and on two proxies sharing PostgreSQL.
async fn one_slash_64_is_one_client(a: &Proxy, b: &Proxy, fake: &Fake) {
    let host = "2001:db8:1:2::1";
    let same_host = "2001:db8:1:2::beef";
    let neighbour = "2001:db8:1:3::1";
    // 4 credits an hour: two faceswaps, whichever address of the /64 sends them.
    assert_eq!(faceswap_for(a, host).await, (200, None));
    assert_eq!(faceswap_for(b, host).await, (200, None));
    let calls = fake.count();
    assert_eq!(faceswap_for(a, same_host).await, spend_refused());
    assert_eq!(
        faceswap_for(b, "2001:db8:1:2:ffff:ffff:ffff:fffe").await,
        spend_refused()
    );
    assert_eq!(fake.count(), calls, "nothing more reached the provider");
    // The next /64 is another client.
    assert_eq!(faceswap_for(a, neighbour).await, (200, None));
    // An idempotency key is the /64's: replayed for another address of it, not called again.
    let calls = fake.count();
    let first = keyed_faceswap_for(a, "2001:db8:9:9::1", "key-of-the-host").await;
    let again = keyed_faceswap_for(b, "2001:db8:9:9::2", "key-of-the-host").await;
    assert_eq!(first, again);
    assert_eq!(fake.count(), calls + 1, "one call for both addresses");
}

#[tokio::test]
async fn an_ipv6_client_is_its_slash_64_on_one_proxy() {
    let fake = Fake::start().await;
    let proxy = proxy_on(&fake, None, Some("127.0.0.1"), "100000", "4").await;
    one_slash_64_is_one_client(&proxy, &proxy, &fake).await;
}

#[tokio::test]
async fn an_ipv6_client_is_its_slash_64_on_two_proxies_sharing_postgres() {
    let Some(server) = pg::server() else { return };
    let database = server.database().await;
    let fake = Fake::start().await;
    let a = proxy_on(&fake, Some(&database), Some("127.0.0.1"), "100000", "4").await;
    let b = proxy_on(&fake, Some(&database), Some("127.0.0.1"), "100000", "4").await;
    one_slash_64_is_one_client(&a, &b, &fake).await;
}

#[tokio::test]
async fn an_ipv6_clients_rate_is_its_slash_64s() {
    let fake = Fake::start().await;
    let proxy = proxy_on(&fake, None, Some("127.0.0.1"), "2", "1000").await;
    assert_eq!(config_for(&proxy, "2001:db8:1:2::1").await, 200);
    assert_eq!(config_for(&proxy, "2001:db8:1:2::2").await, 200);
    assert_eq!(config_for(&proxy, "2001:db8:1:2::3").await, 429);
    assert_eq!(config_for(&proxy, "2001:db8:1:3::1").await, 200);
}

/// What a client writes left of its own address never moves it into another bucket.
async fn junk_left_of_the_client_changes_nothing(proxy: &Proxy) {
    assert_eq!(
        faceswap_for(proxy, &format!("junk, {ALICE}")).await,
        (200, None)
    );
    assert_eq!(
        faceswap_for(proxy, &format!("unknown, {BOB}, {ALICE}")).await,
        (200, None)
    );
    // Both were Alice's: her 4 credits are spent...
    assert_eq!(faceswap_for(proxy, ALICE).await, spend_refused());
    // ...and not the balancer's, nor Bob's.
    let balancer = proxy
        .http
        .post(format!("{}/api/aifaceswap/v1/faceswap", proxy.url))
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("submit");
    assert_eq!(
        balancer.status(),
        200,
        "the balancer's own budget is untouched"
    );
    assert_eq!(faceswap_for(proxy, BOB).await, (200, None));
}

#[tokio::test]
async fn x_forwarded_for_is_read_from_the_right_on_one_proxy() {
    let fake = Fake::start().await;
    let proxy = proxy_on(&fake, None, Some("127.0.0.1"), "100000", "4").await;
    junk_left_of_the_client_changes_nothing(&proxy).await;
}

#[tokio::test]
async fn x_forwarded_for_is_read_from_the_right_on_postgres() {
    let Some(server) = pg::server() else { return };
    let database = server.database().await;
    let fake = Fake::start().await;
    let proxy = proxy_on(&fake, Some(&database), Some("127.0.0.1"), "100000", "4").await;
    junk_left_of_the_client_changes_nothing(&proxy).await;
}

/// An upload of `len` bytes (a PNG) sent by the balancer for `client`: the status.
async fn upload_for(proxy: &Proxy, client: &str, len: usize) -> u16 {
    let mut image = common::PNG.to_vec();
    image.resize(len, 0);
    let response = proxy
        .http
        .post(format!("{}/api/uploads", proxy.url))
        .header("x-forwarded-for", client)
        .header("content-type", "image/png")
        .body(image)
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    if status == 429 {
        assert!(response.headers().contains_key("retry-after"));
        let body: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(body["error"], "rate_limited");
    }
    status
}

#[tokio::test]
async fn two_proxies_on_one_database_share_each_clients_upload_budget() {
    let Some(server) = pg::server() else { return };
    let database = server.database().await;
    let fake = Fake::start().await;
    let budget = ["--upload-bytes-per-hour", "3000"];
    let trusted = Some("127.0.0.1");
    let a = proxy_with(&fake, Some(&database), trusted, "100000", "10", &budget).await;
    let b = proxy_with(&fake, Some(&database), trusted, "100000", "10", &budget).await;
    for proxy in [&a, &b, &a] {
        assert_eq!(upload_for(proxy, ALICE, 1000).await, 200);
    }
    assert_eq!(upload_for(&b, ALICE, 1000).await, 429);
    assert_eq!(upload_for(&a, ALICE, 10).await, 429);
    assert_eq!(upload_for(&b, BOB, 1000).await, 200, "another client");
}
