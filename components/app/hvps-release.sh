#!/bin/bash
# Managed by hardened-vps. Deploy one release of the web app without dropping requests, or roll back.
#
#   hvps-release --app NAME --id ID (--archive FILE.tar.gz | --git URL --ref REF) --module MOD:APP
#                --server wsgi|asgi --workers N --health PATH --keep N [--env 'KEY="value"' ...]
#                [--env-file FILE|-] [--prune-uploads DIR]
# Every value comes from the stack (components/app/deploy.py): the defaults live in the config schema only.
#
# Each release gets /srv/NAME/releases/ID with its own virtualenv; /srv/NAME/current is switched atomically,
# then the unit restarts while systemd's socket (NAME.socket) holds new connections, so none is refused.
# If the health check fails the previous release is switched back and restarted. The last --keep stay.
#
# The release's content is hostile until proven otherwise: it is built by the unprivileged user hvps-build
# (setpriv, no new privileges, no supplementary groups), which cannot read /etc/shadow, /etc/NAME or any
# release's secrets, under a time limit (HVPS_BUILD_TIMEOUT, default 900 s, for extraction, venv and pip
# together). An archive holding anything but regular files and directories, or a member leaving the release
# directory, is refused before extraction; any link, device or fifo found after the build is refused too.
# Root then owns the tree and changes modes only on regular files and directories (never through a link).
# A failed or refused build leaves nothing behind; stale *.tmp builds are removed at the start.
#
# --env takes lines already encoded for systemd's EnvironmentFile (components/envfile.py); --env-file holds the
# secrets, encoded the same way. Secrets are stored with the release (secrets.env, 0640 root:NAME) and the
# unit reads current/secrets.env, so a rollback brings back the secrets of the release it returns to.
# --prune-uploads DIR: after a successful release, remove older uploads in DIR (release scripts and this app's
# archives), never this script or --archive: a re-run of the same deploy command still finds both.
# HVPS_ROOT (default empty) prefixes every path, for tests.
set -euo pipefail
umask 027

app="" id="" archive="" git_url="" git_ref="" module="" server="" workers="" health="" keep=""
env_file="" prune_dir="" plain_env=()
while [ $# -gt 0 ]; do
  case "$1" in
    --app) app=$2; shift 2 ;;
    --id) id=$2; shift 2 ;;
    --archive) archive=$2; shift 2 ;;
    --git) git_url=$2; shift 2 ;;
    --ref) git_ref=$2; shift 2 ;;
    --module) module=$2; shift 2 ;;
    --server) server=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --health) health=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --env) plain_env+=("$2"); shift 2 ;;
    --env-file) env_file=$2; shift 2 ;;
    --prune-uploads) prune_dir=$2; shift 2 ;;
    *) echo "hvps-release: unknown argument $1" >&2; exit 2 ;;
  esac
