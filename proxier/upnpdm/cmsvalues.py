# -*- test-case-name: tests.test_upnpdm_types -*-
"""
How a device's CMS value texts become CWMP values, and back: the TR-106
type of a parameter from its CMS Type attribute (L{fromCMSType}), overruled
by TR-181's type and facets where TR-181 defines the parameter
(L{proxier.datamodel.standard}; issue 17.3).

Kept apart from the RPCs because it is pure (no action to the device): it
reads only the L{CMSSchema<proxier.upnpdm.cmsschema.CMSSchema>} and
remembers what it already warned about, so that a device repeating a bad
value is not a log line per read.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence

from proxier.datamodel import standard
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.types import Boolean, DataType, String, acceptValue
from proxier.datamodel.values import ParameterValue
from proxier.upnp.cmsdoc import xmlText
from proxier.upnpdm.cmspaths import structureOf
from proxier.upnpdm.cmsschema import CMSSchema
from proxier.upnpdm.cmstypes import fromCMSType

__all__ = ["ValueTyping", "MAX_REFUSED"]

#: The most refused values remembered (to warn once per value), then forgotten at once.
MAX_REFUSED = 50000

#: CMS Type attribute text → its TR-106 type, shared by every device: a
#: type is a value, and the few texts devices write (C{string},
#: C{unsignedInt}, ...) are read at every value. Bounded, as the text is
#: the device's; a text UPnP DM does not define is not kept.
_TYPES: dict[str, DataType] = {}
_MAX_TYPES = 64


#: What a device's text comes to (L{_typedText}), by C{(CMS Type text, TR-181
#: schema name or None, text)}: shared by every device, as the devices of a
#: model answer the same texts for the same parameters, read after read.
#: Bounded (then forgotten at once), and short texts only, as the texts are
#: the device's.
_TYPED: dict[tuple[str, Optional[str], str], "_Typed"] = {}
_MAX_TYPED = 4096
_MAX_TYPED_TEXT = 256

#: The value sent for a device's text of a parameter, by C{(CWMP name, CMS Type
#: text, text)}, when its typing warned of nothing: what L{_TYPED} gives,
#: made into the one L{ParameterValue} once (issue 19: a GetParameterValues
#: of many names asks the same texts of the same names again and again).
#: Bounded (then forgotten at once), short texts only, as L{_TYPED}.
_VALUES: dict[tuple[str, str, str], ParameterValue] = {}
_MAX_VALUES = 4096

#: C{(value, xsiType, warning)}: L{_typedText}'s answer.
_Typed = tuple[Optional[str], str, Optional[tuple[str, str]]]


def _typedText(dataType: DataType, tr181: Optional[DataType], text: str) -> _Typed:
    """
    The device's C{text} of its type C{dataType} as CWMP writes it, where
    TR-181 types the parameter C{tr181} (or does not: C{None}):
    C{(value, xsiType, None)}; C{(None, "", (TR-181's base type, why))}
    when TR-181's type refuses it; C{(text as XML carries it, "xsd:string",
    (the device's base type, why))} when, TR-181 not typing it, it is not a
    value of the device's own type (sent as a string, with a warning).
    """
    if tr181 is not None:
        try:
            value = standard.convert(text, dataType, tr181)
        except ValueError as e:
            return None, "", (tr181.base, str(e)[:80])
        return tr181.format(value), tr181.xsiType, None
    try:
        return dataType.format(dataType.parse(text)), dataType.xsiType, None
    except (ValueError, TypeError) as e:
        return xmlText(text), "xsd:string", (dataType.base, str(e)[:80])


def _fromCMSType(typeName: str) -> DataType:
    """L{fromCMSType}, remembered. @raise ValueError: as it does."""
    known = _TYPES.get(typeName)
    if known is None:
        known = fromCMSType(typeName)
        if len(_TYPES) >= _MAX_TYPES:
            _TYPES.clear()
        _TYPES[typeName] = known
    return known


class ValueTyping:
    """The typing of one device's values, from its schema."""

    # slots: one a device (issue 19); what it warned of is made at the first warning, mostly never
    __slots__ = ("schema", "log", "_typeWarned", "_refused")

    def __init__(self, schema: CMSSchema, log: Any) -> None:
        self.schema = schema
        self.log = log
        self._typeWarned: Optional[set[str]] = None  # structures whose Type UPnP DM does not define
        self._refused: Optional[dict[str, str]] = None  # CWMP name → the device's text last refused by its TR-181 type

    def dataType(self, cms: str) -> DataType:
        """The TR-106 type of a CMS parameter, from its Type attribute (string when unknown)."""
        info = self.schema.nodes.get(structureOf(cms))
        typeName = info.type if info is not None else ""
        try:
            return _fromCMSType(typeName)
        except ValueError:
            structure = structureOf(cms)
            if self._typeWarned is None:
                self._typeWarned = set()
            if structure not in self._typeWarned:
                self._typeWarned.add(structure)
                self.log.warn("{path} has Type {type!r}, which UPnP DM does not define: read as a string",
                              path=structure, type=typeName[:40])
            return String()

    def typed(self, name: str, cms: str, text: str) -> Optional[ParameterValue]:
        """
        A device value as CWMP writes it, with its C{xsi:type}.

        Where TR-181 defines the parameter, its type and facets win over the
        device's Type attribute (issue 17.3): the value is converted to it,
        and one that cannot be is refused — C{None}, with a warning naming
        the device and the parameter. A refused value is left out of the
        answer rather than failing it: a fault would make every other value
        of the same GetParameterValues unreadable (an ACS that refreshes by
        batches of names, as GenieACS does, would fail every refresh of the
        device), while an ACS takes a parameter missing from an answer as
        one it knows nothing new of.

        What a text comes to depends only on the Type text, the TR-181
        parameter and the text itself: remembered (L{_typedText}), shared by
        every device.
        """
        info = self.schema.nodes.get(structureOf(cms))
        typeName = info.type if info is not None else ""
        known = _VALUES.get((name, typeName, text))
        if known is not None:
            if self._refused:
                self._refused.pop(name, None)
            return known
        return self._typedAs(name, cms, typeName, text)

    def typedKnown(self, raw: Sequence[tuple[str, str]], known: Mapping[str, str],
                   toCWMP: Callable[[str], Optional[str]],
                   root: Optional[str]) -> Optional[list[tuple[str, Optional[ParameterValue], str]]]:
        """
        L{typedAll} when the schema knows the node of every path of C{raw}
        (but C{root}'s, the model's root), else C{None}, nothing typed: the
        device must be asked the Types first.
        """
        nodes = self.schema.nodes.reading()
        infos = [nodes.get(structureOf(path)) for path, _ in raw]
        # all(): a node's info is true, and None false, without the dataclass's __eq__ that "None in" calls
        if not all(infos) and any(info is None and path != root for (path, _), info in zip(raw, infos)):
            return None
        return self._typedEach(raw, infos, known, toCWMP)

    def typedAll(self, raw: Sequence[tuple[str, str]], known: Mapping[str, str],
                 toCWMP: Callable[[str], Optional[str]]) -> list[tuple[str, Optional[ParameterValue], str]]:
        """
        The device's texts C{raw} (C{(cmsPath, text)}, as a GetValues
        answered them) each typed as L{typed} types it, under the CWMP name
        C{known} gives or else C{toCWMP} translates (a path without one is
        left out): C{(cmsPath, value or None, text)}, in order.
        """
        nodes = self.schema.nodes.reading()
        return self._typedEach(raw, [nodes.get(structureOf(path)) for path, _ in raw], known, toCWMP)

    def _typedEach(self, raw: Sequence[tuple[str, str]], infos: Sequence[Any], known: Mapping[str, str],
                   toCWMP: Callable[[str], Optional[str]]) -> list[tuple[str, Optional[ParameterValue], str]]:
        """L{typed} of each, its node's info looked up already: one pass (issue 19: a call and two look-ups less a value)."""
        out = []
        values = _VALUES
        for (path, text), info in zip(raw, infos):
            name = known.get(path) or toCWMP(path)
            if name is None:
                continue
            typeName = info.type if info is not None else ""
            value = values.get((name, typeName, text))
            if value is None:
                value = self._typedAs(name, path, typeName, text)
            elif self._refused:
                self._refused.pop(name, None)
            out.append((path, value, text))
        return out

    def _typedAs(self, name: str, cms: str, typeName: str, text: str) -> Optional[ParameterValue]:
        """L{typed} of a text not remembered as a value, its node's CMS Type C{typeName}."""
        schema = standard.schemaOf(name)
        key = (typeName, schema, text)
        typed = _TYPED.get(key)
        if typed is None:
            dataType = _TYPES.get(typeName)
            if dataType is None:
                dataType = self.dataType(cms)  # which warns of a Type UPnP DM does not define
            typed = _typedText(dataType, None if schema is None else standard.table().get(schema), text)
            if typeName in _TYPES and len(text) <= _MAX_TYPED_TEXT:
                if len(_TYPED) >= _MAX_TYPED:
                    _TYPED.clear()
                _TYPED[key] = typed
        value, xsiType, warning = typed
        if value is None:
            if self._refused is None:
                self._refused = {}
            if self._refused.get(name) != text:
                if len(self._refused) >= MAX_REFUSED:
                    self._refused.clear()
                self._refused[name] = text
                self.log.warn("{name}: the device's value {value} is not a valid {type} as TR-181 defines "
                              "it ({why}); not sent", name=name, value=repr(text[:40]), type=warning[0],
                              why=warning[1])
            return None
        if self._refused:
            self._refused.pop(name, None)
        if warning is not None:
            self.log.warn("{name}: the device's value is not a valid {type} ({why}); sent as a string",
                          name=name, type=warning[0], why=warning[1])
            return ParameterValue(name, value, xsiType)
        made = ParameterValue(name, value, xsiType)
        if key in _TYPED:  # remembered as L{_TYPED} does
            if len(_VALUES) >= _MAX_VALUES:
                _VALUES.clear()
            _VALUES[(name, typeName, text)] = made
        return made

    def sameValue(self, cms: str, a: str, b: str) -> bool:
        """Whether two texts of a parameter are the same value of its type."""
        if a == b:
            return True
        dataType = self.dataType(cms)
        try:
            return dataType.parse(a) == dataType.parse(b)
        except (ValueError, TypeError):
            return False

    def deviceText(self, pv: ParameterValue, dataType: DataType) -> str:
        """
        The text SetValues carries for one SetParameterValues entry: checked
        first against the parameter's TR-181 type and facets where TR-181
        defines it (issue 17.3: 9006/9007 before the device is touched), then
        written as the device's own type (C{dataType}) writes it.

        @raise CWMPFault: 9006 or 9007.
        """
        tr181 = standard.typeOf(pv.name)
        if tr181 is None:
            value = acceptValue(dataType, pv.value, pv.type)
        else:
            checked = tr181.format(acceptValue(tr181, pv.value, pv.type))
            try:
                value = standard.convert(checked, tr181, dataType)
            except ValueError as e:
                raise CWMPFault(9007, f"Invalid parameter value (the device's {dataType.base} cannot hold it: "
                                      f"{str(e)[:80]})") from None
        return ("1" if value else "0") if isinstance(dataType, Boolean) else dataType.format(value)
