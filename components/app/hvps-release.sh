#!/bin/bash
# Managed by hardened-vps. Deploy one release of the web app without dropping requests, or roll back.
#
#   hvps-release --app NAME --id ID (--archive FILE.tar.gz | --git URL --ref REF) --module MOD:APP
#                [--server wsgi|asgi] [--workers N] [--health /healthz] [--keep 5] [--env KEY=value ...]
#                [--env-file FILE|-] [--prune-uploads DIR]
#
# Each release gets /srv/NAME/releases/ID with its own virtualenv; /srv/NAME/current is switched atomically,
# then the unit restarts while systemd's socket (NAME.socket) holds new connections, so none is refused.
# If the health check fails the previous release is switched back and restarted. The last --keep stay.
# --prune-uploads DIR: after a successful release, remove older uploads in DIR (release scripts and this app's
# archives), never this script or --archive: a re-run of the same deploy command still finds both.
# HVPS_ROOT (default empty) prefixes every path, for tests.
set -euo pipefail
umask 027

app="" id="" archive="" git_url="" git_ref="" module="" server=wsgi workers=2 health=/healthz keep=5
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
[[ $app =~ ^[a-z_][a-z0-9_-]*$ ]] || { echo "hvps-release: --app is required" >&2; exit 2; }
[[ $id =~ ^[a-z0-9][a-z0-9.-]*$ ]] || { echo "hvps-release: --id must be lowercase letters, digits, . and -" >&2; exit 2; }
[ -n "$module" ] || { echo "hvps-release: --module is required" >&2; exit 2; }
[ -n "$archive" ] || [ -n "$git_url" ] || { echo "hvps-release: --archive or --git is required" >&2; exit 2; }

root=${HVPS_ROOT:-}
base="$root/srv/$app"
releases="$base/releases"
target="$releases/$id"
current="$base/current"
socket="$root/run/$app.sock"
log() { echo "hvps-release[$app $id]: $*"; }

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

if [ ! -e "$target/.ready" ]; then
  log "building"
  rm -rf "$target.tmp"
  install -d -m 0750 "$target.tmp"
  if [ -n "$archive" ]; then
    tar -xzf "$archive" -C "$target.tmp" --no-same-owner
  else
    git clone --quiet --depth 1 --branch "$git_ref" "$git_url" "$target.tmp/src" 2>/dev/null ||
      { rm -rf "$target.tmp/src"; git clone --quiet "$git_url" "$target.tmp/src" && git -C "$target.tmp/src" checkout --quiet "$git_ref"; }
    rm -rf "$target.tmp/src/.git"
    find "$target.tmp/src" -mindepth 1 -maxdepth 1 -exec mv -t "$target.tmp" {} +
    rmdir "$target.tmp/src"
  fi
  python3 -m venv "$target.tmp/venv"
  packages=(gunicorn)
  [ "$server" = asgi ] && packages+=(uvicorn)
  pip=("$target.tmp/venv/bin/pip" install --quiet --disable-pip-version-check --no-input)
  [ -f "$target.tmp/requirements.txt" ] && "${pip[@]}" -r "$target.tmp/requirements.txt"
  "${pip[@]}" "${packages[@]}"
  worker_args="--workers $workers"
  [ "$server" = asgi ] && worker_args="$worker_args --worker-class uvicorn.workers.UvicornWorker"
  {
    echo "APP_MODULE=$module"
    echo "GUNICORN_CMD_ARGS=$worker_args"
    echo "HVPS_RELEASE=$id"
    for pair in "${plain_env[@]}"; do echo "$pair"; done
  } >"$target.tmp/release.env"
  chown -R "root:$app" "$target.tmp"
  chmod -R go-w,o-rwx "$target.tmp"
  chmod 0751 "$target.tmp"  # nginx may traverse to static/, nothing else
  [ -d "$target.tmp/static" ] && chmod -R o+rX "$target.tmp/static"
  touch "$target.tmp/.ready"
  mv -T "$target.tmp" "$target"
fi

if [ -n "$env_file" ]; then  # secret environment: root-owned, readable by the app's group only
  install -d -m 0750 "$root/etc/$app"
  chown "root:$app" "$root/etc/$app"
  tmp=$(mktemp "$root/etc/$app/env.XXXXXX")
  cat "$env_file" >"$tmp"
  chown "root:$app" "$tmp"
  chmod 0640 "$tmp"
  mv -T "$tmp" "$root/etc/$app/env"
fi

previous=$(readlink "$current" 2>/dev/null || true)
started=$(date +%s%N)
switch_to "$target"
if healthy; then
  log "active; switch and health check took $(( ($(date +%s%N) - started) / 1000000 )) ms"
else
  log "health check $health failed"
  if [ -n "$previous" ] && [ "$previous" != "$target" ]; then
    switch_to "$previous"
    if healthy; then
      log "rolled back to $(basename "$previous")"
    else
      log "rollback to $(basename "$previous") is unhealthy too"
    fi
  fi
  exit 1
fi

# Keep the newest $keep releases (by build time), never the active one.
mapfile -t old < <(find "$releases" -mindepth 1 -maxdepth 1 -type d ! -name '*.tmp' -printf '%T@ %p\n' |
  sort -rn | awk -v keep="$keep" 'NR > keep {print $2}')
for dir in "${old[@]}"; do
  [ "$dir" = "$target" ] || rm -rf "$dir"
done

if [ -n "$prune_dir" ] && [ -d "$prune_dir" ]; then
  self=${BASH_SOURCE[0]}
  find "$prune_dir" -maxdepth 1 -type f \( -name 'hvps-release-*.sh' -o -name "$app-*.tar.gz" \) \
    ! -path "$self" ! -path "${archive:-/nonexistent}" -delete
fi