done
bad() { echo "hvps-release: $*" >&2; exit 2; }
[[ $app =~ ^[a-z_][a-z0-9_-]*$ ]] || bad "--app is required"
[[ $id =~ ^[a-z0-9][a-z0-9.-]*$ ]] || bad "--id must be lowercase letters, digits, . and -"
# These three reach release.env bare: their alphabets hold nothing EnvironmentFile treats specially.
[[ $module =~ ^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_.()]*$ ]] || bad "--module must be module:callable"
[[ $server =~ ^(wsgi|asgi)$ ]] || bad "--server must be wsgi or asgi"
[[ $workers =~ ^[0-9]{1,3}$ && $keep =~ ^[0-9]{1,3}$ ]] || bad "--workers and --keep must be numbers"
[[ $health == /* ]] || bad "--health must be the app's health path"
for line in "${plain_env[@]}"; do
  [[ $line =~ ^[A-Za-z_][A-Za-z0-9_]*=\".*\"$ && $line != *$'\n'* ]] || bad "--env takes one encoded line NAME=\"value\""
done
[ -n "$archive" ] || [ -n "$git_url" ] || bad "--archive or --git is required"

root=${HVPS_ROOT:-}
base="$root/srv/$app"
releases="$base/releases"
target="$releases/$id"
current="$base/current"
socket="$root/run/$app.sock"
builder=${HVPS_BUILD_USER:-hvps-build}
build_timeout=${HVPS_BUILD_TIMEOUT:-900}
log() { echo "hvps-release[$app $id]: $*"; }
refuse() { log "refused: $*"; exit 3; }

# The secrets arrive on stdin: read them now into a root-only file, so that nothing the build runs can read them.
secrets_in="" build_tmp=""
cleanup() { rm -rf "$target.tmp"; [ -z "$build_tmp" ] || rm -rf "$build_tmp"; [ -z "$secrets_in" ] || rm -f "$secrets_in"; }
trap cleanup EXIT
if [ -n "$env_file" ]; then
  secrets_in=$(mktemp "$root/run/hvps-secrets.XXXXXX")  # 0600 root
  cat "$env_file" >"$secrets_in"
fi
exec </dev/null

exec 9>"$root/run/lock/hvps-release-$app.lock"
flock -w 600 9 || { log "another release is running"; exit 1; }

healthy() {
  local _
  for _ in $(seq 1 "${HVPS_HEALTH_TRIES:-30}"); do
    if curl -fsS -o /dev/null --max-time 5 --unix-socket "$socket" "http://localhost$health"; then
      return 0
    fi
    sleep "${HVPS_HEALTH_DELAY:-1}"
  done
  return 1
}

switch_to() {  # atomic: rename(2) of a new symlink over the old one
  ln -sfn "$1" "$current.new"
  mv -T "$current.new" "$current"
  systemctl restart "$app.service"
}

deadline=$(( $(date +%s) + build_timeout ))
# run "$@" as the build user: no root, no groups, no new privileges, within the build's time; temporary files in
# the build's own directory under /var/tmp (/tmp is noexec, and a source package's build steps run from pip's
# temporary directory), removed with the build
as_builder() {
  local left=$(( deadline - $(date +%s) )) rc=0
  [ "$left" -gt 0 ] || refuse "the build took longer than $build_timeout s"
  timeout --kill-after=10 "$left" setpriv --reuid="$builder" --regid="$builder_gid" --clear-groups --no-new-privs \
    env -i PATH="$PATH" HOME=/nonexistent LANG=C.UTF-8 TMPDIR="$build_tmp" PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "$@" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then refuse "the build took longer than $build_timeout s"; fi
  return "$rc"
}

stop_builder() {  # nothing the build started may outlive it (and race root's ownership and mode changes)
  local _
  for _ in $(seq 1 50); do pkill -KILL -u "$builder" || return 0; sleep 0.1; done
}

check_archive() {  # before extraction: regular files and directories only, every name inside the release
  local listing names line name
  listing=$(tar -tvzf "$archive") || refuse "cannot read the archive $archive"
  while IFS= read -r line; do
    case ${line:0:1} in
      -|d) ;;
      *) refuse "the archive holds a link, device or fifo (only files and directories are allowed): $line" ;;
    esac
  done <<<"$listing"
  names=$(tar -tzf "$archive")
  while IFS= read -r name; do
    [[ $name != /* && /$name/ != */../* ]] || refuse "the archive member '$name' leaves the release directory"
    case ${name#./} in
      venv|venv/*|.ready|release.env|secrets.env) refuse "the archive member '$name' is reserved for the host" ;;
    esac
  done <<<"$names"
}

only_files_and_dirs() {  # $1: tree, $2: a subtree to skip (the venv's own links), or empty
  local found
  found=$(find "$1" \( -path "${2:-/nonexistent}" -prune \) -o \( ! -type f ! -type d -print \) -quit)
  [ -z "$found" ] || refuse "the release holds a link, device or fifo: ${found#"$target.tmp"/}"
  found=$(find "$1" -type f -links +1 -print -quit)
  [ -z "$found" ] || refuse "the release holds a hard link: ${found#"$target.tmp"/}"
}

# A build that died (timeout, reboot, refusal) leaves nothing behind; the lock makes sure none is running.
find "$releases" -mindepth 1 -maxdepth 1 -name '*.tmp' -exec rm -rf {} +

if [ ! -e "$target/.ready" ]; then
  log "building as $builder (at most $build_timeout s)"
  id -u "$builder" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$builder"
  builder_gid=$(id -g "$builder")
  install -d -m 0700 "$target.tmp"
  build_tmp=$(mktemp -d "$root/var/tmp/hvps-build.XXXXXX")
  chown "$builder:$builder_gid" "$target.tmp" "$build_tmp"
  if [ -n "$archive" ]; then
    check_archive
    as_builder tar -xzf - -C "$target.tmp" --no-same-owner --no-same-permissions <"$archive"
  else
    as_builder git clone --quiet --depth 1 --branch "$git_ref" "$git_url" "$target.tmp/src" 2>/dev/null ||
      { rm -rf "$target.tmp/src"
        as_builder git clone --quiet "$git_url" "$target.tmp/src"
        as_builder git -C "$target.tmp/src" checkout --quiet "$git_ref"; }
    rm -rf "$target.tmp/src/.git"
    stop_builder
    only_files_and_dirs "$target.tmp/src" ""
    find "$target.tmp/src" -mindepth 1 -maxdepth 1 -exec mv -t "$target.tmp" {} +
    rmdir "$target.tmp/src"
  fi
  stop_builder
  only_files_and_dirs "$target.tmp" ""
  packages=(gunicorn)
  [ "$server" = asgi ] && packages+=(uvicorn)
  as_builder python3 -m venv "$target.tmp/venv"
  pip=("$target.tmp/venv/bin/pip" install --quiet --disable-pip-version-check --no-input)
  if [ -f "$target.tmp/requirements.txt" ]; then
    as_builder "${pip[@]}" -r "$target.tmp/requirements.txt"
  fi
  as_builder "${pip[@]}" "${packages[@]}"
  stop_builder
  chown -hR "root:$app" "$target.tmp"  # -h and -R's default -P: links themselves, never what they point to
  only_files_and_dirs "$target.tmp" "$target.tmp/venv"
  worker_args="--workers $workers"
  [ "$server" = asgi ] && worker_args="$worker_args --worker-class uvicorn.workers.UvicornWorker"
  {
    echo "APP_MODULE=$module"
    echo "GUNICORN_CMD_ARGS=$worker_args"
    echo "HVPS_RELEASE=$id"
    for line in "${plain_env[@]}"; do echo "$line"; done
  } >"$target.tmp/release.env"
  chown "root:$app" "$target.tmp/release.env"
  # Modes on regular files and directories only: chmod never runs through a link the build may have made.
  find "$target.tmp" \( -type f -o -type d \) -exec chmod go-w,o-rwx {} +
  chmod 0751 "$target.tmp"  # nginx may traverse to static/, nothing else
  if [ -d "$target.tmp/static" ] && [ ! -L "$target.tmp/static" ]; then
    find "$target.tmp/static" -type d -exec chmod o+rx {} +
    find "$target.tmp/static" -type f -exec chmod o+r {} +
  fi
  touch "$target.tmp/.ready"
  mv -T "$target.tmp" "$target"
fi

# The secrets belong to this release: current/secrets.env is what the unit reads, so code and secrets switch
# (and roll back) together. The release's previous secrets are kept until the new ones proved healthy.
rm -f "$target/.secrets.prev"
[ ! -e "$target/secrets.env" ] || mv -T "$target/secrets.env" "$target/.secrets.prev"
if [ -n "$secrets_in" ]; then
  chown "root:$app" "$secrets_in"
  chmod 0640 "$secrets_in"
  mv -T "$secrets_in" "$target/secrets.env"
  secrets_in=""
fi
restore_secrets() {
  rm -f "$target/secrets.env"
  [ ! -e "$target/.secrets.prev" ] || mv -T "$target/.secrets.prev" "$target/secrets.env"
}
# Servers whose unit still reads /etc/NAME/env: point it at the active release's secrets.
if [ -d "$root/etc/$app" ] && [ ! -L "$root/etc/$app/env" ]; then
  ln -sfn "/srv/$app/current/secrets.env" "$root/etc/$app/env.new"
  mv -T "$root/etc/$app/env.new" "$root/etc/$app/env"
fi

# AIDE watches the releases (aide.conf): a deploy refreshes the baseline of what it touched, and only that (the
# app's directory, its releases directory, the link and the releases named), so an edit of live code between
# releases is still reported. `--limit` compares and rewrites only matching entries; the rest of the baseline is
# copied unchanged, and a named release that is gone loses its entries. Without aide (or a baseline) it is a no-op.
refresh_baseline() {  # $@: release directories (present or pruned)
  local db="$root/var/lib/aide/aide.db" ids="" dir rc=0
  command -v aide >/dev/null && [ -e "$db" ] || return 0
  for dir in "$@"; do ids="$ids|${dir##*/}"; done
  ids=${ids#|}
  aide -c /etc/aide/aide.conf --update --limit \
    "^/srv/$app(/current|/releases(/(${ids//./\\.})(/.*)?)?)?$" >/dev/null 2>&1 || rc=$?
  if [ "$rc" -lt 8 ] && [ -s "$db.new" ]; then   # 1-7: differences found (the deploy's own), not an error
    mv -f "$db.new" "$db"
    log "integrity baseline refreshed for this deploy"
  else
    log "integrity baseline not refreshed (aide exit $rc): the next check reports this deploy"
  fi
}

previous=$(readlink "$current" 2>/dev/null || true)
started=$(date +%s%N)
switch_to "$target"
if healthy; then
  rm -f "$target/.secrets.prev"
  log "active; switch and health check took $(( ($(date +%s%N) - started) / 1000000 )) ms"
else
  log "health check $health failed"
  restore_secrets
  if [ -n "$previous" ]; then
    switch_to "$previous"
    if healthy; then
      log "rolled back to $(basename "$previous")"
    else
      log "rollback to $(basename "$previous") is unhealthy too"
    fi
  fi
  refresh_baseline "$target"
  exit 1
fi

# Keep the newest $keep releases (by build time), never the active one.
mapfile -t old < <(find "$releases" -mindepth 1 -maxdepth 1 -type d ! -name '*.tmp' -printf '%T@ %p\n' |
  sort -rn | awk -v keep="$keep" 'NR > keep {print $2}')
pruned=()
for dir in "${old[@]}"; do
  [ "$dir" = "$target" ] || { rm -rf "$dir"; pruned+=("$dir"); }
done
refresh_baseline "$target" "${pruned[@]}"

if [ -n "$prune_dir" ] && [ -d "$prune_dir" ]; then
  self=${BASH_SOURCE[0]}
  find "$prune_dir" -maxdepth 1 -type f \( -name 'hvps-release-*.sh' -o -name "$app-*.tar.gz" \) \
    ! -path "$self" ! -path "${archive:-/nonexistent}" -delete
fi
