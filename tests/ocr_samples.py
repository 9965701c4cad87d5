"""Synthetic Spanish documents (payslips, invoices, ID cards, bank certificates) for tests.

Every document carries random but valid identifiers (DNI/NIE letters, CIF control
characters, IBAN check digits) and amounts that add up, together with the values a
form filled from it should hold. Pages are drawn at 300 dpi with a system TrueType
font and can be degraded like a mild scan (noise, blur, rotation of up to ±1°).

Test data, not part of the portal: it lives next to the tests (``import ocr_samples``
from tests, with ``tests`` on the path as pytest puts it; bench/ adds it too), outside
the packages that are installed, so production code cannot import it.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from ocr.amounts import format_amount
from ocr.checks import CIF_ENTITY_LETTERS, cif_control, dni_letter, iban_check_digits

__all__ = [
    "SampleDocument",
    "bank_certificate",
    "degrade",
    "find_font",
    "id_card",
    "invoice",
    "payslip",
    "random_cif",
    "random_dni",
    "random_nie",
    "random_spanish_iban",
]

DPI = 300
A4 = (2480, 3508)
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
_FONT_NAMES = {
    # Arial's metric twin first: it is what most Spanish payroll and invoicing software prints.
    False: ("LiberationSans-Regular.ttf", "Arial.ttf", "DejaVuSans.ttf", "NotoSans-Regular.ttf"),
    True: ("LiberationSans-Bold.ttf", "Arial Bold.ttf", "DejaVuSans-Bold.ttf", "NotoSans-Bold.ttf"),
}
_MONTHS = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
).split()


def _font_files() -> Iterator[Path]:
    extra = os.environ.get("OCR_FONT_DIR")
    for directory in ((extra,) if extra else ()) + _FONT_DIRS:
        root = Path(directory).expanduser()
        if root.is_dir():
            yield from sorted(root.rglob("*.ttf"))


@lru_cache(maxsize=4)
def find_font(bold: bool = False) -> Path:
    """Find a sans-serif TrueType font with Spanish glyphs in the standard font folders."""
    files = list(_font_files())
    by_name = {path.name: path for path in files}
    for name in _FONT_NAMES[bold] + _FONT_NAMES[False]:
        if name in by_name:
            return by_name[name]
    if files:
        return files[0]
    raise FileNotFoundError("no TrueType font found; install fonts-dejavu-core")


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_font(bold)), size)


def random_dni(rng: random.Random) -> str:
    """Return a random DNI with its correct check letter."""
    number = rng.randrange(1_000_000, 100_000_000)
    return f"{number:08d}{dni_letter(number)}"


def random_nie(rng: random.Random) -> str:
    """Return a random NIE (X/Y/Z) with its correct check letter."""
    prefix = rng.choice("XYZ")
    digits = rng.randrange(0, 10_000_000)
    return f"{prefix}{digits:07d}{dni_letter(int(str('XYZ'.index(prefix)) + f'{digits:07d}'))}"


def random_cif(rng: random.Random, letter: str | None = None) -> str:
    """Return a random CIF whose control character follows the official rules."""
    letter = letter or rng.choice("BBBBAAGJNPQRSUVWDEFHC")
    if letter not in CIF_ENTITY_LETTERS:
        raise ValueError(f"{letter!r} is no CIF entity letter")
    digits = f"{rng.randrange(1, 100):02d}{rng.randrange(0, 100_000):05d}"
    control_digit, control_letter = cif_control(letter, digits)
    if letter in "PQRSNW":
        control = control_letter
    elif letter in "ABEH":
        control = control_digit
    else:
        control = rng.choice((control_digit, control_letter))
    return f"{letter}{digits}{control}"


def random_spanish_iban(rng: random.Random) -> str:
    """Return a random Spanish IBAN (ES + 22 digits) with correct check digits."""
    bban = "".join(rng.choice("0123456789") for _ in range(20))
    return f"ES{iban_check_digits('ES', bban)}{bban}"


def _grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class SampleDocument:
    """A generated page and the form values it should yield."""

    kind: str
    template: str
    image: Image.Image = field(repr=False)
    expected: Mapping[str, str]
    #: Every amount printed on the page, formatted like ``format_amount``.
    amounts: tuple[str, ...] = ()
    #: Every identifier printed on the page (DNI, NIE, CIF, IBAN), compact.
    identifiers: tuple[str, ...] = ()


_FIRST = "María José Antonio Lucía Carmen Javier Manuel Laura Pablo Elena Sergio Marta".split()
_LAST = (
    "García López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández Díaz "
    "Moreno Álvarez Romero Navarro Torres Domínguez Vázquez Ramos Gil Serrano Molina"
).split()
_COMPANY_WORDS = (
    "Construcciones Suministros Distribuciones Servicios Talleres Transportes Asesores "
    "Comercial Industrias Reformas Logística Ingeniería"
).split()
_COMPANY_NAMES = (
    "Levante Norte Ibérica Castilla Mediterráneo Atlántico Sierra Ebro Tajo Galicia Aragón Duero"
).split()
_STREETS = "Mayor Alcalá Real Colón Gran Vía Serrano Libertad Constitución Princesa".split()
_CITIES = "Madrid Valencia Sevilla Zaragoza Bilbao Málaga Murcia Valladolid".split()


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(_FIRST), f"{rng.choice(_LAST)} {rng.choice(_LAST)}"


def _company(rng: random.Random) -> str:
    return f"{rng.choice(_COMPANY_WORDS)} {rng.choice(_COMPANY_NAMES)} {rng.choice(('SL', 'SA'))}"


def _address(rng: random.Random) -> str:
    return f"Calle {rng.choice(_STREETS)} {rng.randrange(1, 150)}, {rng.choice(_CITIES)}"


class _Page:
    """A white page with helpers to write text at points, in millimetres from the top left."""

    def __init__(self, size: tuple[int, int] = A4, background: int = 255) -> None:
        self.image = Image.new("L", size, background)
        self.draw = ImageDraw.Draw(self.image)

    @staticmethod
    def px(mm: float) -> int:
        return round(mm / 25.4 * DPI)

    def text(
        self, x_mm: float, y_mm: float, text: str, *, size: float = 10, bold: bool = False
    ) -> None:
        self.draw.text(
            (self.px(x_mm), self.px(y_mm)), text, font=_font(round(size / 72 * DPI), bold), fill=0
        )

    def right(
        self, x_mm: float, y_mm: float, text: str, *, size: float = 10, bold: bool = False
    ) -> None:
        font = _font(round(size / 72 * DPI), bold)
        width = self.draw.textlength(text, font=font)
        self.draw.text((self.px(x_mm) - width, self.px(y_mm)), text, font=font, fill=0)

    def rule(self, y_mm: float, x0_mm: float = 18, x1_mm: float = 192) -> None:
        y = self.px(y_mm)
        self.draw.line((self.px(x0_mm), y, self.px(x1_mm), y), fill=0, width=3)


def payslip(rng: random.Random) -> SampleDocument:
    """Draw a Spanish payslip whose totals satisfy devengado − deducciones = líquido."""
    employer, employer_cif = _company(rng), random_cif(rng)
    first, last = _person(rng)
    worker = f"{first} {last}"
    worker_nif = random_dni(rng) if rng.random() < 0.7 else random_nie(rng)
    iban = random_spanish_iban(rng)
    year, month = rng.randrange(2021, 2026), rng.randrange(1, 13)
    earnings = [
        ("Salario base", _money(rng.uniform(1100, 3800))),
        ("Plus convenio", _money(rng.uniform(40, 400))),
        ("Horas extraordinarias", _money(rng.uniform(0, 300))),
        ("Prorrata pagas extras", _money(rng.uniform(150, 700))),
    ]
    gross = sum((amount for _, amount in earnings), Decimal("0"))
    rates = [("Contingencias comunes", "4,70"), ("Desempleo", "1,55"), ("Formación", "0,10")]
    deductions = [
        (f"{name} {rate} %", _money(gross * Decimal(rate.replace(",", ".")) / 100))
        for name, rate in rates
    ]
    irpf = rng.choice(("8,00", "12,00", "15,00", "19,00"))
    deductions.append((f"IRPF {irpf} %", _money(gross * Decimal(irpf.replace(",", ".")) / 100)))
    total_deductions = sum((amount for _, amount in deductions), Decimal("0"))
    net = gross - total_deductions

    page = _Page()
    page.text(18, 15, "RECIBO INDIVIDUAL JUSTIFICATIVO DEL PAGO DE SALARIOS", size=13, bold=True)
    page.rule(25)
    page.text(18, 30, f"Empresa: {employer}")
    page.text(18, 38, f"CIF: {employer_cif}")
    page.text(18, 46, f"Domicilio: {_address(rng)}")
    page.text(110, 30, f"Trabajador: {worker}")
    page.text(110, 38, f"NIF: {worker_nif}")
    page.text(110, 46, f"Nº afiliación: {rng.randrange(10, 53)}/{rng.randrange(10**7, 10**8)}")
    if rng.random() < 0.5:
        period_text = f"Periodo de liquidación: {_MONTHS[month - 1]} {year}"
    else:
        last_day = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
        period_text = (
            f"Periodo de liquidación: del 01/{month:02d}/{year} al {last_day}/{month:02d}/{year}"
        )
    page.text(18, 56, period_text)
    page.rule(64)
    page.text(18, 68, "DEVENGOS", bold=True)
    page.right(190, 68, "IMPORTE", bold=True)
    y = 76.0
    for name, amount in earnings:
        page.text(22, y, name)
        page.right(190, y, format_amount(amount))
        y += 7
    page.text(18, y + 2, "DEDUCCIONES", bold=True)
    y += 10
    for name, amount in deductions:
        page.text(22, y, name)
        page.right(190, y, format_amount(amount))
        y += 7
    page.rule(y + 2)
    y += 7
    page.text(18, y, "TOTAL DEVENGADO", bold=True)
    page.right(190, y, format_amount(gross), bold=True)
    page.text(18, y + 8, "TOTAL A DEDUCIR", bold=True)
    page.right(190, y + 8, format_amount(total_deductions), bold=True)
    page.text(18, y + 16, "LÍQUIDO TOTAL A PERCIBIR", bold=True)
    page.right(190, y + 16, format_amount(net), bold=True)
    page.rule(y + 25)
    page.text(18, y + 30, f"Transferencia a la cuenta IBAN: {_grouped(iban)}")
    page.text(18, y + 40, f"Fecha de pago: {rng.randrange(25, 29)}/{month:02d}/{year}")
    expected = {
        "employer": employer,
        "employer_cif": employer_cif,
        "worker": worker,
        "worker_nif": worker_nif,
        "period": f"{year}-{month:02d}",
        "gross": format_amount(gross),
        "deductions": format_amount(total_deductions),
        "net": format_amount(net),
        "iban": iban,
    }
    printed = [a for _, a in earnings] + [a for _, a in deductions] + [gross, total_deductions, net]
    return SampleDocument(
        "payslip",
        "datos_nomina",
        page.image,
        expected,
        tuple(format_amount(a) for a in printed),
        (employer_cif, worker_nif, iban),
    )


def invoice(rng: random.Random) -> SampleDocument:
    """Draw a Spanish invoice received from a supplier, with base + IVA = total."""
    supplier, supplier_cif = _company(rng), random_cif(rng)
    client, client_cif = _company(rng), random_cif(rng)
    number = f"F{rng.randrange(2021, 2026)}-{rng.randrange(1, 9999):04d}"
    issued = date(rng.randrange(2021, 2026), rng.randrange(1, 13), rng.randrange(1, 29))
    lines = []
    for concept in rng.sample(
        ["Material de oficina", "Mantenimiento", "Transporte", "Consultoría", "Licencias"], 3
    ):
        quantity = rng.randrange(1, 12)
        price = _money(rng.uniform(5, 400))
        lines.append((concept, quantity, price, price * quantity))
    base = sum((line[3] for line in lines), Decimal("0"))
    vat = _money(base * Decimal("0.21"))
    total = base + vat

    page = _Page()
    page.text(18, 15, "FACTURA", size=16, bold=True)
    page.text(18, 28, "Proveedor:", bold=True)
    page.text(18, 35, supplier)
    page.text(18, 42, f"CIF: {supplier_cif}")
    page.text(18, 49, _address(rng))
    page.text(110, 28, "Cliente:", bold=True)
    page.text(110, 35, client)
    page.text(110, 42, f"CIF: {client_cif}")
    page.text(110, 49, _address(rng))
    page.text(18, 62, f"Nº factura: {number}")
    if rng.random() < 0.5:
        page.text(110, 62, f"Fecha: {issued:%d/%m/%Y}")
    else:
        page.text(110, 62, f"Fecha: {issued.day} de {_MONTHS[issued.month - 1]} de {issued.year}")
    page.rule(70)
    page.text(18, 73, "Concepto", bold=True)
    page.right(120, 73, "Cantidad", bold=True)
    page.right(155, 73, "Precio", bold=True)
    page.right(190, 73, "Importe", bold=True)
    y = 81.0
    for concept, quantity, price, amount in lines:
        page.text(18, y, concept)
        page.right(120, y, str(quantity))
        page.right(155, y, format_amount(price))
        page.right(190, y, format_amount(amount))
        y += 7
    page.rule(y + 2)
    y += 8
    if rng.random() < 0.5:
        page.text(110, y, "Base imponible")
        page.right(190, y, format_amount(base))
        page.text(110, y + 8, "IVA 21 %")
        page.right(190, y + 8, format_amount(vat))
        page.text(110, y + 16, "TOTAL FACTURA", bold=True)
        page.right(190, y + 16, f"{format_amount(total)} €", bold=True)
    else:
        page.text(40, y, "Base imponible", bold=True)
        page.text(100, y, "IVA 21 %", bold=True)
        page.text(150, y, "Total", bold=True)
        page.text(40, y + 7, f"{format_amount(base)} €")
        page.text(100, y + 7, f"{format_amount(vat)} €")
        page.text(150, y + 7, f"{format_amount(total)} €", bold=True)
    page.text(18, y + 32, "Forma de pago: transferencia bancaria a 30 días")
    expected = {
        "supplier": supplier,
        "supplier_cif": supplier_cif,
        "invoice_number": number,
        "date": issued.isoformat(),
        "base": format_amount(base),
        "vat": format_amount(vat),
        "total": format_amount(total),
    }
    printed = [a for line in lines for a in line[2:]] + [base, vat, total]
    return SampleDocument(
        "invoice",
        "factura_recibida",
        page.image,
        expected,
        tuple(format_amount(a) for a in printed),
        (supplier_cif, client_cif),
    )


def id_card(rng: random.Random, *, foreigner: bool | None = None) -> SampleDocument:
    """Draw the front of an ID card (DNI, or NIE card for foreigners) as a 300 dpi scan."""
    foreigner = rng.random() < 0.4 if foreigner is None else foreigner
    first, last = _person(rng)
    number = random_nie(rng) if foreigner else random_dni(rng)
    born = date(rng.randrange(1950, 2005), rng.randrange(1, 13), rng.randrange(1, 29))
    page = _Page((1011, 638), background=238)
    page.text(4, 3, "REINO DE ESPAÑA", size=8, bold=True)
    title = "TARJETA DE IDENTIDAD DE EXTRANJERO" if foreigner else "DOCUMENTO NACIONAL DE IDENTIDAD"
    page.text(4, 8, title, size=7, bold=True)
    page.draw.rectangle((page.px(4), page.px(15), page.px(26), page.px(44)), outline=90, width=3)
    page.text(30, 15, "APELLIDOS", size=6)
    page.text(30, 19, last.upper(), size=9, bold=True)
    page.text(30, 25, "NOMBRE", size=6)
    page.text(30, 29, first.upper(), size=9, bold=True)
    page.text(30, 35, "FECHA DE NACIMIENTO", size=6)
    page.text(30, 39, f"{born:%d %m %Y}", size=9, bold=True)
    page.text(4, 47, f"{'NIE' if foreigner else 'DNI'} {number}", size=11, bold=True)
    expected = {
        "given_name": first.upper(),
        "surnames": last.upper(),
        "nif": number,
        "birth_date": born.isoformat(),
    }
    return SampleDocument("id_card", "alta_cliente", page.image, expected, (), (number,))


def bank_certificate(rng: random.Random) -> SampleDocument:
    """Draw a bank's certificate of account ownership with the holder's NIF and IBAN."""
    first, last = _person(rng)
    holder = f"{first} {last}"
    nif = random_dni(rng)
    iban = random_spanish_iban(rng)
    page = _Page()
    page.text(18, 20, "CERTIFICADO DE TITULARIDAD DE CUENTA", size=14, bold=True)
    page.text(18, 36, "Banco Ejemplo, S.A. certifica que la cuenta indicada pertenece a:")
    page.text(18, 48, f"Titular: {holder}")
    page.text(18, 56, f"NIF: {nif}")
    page.text(18, 64, f"Domicilio: {_address(rng)}")
    page.text(18, 76, "IBAN:", bold=True)
    page.text(18, 84, _grouped(iban), size=12)
    page.text(18, 96, f"BIC: CAIXESBB{rng.choice(('XXX', '123'))}")
    page.text(18, 112, f"{rng.choice(_CITIES)}, {rng.randrange(1, 29)} de mayo de 2024")
    expected = {"account_holder": holder, "nif": nif, "iban": iban}
    return SampleDocument("bank_certificate", "alta_cliente", page.image, expected, (), (nif, iban))


def degrade(image: Image.Image, rng: random.Random, *, max_rotation: float = 1.0) -> Image.Image:
    """Make a page look mildly scanned: blur, grain, specks and a slight rotation.

    All randomness comes from ``rng``, so a seed replays the same scan.
    """
    angle = rng.uniform(-max_rotation, max_rotation)
    page = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(0.6))
    pixels = page.width * page.height
    grain = Image.frombytes("L", page.size, rng.randbytes(pixels))
    page = Image.blend(page, grain, 0.06)
    # The larger of two uniform bytes is below 5 for about 0.04 % of pixels: sparse dust.
    dust = ImageChops.lighter(
        Image.frombytes("L", page.size, rng.randbytes(pixels)),
        Image.frombytes("L", page.size, rng.randbytes(pixels)),
    ).point(lambda v: 0 if v < 5 else 255)
    return ImageChops.darker(page, dust)
