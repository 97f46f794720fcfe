#!/bin/bash
# Managed by hardened-vps. Obtain the certificate (certbot --webroot) and switch nginx to HTTPS.
# Run by hvps-tls.timer until it succeeds: at first boot the domain's DNS record may not resolve yet.
set -euo pipefail
domain={{ domain | sh }}
if [ ! -s "/etc/letsencrypt/live/$domain/fullchain.pem" ]; then
  {{ acme_ca_env | raw }}certbot certonly --non-interactive --agree-tos --webroot -w /var/www/acme \
    --server {{ acme_server | sh }} -m {{ acme_email | sh }} -d "$domain" --key-type ecdsa
fi
install -m 0644 /etc/hvps/nginx-site-https.conf /etc/nginx/sites-available/{{ app_name | sh }}.conf
nginx -t
systemctl reload nginx
systemctl disable --now hvps-tls.timer
