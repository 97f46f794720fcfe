"""The host configuration as an ordered list of concerns: first boot, convergence, the plan and the tests read it.
This module is longer than 300 lines because the CONCERNS table is one idea read in order (first boot runs it top
to bottom): split over modules, the order and the phases would no longer be visible in one place. The settings the
concerns render (sysctl, sshd, login.defs) are data in `settings.py`.

A concern is one unit of the host's configuration (the dev-sec hardening roles' model: one unit per concern, its
defaults as data): a purpose, the files it owns (templates named by their path on the host), the packages it
needs, and the shell that checks and activates them. Activation text is a template like the files (placeholders
name their encoder) and must be idempotent: first boot runs it once per phase, convergence runs it again
whenever the concern's files or its activation text changed.

Phases, in the order first boot runs them:
- `lockdown`: before anything else and without apt, from what the stock image has (admin and keys, sshd,
  nftables when the image has nft, sysctl). A failure here is final.
- `serve`: what must happen before the host answers (packages for nginx and the app, the app unit, nginx).
- `deferred`: right after the host serves, visibly in the state file: the full upgrade, the remaining
  packages, fail2ban, auditd, the AIDE baseline; nothing that changes what is exposed.

`once` steps run at first boot only (host key install, full upgrade, AIDE --init): convergence skips them.

Convergence walks the concerns the new bundle lists. A concern that no longer applies (`tls` once `domain` is
unset, `vendor-agent` once monitoring is off) is not retired: its files and units stay as they were, because
undoing it (a certificate, a renewal timer, an HTTPS site) needs steps first boot never ran and that no test
here proves; a rebuilt server (`reprovision`) is the way to drop it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from components.config import HostSpec

LOCKDOWN, SERVE, DEFERRED = "lockdown", "serve", "deferred"
PHASES = (LOCKDOWN, SERVE, DEFERRED)
#: Where first boot finds the concern list on the host (written from the bundle; read by the provisioner).
MANIFEST_PATH = "/etc/hvps/concerns"
ADMIN_KEYS_PATH = "/etc/hvps/admin_authorized_keys"
HOST_KEY_PATH = "/etc/hvps/ssh_host_ed25519_key"
#: The converge's own code (compare, back up, validate, activate, health-check or restore each concern; refresh
#: the integrity baseline). It travels in every converge bundle and never in first-boot data (a host that is never
#: converged has no use for it, and first-boot data is small): `hvps-provision --converge` sources it from the
#: bundle it has just staged, so it is always the version being applied; it belongs to no concern and is not
#: installed on the host.
CONVERGE_CODE_PATH = "/usr/local/lib/hvps/converge"
ACME_CA_PATH = "/etc/hvps/acme-ca.pem"  # trusted by certbot for a private ACME server (acmeCaCertificate)
CERTBOT_CA_DROPIN = "/etc/systemd/system/certbot.service.d/hvps-acme-ca.conf"
DO_AGENT_DROPIN = "/etc/systemd/system/do-agent.service.d/hvps-metadata.conf"
SSH_SANDBOX_DROPIN = "/etc/systemd/system/ssh.service.d/hvps-sandbox.conf"
#: Where the ssh-sandbox concern keeps sshd's drop-in until its activation has proven hvps-root (then installs it).
SSH_SANDBOX_STAGED = "/etc/hvps/ssh-sandbox.conf"
#: How an admin's SSH session reaches root once the converge sandboxed sshd (sudo is refused there): PID 1 runs
#: the command (systemd-run), polkit allows the sudo group. See AS_ROOT for the commands the program sends.
ROOT_COMMAND = "/usr/local/bin/hvps-root"
#: The prefix of every root command the program and the proof send over SSH, chosen by the session itself:
#: hvps-root in a session sshd's sandbox confines (no_new_privs: sudo would be refused), sudo in any other (a host
#: that first boot made and no converge has sandboxed yet, or one whose converge was cut short before sshd's
#: restart).
AS_ROOT = f"$(grep -qs '^NoNewPrivs:[[:space:]]*1' /proc/self/status && echo {ROOT_COMMAND} || echo sudo -n)"


@dataclass(frozen=True)
class ConcernFile:
    """A file a concern owns: its template is named by its path on the host (`{app_name}` filled per stack).

    template None: the content comes from the stack itself (keys, a CA certificate), not from a template.
    """

    path: str
    mode: str = "0644"
    template: bool = True
    applies: Callable[[HostSpec], bool] = lambda spec: True

    def host_path(self, spec: HostSpec) -> str:
        return self.path.format(app_name=spec.app_name)


@dataclass(frozen=True)
class Concern:
    """One unit of host configuration: what it is for, what it owns, how it is checked and activated."""

    name: str
    purpose: str
    phases: tuple[str, ...]  # first boot activates it in the first; a later one only if the first left it PENDING
    files: tuple[ConcernFile, ...] = ()
    packages: tuple[str, ...] = ()
    #: packages only a later step uses (releases, once first boot is complete): installed with the deferred phase,
    #: so they do not delay the host's first answer
    later_packages: tuple[str, ...] = ()
    validate: str = ""  # shell: succeeds when the installed files are acceptable (sshd -t, nginx -t, ...)
    activate: str = ""  # shell: applies the files (idempotent; reload/restart only what this concern needs)
    health: str = ""  # shell: succeeds when what this concern serves still works after activation
    once: str = ""  # shell: first boot only, before activate (host key, full upgrade, AIDE baseline)
    applies: Callable[[HostSpec], bool] = lambda spec: True
    #: False: delivered by the converge only (HostConfig, right after first boot in the same `pulumi up`), never
    #: in first-boot data, whose 16 KiB limit (the smallest vendor's) they would not fit
    first_boot: bool = True

    @property
    def function(self) -> str:
        """The bash name stem of this concern's functions (activate_<stem>, validate_<stem>, ...)."""
        return self.name.replace("-", "_")

    @property
    def package_phase(self) -> str:
        """Where its packages are installed: its first phase after lockdown (lockdown has no apt)."""
        return next((p for p in self.phases if p != LOCKDOWN), DEFERRED)


