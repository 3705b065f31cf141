"""
Tests for L{proxier.interfaces}: the contracts between the parts are
declared, and the classes on each side declare and implement them — so
that no part finds another's methods by name (issue 12.2).
"""

from __future__ import annotations

import inspect

from twisted.trial import unittest
from zope.interface.interface import InterfaceClass
from zope.interface.verify import verifyClass

from proxier import interfaces


class ContractTests(unittest.TestCase):
    def test_everyContractDocumented(self) -> None:
        """
        Every interface in __all__ is one, with a docstring, and so is each of
        its methods and attributes (an Attribute given one word takes it as
        its name and has no doc).
        """
        for name in interfaces.__all__:
            iface = getattr(interfaces, name)
            self.assertIsInstance(iface, InterfaceClass, name)
            self.assertTrue(inspect.getdoc(iface), name)
            for attribute in iface.names():
                self.assertTrue(iface[attribute].getDoc(), f"{name}.{attribute}")

    def test_implementers(self) -> None:
        """The classes on each side of a contract declare it and implement every method of it."""
        from proxier.cwmp.endpoint import CWMPEndpoint
        from proxier.cwmp.tls import ACSAgent, SessionAgent
        from proxier.datamodel.capabilities import INotifyingDataModel
        from proxier.datamodel.composite import CompositeDataModel
        from proxier.datamodel.tree import TreeDataModel
        from proxier.upnpdm.device import VirtualDevice
        from proxier.upnpdm.management import _Idle
        from proxier.upnpdm.model import CMSDataModel
        from proxier.upnpdm.proxy import UPnPDMService

        pairs = [
            (interfaces.ICWMPEndpoint, CWMPEndpoint),
            (interfaces.ISessionNotifier, CWMPEndpoint),
            (interfaces.IDeviceObserver, CWMPEndpoint),
            (interfaces.ISessionObserver, _Idle),
            (interfaces.IRebaselining, TreeDataModel),
            (interfaces.IDataModel, TreeDataModel),
            (interfaces.IACSAgent, ACSAgent),
            (interfaces.ISessionAgent, SessionAgent),
            (interfaces.IProxiedDevice, VirtualDevice),
            (interfaces.IDeviceAttention, VirtualDevice),
            (interfaces.IPendingDevices, UPnPDMService),
            (interfaces.IDataModel, CMSDataModel),
            (INotifyingDataModel, CMSDataModel),
            (INotifyingDataModel, CompositeDataModel),
            (INotifyingDataModel, TreeDataModel),
        ]
        for iface, cls in pairs:
            self.assertTrue(iface.implementedBy(cls), f"{cls.__name__} does not declare {iface.__name__}")
            verifyClass(iface, cls)

    def test_valueChangesByOneRoute(self) -> None:
        """
        Value changes reach the endpoint only from its model (it listens when
        the model provides INotifyingDataModel): no device event carries values.
        """
        observer = interfaces.IDeviceObserver
        for name in observer.names():
            self.assertNotIn("values", observer[name].getSignatureInfo()["positional"], name)
