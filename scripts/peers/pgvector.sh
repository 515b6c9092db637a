#!/usr/bin/env bash
# Installs PostgreSQL 15 (Debian bookworm packages) and pgvector 0.8.0 built from Debian trixie's *source*
# package: bookworm ships no pgvector, and trixie's binary package is built for PostgreSQL 17 (../shared/peers.md).
#
#   bash scripts/peers/pgvector.sh          # idempotent: returns in milliseconds once vector.control is installed
#
# Runs as root (CI) or through `sudo -n`; never reads stdin. The temporary trixie deb-src entry and its package
# lists are removed on every exit path, so the machine's apt sources end as they began.
set -euo pipefail

PG_MAJOR=15
PGVECTOR_VERSION=0.8.0
PG_CONFIG=/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config
EXT_DIR=/usr/share/postgresql/${PG_MAJOR}/extension
LIB_DIR=/usr/lib/postgresql/${PG_MAJOR}/lib
SRC_ENTRY=/etc/apt/sources.list.d/surgevec-trixie-src.sources

installed() {
  [[ -f ${EXT_DIR}/vector.control && -f ${LIB_DIR}/vector.so && -x /usr/lib/postgresql/${PG_MAJOR}/bin/initdb ]] &&
    grep -q "default_version = '${PGVECTOR_VERSION}'" "${EXT_DIR}/vector.control"
}

if installed; then
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "pgvector.sh: needs root (or sudo) to install packages" >&2; exit 1; }
  SUDO=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
# Other processes on a shared machine may hold the dpkg lock for a while: wait instead of failing.
APT=("${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -y -q)

echo "pgvector.sh: installing postgresql-${PG_MAJOR}, postgresql-server-dev-${PG_MAJOR} and pgvector ${PGVECTOR_VERSION}" >&2
server_was_installed=$(dpkg-query -W -f='${Status}' "postgresql-${PG_MAJOR}" 2>/dev/null | grep -c 'ok installed' || true)
"${APT[@]}" update
"${APT[@]}" install --no-install-recommends "postgresql-${PG_MAJOR}" "postgresql-server-dev-${PG_MAJOR}" \
  build-essential dpkg-dev
# Debian's package creates and may start a system cluster on port 5432; the bench starts private servers of its
# own (src/bench/peers/postgres-server.ts), so a cluster our install started is stopped again.
if [[ ${server_was_installed} == 0 ]] && command -v pg_ctlcluster >/dev/null; then
  "${SUDO[@]}" pg_ctlcluster "${PG_MAJOR}" main stop 2>/dev/null || true
fi

work=$(mktemp -d /tmp/surgevec-pgvector-XXXXXX)
cleanup() {
  "${SUDO[@]}" rm -f "${SRC_ENTRY}"
  # Drop the trixie source lists too: apt would otherwise keep offering trixie sources until the next update.
  "${SUDO[@]}" find /var/lib/apt/lists -maxdepth 1 -name '*_dists_trixie_*' -delete
  rm -rf "${work}"
}
trap cleanup EXIT

# The same mirror and keyring as the machine's own Debian entry (deb822 or one-line format).
uris=http://deb.debian.org/debian
signed_by=/usr/share/keyrings/debian-archive-keyring.gpg
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  u=$(awk '/^URIs:/ && /debian\/?$/ && !/security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  s=$(awk '/^Signed-By:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  uris=${u:-$uris}
  signed_by=${s:-$signed_by}
fi
printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: %s\n' "${uris}" "${signed_by}" |
  "${SUDO[@]}" tee "${SRC_ENTRY}" >/dev/null
"${APT[@]}" update

cd "${work}"
# Only the trixie entry has deb-src lines, so this is trixie's pgvector. As root, apt's sandbox user could not
# write into our 0700 temp dir: download as root directly.
apt-get -o APT::Sandbox::User="$(id -un)" source pgvector
src=$(find "${work}" -maxdepth 1 -type d -name "pgvector-${PGVECTOR_VERSION}*" | head -n 1)
[[ -n ${src} ]] || { echo "pgvector.sh: apt-get source gave no pgvector-${PGVECTOR_VERSION} (got: $(ls "${work}"))" >&2; exit 1; }

make -C "${src}" -j"$(nproc)" PG_CONFIG="${PG_CONFIG}"
"${SUDO[@]}" make -C "${src}" install PG_CONFIG="${PG_CONFIG}"

installed || { echo "pgvector.sh: build finished but ${EXT_DIR}/vector.control is not version ${PGVECTOR_VERSION}" >&2; exit 1; }
echo "pgvector.sh: pgvector ${PGVECTOR_VERSION} installed for PostgreSQL ${PG_MAJOR}" >&2
