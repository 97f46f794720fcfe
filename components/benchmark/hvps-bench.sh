#!/bin/bash
# Managed by hardened-vps. The benchmark: measures this host once and prints ONE JSON document on stdout
# (components/benchmark). Run as root (sudo) over SSH, under a total timeout, never by first boot. It installs
# sysbench and fio for the run only and purges exactly the packages it added; its files live in one directory
# under /var/tmp, removed on exit; the load generator connects to nginx on loopback and listens on nothing.
# Arguments: those of collect.py (--vendor --plan --region --image --app-name --host-header --path --scheme
# --seconds --concurrency --disk-mb).
set -Eeuo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
ARGS=("$@")
S=10
DISK_MB=256
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) S=$2; shift 2 ;;
    --disk-mb) DISK_MB=$2; shift 2 ;;
    *) shift ;;
  esac
done
[[ $S =~ ^[1-9][0-9]{0,2}$ && $DISK_MB =~ ^[1-9][0-9]{0,4}$ ]] || { echo "hvps-bench: bad --seconds or --disk-mb" >&2; exit 2; }
W=$(mktemp -d "${HVPS_ROOT:-}/var/tmp/hvps-bench.XXXXXX")  # HVPS_ROOT: a test's own root, unset on a host
INSTALLED=0

installed() { dpkg-query -W -f='${binary:Package}\n' | sort; }
# Purges the packages this run added (the difference of two package lists), once.
purge_added() {
  [ "$INSTALLED" = 1 ] || return 0
  INSTALLED=0
  installed >"$W/after.txt"
  comm -13 "$W/before.txt" "$W/after.txt" >"$W/added.txt"
  if [ -s "$W/added.txt" ]; then
    xargs -r apt-get purge -y -q -o DPkg::Lock::Timeout=120 <"$W/added.txt" >/dev/null 2>&1 \
      || echo "hvps-bench: could not purge $(tr '\n' ' ' <"$W/added.txt")" >&2
  fi
}
cleanup() { purge_added; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 143' TERM INT  # the total timeout's TERM leaves through the EXIT trap's clean-up

mkdir -p "$W/components/benchmark"
: >"$W/components/__init__.py"
: >"$W/components/benchmark/__init__.py"
__HVPS_BENCH_PYTHON__
# Run from $W: its package, not one in the current directory, is the one imported.
collect() { (cd "$W" && python3 -m components.benchmark.collect "$1" "$W" "${ARGS[@]}"); }

# The host at rest first: the footprint before anything is installed or loaded.
collect idle
systemd-analyze time >"$W/systemd-analyze.txt" 2>/dev/null || true
systemd-detect-virt >"$W/virt.txt" 2>/dev/null || true  # "none" (exit 1) on bare metal

missing=()
for pkg in sysbench fio; do
  dpkg-query -W -f='${db:Status-Status}\n' "$pkg" 2>/dev/null | grep -qx installed || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  installed >"$W/before.txt"
  INSTALLED=1
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 "${missing[@]}" >/dev/null
fi

sysbench cpu --threads=1 --time="$S" run >"$W/cpu-1.txt"
sysbench cpu --threads="$(nproc)" --time="$S" run >"$W/cpu-all.txt"
sysbench memory --threads=1 --memory-block-size=1M --memory-total-size=1024G --time="$S" run >"$W/memory.txt"
for job in "randread 4k" "randwrite 4k" "read 1M" "write 1M"; do
  read -r rw bs <<<"$job"
  fio --name="$rw" --filename="$W/fio.dat" --size="${DISK_MB}M" --direct=1 --rw="$rw" --bs="$bs" \
    --ioengine=libaio --iodepth=16 --runtime="$S" --time_based --output-format=json >"$W/fio-$rw.json"
done
rm -f "$W/fio.dat"
purge_added
collect web
collect report
