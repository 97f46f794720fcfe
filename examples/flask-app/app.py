"""Example Flask app for hardened-vps: a page, a JSON endpoint, a health check and a static file.

Deploy it by setting `hardened-vps:appSource: examples/flask-app` in a stack (see README).
"""

import os

from flask import Flask, jsonify

app = Flask(__name__, static_folder=None)  # nginx serves /static/ itself


@app.get("/")
def index() -> str:
    release = os.environ.get("HVPS_RELEASE", "unknown")
    greeting = os.environ.get("GREETING", "Hello")
    return (f"<!doctype html><title>{greeting}</title><link rel=stylesheet href=/static/style.css>"
            f"<h1>{greeting} from Flask</h1><p>release {release}</p>\n")


@app.get("/api/info")
def info():  # type: ignore[no-untyped-def]
    return jsonify(release=os.environ.get("HVPS_RELEASE"), secret_configured=bool(os.environ.get("SECRET_KEY")))


@app.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")
