"""Helpers for the ops checks written in Python (stdlib only): rmsd and Prometheus child
processes on 127.0.0.1, each with its own temp dir, and Prometheus's HTTP API.
ctest passes RMS_SOURCE_DIR, RMS_RMSD and RMS_RMSCTL."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

SKIP = 77  # ctest's SKIP_RETURN_CODE for these checks

SOURCE_DIR = os.environ.get("RMS_SOURCE_DIR", "")
RMSD = os.environ.get("RMS_RMSD", "")
RMSCTL = os.environ.get("RMS_RMSCTL", "")
PROMETHEUS = "/usr/bin/prometheus"


def in_ci():
    return os.environ.get("CI") in ("true", "1")


def require(path_or_tool):
    """Exits 77 (skipped) when a tool is missing, or 1 under CI=true."""
    if os.path.isabs(path_or_tool) and os.access(path_or_tool, os.X_OK):
        return path_or_tool
    found = shutil.which(path_or_tool)
    if found:
        return found
    print(f"{'FAIL' if in_ci() else 'SKIP'}: {path_or_tool} is not installed "
          "(tools/install-deps.sh installs it)", file=sys.stderr)
    sys.exit(1 if in_ci() else SKIP)


def wait_for(condition, timeout, what):
    """Polls `condition` until it returns a true value, and returns that; fails after `timeout`
    seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def free_port():
    """A port free on 127.0.0.1 right now (for servers that cannot be told to pick one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process that is ended (SIGTERM, then SIGKILL) on close; its output goes to a log."""

    def __init__(self, args, log_path, **kwargs):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=kwargs.pop("stdout", self.log),
                                     stderr=self.log, **kwargs)

    def log_tail(self, n=3000):
        with open(self.log_path, "rb") as f:
            return f.read()[-n:].decode(errors="replace")

    def terminate(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.terminate()


class Rmsd(Process):
    def __init__(self, work_dir, *extra):
        os.makedirs(work_dir, exist_ok=True)
        super().__init__([RMSD, "--data-dir", os.path.join(work_dir, "data"), "--listen",
                          "127.0.0.1:0", "--http", "127.0.0.1:0", *extra],
                         os.path.join(work_dir, "rmsd.log"), stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("rmsd ready "):
            self.terminate()
            raise AssertionError(f"rmsd did not start: {line!r}\n{self.log_tail()}")
        fields = dict(f.split("=", 1) for f in line.split()[2:])
        self.ingest, self.http = fields["ingest"], fields["http"]

    def __exit__(self, *exc):
        # A scratch engine: killed outright (tests that check a graceful stop call terminate()).
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def get(self, target):
        with urllib.request.urlopen(f"http://{self.http}{target}", timeout=30) as r:
            return r.read().decode()

    def replay_ibm(self):
        csv = os.path.join(SOURCE_DIR, "data", "ibm-accounts-receivable.csv")
        subprocess.run([RMSCTL, "replay", "--format", "ibm", csv, "--to", self.ingest],
                       check=True, stdout=subprocess.DEVNULL)


class Prometheus(Process):
    """Debian's Prometheus on 127.0.0.1:<free port>, with its own config and TSDB directory."""

    def __init__(self, work_dir, config_text, tsdb_dir=None, retention="100y"):
        os.makedirs(work_dir, exist_ok=True)
        config = os.path.join(work_dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(config_text)
        # The port was free a moment ago; should another process take it first, Prometheus
        # exits and the next attempt picks another.
        for attempt in range(3):
            self.port = free_port()
            super().__init__([PROMETHEUS, f"--config.file={config}",
                              f"--storage.tsdb.path={tsdb_dir or os.path.join(work_dir, 'tsdb')}",
                              f"--storage.tsdb.retention.time={retention}",
                              f"--web.listen-address=127.0.0.1:{self.port}",
                              "--log.level=warn"],
                             os.path.join(work_dir, f"prometheus-{attempt}.log"))
            try:
                wait_for(self.ready, 30, "Prometheus to be ready")
                return
            except AssertionError:
                exited = self.proc.poll() is not None
                self.terminate()
                if attempt == 2 or not exited:
                    raise
            except BaseException:
                self.terminate()
                raise

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"Prometheus exited {self.proc.returncode}:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=30) as r:
            answer = json.load(r)
        if answer.get("status") != "success":
            raise AssertionError(f"{path} {params}: {answer}")
        return answer["data"]


def temp_dir(prefix):
    return tempfile.TemporaryDirectory(prefix=f"rms-{prefix}-",
                                       ignore_cleanup_errors=True) if os.environ.get(
        "RMS_KEEP_TEMP") != "1" else _Kept(prefix)


class _Kept:
    def __init__(self, prefix):
        self.name = tempfile.mkdtemp(prefix=f"rms-{prefix}-")
        print(f"keeping {self.name}", file=sys.stderr)

    def __enter__(self):
        return self.name

    def __exit__(self, *exc):
        pass
