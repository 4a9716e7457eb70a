#!/bin/sh
# Run by ./mvnw package (relay-daemon, after the jar is built): lays out a self-contained distribution that does
# not depend on the system's Java, and on Debian packages it as a .deb.
#
#   target/turnpike/bin/turnpike        the launcher: runs the jar on the runtime beside it
#   target/turnpike/lib/turnpike.jar
#   target/turnpike/runtime/            a jlink image of JDK 25 with the modules the jar uses
#   target/turnpike/share/              the man page and the bash/zsh completion
#   target/turnpike_VERSION_ARCH.deb    /opt/turnpike, /usr/bin/turnpike, the systemd unit, /etc/turnpike
#
# Usage: build-dist.sh JAVA_HOME TARGET_DIR VERSION
set -eu
java_home=$1
target=$2
version=$3
packaging=$(cd "$(dirname "$0")" && pwd)
dist="$target/turnpike"

rm -rf "$dist"
mkdir -p "$dist/bin" "$dist/lib" "$dist/share/man/man1" "$dist/share/bash-completion/completions"
cp "$target/turnpike.jar" "$dist/lib/turnpike.jar"
cp "$packaging/bin/turnpike" "$dist/bin/turnpike"
chmod 755 "$dist/bin/turnpike"
cp "$target/man/turnpike.1" "$dist/share/man/man1/turnpike.1"
cp "$target/generated-docs/turnpike.bash" "$dist/share/bash-completion/completions/turnpike"

# The modules the jar uses, as jdeps finds them; jdk.unsupported besides, which the relay reaches by reflection
# (sun.misc.Signal, for SIGHUP and SIGTERM).
modules=$("$java_home/bin/jdeps" --ignore-missing-deps --multi-release 25 --print-module-deps \
  "$dist/lib/turnpike.jar")
"$java_home/bin/jlink" --add-modules "$modules,jdk.unsupported" --output "$dist/runtime" \
  --strip-debug --no-header-files --no-man-pages --compress zip-6
echo "build-dist: $dist (runtime modules: $modules,jdk.unsupported)"

if ! command -v dpkg-deb >/dev/null 2>&1; then
  echo "build-dist: no dpkg-deb here, so no .deb (Debian has it)"
  exit 0
fi
# Debian orders 0.1.0~SNAPSHOT before 0.1.0
deb_version=$(echo "$version" | sed 's/-/~/')
arch=$(dpkg --print-architecture)
root="$target/deb-root"
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/man/man1" \
  "$root/usr/share/bash-completion/completions" "$root/lib/systemd/system" "$root/etc/turnpike" \
  "$root/usr/share/doc/turnpike"
cp -a "$dist" "$root/opt/turnpike"
rm -rf "$root/opt/turnpike/share"
ln -s /opt/turnpike/bin/turnpike "$root/usr/bin/turnpike"
gzip -9n < "$dist/share/man/man1/turnpike.1" > "$root/usr/share/man/man1/turnpike.1.gz"
cp "$dist/share/bash-completion/completions/turnpike" "$root/usr/share/bash-completion/completions/turnpike"
sed 's|^ExecStart=.*|ExecStart=/opt/turnpike/bin/turnpike --config /etc/turnpike/turnpike.properties|' \
  "$packaging/systemd/turnpike.service" > "$root/lib/systemd/system/turnpike.service"
cp "$packaging/config/turnpike.properties" "$root/etc/turnpike/turnpike.properties"
cp "$packaging/../LICENSE" "$root/usr/share/doc/turnpike/copyright"
for script in postinst prerm postrm; do
  cp "$packaging/deb/$script" "$root/DEBIAN/$script"
  chmod 755 "$root/DEBIAN/$script"
done
echo /etc/turnpike/turnpike.properties > "$root/DEBIAN/conffiles"
size=$(du -sk "$root" | cut -f1)
sed -e "s/@VERSION@/$deb_version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
  "$packaging/deb/control" > "$root/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip --build "$root" "$target/turnpike_${deb_version}_${arch}.deb" >/dev/null
rm -rf "$root"
echo "build-dist: $target/turnpike_${deb_version}_${arch}.deb"
