# -*- test-case-name: tests.test_printer_ipp -*-
"""
The numbers of IPP as data: delimiter and value tags (RFC 8010 §3.5),
operation ids and status codes (RFC 8011 §5.4.15 and Appendix B, with the
extensions the printer work uses: RFC 3380, RFC 3995/3996, RFC 3998,
PWG 5100.22 and CUPS). The values agree with IANA's IPP registry
(C{ref/pwg/ipp/ipp-registrations.xml}); names are the registry's.
"""

from __future__ import annotations

__all__ = [
    "DELIMITER_TAGS",
    "END_OF_ATTRIBUTES",
    "OUT_OF_BAND_TAGS",
    "INTEGER_TAGS",
    "STRING_TAGS",
    "BINARY_TAGS",
    "VALUE_TAGS",
    "BEGIN_COLLECTION",
    "END_COLLECTION",
    "MEMBER_ATTR_NAME",
    "EXTENSION",
    "OPERATIONS",
    "STATUS_CODES",
    "operationName",
    "statusName",
    "tagName",
]

# RFC 8010 §3.5.1, "Delimiter Tags": 0x00 is reserved; 0x08-0x0f are
# reserved for future group tags (a receiver keeps their attributes).
DELIMITER_TAGS: dict[int, str] = {
    0x01: "operation-attributes-tag",
    0x02: "job-attributes-tag",
    0x03: "end-of-attributes-tag",
    0x04: "printer-attributes-tag",
    0x05: "unsupported-attributes-tag",
    0x06: "subscription-attributes-tag",  # RFC 3995 §14
    0x07: "event-notification-attributes-tag",  # RFC 3995 §14
    0x08: "resource-attributes-tag",  # PWG 5100.22
    0x09: "document-attributes-tag",  # PWG 5100.5
    0x0A: "system-attributes-tag",  # PWG 5100.22
}
END_OF_ATTRIBUTES = 0x03

# RFC 8010 §3.5.2, "Value Tags", out-of-band values (0x10-0x1f), with
# RFC 3380 §8.1's not-settable, delete-attribute and admin-define.
OUT_OF_BAND_TAGS: dict[int, str] = {
    0x10: "unsupported",
    0x12: "unknown",
    0x13: "no-value",
    0x15: "not-settable",
    0x16: "delete-attribute",
    0x17: "admin-define",
}

# RFC 8010 §3.5.2, integer values (0x20-0x2f): four octets, signed.
INTEGER_TAGS: dict[int, str] = {
    0x21: "integer",
    0x22: "boolean",  # one octet: 0x00 false, 0x01 true
    0x23: "enum",
}

# RFC 8010 §3.5.2, octetString values (0x30-0x3f) with a fixed layout.
BINARY_TAGS: dict[int, str] = {
    0x30: "octetString",
    0x31: "dateTime",  # RFC 2579 DateAndTime, eleven octets
    0x32: "resolution",  # two SIGNED-INTEGERs and one SIGNED-BYTE, nine octets
    0x33: "rangeOfInteger",  # two SIGNED-INTEGERs, eight octets
    0x34: "begCollection",  # RFC 8010 §3.1.6
    0x35: "textWithLanguage",  # §3.9: length, language, length, text
    0x36: "nameWithLanguage",
    0x37: "endCollection",
}
BEGIN_COLLECTION = 0x34
END_COLLECTION = 0x37

# RFC 8010 §3.5.2, character-string values (0x40-0x5f).
STRING_TAGS: dict[int, str] = {
    0x41: "textWithoutLanguage",
    0x42: "nameWithoutLanguage",
    0x44: "keyword",
    0x45: "uri",
    0x46: "uriScheme",
    0x47: "charset",
    0x48: "naturalLanguage",
    0x49: "mimeMediaType",
    0x4A: "memberAttrName",  # RFC 8010 §3.1.7
}
MEMBER_ATTR_NAME = 0x4A

# RFC 8010 §3.5.2: 0x7f extends the tag into the first four octets of the value.
EXTENSION = 0x7F

VALUE_TAGS: dict[int, str] = {**OUT_OF_BAND_TAGS, **INTEGER_TAGS, **BINARY_TAGS, **STRING_TAGS, EXTENSION: "extension"}

# RFC 8011 §5.4.15 "operations-supported", and the registrations of
# RFC 3380 (0x13-0x15), RFC 3995/3996 (0x16-0x1c), RFC 3998 (0x22-0x2b),
# PWG 5100.22 (0x60) and CUPS (0x4001-0x400f, CUPS Implementation of IPP §3).
OPERATIONS: dict[int, str] = {
    0x0002: "Print-Job",
    0x0003: "Print-URI",
    0x0004: "Validate-Job",
    0x0005: "Create-Job",
    0x0006: "Send-Document",
    0x0007: "Send-URI",
    0x0008: "Cancel-Job",
    0x0009: "Get-Job-Attributes",
    0x000A: "Get-Jobs",
    0x000B: "Get-Printer-Attributes",
    0x000C: "Hold-Job",
    0x000D: "Release-Job",
    0x000E: "Restart-Job",
    0x0010: "Pause-Printer",
    0x0011: "Resume-Printer",
    0x0012: "Purge-Jobs",
    0x0013: "Set-Printer-Attributes",
    0x0014: "Set-Job-Attributes",
    0x0015: "Get-Printer-Supported-Values",
    0x0016: "Create-Printer-Subscriptions",
    0x0017: "Create-Job-Subscriptions",
    0x0018: "Get-Subscription-Attributes",
    0x0019: "Get-Subscriptions",
    0x001A: "Renew-Subscription",
    0x001B: "Cancel-Subscription",
    0x001C: "Get-Notifications",
    0x0022: "Enable-Printer",
    0x0023: "Disable-Printer",
    0x0029: "Restart-Printer",
    0x002A: "Shutdown-Printer",
    0x002B: "Startup-Printer",
    0x0039: "Cancel-My-Jobs",
    0x005B: "Get-System-Attributes",
    0x0060: "Restart-System",
    0x0062: "Set-System-Attributes",
    0x4001: "CUPS-Get-Default",
    0x4002: "CUPS-Get-Printers",
    0x4003: "CUPS-Add-Modify-Printer",
    0x4004: "CUPS-Delete-Printer",
    0x4005: "CUPS-Get-Classes",
    0x4006: "CUPS-Add-Modify-Class",
    0x4007: "CUPS-Delete-Class",
    0x4008: "CUPS-Accept-Jobs",
    0x4009: "CUPS-Reject-Jobs",
    0x400A: "CUPS-Set-Default",
    0x400B: "CUPS-Get-Devices",
    0x400C: "CUPS-Get-PPDs",
    0x400D: "CUPS-Move-Job",
    0x400E: "CUPS-Authenticate-Job",
    0x400F: "CUPS-Get-PPD",
}

# RFC 8011 Appendix B, with RFC 3380 §11 (0x0413) and RFC 3995 §12 (0x0003, 0x0414-0x0415).
STATUS_CODES: dict[int, str] = {
    0x0000: "successful-ok",
    0x0001: "successful-ok-ignored-or-substituted-attributes",
    0x0002: "successful-ok-conflicting-attributes",
    0x0003: "successful-ok-ignored-subscriptions",
    0x0005: "successful-ok-too-many-events",
    0x0007: "successful-ok-events-complete",
    0x0400: "client-error-bad-request",
    0x0401: "client-error-forbidden",
    0x0402: "client-error-not-authenticated",
    0x0403: "client-error-not-authorized",
    0x0404: "client-error-not-possible",
    0x0405: "client-error-timeout",
    0x0406: "client-error-not-found",
    0x0407: "client-error-gone",
    0x0408: "client-error-request-entity-too-large",
    0x0409: "client-error-request-value-too-long",
    0x040A: "client-error-document-format-not-supported",
    0x040B: "client-error-attributes-or-values-not-supported",
    0x040C: "client-error-uri-scheme-not-supported",
    0x040D: "client-error-charset-not-supported",
    0x040E: "client-error-conflicting-attributes",
    0x040F: "client-error-compression-not-supported",
    0x0410: "client-error-compression-error",
    0x0411: "client-error-document-format-error",
    0x0412: "client-error-document-access-error",
    0x0413: "client-error-attributes-not-settable",
    0x0414: "client-error-ignored-all-subscriptions",
    0x0415: "client-error-too-many-subscriptions",
    0x0500: "server-error-internal-error",
    0x0501: "server-error-operation-not-supported",
    0x0502: "server-error-service-unavailable",
    0x0503: "server-error-version-not-supported",
    0x0504: "server-error-device-error",
    0x0505: "server-error-temporary-error",
    0x0506: "server-error-not-accepting-jobs",
    0x0507: "server-error-busy",
    0x0508: "server-error-job-canceled",
    0x0509: "server-error-multiple-document-jobs-not-supported",
}


def _name(table: dict[int, str], code: int, width: int) -> str:
    return table.get(code, f"0x{code:0{width}x}")


def operationName(code: int) -> str:
    """The registry name of an operation id, or its hex value."""
    return _name(OPERATIONS, code, 4)


def statusName(code: int) -> str:
    """The registry name of a status code, or its hex value."""
    return _name(STATUS_CODES, code, 4)


def tagName(tag: int) -> str:
    """The name of a delimiter or value tag, or its hex value."""
    return DELIMITER_TAGS.get(tag) or _name(VALUE_TAGS, tag, 2)
