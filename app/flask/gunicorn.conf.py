# gunicorn, not Flask's development server (the original ran Flask in debug mode on 0.0.0.0).
import os

port = int(os.environ.get("PORT", "8080"))
if not 1024 <= port <= 65535:
    raise SystemExit(f"PORT must be 1024-65535, got {port}")

# Loopback only: Envoy in the same task is the only client.
bind = f"127.0.0.1:{port}"
workers = 2
# The root filesystem is read-only; the task mounts a writable volume at /tmp.
worker_tmp_dir = "/tmp"
# Envoy writes the access log; errors go to stderr (CloudWatch Logs through awslogs).
errorlog = "-"
loglevel = "info"
