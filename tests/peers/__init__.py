"""
Third-party UPnP peers for the interop tests in tests/netns/: scripts that
run a device on another stack (GUPnP, async-upnp-client), the configurations
rygel and miniupnpd are started with, and the network lab (a device
namespace joined to the test's own by a veth pair) they run in.
"""

__all__: list[str] = []
