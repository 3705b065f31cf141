"""Tests for L{proxier.sim.firmware}: the simulated firmware image format."""

from __future__ import annotations

from twisted.trial import unittest

from proxier.sim.firmware import CorruptImage, makeImage, parseImage


class ImageTests(unittest.TestCase):
    def test_roundTrip(self) -> None:
        """An image made for a version reads back with its version, requirement and payload."""
        image = parseImage(makeImage("2.0.0", requires="1.0.0", payload=b"kernel"))
        self.assertEqual((image.version, image.requires, image.payload), ("2.0.0", "1.0.0", b"kernel"))
        self.assertIsNone(parseImage(makeImage("3", checksum=False)).requires)

    def test_corruptions(self) -> None:
        """A flipped payload byte, a foreign file, a bad header: CorruptImage saying why."""
        cases = [
            (makeImage("2.0.0", corrupt=True), "sha256"),
            (b"\x7fELF binary", "no firmware header"),
            (b"SOMETHING/1 version=1\npayload", "not a proxier-sim"),
            (b"PROXIER-SIM-FIRMWARE/1 version=\n", "valid version"),
            (b"PROXIER-SIM-FIRMWARE/1 version=1 version=2\n", "bad header field"),
            (b"PROXIER-SIM-FIRMWARE/1 version=1 requires=a/b\n", "requires"),
            (b"PROXIER-SIM-FIRMWARE/1 version=1 junk\n", "bad header field"),
        ]
        for data, reason in cases:
            with self.assertRaises(CorruptImage) as caught:
                parseImage(data)
            self.assertIn(reason, str(caught.exception))

    def test_badVersions(self) -> None:
        """Versions that would break the header are refused when making an image."""
        self.assertRaises(ValueError, makeImage, "2.0 beta")
        self.assertRaises(ValueError, makeImage, "2", requires="")
