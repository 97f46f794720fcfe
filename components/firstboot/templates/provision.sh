#!/bin/bash
# Managed by hardened-vps. First-boot provisioning, identical for every vendor: lockdown, then install.
set -Eeuo pipefail
# cloud-init runs it once, from cloud-config (DigitalOcean, Linode) or the launch script (Lightsail), after the
# config files are written. Lockdown uses only what the stock image has: admin keys, root locked, the pinned host
# key, hardened sshd, nftables (when the image has nft), sysctl. hvps-provision.timer then runs `--install` (apt
# and the rest) until it completes, backing off up to 30 min between attempts and giving up after 24 h. Every
# step is safe to re-run: no host-key rotation, no new AIDE baseline, no line appended twice, one swap file.
# `--status` prints the state (first-boot.state: locking down, locked-down, installing attempt N, complete,
# failed: reason) and exits 0 once complete. Comment lines below the header are dropped when rendered.
export DEBIAN_FRONTEND=noninteractive
# HVPS_ROOT prefixes every file it reads or writes (tests run it with stub commands).
R=${HVPS_ROOT:-}
ADMIN={{ admin_user | sh }}
SWAP_MB={{ swap_mb | sh }}
APP={{ app_name | sh }}
HOST_KEY=$R/etc/hvps/ssh_host_ed25519_key
S=$R/var/lib/hvps/first-boot.state
if [ "${1:-}" = --status ]; then cat "$S" 2>/dev/null || echo "not started"; grep -qsx complete "$S"; exit; fi
log() { echo "hvps-provision: $*"; }
state() { echo "$*" >"$S.new" && mv "$S.new" "$S" && log "state: $*"; }
# First boot's apt reads and writes no translated package descriptions (Translation-* indexes: fetched, parsed
# by every later apt call, read by nobody on a server).
APT=(apt-get -y -q -o Acquire::Languages=none -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
PHASE=lockdown

# A lockdown failure is final. An install failure ends the attempt: the state says why and when the timer tries
# again (backoff 1, 2, 4, 8, 16, then 30 min); after 24 h it gives up and stops the timer.
failed() {
  trap - ERR
  local n t0 d
  [ "$PHASE" = install ] || { state "failed: lockdown: $*"; exit 1; }
  read -r n t0 <"$S.try"
  if [ $(($(date +%s) - t0)) -ge 86400 ]; then
    state "failed: not complete after 24 h and $n attempts: $*"
    systemctl disable --now hvps-provision.timer
    exit 1
  fi
  d=$((n < 6 ? 60 << (n - 1) : 1800))
  state "installing attempt $n failed: $*; next in ${d}s"
  sleep "$d"
  exit 1
}
trap 'failed "line $LINENO: $BASH_COMMAND"' ERR

firewall() {
  # Only root and this group reach the metadata service (nftables.conf names it, so it must exist first).
  getent group hvps-metadata >/dev/null || groupadd --system hvps-metadata
  nft -c -f "$R/etc/nftables.conf"
  systemctl enable nftables
  systemctl restart nftables
}

lockdown() {
  state "locking down"
  log "hostname"
  hostnamectl set-hostname {{ host_name | sh }} 2>/dev/null || echo {{ host_name | sh }} >"$R/etc/hostname"

  log "admin account $ADMIN (key-only; sudo without password)"
  getent group sshusers >/dev/null || groupadd --system sshusers
  id "$ADMIN" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$ADMIN"
  usermod -aG sudo,sshusers "$ADMIN"
  install -d -m 0700 -o "$ADMIN" -g "$ADMIN" "$R/home/$ADMIN/.ssh"
  install -m 0600 -o "$ADMIN" -g "$ADMIN" "$R/etc/hvps/admin_authorized_keys" "$R/home/$ADMIN/.ssh/authorized_keys"
  chmod 0750 "$R/home/$ADMIN"
  if command -v visudo >/dev/null; then visudo -cq -f "$R/etc/sudoers.d/90-hvps-admin"; fi
  passwd -l root >/dev/null

  log "sshd: the pinned ed25519 host key, strong DH moduli, validated drop-in"
  # The deploy connections pin this key (made by the Pulumi program, sent in the secret user data): install it
  # as the only host key, never a generated one. A re-run finds it installed and keeps it.
  if [ -e "$HOST_KEY" ]; then
    if ! ssh-keygen -y -f "$HOST_KEY" >"$HOST_KEY.pub" || ! grep -q '^ssh-ed25519 ' "$HOST_KEY.pub"; then
      failed "$HOST_KEY is not a valid ed25519 private key"
    fi
    rm -f "$R"/etc/ssh/ssh_host_*
    install -m 0600 -o root -g root "$HOST_KEY" "$R/etc/ssh/ssh_host_ed25519_key"
    install -m 0644 -o root -g root "$HOST_KEY.pub" "$R/etc/ssh/ssh_host_ed25519_key.pub"
    rm -f "$HOST_KEY" "$HOST_KEY.pub"
  fi
  awk '$5 >= 3071' "$R/etc/ssh/moduli" >"$R/etc/ssh/moduli.strong" && mv "$R/etc/ssh/moduli.strong" "$R/etc/ssh/moduli"
  rm -f "$R/etc/ssh/sshd_config.d/50-cloud-init.conf"
  if ! sshd -t; then
    mv "$R/etc/ssh/sshd_config.d/10-hvps-hardening.conf" "$R/root/sshd-hardening.rejected"
    failed "sshd -t rejected the hardening drop-in; it was set aside"
  fi
  systemctl restart ssh

  log "host firewall (nftables, if the image has nft) and kernel settings"
  local fw="; no nft before apt: the vendor firewall alone until nftables is installed"
  if command -v nft >/dev/null; then firewall; fw=""; fi
  sysctl -q --system || log "some sysctl keys are unknown to this kernel; the rest were applied"
  state "locked-down$fw"
  systemctl daemon-reload
  systemctl enable --now hvps-provision.timer
}

install_phase() {
  local n=0 t0
  t0=$(date +%s)
  [ ! -s "$S.try" ] || read -r n t0 <"$S.try"
  n=$((n + 1))
  echo "$n $t0" >"$S.try"
  PHASE=install
  state "installing attempt $n"
  log "packages"
  apt-get -q -o Acquire::Languages=none update
  "${APT[@]}" full-upgrade
  # needrestart (installed here, for later upgrades) scans every process after each apt call: after adding new
  # packages, and removing unused ones, to the upgraded system nothing runs old code; skip that scan.
  NEEDRESTART_SUSPEND=1 "${APT[@]}" install --no-install-recommends {{ packages | sh }}
  NEEDRESTART_SUSPEND=1 "${APT[@]}" autoremove --purge
  visudo -cq -f "$R/etc/sudoers.d/90-hvps-admin"

  log "swap"
  # Containers (LXC/OpenVZ plans, nspawn tests) may not swapon: their host owns memory.
  if [ "$SWAP_MB" -gt 0 ] && [ ! -e "$R/swapfile" ] && ! systemd-detect-virt -cq && ! swapon --show=NAME --noheadings | grep -q .; then
    fallocate -l "${SWAP_MB}M" "$R/swapfile" && chmod 600 "$R/swapfile" && mkswap -q "$R/swapfile" && swapon "$R/swapfile"
  fi
  [ ! -e "$R/swapfile" ] || grep -q '^/swapfile ' "$R/etc/fstab" || echo '/swapfile none swap sw 0 0' >>"$R/etc/fstab"

  log "kernel, limits, journal, time"
  grep -q '^tmpfs /dev/shm ' "$R/etc/fstab" || echo 'tmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0' >>"$R/etc/fstab"
  mount -o remount,nosuid,nodev,noexec /dev/shm || log "could not remount /dev/shm (applies at next boot)"
  # login.defs and pwquality govern passwords set later (accounts have none): keep trixie's yescrypt, and
  # SHA-crypt rounds for tools asked for SHA-512 (chpasswd -c SHA512). pam_umask and useradd read UMASK.
  for kv in "UMASK 027" "ENCRYPT_METHOD YESCRYPT" "SHA_CRYPT_MIN_ROUNDS 65536" "SHA_CRYPT_MAX_ROUNDS 65536" \
    "PASS_MAX_DAYS 365" "PASS_MIN_DAYS 1"; do
    sed -i -E "/^#?${kv%% *}\b/d" "$R/etc/login.defs" && echo "$kv" >>"$R/etc/login.defs"
  done
  cp "$R/etc/issue.net" "$R/etc/issue"
  systemctl restart systemd-journald
  # resolved is absent on some images
  systemctl try-restart systemd-resolved 2>/dev/null || true
  systemctl enable --now systemd-timesyncd 2>/dev/null || systemctl enable --now chrony

  log "host firewall (nftables) and fail2ban"
  firewall
  systemctl enable fail2ban
  systemctl restart fail2ban
  systemctl enable auditd
  systemctl restart auditd || log "auditd did not start (no audit inside containers)"

  log "unattended security upgrades"
  systemctl enable --now unattended-upgrades apt-daily.timer apt-daily-upgrade.timer

  log "app $APP under a sandboxed unit, behind nginx"
  id "$APP" >/dev/null 2>&1 || useradd --system --home-dir "/srv/$APP" --shell /usr/sbin/nologin --user-group "$APP"
  # 0751 and o+rX on static/ only: nginx (www-data) may reach static files, not the code or the secrets.
  install -d -m 0751 -o root -g "$APP" "$R/srv/$APP" "$R/srv/$APP/releases"
  install -d -m 0750 -o root -g "$APP" "$R/etc/$APP"
  if [ ! -e "$R/srv/$APP/current" ]; then
    # The sample release: stdlib WSGI app on Debian's gunicorn (a venv that sees system packages; no pip in it:
    # it installs nothing, and ensurepip would unpack pip's wheel for nothing).
    sample="$R/srv/$APP/releases/sample"
    install -d -m 0750 "$sample" "$sample/static"
    install -m 0640 "$R/etc/hvps/sample_app.py" "$sample/app.py"
    python3 -m venv --without-pip --system-site-packages "$sample/venv"
    printf 'APP_MODULE=%s\nGUNICORN_CMD_ARGS=--workers %s\nHVPS_RELEASE=sample\n' {{ app_module | sh }} {{ workers | sh }} >"$sample/release.env"
    chown -R "root:$APP" "$sample" && chmod -R go-w,o-rwx "$sample" && chmod 0751 "$sample"
    chmod -R o+rX "$sample/static" && touch "$sample/.ready"
    ln -sfn "$sample" "$R/srv/$APP/current"
  fi
  install -m 0640 -o root -g "$APP" "$R/etc/hvps/gunicorn.conf.py" "$R/etc/$APP/gunicorn.conf.py"
  systemctl daemon-reload
  systemctl enable --now "$APP.socket" "$APP.service"

  log "nginx"
  install -d -m 0755 "$R/var/www/acme"
  rm -f "$R/etc/nginx/sites-enabled/default"
  install -m 0644 "$R/etc/hvps/nginx-site-http.conf" "$R/etc/nginx/sites-available/$APP.conf"
  ln -sfn "/etc/nginx/sites-available/$APP.conf" "$R/etc/nginx/sites-enabled/$APP.conf"
  nginx -t
  systemctl enable nginx
  systemctl reload-or-restart nginx
{{ tls_steps | raw }}
  log "integrity baseline (aide) and the daily check (aide + debsums)"
  systemctl enable --now hvps-integrity.timer
  install -d -m 0700 "$R/var/lib/aide"
  # The baseline is taken once, at first boot: a re-run must not bless changes made since.
  if [ ! -e "$R/var/lib/aide/aide.db" ]; then
    aide -c /etc/aide/aide.conf --init >/dev/null
    mv "$R/var/lib/aide/aide.db.new" "$R/var/lib/aide/aide.db"
  fi

  log "health check"
  for _ in $(seq 1 30); do
    if curl -fsS -o /dev/null -H 'Host: '{{ server_name | sh }} http://127.0.0.1{{ health_path | sh }}; then
      rm -f "$S.try"
      state complete
      systemctl disable --now hvps-provision.timer
      return 0
    fi
    sleep 2
  done
  failed "app did not answer "{{ health_path | sh }}
}

case ${1:-} in
  --install) install_phase ;;
  *) lockdown ;;
esac
