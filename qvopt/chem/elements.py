"""Chemical element symbols and atomic numbers (for checking molecule files before PySCF runs)."""

from __future__ import annotations

import re

_SYMBOLS = """
H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br
Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho
Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es
Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og
""".split()

ATOMIC_NUMBERS: dict[str, int] = {symbol: z for z, symbol in enumerate(_SYMBOLS, start=1)}

# A symbol, optionally followed by a numeric label as PySCF allows ("H1", "O2").
_LABEL = re.compile(r"([A-Za-z]{1,2})\d*")


def atomic_number(symbol: str) -> int | None:
    """``Z`` of an element symbol (case-insensitive, optional numeric label), else None."""
    match = _LABEL.fullmatch(symbol.strip()) if isinstance(symbol, str) else None
    if match is None:
        return None
    return ATOMIC_NUMBERS.get(match.group(1).capitalize())
