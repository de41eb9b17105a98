#!/usr/bin/env bash
# Benchmarks of faceswap-proxy (prints figures and ratios; not a timed test). Loopback only,
# bounded in count and time (about 3 minutes).
#
# 1. Forwarding: requests/s and p99 of POST /api/aifaceswap/v1/extract_face through the proxy and
#    through nginx doing the same header injection (Authorization: Bearer KEY, browser headers
#    dropped), to the same upstream (a separate nginx instance answering the provider's JSON),
#    with the same load tool (wrk) in the same run. Both run ROUNDS times, alternating, and the
#    medians are compared, because one 10-second run on a shared 2-core machine varies by 20%.
#    An alarm, not a target: the proxy's upstream calls take seconds and cost money, so its code
#    is plain axum; a ratio under 0.4x nginx's throughput means something regressed badly.
# 2. Waiting browsers: 10,000 SSE streams on one proxy, its resident memory, and the p99 from
#    webhook POST to event for 1,000 webhooks. Targets: < 300 MiB, p99 < 50 ms.
#
# Usage: bash bench/proxy/run.sh [DURATION_SECONDS] [CONNECTIONS] [STREAMS] [WEBHOOKS] [ROUNDS]
# (STREAMS=0 skips the SSE part; ROUNDS defaults to 5: one round varies by up to 20% here.)
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION="${1:-10}"
CONNECTIONS="${2:-64}"
STREAMS="${3:-10000}"
WEBHOOKS="${4:-1000}"
ROUNDS="${5:-5}"
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
  for part in upstream peer; do
    [ -f "$WORK/$part/nginx.pid" ] && kill "$(cat "$WORK/$part/nginx.pid")" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The upstream and the peer are separate nginx instances, as the upstream and faceswap-proxy are.
for part in upstream peer; do
  mkdir -p "$WORK/$part"/{body,proxy,fastcgi,uwsgi,scgi}
  sed -e "s#@WORK@#$WORK#g" -e "s#@UPSTREAM_PORT@#$UPSTREAM_PORT#g" -e "s#@NGINX_PORT@#$NGINX_PORT#g" \
      -e "s#@KEY@#$KEY#g" "bench/proxy/$part.conf.in" > "$WORK/$part.conf"
  "$NGINX" -c "$WORK/$part.conf" -p "$WORK/$part" -e "$WORK/$part/error.log"
done

HOST=127.0.0.1 PORT=$PROXY_PORT PUBLIC_URL="http://127.0.0.1:$PROXY_PORT" \
  DATABASE_URL="sqlite://$WORK/bench.db" UPLOAD_DIR="$WORK/uploads" \
  AIFACESWAP_BASE_URL="http://127.0.0.1:$UPSTREAM_PORT" AIFACESWAP_API_KEY="$KEY" \
  RATE_LIMIT_PER_MIN=4000000000 SPEND_CAP_CREDITS_PER_HOUR=1000000000000 RUST_LOG=warn \
  MAX_CONNECTIONS=60000 MAX_CONNECTIONS_PER_CLIENT=60000 \
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

run_wrk() { # port round -> "rps p99_ms non2xx"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$1$PATH_OP" > "$WORK/wrk.$1.$2.txt"
  awk '
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v);
      if (unit == "us") v = v / 1000; else if (unit == "s") v = v * 1000; p99 = v }
    /Non-2xx/ { bad = $NF }
    END { printf "%s %s %s\n", rps, p99, (bad == "" ? 0 : bad) }' "$WORK/wrk.$1.$2.txt"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "==> forwarding: wrk -t2 -c$CONNECTIONS -d${DURATION}s POST $PATH_OP, $ROUNDS alternating rounds" >&2
for port in $NGINX_PORT $PROXY_PORT; do # warm-up: connection pools filled, caches hot
  wrk -t2 -c"$CONNECTIONS" -d3s -s "$WORK/post.lua" "http://127.0.0.1:$port$PATH_OP" >/dev/null
done
: > "$WORK/rounds.txt"
printf '%-6s %-28s %12s %10s %8s\n' "round" "forwarding" "req/s" "p99 ms" "non-2xx"
for round in $(seq "$ROUNDS"); do
  for port in $NGINX_PORT $PROXY_PORT; do
    read -r rps p99 bad < <(run_wrk "$port" "$round")
    name="faceswap-proxy"; [ "$port" = "$NGINX_PORT" ] && name="nginx (header injection)"
    printf '%-6s %-28s %12.0f %10.2f %8s\n' "$round" "$name" "$rps" "$p99" "$bad"
    echo "$port $rps $p99 $bad" >> "$WORK/rounds.txt"
  done
done
col() { awk -v p="$1" -v c="$2" '$1 == p { print $c }' "$WORK/rounds.txt" | median; }
NGINX_RPS="$(col $NGINX_PORT 2)"; NGINX_P99="$(col $NGINX_PORT 3)"
PROXY_RPS="$(col $PROXY_PORT 2)"; PROXY_P99="$(col $PROXY_PORT 3)"
BAD="$(awk '{ s += $4 } END { print s + 0 }' "$WORK/rounds.txt")"
printf '%-6s %-28s %12.0f %10.2f\n' "median" "nginx (header injection)" "$NGINX_RPS" "$NGINX_P99"
printf '%-6s %-28s %12.0f %10.2f\n' "median" "faceswap-proxy" "$PROXY_RPS" "$PROXY_P99"
[ "$BAD" = 0 ] || echo "WARNING: $BAD non-2xx answers" >&2
awk -v p="$PROXY_RPS" -v n="$NGINX_RPS" -v pl="$PROXY_P99" -v nl="$NGINX_P99" 'BEGIN {
  printf "throughput ratio proxy/nginx (medians): %.2fx (alarm below 0.4x)\n", p / n
  printf "p99 ratio proxy/nginx (medians):        %.2fx\n", pl / nl }'

kill "${PIDS[0]}" 2>/dev/null || true
PIDS=()

if [ "$STREAMS" -gt 0 ]; then
  echo "==> waiting browsers: $STREAMS SSE streams, $WEBHOOKS webhooks" >&2
  "$SSE_BIN" "$PROXY_BIN" "$STREAMS" "$WEBHOOKS"
fi
