"""The tls-edge demo app: answers behind Envoy, which terminates TLS in the same task.

It listens on 127.0.0.1 only (gunicorn.conf.py): nothing outside the task reaches it except
through Envoy, and Envoy reaches it over the task's loopback interface.
"""
import socket

from flask import Flask

app = Flask(__name__)

TEXT = {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/service")
def service():
    return f"Hello from behind Envoy SSL proxy! hostname: {socket.gethostname()}\n", 200, TEXT


@app.get("/health")
def health():
    """The container health check (ECS) calls this; Envoy starts once it answers."""
    return "ok\n", 200, TEXT
