#!/usr/bin/env bash
# Benchmarks of faceswap-proxy (prints figures and ratios; not a timed test). Loopback only,
# bounded in count and time (about 2 minutes).
#
# 1. Forwarding: requests/s and p99 of POST /api/aifaceswap/v1/extract_face through the proxy and
#    through nginx doing the same header injection (Authorization: Bearer KEY, browser headers
#    dropped), to the same upstream (an nginx answering the provider's JSON), with the same load
#    tool (wrk) in the same run. Target: proxy >= 0.8x nginx's throughput.
# 2. Waiting browsers: 10,000 SSE streams on one proxy, its resident memory, and the p99 from
#    webhook POST to event for 1,000 webhooks. Targets: < 300 MiB, p99 < 50 ms.
#
# Usage: bash bench/proxy/run.sh [DURATION_SECONDS] [CONNECTIONS] [STREAMS] [WEBHOOKS]
# (STREAMS=0 skips the SSE part.)
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION="${1:-10}"
CONNECTIONS="${2:-64}"
STREAMS="${3:-10000}"
WEBHOOKS="${4:-1000}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

# Raise the open-file limit for 10,000 streams (client and server ends).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need wrk; then
  echo "==> installing nginx and wrk (Debian)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

echo "==> building faceswap-proxy (release)" >&2
cargo build --release -p faceswap-proxy --bin faceswap-proxy --example sse_bench >&2
PROXY_BIN="$TARGET_DIR/release/faceswap-proxy"
SSE_BIN="$TARGET_DIR/release/examples/sse_bench"

WORK="$(mktemp -d)"
UPSTREAM_PORT=18181
NGINX_PORT=18182
PROXY_PORT=18183
KEY="bench-key-0123456789"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK"/{body,proxy,fastcgi,uwsgi,scgi}
sed -e "s#@WORK@#$WORK#g" -e "s#@UPSTREAM_PORT@#$UPSTREAM_PORT#g" -e "s#@NGINX_PORT@#$NGINX_PORT#g" \
    -e "s#@KEY@#$KEY#g" bench/proxy/nginx.conf.in > "$WORK/nginx.conf"
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK" -e "$WORK/error.log"

HOST=127.0.0.1 PORT=$PROXY_PORT PUBLIC_URL="http://127.0.0.1:$PROXY_PORT" \
  DATABASE_URL="sqlite://$WORK/bench.db" UPLOAD_DIR="$WORK/uploads" \
  AIFACESWAP_BASE_URL="http://127.0.0.1:$UPSTREAM_PORT" AIFACESWAP_API_KEY="$KEY" \
  RATE_LIMIT_PER_MIN=4000000000 SPEND_CAP_CREDITS_PER_HOUR=1000000000000 RUST_LOG=warn \
  "$PROXY_BIN" >"$WORK/proxy.log" 2>&1 &
PIDS+=($!)

for port in $UPSTREAM_PORT $NGINX_PORT $PROXY_PORT; do
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
done

cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"img":"https://img.example/group.jpg"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = "session=browser"
LUA

PATH_OP=/api/aifaceswap/v1/extract_face
# Sanity: both answer the provider's JSON.
for port in $NGINX_PORT $PROXY_PORT; do
  body="$(curl -sS -X POST -H 'content-type: application/json' -d '{"img":"https://img.example/group.jpg"}' "http://127.0.0.1:$port$PATH_OP")"
  case "$body" in *'"code":200'*) ;; *) echo "port $port answered: $body" >&2; exit 1 ;; esac
done

run_wrk() { # port -> "rps p99_ms"
  wrk -t2 -c"$CONNECTIONS" -d3s -s "$WORK/post.lua" "http://127.0.0.1:$1$PATH_OP" >/dev/null # warm-up
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$1$PATH_OP" > "$WORK/wrk.$1.txt"
  awk '
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v);
      if (unit == "us") v = v / 1000; else if (unit == "s") v = v * 1000; p99 = v }
    /Non-2xx/ { bad = $NF }
    END { printf "%s %s %s\n", rps, p99, (bad == "" ? 0 : bad) }' "$WORK/wrk.$1.txt"
}

echo "==> forwarding: wrk -t2 -c$CONNECTIONS -d${DURATION}s POST $PATH_OP" >&2
read -r NGINX_RPS NGINX_P99 NGINX_BAD < <(run_wrk $NGINX_PORT)
read -r PROXY_RPS PROXY_P99 PROXY_BAD < <(run_wrk $PROXY_PORT)
printf '%-28s %12s %10s %8s\n' "forwarding" "req/s" "p99 ms" "non-2xx"
printf '%-28s %12.0f %10.2f %8s\n' "nginx (header injection)" "$NGINX_RPS" "$NGINX_P99" "$NGINX_BAD"
printf '%-28s %12.0f %10.2f %8s\n' "faceswap-proxy" "$PROXY_RPS" "$PROXY_P99" "$PROXY_BAD"
awk -v p="$PROXY_RPS" -v n="$NGINX_RPS" -v pl="$PROXY_P99" -v nl="$NGINX_P99" 'BEGIN {
  printf "throughput ratio proxy/nginx: %.2fx (target >= 0.8x)\n", p / n
  printf "p99 ratio proxy/nginx:        %.2fx\n", pl / nl }'

kill "${PIDS[0]}" 2>/dev/null || true
PIDS=()

if [ "$STREAMS" -gt 0 ]; then
  echo "==> waiting browsers: $STREAMS SSE streams, $WEBHOOKS webhooks" >&2
  "$SSE_BIN" "$PROXY_BIN" "$STREAMS" "$WEBHOOKS"
fi
