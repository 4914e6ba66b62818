#!/bin/sh
# Verify a certarchive certificate file in OFD (GB/T 33190, sealed with a GB/T 38540
# electronic seal) with OpenSSL and the shell alone: no certarchive code.  A relying party
# needs the file and the root certificate of the registration centre's CA (the last
# certificate of the chain that `certarchive seal certificate --out` writes).
#
#   sh verify-ofd-with-openssl.sh CERTIFICATE.ofd ROOT.pem
#
# For every signature the package lists (Doc_0/Signs/Signatures.xml) it checks, with the
# SM2 signer ID 1234567812345678 (GM/T 0009's default):
#   1. every Reference: the SM3 of the named file is its CheckValue;
#   2. the SES_Signature (SignedValue.dat): its dataHash is the SM3 of Signature.xml, and
#      its SM2 signature over toSign verifies with the certificate it carries;
#   3. that certificate chains to ROOT.pem;
#   4. the seal (the SESeal inside toSign) lists that certificate, its maker's SM2
#      signature verifies, and the maker's certificate is ROOT.pem or chains to it;
# and that the last signature covers every file of the package except the ones no
# signature can cover: the signature list, its own two files and an empty annotation
# index.  Exit 0 when everything holds.  Not checked here: the seal's and certificates'
# validity dates against the signing time (read them with `openssl asn1parse`), and
# whether the registry revoked the certificate since: open the verification address in
# the QR code for that.
# Needs: openssl (3.0 or later), unzip, awk, grep, base64, xxd, head, tail.
set -eu

ofd=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "INVALID: $*"; exit 1; }
distid=distid:1234567812345678

unzip -q -d "$work/p" "$ofd" 2>/dev/null || fail "not a zip package"
pkg=$work/p
[ -f "$pkg/OFD.xml" ] || fail "the package has no OFD.xml"

# The elements of a DER file as lines "offset depth header-length length".
elements() {
  openssl asn1parse -inform DER -in "$1" 2>/dev/null | awk '{
    sub(/^ */, ""); split($0, a, ":"); offset = a[1]
    match($0, /d=[0-9]+/); depth = substr($0, RSTART + 2, RLENGTH - 2)
    match($0, /hl=[0-9]+/); hl = substr($0, RSTART + 3, RLENGTH - 3)
    match($0, / l= *[0-9]+/); l = substr($0, RSTART + 3, RLENGTH - 3); gsub(/ /, "", l)
    print offset, depth, hl, l }'
}
# The Nth element of depth D in the listing $3: "offset header-length length".
nth() { awk -v d="$1" -v n="$2" '$2 == d { if (++k == n) { print $1, $3, $4; exit } }' "$3"; }
# Bytes of $1 from offset $2, $3 of them.
cut_bytes() { tail -c +$(($2 + 1)) "$1" | head -c "$3"; }
# A DER length, for the SEQUENCE the seal maker signed.
der_length() {
  if [ "$1" -lt 128 ]; then printf "$(printf '\\%03o' "$1")"
  elif [ "$1" -lt 256 ]; then printf '\201'; printf "$(printf '\\%03o' "$1")"
  else printf '\202'; printf "$(printf '\\%03o' $(($1 / 256)))"
    printf "$(printf '\\%03o' $(($1 % 256)))"; fi
}
sm3_base64() { openssl dgst -sm3 -binary "$1" | base64; }
sm3_hex() { openssl dgst -sm3 -r "$1" | awk '{ print $1 }'; }
hex() { xxd -p "$1" | tr -d '\n'; }
chains() { openssl verify -vfyopt "$distid" -CAfile "$root" "$1" > /dev/null 2>&1; }

