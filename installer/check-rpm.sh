#!/usr/bin/env bash
# Checks the .rpm against the .deb: same name and version, the same files (each format keeps
# its licence in its own place), a Requires line for each library the .deb depends on, and a
# binary stripped like the .deb's.
# Usage: installer/check-rpm.sh tintype.rpm tintype.deb
set -euo pipefail
rpm_file=$(realpath "$1"); deb=$(realpath "$2")
if ! command -v rpm >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq rpm
fi
test "$(rpm -qp --queryformat '%{NAME} %{VERSION}' "$rpm_file")" = \
     "$(dpkg-deb --field "$deb" Package) $(dpkg-deb --field "$deb" Version | sed 's/-[0-9]*$//')"
licences='^/usr/share/(doc/tintype/copyright|licenses/tintype/LICENSE)$'
diff <(rpm -qlp "$rpm_file" | grep -Ev "$licences" | sort) \
     <(dpkg-deb --contents "$deb" | awk '{print $6}' | grep -v '/$' | sed 's|^\./|/|' | grep -Ev "$licences" | sort)
deb_libs=$(dpkg-deb --field "$deb" Depends | tr ',' '\n' | wc -l)
rpm_libs=$(rpm -qp --requires "$rpm_file" | grep -cv -e '^rpmlib(' -e '^/bin/sh')
test "$deb_libs" -eq "$rpm_libs" || { echo "Depends has $deb_libs entries, Requires $rpm_libs" >&2; exit 1; }
# The same stripped binary as the .deb's (check-deb.sh checks that one has no debug sections).
rpm_bin=$(rpm -qp --dump "$rpm_file" | awk '$1 == "/usr/bin/tintype" {print $2}')
deb_bin=$(dpkg-deb --contents "$deb" | awk '$6 == "./usr/bin/tintype" {print $3}')
test "$rpm_bin" -le $((deb_bin + deb_bin / 20)) ||
  { echo "the rpm's binary is $rpm_bin bytes, the deb's $deb_bin: not stripped?" >&2; exit 1; }
echo "rpm matches the deb: $(rpm -qlp "$rpm_file" | wc -l) files, $rpm_libs requirements"
