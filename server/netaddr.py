"""Find the address phones on the clinic network can reach the hub at."""

from __future__ import annotations

import fcntl
import ipaddress
import logging
import socket
import struct

logger = logging.getLogger(__name__)

_SIOCGIFADDR = 0x8915


def lan_addresses() -> list[str]:
    """List this machine's IPv4 addresses on private networks (no traffic sent)."""
    found = []
    for _, name in socket.if_nameindex():
        address = _interface_address(name)
        if address is None:
            continue
        ip = ipaddress.ip_address(address)
        if ip.is_private and not ip.is_loopback:
            found.append(address)
    return found


def _interface_address(name: str) -> str | None:
    # Ask the kernel for the interface's address; nothing goes on the wire.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            packed = fcntl.ioctl(
                probe.fileno(), _SIOCGIFADDR, struct.pack("256s", name[:15].encode())
            )
        except OSError:
            return None
    return socket.inet_ntoa(packed[20:24])


def public_url(configured: str, host: str, port: int) -> str:
    """Return the configured public URL, else one built from the LAN address."""
    if configured:
        return configured
    if host not in ("0.0.0.0", "", "::"):
        address = host
    else:
        addresses = lan_addresses()
        address = addresses[0] if addresses else socket.gethostname()
        if not addresses:
            logger.warning(
                "no LAN address found; QR codes will point to %s. "
                "Set clinic.public_url in config.toml.",
                address,
            )
    return f"http://{address}:{port}"