def _with_domain(spec: HostSpec) -> bool:
    return bool(spec.domain)


def _with_volume(spec: HostSpec) -> bool:
    return spec.has_data_volume


def _with_database(spec: HostSpec) -> bool:
    return spec.database == "postgresql"


# The cluster on the volume: the one a previous server left there, or a new one of the installed major version.
# The package is installed only once /etc/postgresql and /var/lib/postgresql are the volume's (hvps-data-volume
# bind-mounts them), and files keep the uid of the server that wrote them: they are handed to this one's postgres.
_DATABASE_ACTIVATE = """\
local v
mountpoint -q "$R/etc/postgresql"
mountpoint -q "$R/var/lib/postgresql"
NEEDRESTART_SUSPEND=1 "${APT[@]}" install --no-install-recommends postgresql
find "$R/srv/data/postgresql" \\( ! -user postgres -o ! -group postgres \\) -exec chown -h postgres:postgres {} +
v=$(pg_lsclusters -h | awk '$2 == "main" {print $1; exit}')
if [ -z "$v" ]; then
  v=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\\n' | sort -n | tail -n 1)
  pg_createcluster "$v" main
fi
install -m 0644 -o postgres -g postgres "$R/etc/hvps/postgresql.conf" "$R/etc/postgresql/$v/main/conf.d/90-hvps.conf"
install -m 0640 -o postgres -g postgres "$R/etc/hvps/pg_hba.conf" "$R/etc/postgresql/$v/main/pg_hba.conf"
setpriv --reuid=postgres --regid=postgres --init-groups "/usr/lib/postgresql/$v/bin/postgres" -C max_connections \\
  -D "/var/lib/postgresql/$v/main" -c config_file="/etc/postgresql/$v/main/postgresql.conf" >/dev/null
systemctl daemon-reload
systemctl enable postgresql
systemctl restart "postgresql@$v-main"
setpriv --reuid=postgres --regid=postgres --init-groups psql -qAt -v ON_ERROR_STOP=1 -v app="$APP" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'app') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'app', :'app')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app') \\gexec
SQL
[ "$(setpriv --reuid=postgres --regid=postgres --init-groups psql -qAt -c 'SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL')" = 0 ]
systemctl try-restart "$APP.service"
"""


