"""The gate's QR scanner: scans read from a serial line, for the unit's event loop.

``open_scanner(ScannerConfig(...))`` gives a started ``QrScanner``; await
``next_scan()`` for each ``Scan`` (text, time) or ``ScanGarbled`` report,
read ``health()``, and ``close()`` it at shutdown. ``ScanFraming`` is the
byte-stream parser under it, usable on its own.
"""

from drivers.qr_scanner.backends import open_scanner
from drivers.qr_scanner.config import ScannerConfig
from drivers.qr_scanner.framing import GarbledReason, ScanFraming, ScanGarbled, ScannedText
from drivers.qr_scanner.link import ScannerLink, SerialLink
from drivers.qr_scanner.scanner import QrScanner, Scan, ScannerHealth, ScanResult

__all__ = [
    "GarbledReason",
    "QrScanner",
    "Scan",
    "ScanFraming",
    "ScanGarbled",
    "ScanResult",
    "ScannedText",
    "ScannerConfig",
    "ScannerHealth",
    "ScannerLink",
    "SerialLink",
    "open_scanner",
]
