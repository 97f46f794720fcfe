"""The host's settings as data, one table per configuration language (dev-sec's `defaults/main.yml`): the kernel's
sysctl keys, sshd's options and key exchange per image, login.defs. The concerns that own these files render them
from here; the e2e checks and the plan read the same tables.
"""

from __future__ import annotations

# Kernel settings (DevSec os_hardening + Lynis KRNL-6000). accept_ra and autoconf stay on: vendor IPv6 (SLAAC)
# needs them. vm.swappiness 10: the swap file is for peaks, not for the app's working set.
SYSCTL_SETTINGS: tuple[tuple[str, str], ...] = (
    ("fs.protected_hardlinks", "1"), ("fs.protected_symlinks", "1"), ("fs.protected_fifos", "2"),
    ("fs.protected_regular", "2"), ("fs.suid_dumpable", "0"), ("kernel.core_uses_pid", "1"),
    ("kernel.kptr_restrict", "2"), ("kernel.dmesg_restrict", "1"), ("kernel.kexec_load_disabled", "1"),
    ("kernel.sysrq", "0"), ("kernel.ctrl-alt-del", "0"), ("kernel.randomize_va_space", "2"),
    ("kernel.yama.ptrace_scope", "2"), ("kernel.unprivileged_bpf_disabled", "1"),
    ("kernel.perf_event_paranoid", "3"), ("net.core.bpf_jit_harden", "2"), ("dev.tty.ldisc_autoload", "0"),
    ("vm.swappiness", "10"), ("net.ipv4.ip_forward", "0"), ("net.ipv4.tcp_syncookies", "1"),
    ("net.ipv4.tcp_rfc1337", "1"), ("net.ipv4.conf.all.rp_filter", "1"), ("net.ipv4.conf.default.rp_filter", "1"),
    ("net.ipv4.conf.all.accept_redirects", "0"), ("net.ipv4.conf.default.accept_redirects", "0"),
    ("net.ipv4.conf.all.secure_redirects", "0"), ("net.ipv4.conf.default.secure_redirects", "0"),
    ("net.ipv4.conf.all.send_redirects", "0"), ("net.ipv4.conf.default.send_redirects", "0"),
    ("net.ipv4.conf.all.accept_source_route", "0"), ("net.ipv4.conf.default.accept_source_route", "0"),
    ("net.ipv4.conf.all.log_martians", "1"), ("net.ipv4.conf.default.log_martians", "1"),
    ("net.ipv4.icmp_echo_ignore_broadcasts", "1"), ("net.ipv4.icmp_ignore_bogus_error_responses", "1"),
    ("net.ipv6.conf.all.accept_redirects", "0"), ("net.ipv6.conf.default.accept_redirects", "0"),
    ("net.ipv6.conf.all.accept_source_route", "0"), ("net.ipv6.conf.default.accept_source_route", "0"),
)

# Key exchange per image: post-quantum hybrids first where that image's OpenSSH has them (ssh-audit guide).
# curve25519 stays as the one fallback, for clients without them (Paramiko, older Go x/crypto as used by
# deploy tools, PuTTY < 0.78); ssh-audit warns about it, accepted in e2e/run.py. The finite-field DH groups
# of the ssh-audit guide are dropped: every client that lacks curve25519 is older than a decade.
_KEX_COMMON = "curve25519-sha256,curve25519-sha256@libssh.org"
SSH_KEX = {
    "debian-13": "mlkem768x25519-sha256,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com," + _KEX_COMMON,
    "debian-12": "sntrup761x25519-sha512@openssh.com," + _KEX_COMMON,
    "ubuntu-24.04": "sntrup761x25519-sha512@openssh.com," + _KEX_COMMON,
}
SSH_GROUP = "sshusers"

