"""Installs the built tree into a temporary prefix, builds examples/embed_host against it out of
the source tree (find_package(dunning)), and runs the host: it must serve HTTP on the port the
kernel picks, answer an access query in-process and over HTTP, and call its access listener when
a signed webhook (Stripe marks the subscription unpaid) locks the member.

  install_test.py --source-dir DIR --build-dir DIR --cmake CMAKE --ninja NINJA --cxx CXX
                  [--build-type T] [--cxx-flags FLAGS]
"""
import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

SECRET = "whsec_install_test_0123456789"
TOKEN = "install-test-token-0123456789"
MEMBER = "cus_install"
PRODUCT = "prod_install"
COURSE = "course-101"

CONFIG = f"""[server]
listen = "127.0.0.1:0"
[storage]
sqlite_path = "state/dunning.db"
[mail]
outbox_dir = "state/outbox"
from = "Install Academy <billing@install.example>"
[[creators]]
id = "install"
name = "Install Academy"
webhook_secrets = ["{SECRET}"]
api_token = "{TOKEN}"
[[creators.products]]
stripe_product = "{PRODUCT}"
courses = ["{COURSE}"]
"""


def run(cmd, **kwargs):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)


class Lines:
    """A child's output, line by line, read on a thread so a wait can give up."""

    def __init__(self, stream, echo):
        self.lines, self.cond = [], threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream, echo), daemon=True)
        self.thread.start()

    def _read(self, stream, echo):
        for line in stream:
            echo.write(line)
            echo.flush()
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)
            self.cond.notify_all()

    def wait_for(self, pattern, timeout=60):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if line is None:
                        raise AssertionError(f"output ended before a line matching {pattern!r}")
                    m = re.search(pattern, line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line matching {pattern!r} in {timeout} s")
                self.cond.wait(left)


def request(url, body=None, headers=None):
    """(status, JSON answer), also for 4xx and 5xx."""
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def subscription_unpaid_event(fixture):
    with open(fixture) as f:
        e = json.load(f)
    e["id"] = "evt_install_unpaid"
    e["created"] = int(time.time())
    sub = e["data"]["object"]
    sub.update(id="sub_install", customer=MEMBER, status="unpaid", latest_invoice="in_install")
    item = sub["items"]["data"][0]
    item["subscription"] = "sub_install"
    item["price"]["product"] = PRODUCT
    item["plan"]["product"] = PRODUCT
    sub["plan"]["product"] = PRODUCT
    e["data"]["previous_attributes"] = {"status": "past_due"}
    return json.dumps(e).encode()


def signed(body):
    t = str(int(time.time()))
    v1 = hmac.new(SECRET.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={v1}", "Content-Type": "application/json"}


def run_host(host, workdir, fixture):
    config = os.path.join(workdir, "host.toml")
    with open(config, "w") as f:
        f.write(CONFIG)
    p = subprocess.Popen([host, "--config", config, "--member", MEMBER, "--course", COURSE],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = Lines(p.stdout, sys.stdout), Lines(p.stderr, sys.stderr)
        # The in-process answer, printed before the module serves.
        out.wait_for(rf"^access {MEMBER} {COURSE}: granted \(")
        port = err.wait_for(r"listening on http://127\.0\.0\.1:(\d+)").group(1)
        base = f"http://127.0.0.1:{port}"

        status, health = request(base + "/healthz")
        assert status == 200 and health["status"] == "ok", health

        body = subscription_unpaid_event(fixture)
        status, answer = request(base + "/webhooks/stripe/install", body, signed(b"other"))
        assert status == 400, f"a body with another body's signature got {status}: {answer}"
        status, answer = request(base + "/webhooks/stripe/install", body, signed(body))
        assert status == 200 and answer.get("received") is True, answer

        # The listener hears of the lock, and the host asks the module again.
        out.wait_for(rf"^change #\d+ install {MEMBER} {PRODUCT} \[{COURSE}\]: granted -> locked")
        out.wait_for(rf"^access {MEMBER} {COURSE}: locked \(subscription_unpaid\)")
        status, a = request(f"{base}/v1/creators/install/access?member={MEMBER}&course={COURSE}",
                            headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and a["level"] == "locked", a

        p.terminate()
        assert p.wait(timeout=60) == 0, f"embed_host exited with {p.returncode} on SIGTERM"
        out.thread.join()
        err.thread.join()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser()
    for arg in ("--source-dir", "--build-dir", "--cmake", "--ninja", "--cxx", "--fixture"):
        ap.add_argument(arg, required=True)
    ap.add_argument("--build-type", default="")
    ap.add_argument("--cxx-flags", default="")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="dunning-install-")
    try:
        prefix = os.path.join(tmp, "prefix")
        run([a.cmake, "--install", a.build_dir, "--prefix", prefix])
        # Nothing of the source tree is visible to the host's build: only the prefix.
        for must in ("include/dunning/plugin/module.hpp", "include/dunning/core/time.hpp"):
            assert os.path.isfile(os.path.join(prefix, must)), f"{must} not installed"
        host_build = os.path.join(tmp, "b")
        run([a.cmake, "-S", os.path.join(a.source_dir, "examples", "embed_host"), "-B", host_build,
             "-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={a.ninja}", f"-DCMAKE_CXX_COMPILER={a.cxx}",
             f"-DCMAKE_PREFIX_PATH={prefix}", f"-DCMAKE_BUILD_TYPE={a.build_type}",
             f"-DCMAKE_CXX_FLAGS={a.cxx_flags}", f"-DCMAKE_EXE_LINKER_FLAGS={a.cxx_flags}"])
        with open(os.path.join(host_build, "CMakeCache.txt")) as f:
            cache = f.read()
        m = re.search(r"^dunning_DIR:PATH=(.*)$", cache, re.M)
        assert m and m.group(1).startswith(prefix), f"dunning found elsewhere: {m and m.group(1)}"
        run([a.cmake, "--build", host_build])
        run_host(os.path.join(host_build, "embed_host"), tmp, a.fixture)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("install test: OK")


if __name__ == "__main__":
    main()
