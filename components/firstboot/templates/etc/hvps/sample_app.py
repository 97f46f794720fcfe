# Managed by hardened-vps: the sample app, until a release replaces it.


def app(environ, start_response):
    if environ.get("PATH_INFO") == {{ health_path | py }}:
        kind, body = "application/json", b'{"status": "ok"}'
    else:
        kind, body = "text/html; charset=utf-8", b"<!doctype html><h1>It works</h1>\n"
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]
