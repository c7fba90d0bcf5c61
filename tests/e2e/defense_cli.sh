#!/usr/bin/env bash
# The defence commands of `esimguard` on a real SQLite database and head
# file: block add/list/remove, stolen add/list/remove, subscriber add/link,
# alerts list, audit show (activation records of the CLI's own admin
# actions) and audit verify, which passes, then fails naming the event that
# was edited behind esimguard's back with sqlite3, and names a deleted one.
# Also `pki crl issue|add|list`: a CRL revoking an eUICC certificate is
# stored, a CRL from a foreign PKI is refused.
set -euo pipefail
# grep -q would quit at the first match and a writer still writing gets
# SIGPIPE, which pipefail turns into a failure: has() reads all its input.
has() { grep "$@" >/dev/null; }
cli=$1
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 missing (scripts/install-deps)"; exit 1; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
db="$d/esimguard.db"
head="$d/audit.head"
t=(--db "$db" --head-file "$head")
# An empty file: the first open applies every migration.
sqlite3 "$db" 'PRAGMA user_version;' >/dev/null

eid=89049032123451234512345678901235
eid2=89049032123451234512345678901299
iccid=89440000000000010001

# ---- blocklist ----
"$cli" block add "${t[@]}" ip 192.0.2.7 --reason "matching ID guessing" --ttl 3600 > "$d/out" \
  || fail "block add ip: $(cat "$d/out")"
"$cli" block add "${t[@]}" ip_prefix 10.1.2.3/8 --reason abuse >/dev/null || fail "block add prefix"
"$cli" block add "${t[@]}" eid "$eid2" >/dev/null || fail "block add eid"
if "$cli" block add "${t[@]}" ip 999.1.1.1 2>"$d/err"; then fail "a malformed address was accepted"; fi
grep -qi "address" "$d/err" || fail "no clear error for a bad address: $(cat "$d/err")"
if "$cli" block add "${t[@]}" planet mars 2>/dev/null; then fail "an unknown kind was accepted"; fi
"$cli" block list "${t[@]}" > "$d/list"
grep -q "192.0.2.7" "$d/list" || fail "block list lacks the address: $(cat "$d/list")"
# Stored canonical: host bits of the prefix cleared.
grep -q "10.0.0.0/8" "$d/list" || fail "block list lacks the canonical prefix: $(cat "$d/list")"
grep -q "$eid2" "$d/list" || fail "block list lacks the EID"
grep -q "matching ID guessing" "$d/list" || fail "block list lacks the reason"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM blocklist')" = 3 ] || fail "blocklist rows"
"$cli" block remove "${t[@]}" ip 192.0.2.7 >/dev/null || fail "block remove"
if "$cli" block list "${t[@]}" | has "192.0.2.7"; then fail "removed block still listed"; fi
set +e; "$cli" block remove "${t[@]}" ip 192.0.2.7 2>/dev/null; rc=$?; set -e
[ "$rc" = 1 ] || fail "removing an absent block should exit 1, got $rc"

# ---- stolen devices ----
"$cli" stolen add "${t[@]}" "$eid" --reason "phone stolen on a train" >/dev/null || fail "stolen add"
if "$cli" stolen add "${t[@]}" 1234 2>/dev/null; then fail "a 4-digit EID was accepted"; fi
"$cli" stolen list "${t[@]}" > "$d/list"
grep -q "$eid" "$d/list" || fail "stolen list: $(cat "$d/list")"
grep -q "phone stolen on a train" "$d/list" || fail "stolen list lacks the reason"
"$cli" stolen remove "${t[@]}" "$eid" >/dev/null || fail "stolen remove"
"$cli" stolen list "${t[@]}" | has "no devices reported stolen" || fail "stolen list not empty"

# ---- subscribers and lines ----
"$cli" subscriber add "${t[@]}" alice --name "Alice Example" --email alice@example.org >/dev/null \
  || fail "subscriber add"
if "$cli" subscriber add "${t[@]}" alice 2>/dev/null; then fail "a duplicate subscriber was accepted"; fi
"$cli" subscriber link "${t[@]}" alice "$iccid" --step-up >/dev/null || fail "subscriber link"
if "$cli" subscriber link "${t[@]}" nobody "$iccid" 2>/dev/null; then fail "linked to an unknown subscriber"; fi
[ "$(sqlite3 "$db" "SELECT subscriber_id || ',' || step_up_on_new_eid FROM lines WHERE iccid = '$iccid'")" = "alice,1" ] \
  || fail "the line row is wrong"

