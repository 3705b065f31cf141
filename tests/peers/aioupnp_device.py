"""
A quirky UPnP device on async_upnp_client.server (a third-party device
stack, asyncio and aiohttp), for the interop tests in tests/netns/. Run with
the venv's Python, which has async-upnp-client.

Its GENA side is what makes it worth testing against: TIMEOUT answered as a
bare number (C{TIMEOUT: 1800}), SIDs without the C{uuid:} prefix, 412 for an
unknown SID, initial events sent right after the SUBSCRIBE answer. It serves
a ManageableDevice:2 with a small ConfigurationManagement:2:
GetCurrentConfigurationVersion answers, GetValues fails with 703, and
ConfigurationUpdate is evented (SIGUSR1 bumps it).

Prints "READY <location>" once serving; stops (byebye) on SIGTERM/SIGINT.

    aioupnp_device.py --address 10.251.0.2 [--scope IFINDEX] [--port 0]
"""

import argparse
import asyncio
import signal
import socket
import sys
import xml.etree.ElementTree as ET

from async_upnp_client.client import UpnpRequester
from async_upnp_client.const import DeviceInfo, ServiceInfo
from async_upnp_client.exceptions import UpnpActionError
from async_upnp_client.server import (
    UpnpServer,
    UpnpServerDevice,
    UpnpServerService,
    callable_action,
    create_event_var,
    create_state_var,
)

UDN = "uuid:5d5e8f40-3c2b-4b9a-9a51-0000000000a1"


class ConfigurationManagement(UpnpServerService):
    SERVICE_DEFINITION = ServiceInfo(
        service_id="urn:upnp-org:serviceId:CMS",
        service_type="urn:schemas-upnp-org:service:ConfigurationManagement:2",
        control_url="/upnp/control/cms",
        event_sub_url="/upnp/event/cms",
        scpd_url="/cms.xml",
        xml=ET.Element("server_service"),
    )
    STATE_VARIABLE_DEFINITIONS = {
        "ConfigurationUpdate": create_event_var("string", default="1,"),
        "CurrentConfigurationVersion": create_state_var("ui4", default="1"),
        "A_ARG_TYPE_ContentPathList": create_state_var("string"),
        "A_ARG_TYPE_ParameterValueList": create_state_var("string"),
    }

    @callable_action(name="GetCurrentConfigurationVersion", in_args={},
                     out_args={"CurrentVersion": "CurrentConfigurationVersion"})
    async def get_version(self):  # noqa: ANN201
        return {"CurrentVersion": self.state_variable("CurrentConfigurationVersion")}

    @callable_action(name="GetValues", in_args={"Parameters": "A_ARG_TYPE_ContentPathList"},
                     out_args={"ParameterValueList": "A_ARG_TYPE_ParameterValueList"})
    async def get_values(self, Parameters: str):  # noqa: ANN201, N803
        raise UpnpActionError(error_code=703, error_desc="No such name")

    async def bump(self) -> None:
        version = int(self.state_variable("CurrentConfigurationVersion").value or 1) + 1
        self.state_variable("CurrentConfigurationVersion").value = version
        self.state_variable("ConfigurationUpdate").value = f"{version},/UPnP/DM/"
        await self.async_send_events()


class Device(UpnpServerDevice):
    DEVICE_DEFINITION = DeviceInfo(
        device_type="urn:schemas-upnp-org:device:ManageableDevice:2",
        friendly_name="async-upnp-client DM test device",
        manufacturer="proxier tests",
        manufacturer_url=None,
        model_name="aioupnp-dm",
        model_url=None,
        udn=UDN,
        upc=None,
        model_description=None,
        model_number=None,
        serial_number="AIO-1",
        presentation_url=None,
        url="/device.xml",
        icons=[],
        xml=ET.Element("server_device"),
    )
    EMBEDDED_DEVICES = []
    SERVICES = [ConfigurationManagement]

    def __init__(self, requester: UpnpRequester, base_uri: str, boot_id: int, config_id: int) -> None:
        super().__init__(requester=requester, base_uri=base_uri, boot_id=boot_id, config_id=config_id)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--scope", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()
    port = options.port
    if port == 0:
        family = socket.AF_INET6 if ":" in options.address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((options.address, 0, 0, options.scope) if family == socket.AF_INET6 else (options.address, 0))
            port = probe.getsockname()[1]
    source = (options.address, 0, 0, options.scope) if ":" in options.address else (options.address, 0)
    server = UpnpServer(Device, source, http_port=port)
    await server.async_start()
    host = f"[{options.address}]" if ":" in options.address else options.address
    print("READY", f"http://{host}:{port}/device.xml", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    service = server._device.services["urn:schemas-upnp-org:service:ConfigurationManagement:2"]
    loop.add_signal_handler(signal.SIGUSR1, lambda: asyncio.ensure_future(service.bump()))
    await stop.wait()
    await server.async_stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
