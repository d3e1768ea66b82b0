#!/usr/bin/env bash
# Regenerates the independent-producer exception fixtures in this folder with
# openssl and coreutils only (no Residency code): P-256 keys, hand-written in-toto
# Statement v1 payloads, and DSSE envelopes in the layout cosign and in-toto write,
# signed over the DSSE pre-authentication encoding with `openssl dgst -sha256 -sign`.
# Then generate-sigstore.js wraps the valid statement in a Sigstore bundle with
# sigstore-js (@sigstore/sign). ECDSA signatures are randomised: a rerun changes
# the signature bytes (and keys, with --new-keys), never what the tests expect.
#
# Usage: ./generate.sh [--new-keys]
set -euo pipefail
cd "$(dirname "$0")"

if [[ "${1:-}" == "--new-keys" || ! -f portal.key ]]; then
  for k in portal other; do
    openssl ecparam -name prime256v1 -genkey -noout -out "$k.ec.key"
    openssl pkcs8 -topk8 -nocrypt -in "$k.ec.key" -out "$k.key"
    rm "$k.ec.key"
    openssl ec -in "$k.key" -pubout -out "$k.pub" 2>/dev/null
  done
fi

TYPE='application/vnd.in-toto+json'
ENTITY='component:default/residency-cli'
HEX1=1111111111111111111111111111111111111111111111111111111111111111
HEX2=2222222222222222222222222222222222222222222222222222222222222222

# statement <file> <subject hex> <waived code> <expiresAt>: written by hand, in
# the field order and indentation a producer other than ours might use.
statement() {
  cat > "$1" <<JSON
{
  "_type": "https://in-toto.io/Statement/v1",
  "predicateType": "https://residency.dev/exception/v1",
  "subject": [
    {
      "name": "$ENTITY",
      "digest": { "sha256": "$2" }
    }
  ],
  "predicate": {
    "entity": "$ENTITY",
    "exceptionId": "6f1c3c5e-2b7a-4c1e-9d0f-3a5b7c9d1e2f",
    "digests": ["sha256:$2"],
    "waivedReasonCodes": ["$3"],
    "justification": "Provenance builder outage; images built on the fallback runner",
    "reference": "LEGAL-2026-117",
    "requester": "user:default/dana",
    "approver": "user:default/pat",
    "approvedAt": "2026-11-30T09:00:00Z",
    "expiresAt": "$4"
  }
}
JSON
}

# envelope <payload file> <private key> <out>: DSSE v1, PAE with byte lengths.
envelope() {
  local len
  len=$(wc -c < "$1" | tr -d ' ')
  { printf 'DSSEv1 %d %s %d ' "${#TYPE}" "$TYPE" "$len"; cat "$1"; } > pae.bin
  openssl dgst -sha256 -sign "$2" -out sig.der pae.bin
  printf '{"payloadType":"%s","payload":"%s","signatures":[{"keyid":"","sig":"%s"}]}\n' \
    "$TYPE" "$(base64 -w0 < "$1")" "$(base64 -w0 < sig.der)" > "$3"
  rm pae.bin sig.der
}

statement valid.statement.json "$HEX1" 'attestation_missing:provenance' '2026-12-05T09:00:00Z'
statement expired.statement.json "$HEX1" 'attestation_missing:provenance' '2026-12-01T09:00:00Z'
statement digest-not-covered.statement.json "$HEX2" 'attestation_missing:provenance' '2026-12-05T09:00:00Z'
statement codes-not-covered.statement.json "$HEX1" 'signature_missing' '2026-12-05T09:00:00Z'
statement extended.statement.json "$HEX1" 'attestation_missing:provenance' '2027-12-05T09:00:00Z'

envelope valid.statement.json portal.key valid.dsse.json
envelope expired.statement.json portal.key expired.dsse.json
envelope digest-not-covered.statement.json portal.key digest-not-covered.dsse.json
envelope codes-not-covered.statement.json portal.key codes-not-covered.dsse.json
envelope valid.statement.json other.key wrong-key.dsse.json

# Tampered: the valid envelope's signature over a payload whose window was extended.
valid_sig=$(sed -E 's/.*"sig":"([^"]+)".*/\1/' valid.dsse.json)
printf '{"payloadType":"%s","payload":"%s","signatures":[{"keyid":"","sig":"%s"}]}\n' \
  "$TYPE" "$(base64 -w0 < extended.statement.json)" "$valid_sig" > tampered-payload.dsse.json
rm extended.statement.json

# Each envelope must verify (or not) with openssl itself, before any test reads it.
check() {
  local len
  sed -E 's/.*"payload":"([^"]+)".*/\1/' "$1" | base64 -d > payload.bin
  len=$(wc -c < payload.bin | tr -d ' ')
  { printf 'DSSEv1 %d %s %d ' "${#TYPE}" "$TYPE" "$len"; cat payload.bin; } > pae.bin
  sed -E 's/.*"sig":"([^"]+)".*/\1/' "$1" | base64 -d > sig.der
  openssl dgst -sha256 -verify portal.pub -signature sig.der pae.bin > /dev/null 2>&1 && echo "$1: signed by portal.pub" || echo "$1: NOT signed by portal.pub"
  rm pae.bin sig.der payload.bin
}
for f in *.dsse.json; do check "$f"; done

node generate-sigstore.js
