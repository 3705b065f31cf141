"""
An SSDP packet source for the hostile-packet tests in tests/netns/ (run in
the device namespace, standard library only).

  ssdp_send.py send --interface IF --source ADDR [--to GROUP] [--port 1900] --datagram HEX...
      send each datagram (hex-encoded) once, multicast through IF from ADDR;
  ssdp_send.py flood --interface IF --source ADDR --count N
      send N alive NOTIFYs with distinct UDNs and LOCATIONs (at ADDR, on ports
      nobody listens on) as fast as the socket takes them;
  ssdp_send.py listen --interface IF --seconds S
      print, as "SEARCH <hex>", every M-SEARCH heard on 239.255.255.250:1900.

Prints "DONE <count>" when finished.
"""

import argparse
import select
import socket
import struct
import sys
import time

GROUP = "239.255.255.250"


def sender(interface: str, source: str) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    s.bind((source, 0))
    return s


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("send", "flood", "listen"))
    parser.add_argument("--interface", required=True)
    parser.add_argument("--source", default="")
    parser.add_argument("--to", default=GROUP)
    parser.add_argument("--port", type=int, default=1900)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--datagram", dest="datagrams", action="append", default=[], help="hex-encoded")
    options = parser.parse_args()
    if options.mode == "send":
        s = sender(options.interface, options.source)
        for data in options.datagrams:
            s.sendto(bytes.fromhex(data), (options.to, options.port))
            time.sleep(0.01)
        print("DONE", len(options.datagrams), flush=True)
    elif options.mode == "flood":
        s = sender(options.interface, options.source)
        sent = 0
        for i in range(options.count):
            udn = f"uuid:f100d000-0000-4000-8000-{i:012x}"
            message = (
                "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
                f"LOCATION: http://{options.source}:{1 + i % 1000}/desc-{i}.xml\r\n"
                "NT: urn:schemas-upnp-org:service:ConfigurationManagement:2\r\nNTS: ssdp:alive\r\n"
                f"SERVER: flood/1 UPnP/1.1 flood/1\r\nUSN: {udn}::urn:schemas-upnp-org:service:ConfigurationManagement:2\r\n"
                "\r\n"
            ).encode()
            s.sendto(message, (options.to, options.port))
            sent += 1
            if i % 200 == 199:
                time.sleep(0.005)
        print("DONE", sent, flush=True)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((GROUP, 1900))
        index = socket.if_nametoindex(options.interface)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     struct.pack("=4s4si", socket.inet_aton(GROUP), socket.inet_aton("0.0.0.0"), index))
        end = time.monotonic() + options.seconds
        heard = 0
        while time.monotonic() < end:
            ready, _, _ = select.select([s], [], [], 0.2)
            if ready:
                data, _ = s.recvfrom(9000)
                if data.startswith(b"M-SEARCH"):
                    heard += 1
                    print("SEARCH", data.hex(), flush=True)
        print("DONE", heard, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
