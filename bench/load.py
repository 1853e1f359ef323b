"""HTTP load: sign in like a browser (CSRF on), fetch a page once, and run wrk against it.

wrk runs as its own process on loopback (`wrk -t2 -c32 -d10s --latency`), never in this one.
"""

import html
import http.client
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

USER_AGENT = "portal-bench/1"
WRK_THREADS = 2
WRK_CONNECTIONS = 32
STATUS_SCRIPT = Path(__file__).parent / "status.lua"


def wrk_path():
    """The wrk binary; installed with apt-get when it is missing and we are allowed to."""
    found = shutil.which("wrk")
    if found:
        return found, ""
    if shutil.which("apt-get"):
        done = subprocess.run(
            ["apt-get", "install", "-y", "wrk"], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, check=False)
            done = subprocess.run(
                ["apt-get", "install", "-y", "wrk"], capture_output=True, text=True, check=False
            )
        if shutil.which("wrk"):
            return shutil.which("wrk"), "installed wrk with apt-get"
        return None, "wrk is missing and `apt-get install -y wrk` failed: " + (
            done.stderr.strip().splitlines() or ["(no output)"]
        )[-1]
    return None, "wrk is missing (install it: apt-get install -y wrk)"


def _request(base_url, method, path, headers=None, body=None):
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def _cookie(headers, name="session"):
    for key, value in headers:
        if key.lower() == "set-cookie":
            jar = SimpleCookie()
            jar.load(value)
            if name in jar:
                return jar[name].value
    return None


def login(base_url, email, password):
    """POST /login with the form's CSRF token; returns the signed-in session cookie value."""
    status, headers, body = _request(base_url, "GET", "/login")
    if status != 200:
        raise RuntimeError(f"GET /login answered {status}")
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', body
    )
    if not match:
        raise RuntimeError("no csrf_token on the sign-in page")
    token = html.unescape(match.group(1).decode())
    anonymous = _cookie(headers)
    form = urlencode({"csrf_token": token, "email": email, "password": password})
    status, headers, body = _request(
        base_url, "POST", "/login", body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Cookie": f"session={anonymous}", "Referer": base_url + "/login"},
    )  # fmt: skip
    session = _cookie(headers)
    if status != 302 or not session:
        raise RuntimeError(f"sign-in as {email} failed: HTTP {status}")
    return session


def fetch(base_url, path, session=None):
    """(status, body bytes) of one GET, with the session cookie when given."""
    headers = {"Cookie": f"session={session}"} if session else {}
    status, _headers, body = _request(base_url, "GET", path, headers=headers)
    return status, body


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    requests: int
    non_200: int
    socket_errors: int
    seconds: float

    def as_dict(self):
        return asdict(self)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return round(float(number) * _UNITS[unit], 3)


def parse_wrk(output):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    seconds = _ms(total.group(2) + total.group(3)) / 1000
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_200 = re.search(r"NON200 (\d+)", output)
    if int(total.group(1)) == 0:  # no response within the run: latencies are meaningless
        p50 = p99 = None
    return WrkResult(
        requests_per_s=round(rps, 1),
        p50_ms=p50,
        p99_ms=p99,
        requests=int(total.group(1)),
        non_200=int(non_200.group(1)) if non_200 else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        seconds=round(seconds, 2),
    )


def run_wrk(wrk, url, seconds, session=None, warmup=1, settle=None):
    """Warm up, then one measured `wrk -t2 -c32 -d<seconds>s --latency` run. `settle` is called
    after the warm-up (and after the run): it waits until the server has worked off requests
    wrk abandoned, so they don't eat into the next measurement."""
    headers = ["-H", f"User-Agent: {USER_AGENT}"]
    if session:
        headers += ["-H", f"Cookie: session={session}"]
    base = [wrk, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", "--latency", "-s", str(STATUS_SCRIPT)]
    if warmup:
        subprocess.run([*base, f"-d{warmup}s", *headers, url], capture_output=True, check=False)
        if settle:
            settle()
    done = subprocess.run(
        [*base, f"-d{seconds}s", "--timeout", "60s", *headers, url],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if settle:
        settle()
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)
