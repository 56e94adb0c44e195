#!/usr/bin/env python3
"""How the desktop app's containers view holds up with many containers, for scripts/bench: over
WebDriver (tauri-driver in front of WebKitWebDriver), switch to the view and time until every row is
drawn, then scroll it for a few seconds and record every frame's duration.

    desktop_scroll.py DRIVER_URL APP ROWS RESULTS_DIR

Appends one sample a line to RESULTS_DIR/desktop_rows_render.berth (ms to draw ROWS rows) and
RESULTS_DIR/desktop_scroll_p95.berth (95th percentile frame time while scrolling, ms). Stdlib only;
the app's environment (engine socket, display) is tauri-driver's.
"""

import json
import math
import os
import sys
import time
import urllib.request

# Runs in the page: leave the view, come back, wait for the rows, then scroll.
SCRIPT = """
const want = arguments[0], done = arguments[arguments.length - 1];
const rows = () => document.querySelectorAll('[data-testid="container-row"]').length;
const frame = () => new Promise(r => requestAnimationFrame(r));
(async () => {
  document.querySelector('[data-testid="nav-images"]').click();
  while (rows() > 0) await frame();
  await frame();
  const t0 = performance.now();
  document.querySelector('[data-testid="nav-containers"]').click();
  while (rows() < want) {
    if (performance.now() - t0 > 30000) return done({error: 'only ' + rows() + ' rows after 30 s'});
    await frame();
  }
  await frame();
  const drawn = performance.now() - t0;
  const el = document.querySelector('.scroll');
  const frames = [];
  let last = await frame();
  const start = last;
  while (last - start < 3000) {
    el.scrollTop = el.scrollTop + 37 >= el.scrollHeight - el.clientHeight ? 0 : el.scrollTop + 37;
    const now = await frame();
    frames.push(now - last);
    last = now;
  }
  done({drawn, frames});
})();
"""


def call(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read() or b"null")


def main():
    driver, app, want, res = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    caps = {"capabilities": {"alwaysMatch": {"browserName": "wry", "tauri:options": {"application": app}}}}
    deadline = time.monotonic() + 30
    while True:
        try:
            session = call(f"{driver}/session", "POST", caps)["value"]["sessionId"]
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    base = f"{driver}/session/{session}"
    try:
        call(f"{base}/timeouts", "POST", {"script": 60000})
        got = call(f"{base}/execute/async", "POST", {"script": SCRIPT, "args": [want]})["value"]
    finally:
        call(base, "DELETE")
    if "error" in got:
        sys.exit(f"desktop_scroll: {got['error']}")
    frames = sorted(got["frames"])
    p95 = frames[min(len(frames) - 1, math.ceil(0.95 * len(frames)) - 1)]
    with open(os.path.join(res, "desktop_rows_render.berth"), "a") as f:
        f.write(f"{got['drawn']:.1f}\n")
    with open(os.path.join(res, "desktop_scroll_p95.berth"), "a") as f:
        f.write(f"{p95:.1f}\n")
    print(f"{want} rows drawn in {got['drawn']:.0f} ms; {len(frames)} frames scrolling, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
