#!/bin/sh
# Verify a certarchive certificate file (不动产登记电子证照, PDF) with OpenSSL alone: no
# certarchive code.  A relying party (a bank, an agency) needs the file and the root
# certificate of the registration centre's CA (or the chain that `certarchive seal
# certificate --out` writes: the root is its last certificate).
#
#   sh verify-with-openssl.sh CERTIFICATE.pdf ROOT.pem
#
# For every signature in the file it checks, with the SM2 signer ID 1234567812345678
# (GM/T 0009's default):
#   1. messageDigest: the SM3 of the signed byte ranges, as the signature says;
#   2. the SM2 signature over the signed attributes, with the signer certificate's key;
#   3. the signer certificate's chain up to ROOT.pem;
# and that the last signature covers the whole file (nothing was appended after it).
# Exit 0 when everything holds.  It does not ask the registry whether the certificate
# was revoked since: open the verification address in the file's QR code for that.
# Needs: openssl (3.0 or later), awk, dd, grep, xxd.
set -eu

pdf=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
size=$(wc -c < "$pdf")
fail() { echo "INVALID: $*"; exit 1; }

grep -a -o '/ByteRange *\[ *[0-9]* *[0-9]* *[0-9]* *[0-9]* *\]' "$pdf" | tr -d '/ByteRange[]' \
  > "$work/ranges"
[ -s "$work/ranges" ] || fail "the file carries no signature"
number=0
while read -r a b c d; do
  number=$((number + 1))
  sig="$work/$number"
  mkdir "$sig"
  [ "$a" -eq 0 ] || fail "signature $number: its range does not start at 0"
  # The signed bytes, and the CMS between them (hex between < and >, then zero padding).
  { dd if="$pdf" bs=1M iflag=count_bytes count="$b" status=none
    dd if="$pdf" bs=1M iflag=skip_bytes,count_bytes skip="$c" count="$d" status=none
  } > "$sig/signed.bin"
  dd if="$pdf" bs=1M iflag=skip_bytes,count_bytes skip=$((b + 1)) count=$((c - b - 2)) \
    status=none | xxd -r -p > "$sig/contents.bin"
  openssl asn1parse -inform DER -in "$sig/contents.bin" > "$sig/structure" 2>/dev/null \
    || fail "signature $number: /Contents is not DER"
  length=$(awk -F'[=: ]+' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "hl") h = $(i + 1);
    if ($i == "l") l = $(i + 1) } print h + l }' "$sig/structure")
  head -c "$length" "$sig/contents.bin" > "$sig/cms.der"
  # Everything after the CMS must be zero bytes.
  tail -c +$((length + 1)) "$sig/contents.bin" | tr -d '\000' | grep -q . \
    && fail "signature $number: non-zero bytes after the signature data"
  # Signed attributes ([0] in SignerInfo, signed as a SET), messageDigest, signature value.
  attrs=$(awk '/d=5 .*cont \[ 0 \]/ { split($1, o, ":"); for (i = 1; i <= NF; i++) {
    if ($i ~ /^hl=/) { sub("hl=", "", $i); h = $i } if ($i ~ /^l=/) { sub("l=", "", $i);
    l = $i == "" ? $(i + 1) : $i } } print o[1], h + l }' "$sig/structure" | tail -n 1)
  [ -n "$attrs" ] || fail "signature $number: no signed attributes"
  set -- $attrs
  { printf '\061'; dd if="$sig/cms.der" bs=1M iflag=skip_bytes,count_bytes skip=$(($1 + 1)) \
      count=$(($2 - 1)) status=none; } > "$sig/attributes.der"
  digest=$(awk '/messageDigest/ { found = 1; next } found && /OCTET STRING/ {
    sub(/.*:/, ""); print tolower($0); exit }' "$sig/structure")
  awk '/d=5 .*OCTET STRING/ { value = $0 } END { sub(/.*:/, "", value); print value }' \
    "$sig/structure" | xxd -r -p > "$sig/signature.der"
  # 1. the digest of the signed ranges
  actual=$(openssl dgst -sm3 -r "$sig/signed.bin" | awk '{ print $1 }')
  [ "$actual" = "$digest" ] || fail "signature $number: the file was changed after signing"
  # 2. the SM2 signature, made by the key of one of the certificates the file carries
  openssl pkcs7 -inform DER -in "$sig/cms.der" -print_certs -out "$sig/certs.pem" 2>/dev/null
  awk -v dir="$sig" '/BEGIN CERTIFICATE/ { n++ } n { print > (dir "/cert" n ".pem") }' \
    "$sig/certs.pem"
  signer=
  for cert in "$sig"/cert*.pem; do
    openssl x509 -in "$cert" -noout -pubkey > "$sig/key.pem"
    if openssl pkeyutl -verify -rawin -digest sm3 -pubin -inkey "$sig/key.pem" \
      -pkeyopt distid:1234567812345678 -in "$sig/attributes.der" \
      -sigfile "$sig/signature.der" > /dev/null 2>&1; then signer=$cert; fi
  done
  [ -n "$signer" ] || fail "signature $number: the SM2 signature does not verify"
  # 3. the signer certificate's chain up to the root the relying party trusts
  openssl verify -vfyopt distid:1234567812345678 -CAfile "$root" \
    -untrusted "$sig/certs.pem" "$signer" > /dev/null 2>&1 \
    || fail "signature $number: the certificate does not chain to $root"
  echo "signature $number: valid, signed by $(openssl x509 -in "$signer" -noout -subject \
    -nameopt utf8,sep_comma_plus)"
  last_end=$((c + d))
done < "$work/ranges"
[ "$last_end" -eq "$size" ] || fail "bytes were appended after the last signature"
echo "VALID: $number signature(s), the last covering the whole file"
