# Managed by hardened-vps. gunicorn settings common to every release; workers and worker class come with the
# release (GUNICORN_CMD_ARGS in release.env). The listening socket comes from systemd (the app's .socket unit).
timeout = 30
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"
