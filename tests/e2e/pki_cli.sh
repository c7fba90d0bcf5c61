#!/usr/bin/env bash
# esimguard pki init + issue-euicc, end to end: files on disk, openssl verify
# accepts the chains, and an EID outside the EUM's range is refused.
# Usage: pki_cli.sh <path to the esimguard binary>
set -euo pipefail
# grep -q would quit at the first match and a writer still writing gets
# SIGPIPE, which pipefail turns into a failure: has() reads all its input.
has() { grep "$@" >/dev/null; }

bin="${1:?usage: pki_cli.sh <esimguard binary>}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

in_range=89049032123451234512345678901235
out_of_range=89001012012341234012345678901224

"$bin" pki init --dir "$work/pki" --host smdp.test.example > "$work/init.out" \
  || fail "pki init exited non-zero"
grep -q "wrote .*nist/dptls.pem" "$work/init.out" || fail "pki init did not report what it wrote"

for curve in nist brainpool; do
  d="$work/pki/$curve"
  for f in ci eum dpauth dppb dptls; do
    for ext in pem der key.pem; do
      [ -s "$d/$f.$ext" ] || fail "missing $curve/$f.$ext"
    done
    mode="$(stat -c %a "$d/$f.key.pem")"
    [ "$mode" = 600 ] || fail "$curve/$f.key.pem has mode $mode"
  done
  [ -s "$d/ci.crl.pem" ] || fail "missing $curve/ci.crl.pem"

  "$bin" pki issue-euicc --dir "$work/pki" --eid "$in_range" --curve "$curve" > "$work/issue.out" \
    || fail "issue-euicc $curve exited non-zero"
  grep -q "wrote .*$in_range.pem" "$work/issue.out" || fail "issue-euicc did not report the file"

  (cd "$d" && openssl verify -x509_strict -CAfile ci.pem -untrusted eum.pem "euicc/$in_range.pem") \
    || fail "openssl verify refused the $curve eUICC chain"
  (cd "$d" && openssl verify -x509_strict -crl_check -CRLfile ci.crl.pem -CAfile ci.pem \
      dpauth.pem dppb.pem dptls.pem) || fail "openssl verify refused the $curve DP certificates"
  openssl x509 -in "$d/dptls.pem" -noout -ext subjectAltName | has "DNS:smdp.test.example" \
    || fail "$curve DPtls lacks the host in its subjectAltName"
done

if "$bin" pki issue-euicc --dir "$work/pki" --eid "$out_of_range" 2> "$work/err.out"; then
  fail "an EID outside the EUM's range was accepted"
fi
grep -q "outside" "$work/err.out" || fail "no clear error for an out-of-range EID"
[ ! -e "$work/pki/nist/euicc/$out_of_range.pem" ] || fail "a certificate was written anyway"

if "$bin" pki issue-euicc --dir "$work/pki" --eid 1234 2> /dev/null; then
  fail "a malformed EID was accepted"
fi
if "$bin" pki init --dir "$work/pki" > /dev/null 2>&1; then
  fail "init overwrote an existing PKI without --force"
fi

echo "pki_cli: OK"