list=$(tr '\n' ' ' < "$pkg/OFD.xml" | sed -n 's:.*<ofd\:Signatures>[[:space:]]*/*\([^<[:space:]]*\)[[:space:]]*</ofd\:Signatures>.*:\1:p')
[ -n "$list" ] && [ -f "$pkg/$list" ] || fail "the package carries no signature"
tr '\n' ' ' < "$pkg/$list" | awk 'BEGIN { RS = "<ofd:Signature " } NR > 1 {
  if (match($0, /BaseLoc="[^"]*"/)) print substr($0, RSTART + 9, RLENGTH - 10) }' \
  | sed 's:^/::' > "$work/signatures"
[ -s "$work/signatures" ] || fail "the package carries no signature"

number=0
while read -r location; do
  number=$((number + 1))
  s=$work/s$number
  mkdir "$s"
  [ -f "$pkg/$location" ] || fail "signature $number: $location is missing"
  # 1. the references
  tr '\n' ' ' < "$pkg/$location" | awk 'BEGIN { RS = "<ofd:Reference " } NR > 1 {
    match($0, /FileRef="[^"]*"/); file = substr($0, RSTART + 9, RLENGTH - 10)
    match($0, /<ofd:CheckValue>[^<]*/); value = substr($0, RSTART + 16, RLENGTH - 16)
    gsub(/[[:space:]]/, "", value); sub(/^\//, "", file); print file, value }' > "$s/refs"
  [ -s "$s/refs" ] || fail "signature $number: it references no file"
  while read -r file value; do
    [ -f "$pkg/$file" ] || fail "signature $number: the signed file $file is missing"
    [ "$(sm3_base64 "$pkg/$file")" = "$value" ] \
      || fail "signature $number: $file was changed after signing"
  done < "$s/refs"
  value=$(tr '\n' ' ' < "$pkg/$location" \
    | sed -n 's:.*<ofd\:SignedValue>[[:space:]]*/*\([^<[:space:]]*\)[[:space:]]*<.*:\1:p')
  [ -f "$pkg/$value" ] || fail "signature $number: its SignedValue is missing"
  ses=$pkg/$value
  elements "$ses" > "$s/ses" || fail "signature $number: SignedValue.dat is not DER"
  # 2. the SES_Signature: dataHash, then the SM2 signature over toSign
  set -- $(nth 2 4 "$s/ses")
  [ "$(cut_bytes "$ses" $(($1 + $2 + 1)) $(($3 - 1)) | xxd -p | tr -d '\n')" \
    = "$(sm3_hex "$pkg/$location")" ] || fail "signature $number: $location was changed"
  set -- $(nth 1 1 "$s/ses"); cut_bytes "$ses" "$1" $(($2 + $3)) > "$s/tosign.der"
  set -- $(nth 1 2 "$s/ses"); cut_bytes "$ses" $(($1 + $2)) "$3" > "$s/cert.der"
  set -- $(nth 1 4 "$s/ses"); cut_bytes "$ses" $(($1 + $2 + 1)) $(($3 - 1)) > "$s/sig.der"
  openssl x509 -inform DER -in "$s/cert.der" -out "$s/cert.pem" 2>/dev/null \
    || fail "signature $number: the signer's certificate cannot be read"
  openssl x509 -in "$s/cert.pem" -noout -pubkey > "$s/key.pem"
  openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt "$distid" -pubin -inkey "$s/key.pem" \
    -in "$s/tosign.der" -sigfile "$s/sig.der" > /dev/null 2>&1 \
    || fail "signature $number: the SM2 signature does not verify"
  # 3. the signer's certificate chains to the root
  chains "$s/cert.pem" || fail "signature $number: the certificate does not chain to $root"
  # 4. the seal: it lists the certificate, and its maker signed it and is trusted
  set -- $(nth 3 1 "$s/ses"); cut_bytes "$ses" "$1" $(($2 + $3)) > "$s/sealinfo.der"
  first=$1
  hex "$s/sealinfo.der" | grep -q "$(hex "$s/cert.der")" \
    || fail "signature $number: the seal does not list the signer's certificate"
  set -- $(nth 3 3 "$s/ses"); body=$(($1 + $2 + $3 - first))
  { printf '\060'; der_length "$body"; cut_bytes "$ses" "$first" "$body"; } > "$s/sealed.der"
  set -- $(nth 3 2 "$s/ses"); cut_bytes "$ses" $(($1 + $2)) "$3" > "$s/maker.der"
  set -- $(nth 3 4 "$s/ses"); cut_bytes "$ses" $(($1 + $2 + 1)) $(($3 - 1)) > "$s/makersig.der"
  openssl x509 -inform DER -in "$s/maker.der" -out "$s/maker.pem" 2>/dev/null \
    || fail "signature $number: the seal maker's certificate cannot be read"
  openssl x509 -in "$s/maker.pem" -noout -pubkey > "$s/makerkey.pem"
  openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt "$distid" -pubin \
    -inkey "$s/makerkey.pem" -in "$s/sealed.der" -sigfile "$s/makersig.der" > /dev/null 2>&1 \
    || fail "signature $number: the seal maker's signature does not verify"
  chains "$s/maker.pem" || fail "signature $number: the seal's maker does not chain to $root"
  subject=$(openssl x509 -in "$s/cert.pem" -noout -subject -nameopt utf8,sep_comma_plus)
  echo "signature $number ($location): valid, signed by $subject"
  last=$s
  last_files="$list $location $value"
done < "$work/signatures"

# The last signature covers everything but the files no signature can cover.
(cd "$pkg" && find . -type f | sed 's:^\./::') | sort > "$work/files"
for file in $(cat "$work/files"); do
  grep -q "^$file " "$last/refs" && continue
  case " $last_files " in *" $file "*) continue ;; esac
  case "$file" in
    */Annotations.xml) grep -q '<ofd:Page' "$pkg/$file" || continue ;;
  esac
  fail "$file is not covered by the last signature"
done
echo "VALID: $number signature(s); the last covers the whole package"
