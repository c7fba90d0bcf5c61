#!/usr/bin/env bash
# esimguard bench, short: 20 complete downloads by 4 simulated devices over
# real HTTPS against an esimguard-smdpp it starts, every 10th declining the
# profile so that cancelSession is exercised too. The JSON must hold every
# field the issue names, with zero errors and plausible values; the SVG must
# be well-formed XML with its axes labelled. Then the pending-session memory
# mode on a few sessions.
set -euo pipefail
cli=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$cli" bench --count 20 --concurrency 4 --cancel-every 10 --prefill 1000 \
  --floor-iterations 20 --json "$d/bench.json" --plot "$d/bench.svg" \
  > "$d/out.txt" 2> "$d/err.txt" || fail "bench failed: $(cat "$d/out.txt" "$d/err.txt")"
grep -q 'bench: .* downloads' "$d/err.txt" || fail "no progress line: $(cat "$d/err.txt")"
grep -q 'getBoundProfilePackage' "$d/out.txt" || fail "no table: $(cat "$d/out.txt")"

python3 - "$d/bench.json" "$d/bench.svg" <<'PY'
import json, sys, xml.etree.ElementTree as ET
j = json.load(open(sys.argv[1]))
def need(cond, what):
    if not cond:
        sys.exit("FAIL: " + what + ": " + json.dumps(j, indent=1))
for k in ["downloads_per_s", "latency_ms", "errors", "server_cpu_us_per_download",
          "crypto_floor_us_per_download", "server_cpu_to_crypto_floor_ratio"]:
    need(k in j, "missing " + k)
# 20 orders, 2 of them declined on purpose: 18 complete downloads.
need(j["downloads"] == 18, "downloads")
need(j["cancelled"] == 2, "cancelled")
need(j["errors_total"] == 0 and j["errors"] == {}, "errors")
need(j["downloads_per_s"] > 0, "rate")
for fn in ["initiateAuthentication", "authenticateClient", "getBoundProfilePackage",
           "handleNotification", "cancelSession"]:
    l = j["latency_ms"][fn]
    need(l["count"] > 0 and l["errors"] == 0, fn + " calls")
    need(0 < l["p50_ms"] <= l["p95_ms"] <= l["p99_ms"], fn + " percentiles")
need(j["latency_ms"]["getBoundProfilePackage"]["count"] == 18, "one BPP per download")
need(j["latency_ms"]["cancelSession"]["count"] == 2, "one cancelSession per decline")
need(j["server_cpu_us_per_download"] is not None and j["server_cpu_us_per_download"] > 0, "cpu")
need(j["crypto_floor_us_per_download"] > 0, "floor")
b = j["crypto_floor_breakdown_us"]
need(all(b[k] > 0 for k in ["sign", "verify", "keygen", "ecdh_kdf", "bsp"]), "floor parts")
need(abs(j["server_cpu_to_crypto_floor_ratio"] -
         j["server_cpu_us_per_download"] / j["crypto_floor_us_per_download"]) < 1e-6, "ratio")
svg = ET.parse(sys.argv[2]).getroot()
need(svg.tag.endswith("svg"), "svg root")
texts = " ".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
for label in ["downloads / s", "milliseconds", "time since start (s)", "getBoundProfilePackage p99"]:
    need(label in texts, "svg lacks " + label)
need(sum(1 for e in svg.iter() if e.tag.endswith("polyline")) == 4, "svg lines")
PY

"$cli" bench --sessions 200 --concurrency 4 --json "$d/sessions.json" -q \
  > "$d/s.out" 2> "$d/s.err" || fail "sessions: $(cat "$d/s.out" "$d/s.err")"
python3 - "$d/sessions.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
if j["sessions_opened"] != 200 or j["sessions_failed"] != 0 or j["database_bytes_per_session"] <= 0:
    sys.exit("FAIL: sessions: " + json.dumps(j))
PY
echo "bench smoke: ok"
