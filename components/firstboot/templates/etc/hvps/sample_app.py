"""Sample app deployed by hardened-vps until the stack names its own: a page and a health endpoint."""

import json


def app(environ, start_response):
    if environ.get("PATH_INFO") == {{ health_path | py }}:
        body = json.dumps({"status": "ok"}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    body = b"<!doctype html><title>It works</title><h1>It works</h1><p>Served by a hardened-vps host.</p>\n"
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