_HEALTH = ("curl -fsS -o /dev/null --retry 5 --retry-delay 2 --retry-all-errors -H 'Host: '{{ server_name | sh }} "
           "http://127.0.0.1{{ health_path | sh }}")

CONCERNS: tuple[Concern, ...] = (
    Concern(
        "provisioner", "The host-side provisioner, its retry timer and the concern list it runs.", (LOCKDOWN,),
        files=(ConcernFile("/usr/local/sbin/hvps-provision", "0700"), ConcernFile("/usr/local/sbin/hvps-converge", "0700"),
               ConcernFile("/etc/systemd/system/hvps-provision.service"),
               ConcernFile("/etc/systemd/system/hvps-provision.timer"),
               ConcernFile(MANIFEST_PATH, "0600", template=False))),
    Concern(
        "admin-and-ssh", "The admin account (key-only, sudo) and a hardened sshd with the pinned host key.",
        (LOCKDOWN,),
        files=(ConcernFile("/etc/sudoers.d/90-hvps-admin", "0440"),
               ConcernFile(ADMIN_KEYS_PATH, "0600", template=False),
               ConcernFile("/etc/ssh/sshd_config.d/10-hvps-hardening.conf", "0600")),
        packages=("sudo", "openssh-server"),
        once="""\
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
""",
        validate="""\
if command -v visudo >/dev/null; then visudo -cq -f "$R/etc/sudoers.d/90-hvps-admin"; fi
sshd -t
""",
        activate="""\
getent group sshusers >/dev/null || groupadd --system sshusers
id "$ADMIN" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$ADMIN"
usermod -aG sudo,sshusers "$ADMIN"
install -d -m 0700 -o "$ADMIN" -g "$ADMIN" "$R/home/$ADMIN/.ssh"
install -m 0600 -o "$ADMIN" -g "$ADMIN" "$R/etc/hvps/admin_authorized_keys" "$R/home/$ADMIN/.ssh/authorized_keys"
chmod 0750 "$R/home/$ADMIN"
passwd -l root >/dev/null
systemctl restart ssh
""",
        health="systemctl is-active --quiet ssh\n"),
    Concern(
        "login-and-identity", "Host name, login banner, login shell limits and password policy defaults.",
        (LOCKDOWN,),
        files=(ConcernFile("/etc/issue.net"), ConcernFile("/etc/profile.d/hvps.sh")),
        packages=("libpam-tmpdir", "libpam-pwquality"),
        activate="""\
hostnamectl set-hostname {{ host_name | sh }} 2>/dev/null || echo {{ host_name | sh }} >"$R/etc/hostname"
for kv in {{ login_defs | sh }}; do
  sed -i -E "/^#?${kv%% *}\\b/d" "$R/etc/login.defs" && echo "$kv" >>"$R/etc/login.defs"
done
cp "$R/etc/issue.net" "$R/etc/issue"
"""),
    Concern(
        "host-firewall", "nftables: default-deny inbound, SSH from the stack's CIDRs, HTTP(S) from anywhere.",
        (LOCKDOWN, SERVE),  # lockdown when the image has nft, else serve (once apt installed it)
        files=(ConcernFile("/etc/nftables.conf", "0755"), ConcernFile("/etc/systemd/system/nftables.service.d/hvps-sandbox.conf")),
        packages=("nftables",),
        # nftables.conf names the group that may reach the metadata service: `nft -c` needs it to exist. It starts
        # with `flush ruleset`, which drops fail2ban's table too: a running fail2ban is restarted, and restores
        # its bans from its database.
        validate="""\
{ getent group hvps-metadata >/dev/null || groupadd --system hvps-metadata; }
{ ! command -v nft >/dev/null || nft -c -f "$R/etc/nftables.conf"; }
""",
        activate="""\
if command -v nft >/dev/null; then
  systemctl restart nftables
  enable_units nftables
  ! systemctl cat fail2ban.service >/dev/null 2>&1 || systemctl try-restart fail2ban
else
  NOTE="; the vendor firewall alone until apt installs nftables" PENDING=1
fi
"""),
    Concern(
        "kernel-and-limits", "Kernel hardening (sysctl), blacklisted modules, no core dumps, noexec /dev, /dev/shm and /tmp.",
        (LOCKDOWN,),
        files=(ConcernFile("/etc/sysctl.d/90-hvps-hardening.conf"), ConcernFile("/etc/modprobe.d/hvps-blacklist.conf"),
               ConcernFile("/etc/security/limits.d/90-hvps-no-core.conf"),
               ConcernFile("/etc/systemd/coredump.conf.d/hvps.conf")),
        # systemd's limits.d/10-coredump-debian.conf allows hard core dumps; pam_limits reads ours after it, but
        # a reader in directory order (Lynis KRNL-5820: its score varied with the file system's hash order) may
        # not: a dpkg diversion moves it out of limits.d for good (package upgrades write it there too).
        activate="""\
sysctl -q --system || log "sysctl: keys this kernel lacks were skipped"
f=/etc/security/limits.d/10-coredump-debian.conf
if [ -e "$R$f" ] && ! dpkg-divert --list "$f" | grep -q .; then
  install -d -m 0755 "$R/var/lib/hvps/diverted"
  dpkg-divert --quiet --local --rename --divert /var/lib/hvps/diverted/10-coredump-debian.conf --add "$f"
fi
for m in {{ hardened_mounts | sh }}; do
  read -r d t o <<<"$m"
  s=$(findmnt -fno SOURCE "$d") || s=$t
  f=$(awk -v d="$d" -v l="$s $d $t defaults,$o 0 0" -v o="$o" \
    '$1!~/^#/&&$2==d{n=1;if(!index($4,o)){$4=$4","o;c=1} }1;END{if(!n)print l;exit n>c}' "$R/etc/fstab") &&
    echo "$f" >"$R/etc/fstab"
  mount -o "remount,$o" "$d" || log "$d: $o from the next boot"
done
"""),
    # The build user of releases (hvps-release) is made here, before the integrity baseline, so a deploy adds no
    # account. The sample release's venv sees Debian's gunicorn and has no pip: it installs nothing.
    Concern(
        "app-runtime", "The app under a sandboxed systemd unit on a unix socket (gunicorn), its user and release.",
        (SERVE,),
        files=(ConcernFile("/etc/systemd/system/{app_name}.socket"), ConcernFile("/etc/systemd/system/{app_name}.service"),
               ConcernFile("/etc/hvps/gunicorn.conf.py"), ConcernFile("/etc/hvps/sample_app.py")),
        # the sample release needs no pip (a venv without it over Debian's gunicorn); releases need python3-venv
        # (pip) and git (a git source), and run once first boot is complete
        packages=("gunicorn",), later_packages=("python3-venv", "git"),
        activate="""\
id "$APP" >/dev/null 2>&1 || useradd --system --home-dir "/srv/$APP" --shell /usr/sbin/nologin --user-group "$APP"
id hvps-build >/dev/null 2>&1 ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group hvps-build
install -d -m 0751 -o root -g "$APP" "$R/srv/$APP" "$R/srv/$APP/releases"
install -d -m 0750 -o root -g "$APP" "$R/etc/$APP"
if [ ! -e "$R/srv/$APP/current" ]; then
  sample="$R/srv/$APP/releases/sample"
  install -d -m 0750 "$sample" "$sample/static"
  install -m 0640 "$R/etc/hvps/sample_app.py" "$sample/app.py"
  python3 -m venv --without-pip --system-site-packages "$sample/venv"
  printf 'APP_MODULE=%s\\nGUNICORN_CMD_ARGS=--workers %s\\nHVPS_RELEASE=sample\\n' {{ app_module | sh }} {{ workers | sh }} >"$sample/release.env"
  chown -R "root:$APP" "$sample" && chmod -R go-w,o-rwx "$sample" && chmod 0751 "$sample"
  chmod -R o+rX "$sample/static" && touch "$sample/.ready"
  ln -sfn "$sample" "$R/srv/$APP/current"
fi
install -m 0640 -o root -g "$APP" "$R/etc/hvps/gunicorn.conf.py" "$R/etc/$APP/gunicorn.conf.py"
systemctl start "$APP.socket"
systemctl restart "$APP.service"
enable_units "$APP.socket" "$APP.service"
""",
        health=_HEALTH),
    Concern(
        "nginx", "nginx in front of the app: hardened http settings, security headers, the site.", (SERVE,),
        files=(ConcernFile("/etc/nginx/conf.d/hvps-hardening.conf"),
               ConcernFile("/etc/nginx/snippets/hvps-security-headers.conf"),
               ConcernFile("/etc/nginx/snippets/hvps-app-locations.conf"),
               ConcernFile("/etc/hvps/nginx-site-http.conf"), ConcernFile("/etc/systemd/system/nginx.service.d/hvps-sandbox.conf")),
        packages=("nginx", "curl"),
        validate="nginx -t\n",
        activate="""\
install -d -m 0755 "$R/var/www/acme"
rm -f "$R/etc/nginx/sites-enabled/default"
local site=http domain={{ domain | sh }}
if [ -s "$R/etc/letsencrypt/live/$domain/fullchain.pem" ] && [ -e "$R/etc/hvps/nginx-site-https.conf" ]; then site=https; fi
install -m 0644 "$R/etc/hvps/nginx-site-$site.conf" "$R/etc/nginx/sites-available/$APP.conf"
ln -sfn "/etc/nginx/sites-available/$APP.conf" "$R/etc/nginx/sites-enabled/$APP.conf"
nginx -t
systemctl reload-or-restart nginx
enable_units nginx
""",
        health=_HEALTH),
    Concern(
        "tls", "A Let's Encrypt (or acmeServer) certificate for the domain, HTTPS with HSTS, renewals.", (SERVE,),
        files=(ConcernFile("/etc/nginx/snippets/hvps-tls.conf"), ConcernFile("/etc/hvps/nginx-site-https.conf"),
               ConcernFile("/usr/local/sbin/hvps-tls-issue", "0755"),
               ConcernFile("/etc/letsencrypt/renewal-hooks/deploy/hvps-reload-nginx", "0755"),
               ConcernFile("/etc/systemd/system/hvps-tls.service"), ConcernFile("/etc/systemd/system/hvps-tls.timer"),
               ConcernFile(ACME_CA_PATH, template=False, applies=lambda spec: bool(spec.acme_ca_certificate)),
               ConcernFile(CERTBOT_CA_DROPIN, template=False, applies=lambda spec: bool(spec.acme_ca_certificate)),
               ConcernFile("/etc/systemd/system/certbot.service.d/hvps-sandbox.conf")),
        packages=("certbot",),
        activate="""\
local domain={{ domain | sh }}
log "TLS certificate for $domain (retried by hvps-tls.timer until DNS points here)"
systemctl start hvps-tls.timer
enable_units hvps-tls.timer
""",
        applies=_with_domain),
    # After nginx: making the file and turning it on (5 s in the TCG VM) does not delay the first answer.
    Concern(
        "swap", "A swap file of swapSizeMb (none in containers, none when the host already has swap).", (SERVE,),
        activate="""\
local mb={{ swap_mb | sh }}
if [ "$mb" -gt 0 ] && [ ! -e "$R/swapfile" ] && ! systemd-detect-virt -cq && ! swapon --show=NAME --noheadings | grep -q .; then
  if fallocate -l "${mb}M" "$R/swapfile.new" && chmod 600 "$R/swapfile.new" && mkswap -q "$R/swapfile.new"; then
    mv "$R/swapfile.new" "$R/swapfile"
  else
    rm -f "$R/swapfile.new"
    log "swap: ${mb} MiB did not fit"
  fi
fi
[ -e "$R/swapfile" ] || return 0
if ! grep -q '^/swapfile ' "$R/etc/fstab"; then
  echo '/swapfile none swap sw 0 0' >>"$R/etc/fstab"
  systemctl daemon-reload
fi
systemctl start swapfile.swap || log "swap: not on"
"""),
    # The data volume, its database and backups (dataVolumeGb, database): at the end of serve, so the host already
    # answers while first boot waits for a volume the vendor attaches late (a failure retries the install phase).
    Concern(
        "data-volume", "The data volume at /srv/data: formatted only when blank, mounted at every boot, grown.",
        (SERVE,),
        files=(ConcernFile("/usr/local/sbin/hvps-data-volume", "0700"),
               ConcernFile("/etc/systemd/system/hvps-data-volume.service"),
               ConcernFile("/etc/systemd/system/{app_name}.service.d/hvps-data.conf")),
        activate="""\
systemctl daemon-reload
systemctl enable hvps-data-volume.service
systemctl restart hvps-data-volume.service
systemctl try-restart "$APP.service"
""",
        health="mountpoint -q \"$R/srv/data\"\n",
        applies=_with_volume, first_boot=False),
    # PostgreSQL's package is installed here, not by the phase: only once its directories are the volume's.
    Concern(
        "database", "PostgreSQL on the data volume: unix socket only, peer authentication, DATABASE_URL for the app.",
        (SERVE,),
        files=(ConcernFile("/etc/postgresql-common/createcluster.d/hvps.conf"),
               ConcernFile("/etc/hvps/postgresql.conf"), ConcernFile("/etc/hvps/pg_hba.conf"),
               ConcernFile("/etc/hvps/database.env"),
               ConcernFile("/etc/systemd/system/postgresql@.service.d/hvps-sandbox.conf"),
               ConcernFile("/etc/systemd/system/{app_name}.service.d/hvps-database.conf")),
        validate="grep -qx \"listen_addresses = ''\" \"$R/etc/hvps/postgresql.conf\"\n",
        activate=_DATABASE_ACTIVATE,
        health=("setpriv --reuid=\"$APP\" --regid=\"$APP\" --init-groups psql -qAt -c 'SELECT 1' "
                "\"postgresql:///$APP?host=/run/postgresql\" >/dev/null\n"),
        applies=_with_database, first_boot=False),
    Concern(
        "backups", "Daily backups on the data volume (database dump, app data), hvps-restore.", (DEFERRED,),
        files=(ConcernFile("/usr/local/sbin/hvps-backup", "0700"), ConcernFile("/usr/local/sbin/hvps-restore", "0700"),
               ConcernFile("/etc/systemd/system/hvps-backup.service"),
               ConcernFile("/etc/systemd/system/hvps-backup.timer")),
        activate="""\
systemctl daemon-reload
systemctl enable --now hvps-backup.timer
""",
        applies=_with_volume, first_boot=False),
    Concern(
        "backup-upload", "The tools of the encrypted off-host copy: age and rclone (credentials come over SSH).",
        (DEFERRED,),
        activate='NEEDRESTART_SUSPEND=1 "${APT[@]}" install --no-install-recommends age rclone\n',
        applies=lambda spec: bool(spec.backup_bucket), first_boot=False),
    # sshd's sandbox is every SSH session's: sudo stops working, so the way around it (hvps-root through PID 1,
    # allowed by polkit) must work first. The drop-in is kept in /etc/hvps and put in place only once the admin,
    # under no_new_privs as in a session, has reached root that way; else it is removed. Either way sshd restarts
    # (sessions already open keep what they had: KillMode=process); then a login over loopback with a throwaway key
    # whose only command is `hvps-root true` must reach root through the sandboxed sshd (the key is removed again).
    # A failure anywhere leaves sshd without the sandbox (the converge restores and re-activates) and fails the
    # concern. Converge-only: its package and files would not fit first-boot data, and the first converge follows
    # first boot in the same `pulumi up`.
    Concern(
        "ssh-sandbox", "sshd and its sessions sandboxed (no new privileges, read-only system); root via hvps-root.",
        (DEFERRED,),
        files=(ConcernFile(SSH_SANDBOX_STAGED), ConcernFile("/etc/polkit-1/rules.d/50-hvps-admin.rules"),
               ConcernFile(ROOT_COMMAND, "0755")),
        activate=f"""\
local live=$R{SSH_SANDBOX_DROPIN} d k=$R/home/$ADMIN/.ssh/authorized_keys ok=
NEEDRESTART_SUSPEND=1 "${{APT[@]}}" install --no-install-recommends polkitd || log "polkitd: not installed"
if [ -e "$R{SSH_SANDBOX_STAGED}" ] &&
  [ "$(setpriv --reuid="$ADMIN" --regid="$ADMIN" --init-groups --no-new-privs {ROOT_COMMAND} id -u </dev/null)" = 0 ]
then install -D -m 0644 "$R{SSH_SANDBOX_STAGED}" "$live"; else rm -f "$live"; fi
systemctl daemon-reload
systemctl restart ssh
[ -e "$live" ] || {{ echo "hvps-root did not reach root: sshd left without its sandbox" >&2; false; }}
d=$(mktemp -d)
ssh-keygen -q -t ed25519 -N '' -C hvps-login-check -f "$d/key"
cp -p "$k" "$d/keys"
echo "restrict,command=\\"{ROOT_COMMAND} true\\" $(cat "$d/key.pub")" >>"$k"
if ssh -i "$d/key" -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \\
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=20 "$ADMIN@127.0.0.1" true; then ok=1; fi
cat "$d/keys" >"$k"
rm -rf "$d"
[ -n "$ok" ] || {{ echo "a login through the sandboxed sshd did not reach root with hvps-root" >&2; false; }}
""",
        health="systemctl is-active --quiet ssh\n",
        first_boot=False),
    Concern(
        "journal-and-time", "A persistent, capped journal; time sync; no LLMNR/mDNS listeners.", (DEFERRED,),
        files=(ConcernFile("/etc/systemd/journald.conf.d/hvps.conf"), ConcernFile("/etc/systemd/resolved.conf.d/hvps.conf")),
        packages=("systemd-timesyncd",),
        activate="""\
systemctl restart systemd-journald
systemctl try-restart systemd-resolved 2>/dev/null || true
if systemctl start systemd-timesyncd 2>/dev/null; then enable_units systemd-timesyncd; else
  systemctl start chrony
  enable_units chrony
fi
"""),
    Concern(
        "updates", "Unattended security upgrades, reboots in the stack's window; the full upgrade at first boot.",
        (DEFERRED,),
        files=(ConcernFile("/etc/apt/apt.conf.d/20auto-upgrades"),
               ConcernFile("/etc/apt/apt.conf.d/52hvps-unattended-upgrades"),
               ConcernFile("/etc/systemd/system/unattended-upgrades.service.d/hvps-sandbox.conf")),
        packages=("unattended-upgrades", "needrestart", "apt-listchanges"),
        once="""\
"${APT[@]}" full-upgrade
NEEDRESTART_SUSPEND=1 "${APT[@]}" autoremove --purge
""",
        # A new sandbox takes effect when the waiting unit restarts; stopping it while an upgrade runs would ask
        # that upgrade to stop (and wait for it), so it restarts only while no unattended-upgrade holds its pid
        # file (apt-daily-upgrade.service is a oneshot: "activating", never "active", while it runs).
        activate="""\
systemctl start unattended-upgrades apt-daily.timer apt-daily-upgrade.timer
enable_units unattended-upgrades apt-daily.timer apt-daily-upgrade.timer
[ -e "$R/run/unattended-upgrades.pid" ] || systemctl restart unattended-upgrades
"""),
    Concern(
        "intrusion-bans", "fail2ban: repeated failed SSH logins are banned.", (DEFERRED,),
        files=(ConcernFile("/etc/fail2ban/jail.local"), ConcernFile("/etc/systemd/system/fail2ban.service.d/hvps-sandbox.conf")),
        packages=("fail2ban", "python3-systemd"),
        activate="""\
systemctl restart fail2ban
enable_units fail2ban
"""),
    # Process accounting (who ran what, when: /var/log/account/pacct, rotated daily) and sysstat's 10-minute load
    # history (7 days): a few MB of disk, no daemon beyond a timer.
    Concern(
        "audit-and-integrity", "auditd rules; process accounting; a daily AIDE and debsums check (releases included).",
        (DEFERRED,),
        files=(ConcernFile("/etc/audit/rules.d/hvps.rules", "0640"), ConcernFile("/etc/aide/aide.conf", "0600"),
               ConcernFile("/etc/systemd/system/hvps-integrity.service"),
               ConcernFile("/etc/systemd/system/hvps-integrity.timer")),
        packages=("auditd", "aide", "debsums", "acct", "sysstat"),
        activate="""\
systemctl restart auditd || log "no auditd (none in containers)"
enable_units auditd
sed -i 's/^ENABLED=.*/ENABLED="true"/' "$R/etc/default/sysstat"
systemctl start sysstat acct || log "no process accounting (none in containers)"
enable_units sysstat acct
systemctl start hvps-integrity.timer
enable_units hvps-integrity.timer
"""),
    Concern(
        "vendor-agent", "The vendor's monitoring agent (do-agent) may reach the metadata service (group hvps-metadata).",
        (DEFERRED,),
        files=(ConcernFile(DO_AGENT_DROPIN, template=False),),
        activate="""\
! systemctl cat do-agent.service >/dev/null 2>&1 || systemctl try-restart do-agent.service
""",
        applies=lambda spec: spec.vendor_info.monitoring_agent and spec.monitoring),
    # Last: the baseline is taken once everything before it is written and enabled, so a fresh host's first
    # integrity check finds nothing (it was taken before the deferred activations, which it then reported).
    Concern(
        "integrity-baseline", "The AIDE baseline of the finished host, taken once at first boot.", (DEFERRED,),
        # the units the phase has named are enabled first: their links in /etc belong to the baseline
        once="""\
enable_units
install -d -m 0700 "$R/var/lib/aide"
if [ ! -e "$R/var/lib/aide/aide.db" ]; then
  aide -c /etc/aide/aide.conf --init >/dev/null
  mv "$R/var/lib/aide/aide.db.new" "$R/var/lib/aide/aide.db"
fi
""",
    ),
)


def concerns_for(spec: HostSpec, converge: bool = False) -> tuple[Concern, ...]:
    """The concerns that apply to this stack, in order: those of first boot, or (converge) every one."""
    return tuple(c for c in CONCERNS if c.applies(spec) and (converge or c.first_boot))


def concern_of(path: str, spec: HostSpec) -> Concern | None:
    """The concern owning the host file at `path` (None for one no concern owns)."""
    if path == HOST_KEY_PATH:
        return next(c for c in CONCERNS if c.name == "admin-and-ssh")
    return next((c for c in concerns_for(spec, converge=True) if any(f.host_path(spec) == path for f in c.files)),
                None)
