#!/usr/bin/env bash
# Builds the Debian package from the built tree into a temporary folder, unpacks it without
# installing it, and checks what it holds: the binary runs (--help, check-config on the packaged
# configuration), the configuration is a conffile and keeps its state where the unit lets it
# write, the unit is there with its hardening, and Depends names the libraries the binary needs.
#
#   deb_test.sh BUILD_DIR CPACK
set -euo pipefail
build_dir=$1
cpack=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dunning-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "deb test: $*" >&2; exit 1; }

"$cpack" --config "$build_dir/CPackConfig.cmake" -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; fail "cpack failed"; }
debs=("$tmp"/out/*.deb)
((${#debs[@]} == 1)) && [ -f "${debs[0]}" ] || fail "expected one .deb in $tmp/out: ${debs[*]}"
deb=${debs[0]}
echo "built $(basename "$deb")"

dpkg-deb --info "$deb"
root=$tmp/root
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$tmp/control"

# The binary from the package, not the build tree.
"$root/usr/bin/dunning" --help | grep -q "check-config" || fail "dunning --help does not list check-config"

config=$root/etc/dunning/dunning.toml
[ -f "$config" ] || fail "no /etc/dunning/dunning.toml"
[ -f "$root/etc/dunning/base_rates.toml" ] || fail "no /etc/dunning/base_rates.toml"
grep -qx /etc/dunning/dunning.toml "$tmp/control/conffiles" || fail "dunning.toml is not a conffile"
checked=$(DUNNING_DEMO_WEBHOOK_SECRET=whsec_deb_test DUNNING_DEMO_API_TOKEN=deb-test-token-0123456789 DUNNING_DEMO_ADMIN_TOKEN=deb-test-admin-0123456789 \
  "$root/usr/bin/dunning" check-config --config "$config") || fail "check-config failed on the packaged configuration"
echo "$checked"
# The unit may write only its StateDirectory.
grep -q "database /var/lib/dunning/dunning.db" <<<"$checked" || fail "the database is not under /var/lib/dunning"
grep -q '^outbox_dir = "/var/lib/dunning/outbox"' "$config" || fail "the outbox is not under /var/lib/dunning"

unit=$root/usr/lib/systemd/system/dunning.service
[ -f "$unit" ] || fail "no /usr/lib/systemd/system/dunning.service"
for line in "ExecStart=/usr/bin/dunning serve --config /etc/dunning/dunning.toml" \
  DynamicUser=yes StateDirectory=dunning NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
  PrivateTmp=yes PrivateDevices=yes CapabilityBoundingSet= RestrictAddressFamilies= \
  SystemCallFilter=@system-service; do
  grep -q "^$line" "$unit" || fail "the unit has no $line"
done
if command -v systemd-analyze >/dev/null; then
  # The unit as installed names /usr/bin/dunning; verify it against the packaged copy.
  sed "s|/usr/bin/dunning|$root/usr/bin/dunning|" "$unit" >"$tmp/dunning.service"
  systemd-analyze verify --man=no "$tmp/dunning.service" 2>&1 | tee "$tmp/verify.log"
  ! grep -q "dunning.service:" "$tmp/verify.log" || fail "systemd-analyze verify found problems in the unit"
fi

depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
if grep -q "CPACK_DEBIAN_PACKAGE_SHLIBDEPS \"ON\"" "$build_dir/CPackConfig.cmake"; then
  for lib in libssl libcurl libsqlite3 libc6 libstdc++; do
    grep -q "$lib" <<<"$depends" || fail "Depends does not name $lib"
  done
fi
echo "deb test: OK"
