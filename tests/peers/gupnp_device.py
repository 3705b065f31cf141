#!/usr/bin/python3
"""
A UPnP DM device on GUPnP 1.6 (a third-party device stack), for the interop
tests in tests/netns/. Run with Debian's /usr/bin/python3 (python3-gi).

It serves a ManageableDevice:2 root device with ConfigurationManagement:2
and BasicManagement:2, whose SCPDs are built at start from the UPnP service
templates in ../shared/ref/upnp-dm/service-templates/: the namespace and
specVersion added, the <Optional/> actions and variables dropped, the
template's <sendEventsAttribute> turned into the sendEvents attribute.

GUPnP answers 401 for an action without a handler of its own, so every
required action gets one ("action-invoked::<name>"). GetValues answers 703
(No such name) for any path but /UPnP/DM/DeviceInfo/FriendlyName, so the
tests can see a UPnPError. On SIGTERM/SIGINT the device says byebye
(set_available(False)) and exits.

Prints "READY <location>" on stdout once available.

    gupnp_device.py --interface veth-dev --address 10.251.0.2 --templates DIR
                    [--udn uuid:...] [--boot-id N] [--config-id N] [--timeout-cap N]
"""

import argparse
import os
import signal
import sys
import tempfile
import xml.etree.ElementTree as ET

import gi

gi.require_version("GUPnP", "1.6")
gi.require_version("GSSDP", "1.6")
from gi.repository import GLib, GObject, Gio, GSSDP, GUPnP  # noqa: E402

SERVICE_NS = "urn:schemas-upnp-org:service-1-0"
DEVICE_NS = "urn:schemas-upnp-org:device-1-0"
CMS = "urn:schemas-upnp-org:service:ConfigurationManagement:2"
BMS = "urn:schemas-upnp-org:service:BasicManagement:2"


def deployable(template_path):
    """A real SCPD from a service template: required items only, namespaced."""
    tree = ET.parse(template_path)
    root = tree.getroot()
    for listname, itemname in (("actionList", "action"), ("serviceStateTable", "stateVariable")):
        parent = root.find(listname)
        for item in list(parent.findall(itemname)):
            if item.find("Optional") is not None:
                parent.remove(item)
    for var in root.iter("stateVariable"):
        legacy = var.find("sendEventsAttribute")
        var.set("sendEvents", (legacy.text or "yes").strip() if legacy is not None else "yes")
        if legacy is not None:
            var.remove(legacy)
    spec = ET.Element("specVersion")
    ET.SubElement(spec, "major").text = "1"
    ET.SubElement(spec, "minor").text = "0"
    root.insert(0, spec)
    for element in root.iter():
        element.tag = "{%s}%s" % (SERVICE_NS, element.tag)
    ET.register_namespace("", SERVICE_NS)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def description(udn):
    return f"""<?xml version="1.0"?>
<root xmlns="{DEVICE_NS}">
  <specVersion><major>1</major><minor>1</minor></specVersion>
  <device>
    <deviceType>urn:schemas-upnp-org:device:ManageableDevice:2</deviceType>
    <friendlyName>GUPnP DM test device</friendlyName>
    <manufacturer>proxier tests</manufacturer>
    <modelName>gupnp-dm</modelName>
    <serialNumber>GUPNP-1</serialNumber>
    <UDN>{udn}</UDN>
    <serviceList>
      <service>
        <serviceType>{CMS}</serviceType>
        <serviceId>urn:upnp-org:serviceId:CMS</serviceId>
        <SCPDURL>/cms.xml</SCPDURL>
        <controlURL>/control/cms</controlURL>
        <eventSubURL>/event/cms</eventSubURL>
      </service>
      <service>
        <serviceType>{BMS}</serviceType>
        <serviceId>urn:upnp-org:serviceId:BMS</serviceId>
        <SCPDURL>/bms.xml</SCPDURL>
        <controlURL>/control/bms</controlURL>
        <eventSubURL>/event/bms</eventSubURL>
      </service>
    </serviceList>
  </device>
</root>
"""


SUPPORTED_DATA_MODELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<cms:SupportedDataModels xmlns:cms="urn:schemas-upnp-org:dm:cms">'
    "<SubTree><URI>urn:upnp-org:smgt:1</URI><Location>/UPnP/DM/</Location>"
    "<URL>http://www.upnp.org/</URL><Description>DM common objects</Description></SubTree>"
    "</cms:SupportedDataModels>"
)