# sshd options (DevSec ssh_hardening + ssh-audit guide). sshd uses the FIRST value it reads for a keyword, and
# Debian's sshd_config includes the drop-in directory first. Port 22 stays (Lynis SSH-7408 suggests another):
# a moved port hides nothing from a scan and breaks vendor consoles; keys-only auth, CIDR-limited firewall
# rules and fail2ban carry the protection. The only host key is the one the Pulumi program made and pins.
# KexAlgorithms and AllowGroups come per stack (sshd_options).
SSHD_OPTIONS: tuple[tuple[str, str], ...] = (
    ("Port", "22"), ("AddressFamily", "any"), ("HostKey", "/etc/ssh/ssh_host_ed25519_key"),
    ("KexAlgorithms", "{kex}"),
    ("Ciphers", "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,"
                "aes192-ctr,aes128-ctr"),
    ("MACs", "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com"),
    ("HostKeyAlgorithms", "ssh-ed25519"),
    ("PubkeyAcceptedAlgorithms", "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,"
                                 "sk-ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com,"
                                 "rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,ecdsa-sha2-nistp256,"
                                 "ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com"),
    ("RequiredRSASize", "3072"), ("PermitRootLogin", "no"), ("PasswordAuthentication", "no"),
    ("KbdInteractiveAuthentication", "no"), ("AuthenticationMethods", "publickey"), ("PubkeyAuthentication", "yes"),
    ("PermitEmptyPasswords", "no"), ("AllowGroups", "{group}"), ("MaxAuthTries", "3"), ("MaxSessions", "2"),
    ("LoginGraceTime", "30s"), ("MaxStartups", "10:30:60"), ("PerSourceMaxStartups", "3"),
    ("ClientAliveInterval", "300"), ("ClientAliveCountMax", "2"), ("AllowTcpForwarding", "no"),
    ("AllowAgentForwarding", "no"), ("AllowStreamLocalForwarding", "no"), ("X11Forwarding", "no"),
    ("PermitTunnel", "no"), ("GatewayPorts", "no"), ("PermitUserEnvironment", "no"), ("UseDNS", "no"),
    ("Compression", "no"), ("TCPKeepAlive", "no"), ("LogLevel", "VERBOSE"), ("PrintMotd", "no"),
    ("DebianBanner", "no"), ("Banner", "/etc/issue.net"),
)

# login.defs and pwquality govern passwords set later (accounts have none): keep trixie's yescrypt, and
# SHA-crypt rounds for tools asked for SHA-512 (chpasswd -c SHA512). pam_umask and useradd read UMASK.
LOGIN_DEFS: tuple[tuple[str, str], ...] = (
    ("UMASK", "027"), ("ENCRYPT_METHOD", "YESCRYPT"), ("SHA_CRYPT_MIN_ROUNDS", "65536"),
    ("SHA_CRYPT_MAX_ROUNDS", "65536"), ("PASS_MAX_DAYS", "365"), ("PASS_MIN_DAYS", "1"),
)

# File systems nothing runs from (DevSec os_hardening, CIS, Lynis FILE-6374): (mount point, type, options). Each is
# remounted at once, and its fstab line (the image's own gets the options added; else a new one naming the mounted
# source, `udev` for Debian's /dev) keeps them at every boot: systemd-remount-fs applies them to the API file
# systems /dev and /dev/shm, and /tmp is mounted from its line (tmpfs' own size and inode limits, not Debian's
# tmp.mount's: an option only tmpfs takes would stop a /tmp partition from mounting). Releases build with TMPDIR
# under /var/tmp, so a source package's build steps still run.
HARDENED_MOUNTS: tuple[tuple[str, str, str], ...] = (
    ("/dev", "devtmpfs", "nosuid,noexec"), ("/dev/shm", "tmpfs", "nosuid,nodev,noexec"),
    ("/tmp", "tmpfs", "nosuid,nodev,noexec"),
)

# PostgreSQL beside the app on a small plan (PGTune's figures for a web app, scaled down): a few connections (the
# app's workers), shared_buffers RAM/16 and the planner's cache estimate RAM/4, so a 1 GB plan keeps most of its
# memory for the app. Unix socket only: no TCP listener at all. JIT off: no code generation at run time.
POSTGRESQL_SETTINGS: tuple[tuple[str, str], ...] = (
    ("listen_addresses", "''"), ("max_connections", "20"), ("work_mem", "4MB"), ("jit", "off"),
    ("password_encryption", "scram-sha-256"),
)
#: Settings sized from the plan's memory: (key, divisor): RAM / divisor, in MB.
POSTGRESQL_RAM_FRACTIONS: tuple[tuple[str, int], ...] = (
    ("shared_buffers", 16), ("effective_cache_size", 4), ("maintenance_work_mem", 16),
)


def postgresql_settings(ram_mb: int) -> tuple[tuple[str, str], ...]:
    """Every PostgreSQL setting for a plan with `ram_mb` of memory, the fixed ones first."""
    return POSTGRESQL_SETTINGS + tuple((key, f"{ram_mb // divisor}MB") for key, divisor in POSTGRESQL_RAM_FRACTIONS)
