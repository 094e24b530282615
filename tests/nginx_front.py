"""deploy/nginx.conf, run for real in front of a local gunicorn: for tests/test_nginx.py and `make bench`.

The production template is filled in the way the README's `envsubst` fills
it, with free local ports, a self-signed certificate made with openssl and a
temporary folder for the cache, logs and pid; tests/nginx_main.conf stands in
for Debian's /etc/nginx/nginx.conf around it. Nothing here needs root, and a
system nginx, if any, is left alone.
"""

import getpass
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE_TEMPLATE = ROOT / "deploy" / "nginx.conf"
MAIN_TEMPLATE = Path(__file__).with_name("nginx_main.conf")
NGINX = os.environ.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
HOST = "127.0.0.1"


class NginxUnavailable(RuntimeError):
    """nginx (or openssl, to make its certificate) is not installed here."""


def render(template, values):
    """`template` with each ${NAME} replaced by values[NAME], as `envsubst '${NAME} …'` does.

    nginx's own variables ($host, $uri) are left alone; a placeholder with no
    value is an error rather than an empty string in the configuration.
    """
    missing = sorted(set(PLACEHOLDER.findall(template)) - set(values))
    if missing:
        raise KeyError(f"no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), template)


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def require_nginx():
    """Raise NginxUnavailable, saying what to install, unless nginx and openssl are here."""
    if not Path(NGINX).exists():
        raise NginxUnavailable(f"nginx not found at {NGINX} (apt-get install nginx)")
    if not shutil.which("openssl"):
        raise NginxUnavailable("openssl not found (apt-get install openssl)")


def self_signed_certificate(directory):
    """A certificate for 127.0.0.1, valid two days; returns (certificate, key) paths."""
    certificate, key = directory / "certificate.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(certificate),
            "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=IP:{HOST}",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return certificate, key


@dataclass
class Nginx:
    process: subprocess.Popen
    https_port: int
    http_port: int
    prefix: Path
    certificate: Path

    @property
    def origin(self):
        return f"https://{HOST}:{self.https_port}"

    def error_log(self):
        """What nginx said: its start-up output and its error log."""
        paths = (self.prefix / "stderr.log", self.prefix / "error.log")
        return "".join(path.read_text(errors="replace") for path in paths if path.exists())

    def tls_context(self):
        """Trusts this nginx's certificate, and checks it, as a browser would a real one."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def connection(self, timeout=10):
        return http.client.HTTPSConnection(
            HOST, self.https_port, timeout=timeout, context=self.tls_context()
        )

    def get(self, path, headers=None):
        """(status, body) of one GET over HTTPS, as a reader without cookies makes it."""
        connection = self.connection()
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


@contextmanager
def nginx_in_front(
    upstream,
    workdir,
    *,
    https_port=None,
    static_root=ROOT / "staticfiles",
    media_root=ROOT / "media",
    workers=1,
    command_prefix=(),
):
    """Serve deploy/nginx.conf on free ports in front of `upstream` (host:port); yields an Nginx.

    `command_prefix` runs nginx under another command (the benchmark pins
    it to a core with taskset).
    """
    require_nginx()
    prefix = Path(workdir)
    prefix.mkdir(parents=True, exist_ok=True)
    certificate, key = self_signed_certificate(prefix)
    https_port, http_port = https_port or free_port(), free_port()
    site = render(
        SITE_TEMPLATE.read_text(),
        {
            "BLOG_SERVER_NAME": HOST,
            "BLOG_HTTP_PORT": http_port,
            "BLOG_HTTPS_PORT": https_port,
            "BLOG_TLS_CERTIFICATE": certificate,
            "BLOG_TLS_CERTIFICATE_KEY": key,
            "BLOG_UPSTREAM": upstream,
            "BLOG_STATIC_ROOT": static_root,
            "BLOG_MEDIA_ROOT": media_root,
            "BLOG_CACHE_DIR": prefix / "cache",
        },
    )
    (prefix / "blog.conf").write_text(site)
    main = prefix / "nginx.conf"
    main.write_text(
        render(
            MAIN_TEMPLATE.read_text(),
            {"NGINX_PREFIX": prefix, "NGINX_WORKERS": workers, "NGINX_USER": getpass.getuser()},
        )
    )
    command = [
        *command_prefix,
        NGINX,
        "-p",
        str(prefix),
        "-c",
        str(main),
        "-e",
        str(prefix / "error.log"),
    ]
    checked = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx refused the configuration:\n{checked.stderr}")
    with open(prefix / "stderr.log", "wb") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    nginx = Nginx(process, https_port, http_port, prefix, certificate)
    try:
        _wait_until_listening(nginx)
        yield nginx
    finally:
        # SIGQUIT: finish the requests in flight, then stop.
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_listening(nginx, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if nginx.process.poll() is not None:
            raise RuntimeError(
                f"nginx exited with {nginx.process.returncode}:\n{nginx.error_log()}"
            )
        try:
            socket.create_connection((HOST, nginx.https_port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(
        f"nginx did not listen on {nginx.https_port} in {timeout} s:\n{nginx.error_log()}"
    )