def value(text, gtype=GObject.TYPE_STRING):
    v = GObject.Value(gtype)
    if gtype == GObject.TYPE_UINT:
        v.set_uint(int(text))
    else:
        v.set_string(text)
    return v


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--interface", required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--templates", required=True)
    parser.add_argument("--udn", default="uuid:9a3d5b6e-0c1f-4d2a-8e7b-000000000001")
    parser.add_argument("--boot-id", type=int, default=1)
    parser.add_argument("--config-id", type=int, default=1)
    parser.add_argument("--timeout-cap", type=int, default=300)
    options = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="gupnp-dm-")
    with open(os.path.join(folder, "desc.xml"), "w") as f:
        f.write(description(options.udn))
    for name, template in (("cms.xml", "ConfigurationManagement-2"), ("bms.xml", "BasicManagement-2")):
        with open(os.path.join(folder, name), "w") as f:
            f.write(deployable(os.path.join(options.templates, template + ".service-template.xml")))

    context = GUPnP.Context.new_full(options.interface, Gio.InetAddress.new_from_string(options.address), 0,
                                     GSSDP.UDAVersion.VERSION_1_1)
    context.set_subscription_timeout(options.timeout_cap)
    context.set_boot_id(options.boot_id)
    context.set_config_id(options.config_id)
    device = GUPnP.RootDevice.new(context, "desc.xml", folder)
    cms = device.get_service(CMS)
    bms = device.get_service(BMS)
    version = [1]

    def answer(outputs):
        def handler(service, action):
            for name, (text, gtype) in outputs().items():
                action.set_value(name, value(text, gtype))
            action.return_success()
        return handler

    def get_values(service, action):
        parameters = action.get_value("Parameters", GObject.TYPE_STRING) or ""
        if "/UPnP/DM/DeviceInfo/FriendlyName" in parameters and parameters.count("<ContentPath>") == 1:
            action.set_value("ParameterValueList", value(
                '<cms:ParameterValueList xmlns:cms="urn:schemas-upnp-org:dm:cms"><Parameter>'
                "<ParameterPath>/UPnP/DM/DeviceInfo/FriendlyName</ParameterPath><Value>GUPnP DM test device</Value>"
                "</Parameter></cms:ParameterValueList>"))
            action.return_success()
        else:
            action.return_error(703, "No such name")

    def refuse(code, text):
        def handler(service, action):
            action.return_error(code, text)
        return handler

    string, uint = GObject.TYPE_STRING, GObject.TYPE_UINT
    handlers = {
        "GetSupportedDataModels": answer(lambda: {"SupportedDataModels": (SUPPORTED_DATA_MODELS, string)}),
        "GetSupportedParameters": refuse(703, "No such name"),
        "GetInstances": refuse(703, "No such name"),
        "GetValues": get_values,
        "GetAttributes": refuse(703, "No such name"),
        "GetConfigurationUpdate": answer(lambda: {"StateVariableValue": (f"{version[0]},", string)}),
        "GetCurrentConfigurationVersion": answer(lambda: {"CurrentVersion": (str(version[0]), uint)}),
        "GetSupportedDataModelsUpdate": answer(lambda: {"StateVariableValue": ("", string)}),
        "GetSupportedParametersUpdate": answer(lambda: {"StateVariableValue": ("", string)}),
    }
    for name, handler in handlers.items():
        cms.connect("action-invoked::" + name, handler)
    bms.connect("action-invoked::GetDeviceStatus", answer(lambda: {"DeviceStatus": ("OK,2024-01-01T00:00:00Z", string)}))

    loop = GLib.MainLoop()

    def changed():
        version[0] += 1
        cms.notify_value("ConfigurationUpdate", value(f"{version[0]},/UPnP/DM/DeviceInfo/FriendlyName"))
        print("CHANGED", version[0], flush=True)
        return True

    def stop():
        device.set_available(False)
        GLib.timeout_add(2000, loop.quit)  # GSSDP paces its byebyes
        return False

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, stop)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, stop)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, lambda: changed() and True)
    device.set_available(True)
    print("READY", device.get_location(), flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
