"""Make every outgoing network attempt fail and remember it, so a test can prove nothing leaves the machine."""

import ipaddress
import socket

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "", None}
# The catalog's reachability probe resolves and connects to the download host, and sends nothing; any other
# destination, or any attempt to send, is a leak.
DOWNLOAD_PROBE_HOSTS = {"github.com"}


def is_numeric(host) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


class NetworkGuard:
    def __init__(self, monkeypatch):
        self.resolved: list[str] = []
        self.connected: list[object] = []
        real_getaddrinfo = socket.getaddrinfo
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex

        def getaddrinfo(host, *args, **kwargs):
            name = host.decode() if isinstance(host, bytes) else host
            if name not in LOCAL_HOSTS and not is_numeric(name):  # numeric addresses need no lookup
                self.resolved.append(name)
                raise socket.gaierror(f"network blocked by test: {name}")
            return real_getaddrinfo(host, *args, **kwargs)

        def is_local(address):
            return not isinstance(address, tuple) or address[0] in LOCAL_HOSTS or str(address[0]).startswith("127.")

        def connect(sock, address):
            if is_local(address):
                return real_connect(sock, address)
            self.connected.append(address)
            raise OSError(f"network blocked by test: {address}")

        def connect_ex(sock, address):
            if is_local(address):
                return real_connect_ex(sock, address)
            self.connected.append(address)
            return 111  # ECONNREFUSED

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)

    def leaks(self) -> list[object]:
        """Attempts that were neither local nor the download probe's host lookup."""
        return [h for h in self.resolved if h not in DOWNLOAD_PROBE_HOSTS] + list(self.connected)
