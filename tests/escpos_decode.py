"""Read ESC/POS bytes back into printed lines, QR codes, images and cuts."""

from dataclasses import dataclass, field

ESC, GS, LF = 0x1B, 0x1D, 0x0A

# ESC t n slots of standard (Epson-numbered) printers that tests can read.
CODE_PAGES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    46: "cp1251",
}


class DecodeError(ValueError):
    """The bytes hold something this reader does not understand."""


@dataclass(frozen=True)
class Raster:
    """One GS v 0 image: `width` and `height` in dots, rows of packed bits."""

    width: int
    height: int
    bits: bytes

    def dark(self, x: int, y: int) -> bool:
        """Return whether the dot at column x, row y is printed."""
        byte = self.bits[y * (self.width // 8) + x // 8]
        return bool(byte & (0x80 >> (x % 8)))


@dataclass
class Decoded:
    """What a printer would put on paper for some ESC/POS bytes."""

    lines: list[str] = field(default_factory=list)
    qr_payloads: list[str] = field(default_factory=list)
    images: int = 0
    cuts: int = 0
    code_pages: list[int] = field(default_factory=list)
    line_cells: list[int] = field(default_factory=list)
    """Font A columns each printed line takes (characters times width)."""
    rasters: list[Raster] = field(default_factory=list)


def decode(data: bytes, code_pages: dict[int, str] | None = None) -> Decoded:
    """Decode ESC/POS bytes; raise DecodeError naming the offset of anything odd."""
    return _Reader(data, code_pages or CODE_PAGES).read()


class _Reader:
    def __init__(self, data: bytes, code_pages: dict[int, str]) -> None:
        self.data = data
        self.tables = code_pages
        self.out = Decoded()
        self.pos = 0
        self.qr_stored: bytes | None = None
        self._reset()

    def _reset(self) -> None:
        self.page = 0
        self.width = 1
        self.line = ""
        self.cells = 0

    def read(self) -> Decoded:
        while self.pos < len(self.data):
            start = self.pos
            byte = self._take(1)[0]
            if byte == LF:
                self._print_line()
            elif byte == ESC:
                self._esc(start)
            elif byte == GS:
                self._gs(start)
            elif 0x20 <= byte != 0x7F:
                self._char(byte)
            else:
                raise DecodeError(f"unknown control byte 0x{byte:02x} at {start}")

        if self.line:
            raise DecodeError(f"text {self.line!r} is never printed: no LF at the end")
        return self.out

    def _esc(self, start: int) -> None:
        command = chr(self._take(1)[0])
        if command == "@":
            if self.line:
                raise DecodeError(f"ESC @ at {start} throws away {self.line!r}")
            self._reset()
        elif command == "t":
            page = self._take(1)[0]
            if page not in self.tables:
                raise DecodeError(f"ESC t {page} at {start}: unknown code page")
            self.page = page
            self.out.code_pages.append(page)
        elif command == "a":
            if self._take(1)[0] not in (0, 1, 2, 48, 49, 50):
                raise DecodeError(f"ESC a at {start}: bad alignment")
        elif command == "E":
            self._take(1)
        elif command == "!":
            self.width = 2 if self._take(1)[0] & 0x20 else 1
        elif command == "d":
            for _ in range(self._take(1)[0]):
                self._print_line()
        else:
            raise DecodeError(f"unknown command ESC {command!r} at {start}")

    def _gs(self, start: int) -> None:
        command = chr(self._take(1)[0])
        if command == "!":
            self.width = (self._take(1)[0] >> 4) + 1
        elif command == "(":
            self._two_d_code(start)
        elif command == "v":
            self._raster(start)
        elif command == "V":
            self._cut(start)
        else:
            raise DecodeError(f"unknown command GS {command!r} at {start}")

    def _two_d_code(self, start: int) -> None:
        if self._take(1) != b"k":
            raise DecodeError(f"GS ( at {start}: only GS ( k is understood")
        length = int.from_bytes(self._take(2), "little")
        body = self._take(length)
        symbol, function = body[0], body[1]
        if symbol != ord("1"):
            raise DecodeError(f"GS ( k at {start}: not a QR code (cn={symbol})")

        if function == ord("P"):
            self.qr_stored = body[3:]
        elif function == ord("Q"):
            if self.qr_stored is None or self.line:
                raise DecodeError(f"QR print at {start} without data or mid-line")
            self.out.qr_payloads.append(self.qr_stored.decode("utf-8"))
        elif function == ord("C") and not 1 <= body[2] <= 16:
            raise DecodeError(f"QR module size {body[2]} at {start} is not 1-16")
        elif function not in (ord("A"), ord("C"), ord("E")):
            raise DecodeError(f"GS ( k at {start}: unknown QR function {function}")

    def _raster(self, start: int) -> None:
        if self._take(1) != b"0" or self._take(1)[0] not in (
            0,
            1,
            2,
            3,
            48,
            49,
            50,
            51,
        ):
            raise DecodeError(f"GS v at {start}: only GS v 0 is understood")
        if self.line:
            raise DecodeError(f"image at {start} starts mid-line after {self.line!r}")
        width_bytes = int.from_bytes(self._take(2), "little")
        height = int.from_bytes(self._take(2), "little")
        bits = self._take(width_bytes * height)
        self.out.images += 1
        self.out.rasters.append(Raster(width_bytes * 8, height, bits))

    def _cut(self, start: int) -> None:
        mode = self._take(1)[0]
        if mode in (65, 66):
            self._take(1)
        elif mode not in (0, 1, 48, 49):
            raise DecodeError(f"GS V {mode} at {start}: unknown cut")
        if self.line:
            raise DecodeError(f"cut at {start} through unprinted {self.line!r}")
        self.out.cuts += 1

    def _char(self, byte: int) -> None:
        self.line += bytes([byte]).decode(self.tables[self.page])
        self.cells += self.width

    def _print_line(self) -> None:
        self.out.lines.append(self.line)
        self.out.line_cells.append(self.cells)
        self.line = ""
        self.cells = 0

    def _take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise DecodeError(
                f"command at {self.pos} needs {count} more bytes; the data ends"
            )
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk
