"""Tests for L{proxier.datamodel.paths}: CWMP path syntax."""

from __future__ import annotations

from twisted.trial import unittest

from proxier.datamodel import paths
from proxier.datamodel.paths import Alias, PathError

# (text, segments, partial) that must parse
VALID = [
    ("", (), True),
    ("Device.", ("Device",), True),
    ("Device", ("Device",), False),
    ("Device.DeviceInfo.SerialNumber", ("Device", "DeviceInfo", "SerialNumber"), False),
    ("Device.Hosts.Host.1.", ("Device", "Hosts", "Host", 1), True),
    ("Device.Hosts.Host.4294967295.", ("Device", "Hosts", "Host", 4294967295), True),
    ("Device.Hosts.Host.12.IPAddress", ("Device", "Hosts", "Host", 12, "IPAddress"), False),
    ("Device.Hosts.Host.[cpe-1].", ("Device", "Hosts", "Host", Alias("cpe-1")), True),
    ("Device.Hosts.Host.[a_B-9].Name", ("Device", "Hosts", "Host", Alias("a_B-9"), "Name"), False),
    ("Device.X_00D0F5_Thing.Value", ("Device", "X_00D0F5_Thing", "Value"), False),
    ("Device.X_example-com_Thing.", ("Device", "X_example-com_Thing"), True),
    ("_Private.x", ("_Private", "x"), False),
    ("Device.A.1.B.2.C.", ("Device", "A", 1, "B", 2, "C"), True),
    ("Device.[" + "a" * 64 + "].", ("Device", Alias("a" * 64)), True),
]

# (text, a word the reason must contain)
INVALID = [
    (".", "just"),
    (".Device", "empty node name"),
    ("Device..Info", "empty node name"),
    ("Device.Info..", "empty node name"),
    ("Device.0.", "zero or has leading zeros"),
    ("Device.01.", "zero or has leading zeros"),
    ("Device.Host.1", "trailing '.'"),
    ("Device.Host.[cpe-1]", "trailing '.'"),
    ("Device.4294967296.", "above"),
    ("1.Device.", "cannot start with an instance"),
    ("[a].Device.", "cannot start with an instance alias"),
    ("Device.1abc", "starts with a digit"),
    ("Device.1²", "starts with a digit"),  # not "leading zeros": '²' is no digit of an instance number
    ("Device.0١.", "starts with a digit"),
    ("Device.²", "characters other than"),
    ("Device.Info Name", "characters other than"),
    ("Device.Info$", "characters other than"),
    ("Device.Inf\u00f6", "characters other than"),
    ("Device.[].", "empty instance alias"),
    ("Device.[1a].", "does not start with a letter"),
    ("Device.[-a].", "does not start with a letter"),
    ("Device.[a.b].", "unclosed"),
    ("Device.[a b].", "characters other than"),
    ("Device.[ab.", "unclosed"),
    ("Device.[" + "a" * 65 + "].", "longer than 64"),
    ("Device." + "A" * 250, "longer than 256"),
    (" Device.", "characters other than"),
    ("Device. ", "characters other than"),
]


class ParseTests(unittest.TestCase):
    def test_valid(self) -> None:
        """Every valid form parses into the expected segments and kind, and prints back as written."""
        for text, segments, partial in VALID:
            path = paths.parse(text)
            self.assertEqual(path.segments, segments, text)
            self.assertEqual(path.partial, partial, text)
            self.assertEqual(path.text, text)
            self.assertEqual(str(path), text)
            self.assertEqual(paths.check(text), "", text)
        self.assertIsInstance(paths.parse("Device.H.[x].").last, Alias)
        self.assertIsInstance(paths.parse("Device.H.7.").last, int)

    def test_invalid(self) -> None:
        """Every invalid form is refused with a reason naming the problem."""
        for text, reason in INVALID:
            with self.assertRaises(PathError, msg=text) as caught:
                paths.parse(text)
            self.assertIn(reason, caught.exception.reason, text)
            self.assertIn(reason, paths.check(text), text)
            self.assertIn(reason, str(caught.exception))

    def test_lengthLimit(self) -> None:
        """256 characters are allowed, 257 are not."""
        base = "Device."
        text = base + "A" * (256 - len(base))
        self.assertEqual(len(paths.parse(text).text), 256)
        with self.assertRaises(PathError):
            paths.parse(text + "B")

    def test_notText(self) -> None:
        """A non-string is refused, not crashed on."""
        with self.assertRaises(PathError):
            paths.parse(None)  # type: ignore[arg-type]
        with self.assertRaises(PathError):
            paths.parse(b"Device.")  # type: ignore[arg-type]

    def test_root(self) -> None:
        """The empty path is the root, a partial path, its own parent."""
        root = paths.parse("")
        self.assertTrue(root.isRoot)
        self.assertTrue(root.partial)
        self.assertEqual(root.parent, root)
        self.assertFalse(paths.parse("Device.").isRoot)


class PathObjectTests(unittest.TestCase):
    def test_parent(self) -> None:
        """The parent of a parameter or object is the object holding it."""
        self.assertEqual(paths.parse("Device.A.1.B").parent.text, "Device.A.1.")
        self.assertEqual(paths.parse("Device.A.1.").parent.text, "Device.A.")
        self.assertEqual(paths.parse("Device.").parent.text, "")
        self.assertEqual(paths.parse("Device.A.[x].").parent.segments, ("Device", "A"))

    def test_child(self) -> None:
        """A child of an object path is built without re-parsing; a parameter has no child."""
        self.assertEqual(paths.parse("Device.A.").child(3, True).text, "Device.A.3.")
        self.assertEqual(paths.parse("Device.A.3.").child("Name", False).text, "Device.A.3.Name")
        self.assertEqual(paths.parse("Device.A.").child(Alias("x"), True).text, "Device.A.[x].")
        self.assertEqual(paths.parse("").child("Device", True).text, "Device.")
        with self.assertRaises(PathError):
            paths.parse("Device.A").child("B", False)

    def test_hasAlias(self) -> None:
        """hasAlias tells whether any segment is an alias."""
        self.assertTrue(paths.parse("Device.A.[x].B").hasAlias)
        self.assertFalse(paths.parse("Device.A.1.B").hasAlias)


class FunctionTests(unittest.TestCase):
    def test_isPartial(self) -> None:
        """Object paths and the empty path are partial; parameter names are not."""
        self.assertTrue(paths.isPartial(""))
        self.assertTrue(paths.isPartial("Device."))
        self.assertTrue(paths.isPartial("Device.A.1."))
        self.assertFalse(paths.isPartial("Device.A"))

    def test_join(self) -> None:
        """join extends an object path and checks the result."""
        self.assertEqual(paths.join("Device.Hosts.", "Host", 3, partial=True), "Device.Hosts.Host.3.")
        self.assertEqual(paths.join("Device.Hosts.Host.3.", "IPAddress"), "Device.Hosts.Host.3.IPAddress")
        self.assertEqual(paths.join("", "Device", partial=True), "Device.")
        self.assertEqual(paths.join("Device.H.", Alias("a1"), partial=True), "Device.H.[a1].")
        with self.assertRaises(PathError):
            paths.join("Device.A", "B")
        with self.assertRaises(PathError):
            paths.join("Device.", "1bad")
        with self.assertRaises(PathError):
            paths.join("Device.H.", 0, partial=True)

    def test_isPrefix(self) -> None:
        """An object path holds what starts with it; a parameter holds only itself."""
        rows = [
            ("", "Device.A", True),
            ("", "", True),
            ("Device.", "Device.A.B", True),
            ("Device.", "Device.", True),
            ("Device.A.", "Device.AB", False),
            ("Device.A.", "Device.", False),
            ("Device.A", "Device.A", True),
            ("Device.A", "Device.AB", False),
            ("Device.A.1.", "Device.A.10.", False),
        ]
        for prefix, path, expected in rows:
            self.assertEqual(paths.isPrefix(prefix, path), expected, (prefix, path))

    def test_parentText(self) -> None:
        """parent() works on text without parsing."""
        rows = [("Device.A.B", "Device.A."), ("Device.A.", "Device."), ("Device.", ""), ("Device", "")]
        for text, expected in rows:
            self.assertEqual(paths.parent(text), expected, text)

    def test_schemaPath(self) -> None:
        """Instance numbers and aliases become {i}, as TR-181 names rows."""
        self.assertEqual(paths.schemaPath("Device.Hosts.Host.3.IPAddress"), "Device.Hosts.Host.{i}.IPAddress")
        self.assertEqual(paths.schemaPath("Device.A.[x].B.2."), "Device.A.{i}.B.{i}.")
        self.assertEqual(paths.schemaPath("Device.A"), "Device.A")
        self.assertEqual(paths.schemaPath(""), "")

    def test_nameError(self) -> None:
        """Node names follow TR-106: a letter or '_' then letters, digits, '_' and '-'."""
        self.assertEqual(paths.nameError("Abc_1-x"), "")
        self.assertEqual(paths.nameError("_x"), "")
        self.assertIn("empty", paths.nameError(""))
        self.assertIn("digit", paths.nameError("1x"))
        self.assertIn("characters", paths.nameError("a.b"))
        self.assertIn("characters", paths.nameError("-x"))

    def test_aliasError(self) -> None:
        """Aliases: 1..64 characters, a letter first, then letters, digits, '_' and '-'."""
        self.assertEqual(paths.aliasError("cpe-1"), "")
        self.assertEqual(paths.aliasError("a" * 64), "")
        self.assertIn("longer", paths.aliasError("a" * 65))
        self.assertIn("empty", paths.aliasError(""))
        self.assertIn("letter", paths.aliasError("9a"))
        self.assertIn("letter", paths.aliasError("_a"))
        self.assertIn("letter", paths.aliasError("\u00e9a"))
        self.assertIn("characters", paths.aliasError("a.b"))


class ParseCacheTests(unittest.TestCase):
    def test_parsedOnce(self) -> None:
        """A name parsed again is the same (immutable) Path, not parsed anew; so is its schema name."""
        first = paths.parse("Device.Hosts.Host.3.IPAddress")
        self.assertIs(paths.parse("Device.Hosts.Host.3.IPAddress"), first)
        self.assertIs(paths.schemaPath("Device.Hosts.Host.3.IPAddress"),
                      paths.schemaPath("Device.Hosts.Host.3.IPAddress"))
        with self.assertRaises(AttributeError):
            first.segments = ()  # type: ignore[misc]

    def test_bounded(self) -> None:
        """However many names go by, at most PARSE_CACHE are remembered, and each still parses right."""
        for index in range(1, paths.PARSE_CACHE + 500):
            self.assertEqual(paths.parse(f"Device.X.{index}.Y").segments, ("Device", "X", index, "Y"))
            paths.schemaPath(f"Device.X.{index}.Y")
        self.assertLessEqual(paths._parse.cache_info().currsize, paths.PARSE_CACHE)
        self.assertLessEqual(paths._schemaPath.cache_info().currsize, paths.PARSE_CACHE)

    def test_invalidNotRemembered(self) -> None:
        """An invalid path fails every time with its reason; a non-text one too, before any cache."""
        for _ in range(2):
            with self.assertRaises(PathError) as caught:
                paths.parse("Device..A")
            self.assertIn("empty node name", caught.exception.reason)
            self.assertEqual(paths.check("Device.A.01."), "instance number '01' is zero or has leading zeros")
            self.assertRaises(PathError, paths.parse, ["Device."])
            self.assertRaises(PathError, paths.schemaPath, ["Device."])
            self.assertRaises(PathError, paths.schemaPath, "Device.1")
