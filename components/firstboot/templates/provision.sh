#!/bin/bash
# Managed by hardened-vps. First-boot provisioning, identical for every vendor: cloud-init runs it from
# cloud-config (DigitalOcean, Linode) or from the launch script (Lightsail) after the config files are written.
# Every config file it activates was written beside it from components/firstboot/templates/.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
ADMIN={{ admin_user | sh }}
SWAP_MB={{ swap_mb | sh }}
APP={{ app_name | sh }}
HOST_KEY=/etc/hvps/ssh_host_ed25519_key
log() { echo "hvps-provision: $*"; }
retry() { local n; for n in 1 2 3 4 5; do "$@" && return 0; log "retry $n: $*"; sleep $((n * 5)); done; return 1; }
APT=(apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

log "hostname and packages"
hostnamectl set-hostname {{ host_name | sh }} 2>/dev/null || echo {{ host_name | sh }} >/etc/hostname
retry apt-get -q update
retry "${APT[@]}" full-upgrade
retry "${APT[@]}" install --no-install-recommends {{ packages | sh }}
"${APT[@]}" autoremove --purge

log "swap"
# Containers (LXC/OpenVZ plans, nspawn tests) may not swapon: their host owns memory.
if [ "$SWAP_MB" -gt 0 ] && ! systemd-detect-virt -cq && ! swapon --show=NAME --noheadings | grep -q .; then
  fallocate -l "${SWAP_MB}M" /swapfile && chmod 600 /swapfile && mkswap -q /swapfile && swapon /swapfile
  grep -q '^/swapfile ' /etc/fstab || echo '/swapfile none swap sw 0 0' >>/etc/fstab
fi

log "kernel, limits, journal, time"
sysctl -q --system || log "some sysctl keys are unknown to this kernel; the rest were applied"
grep -q '^tmpfs /dev/shm ' /etc/fstab || echo 'tmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0' >>/etc/fstab
mount -o remount,nosuid,nodev,noexec /dev/shm || log "could not remount /dev/shm (applies at next boot)"
# login.defs and pwquality govern passwords set later (accounts have none): keep trixie's yescrypt, and
# SHA-crypt rounds for tools asked for SHA-512 (chpasswd -c SHA512). pam_umask and useradd read UMASK.
for kv in "UMASK 027" "ENCRYPT_METHOD YESCRYPT" "SHA_CRYPT_MIN_ROUNDS 65536" "SHA_CRYPT_MAX_ROUNDS 65536" \
  "PASS_MAX_DAYS 365" "PASS_MIN_DAYS 1"; do
  sed -i -E "/^#?${kv%% *}\b/d" /etc/login.defs && echo "$kv" >>/etc/login.defs
done
cp /etc/issue.net /etc/issue
systemctl restart systemd-journald
systemctl try-restart systemd-resolved 2>/dev/null || true  # absent on images without resolved
systemctl enable --now systemd-timesyncd 2>/dev/null || systemctl enable --now chrony

log "admin account $ADMIN (key-only; sudo without password)"
getent group sshusers >/dev/null || groupadd --system sshusers
id "$ADMIN" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$ADMIN"
usermod -aG sudo,sshusers "$ADMIN"
install -d -m 0700 -o "$ADMIN" -g "$ADMIN" "/home/$ADMIN/.ssh"
install -m 0600 -o "$ADMIN" -g "$ADMIN" /etc/hvps/admin_authorized_keys "/home/$ADMIN/.ssh/authorized_keys"
chmod 0750 "/home/$ADMIN"
visudo -cq -f /etc/sudoers.d/90-hvps-admin
passwd -l root >/dev/null

log "sshd: the pinned ed25519 host key, strong DH moduli, validated drop-in"
# The deploy connections pin this key (made by the Pulumi program, sent in the secret user data): install it
# as the only host key, never a generated one, and refuse to go on with anything that is not a valid key.
if ! ssh-keygen -y -f "$HOST_KEY" >"$HOST_KEY.pub" || ! grep -q '^ssh-ed25519 ' "$HOST_KEY.pub"; then
  log "$HOST_KEY is not a valid ed25519 private key" && exit 1
fi
rm -f /etc/ssh/ssh_host_*
install -m 0600 -o root -g root "$HOST_KEY" /etc/ssh/ssh_host_ed25519_key
install -m 0644 -o root -g root "$HOST_KEY.pub" /etc/ssh/ssh_host_ed25519_key.pub
rm -f "$HOST_KEY" "$HOST_KEY.pub"
awk '$5 >= 3071' /etc/ssh/moduli >/etc/ssh/moduli.strong && mv /etc/ssh/moduli.strong /etc/ssh/moduli
rm -f /etc/ssh/sshd_config.d/50-cloud-init.conf
if ! sshd -t; then
  mv /etc/ssh/sshd_config.d/10-hvps-hardening.conf /root/sshd-hardening.rejected
  log "sshd -t rejected the hardening drop-in; it was set aside" && exit 1
fi
systemctl restart ssh

log "host firewall (nftables) and fail2ban"
# Only root and this group reach the metadata service (nftables.conf names it, so it must exist first).
getent group hvps-metadata >/dev/null || groupadd --system hvps-metadata
nft -c -f /etc/nftables.conf
systemctl enable nftables
systemctl restart nftables
systemctl enable fail2ban
systemctl restart fail2ban
systemctl enable auditd
systemctl restart auditd || log "auditd did not start (no audit inside containers)"

log "unattended security upgrades"
systemctl enable --now unattended-upgrades apt-daily.timer apt-daily-upgrade.timer

log "app $APP under a sandboxed unit, behind nginx"
id "$APP" >/dev/null 2>&1 || useradd --system --home-dir "/srv/$APP" --shell /usr/sbin/nologin --user-group "$APP"
# 0751 and o+rX on static/ only: nginx (www-data) may reach static files, not the code or the secrets.
install -d -m 0751 -o root -g "$APP" "/srv/$APP" "/srv/$APP/releases"
install -d -m 0750 -o root -g "$APP" "/etc/$APP"
if [ ! -e "/srv/$APP/current" ]; then
  # The sample release: stdlib WSGI app on Debian's gunicorn (a venv that sees system packages).
  sample="/srv/$APP/releases/sample"
  install -d -m 0750 "$sample" "$sample/static"
  install -m 0640 /etc/hvps/sample_app.py "$sample/app.py"
  python3 -m venv --system-site-packages "$sample/venv"
  printf 'APP_MODULE=%s\nGUNICORN_CMD_ARGS=--workers %s\nHVPS_RELEASE=sample\n' {{ app_module | sh }} {{ workers | sh }} >"$sample/release.env"
  chown -R "root:$APP" "$sample" && chmod -R go-w,o-rwx "$sample" && chmod 0751 "$sample"
  chmod -R o+rX "$sample/static" && touch "$sample/.ready"
  ln -sfn "$sample" "/srv/$APP/current"
fi
install -m 0640 -o root -g "$APP" /etc/hvps/gunicorn.conf.py "/etc/$APP/gunicorn.conf.py"
systemctl daemon-reload
systemctl enable --now "$APP.socket" "$APP.service"

log "nginx"
install -d -m 0755 /var/www/acme
rm -f /etc/nginx/sites-enabled/default
install -m 0644 /etc/hvps/nginx-site-http.conf "/etc/nginx/sites-available/$APP.conf"
ln -sfn "/etc/nginx/sites-available/$APP.conf" "/etc/nginx/sites-enabled/$APP.conf"
nginx -t
systemctl enable nginx
systemctl reload-or-restart nginx
{{ tls_steps | raw }}
log "integrity baseline (aide) and the daily check (aide + debsums)"
systemctl enable --now hvps-integrity.timer
install -d -m 0700 /var/lib/aide
aide -c /etc/aide/aide.conf --init >/dev/null && mv /var/lib/aide/aide.db.new /var/lib/aide/aide.db

log "health check"
for n in $(seq 1 30); do
  if curl -fsS -o /dev/null -H 'Host: '{{ server_name | sh }} http://127.0.0.1{{ health_path | sh }}; then
    log "done: app healthy after provisioning"
    exit 0
  fi
  sleep 2
done
log "app did not answer "{{ health_path | sh }} && exit 1
