"""proxier.pem: the certificate blocks of a PEM file."""

from twisted.trial import unittest

from proxier.pem import certificateBlocks

BLOCK = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"


class CertificateBlocksTests(unittest.TestCase):
    def test_bundleWithText(self) -> None:
        """A CA bundle's comments and keys between the blocks are skipped; each block ends with a newline."""
        data = b"# Operator root\n" + BLOCK + b"\nsubject=CN x\n" + BLOCK.replace(b"MIIB", b"MIIC") + b"\n"
        self.assertEqual(certificateBlocks(data), [BLOCK + b"\n", BLOCK.replace(b"MIIB", b"MIIC") + b"\n"])

    def test_keysAreNotCertificates(self) -> None:
        """A private key, or a block cut off before its END line, is no certificate."""
        key = b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
        self.assertEqual(certificateBlocks(key), [])
        self.assertEqual(certificateBlocks(b"-----BEGIN CERTIFICATE-----\nMIIB\n"), [])
        self.assertEqual(certificateBlocks(b""), [])

    def test_crlf(self) -> None:
        """A file written on Windows (CRLF) is read the same."""
        data = BLOCK.replace(b"\n", b"\r\n") + b"\r\n"
        self.assertEqual(certificateBlocks(data), [BLOCK.replace(b"\n", b"\r\n") + b"\n"])
