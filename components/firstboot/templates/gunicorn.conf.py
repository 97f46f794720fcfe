# Managed by hardened-vps. gunicorn settings; the listening socket comes from systemd ({{ app_name }}.socket).
workers = {{ workers }}
timeout = 30
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"