# ---- alerts ----
sqlite3 "$db" "INSERT INTO alerts (id, at, severity, rule, summary, body, subscriber_id)
  VALUES ('a0000000000000000000000000000001', 1704067200000000, 'critical', 'stolen_eid',
          'download attempt to a stolen device', '{}', 'alice')"
"$cli" alerts list "${t[@]}" --unacked > "$d/list"
grep -q "stolen_eid" "$d/list" || fail "alerts list: $(cat "$d/list")"
"$cli" alerts ack "${t[@]}" a0000000000000000000000000000001 >/dev/null || fail "alerts ack"
"$cli" alerts list "${t[@]}" --unacked | has "no alerts" || fail "acknowledged alert still unacked"

# ---- audit: every change above is an admin_action event ----
n=$(sqlite3 "$db" "SELECT count(*) FROM audit_events WHERE kind = 'admin_action'")
[ "$n" -ge 8 ] || fail "expected at least 8 admin_action events, got $n"
"$cli" audit show "${t[@]}" --eid "$eid" > "$d/show" || fail "audit show"
grep -q "admin_action stolen_add" "$d/show" || fail "audit show lacks the stolen report: $(cat "$d/show")"
grep -q "admin_action stolen_remove" "$d/show" || fail "audit show lacks the removal"
head -n 1 "$d/show" | has "WHAT HAPPENED" || fail "audit show has no table header"
"$cli" audit show "${t[@]}" --iccid "$iccid" | has "line_link" || fail "audit show --iccid"
"$cli" audit verify "${t[@]}" > "$d/verify" || fail "audit verify failed on an intact chain: $(cat "$d/verify")"
grep -q "audit chain OK" "$d/verify" || fail "verify output: $(cat "$d/verify")"

# Edit event 3 as someone with the file would: triggers dropped, row changed.
cp "$db" "$d/pristine.db"; cp "$head" "$d/pristine.head"
sqlite3 "$db" "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET outcome = 'refused' WHERE seq = 3;"
set +e; "$cli" audit verify "${t[@]}" > "$d/verify" 2>&1; rc=$?; set -e
[ "$rc" = 1 ] || fail "audit verify exit $rc after an edit: $(cat "$d/verify")"
grep -q "BROKEN at event 3 (edited)" "$d/verify" || fail "verify did not name event 3: $(cat "$d/verify")"

# Delete event 5 from the pristine copy.
cp "$d/pristine.db" "$db"; cp "$d/pristine.head" "$head"
sqlite3 "$db" "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 5;"
set +e; "$cli" audit verify "${t[@]}" > "$d/verify" 2>&1; rc=$?; set -e
[ "$rc" = 1 ] || fail "audit verify exit $rc after a delete"
grep -q "BROKEN at event 5 (deleted)" "$d/verify" || fail "verify did not name event 5: $(cat "$d/verify")"

# ---- CRLs ----
"$cli" pki init --dir "$d/pki" --curve nist --host localhost >/dev/null
"$cli" pki issue-euicc --dir "$d/pki" --curve nist --eid "$eid" >/dev/null
"$cli" pki crl issue --dir "$d/pki" --curve nist --issuer eum \
  --revoke "$d/pki/nist/euicc/$eid.pem" --out "$d/eum.crl.pem" >/dev/null || fail "crl issue"
"$cli" pki crl add --dir "$d/pki" "$d/eum.crl.pem" > "$d/out" || fail "crl add: $(cat "$d/out")"
ls "$d/pki/nist/crls/"*.crl.pem >/dev/null 2>&1 || fail "the CRL was not stored under the PKI"
"$cli" pki crl list --dir "$d/pki" | has "EUM" || fail "crl list does not show the EUM's CRL"
# A CRL of another PKI's EUM (same names, other keys) is refused.
"$cli" pki init --dir "$d/other" --curve nist --host localhost >/dev/null
"$cli" pki crl issue --dir "$d/other" --curve nist --issuer eum --out "$d/foreign.crl.pem" >/dev/null
if "$cli" pki crl add --dir "$d/pki" "$d/foreign.crl.pem" 2>"$d/err"; then
  fail "a CRL signed by a foreign EUM was stored"
fi
grep -q "signature does not verify" "$d/err" || fail "foreign CRL error: $(cat "$d/err")"
if "$cli" pki crl add --dir "$d/pki" "$db" 2>/dev/null; then fail "a non-CRL file was stored"; fi
echo "PASS"
