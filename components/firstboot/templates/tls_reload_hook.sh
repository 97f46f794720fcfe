#!/bin/sh
# Managed by hardened-vps. certbot deploy hook: a renewed certificate is served at once.
nginx -t && systemctl reload nginx
