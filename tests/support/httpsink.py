#!/usr/bin/python3
"""httpsink.py - a webhook receiver for the CLI tests (Slack and generic webhooks).

Usage: httpsink.py DIR [STATUS...]
Listens on 127.0.0.1 (ephemeral port), writes the port to DIR/port, and stores each request
as DIR/req-<n>.json: {"method", "path", "headers", "body"}. Answers the given statuses in
order (e.g. 500 200), then 200 forever. Stops on SIGTERM.
"""
import http.server
import json
import os
import sys
import threading

out_dir = sys.argv[1]
statuses = [int(s) for s in sys.argv[2:]]
lock = threading.Lock()
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            count += 1
            n = count
            status = statuses.pop(0) if statuses else 200
        rec = {"method": "POST", "path": self.path, "headers": dict(self.headers),
               "body": body.decode("utf-8", "replace")}
        tmp = os.path.join(out_dir, ".req-%d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(out_dir, "req-%d.json" % n))
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(out_dir, ".port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(out_dir, ".port.tmp"), os.path.join(out_dir, "port"))
server.serve_forever()
