"""Whether a holder's name can be printed as written: decided once, at issuance, and signed.

A name with a character that no installed certificate font can draw (a rare character beyond what
Noto Serif CJK and HanaMin A/B cover) is printed in pinyin, and the credential records that it was
(`namePrintedAsPinyin: true`), so a verifier comparing the paper with the signed facts knows why the
page shows pinyin. The check runs before signing because the flag is part of what is signed.

It must never let a name through that would print as empty boxes.
"""

from __future__ import annotations

from dataclasses import replace

from issuer.record import TitleRecord
from titlecred.errors import AppError


def with_print_form(record: TitleRecord) -> TitleRecord:
    """`record`, marked `namePrintedAsPinyin` when the fonts cannot print its name (an explicit value
    given by the caller is kept)."""
    from printing.errors import PrintingError
    from printing.fonts import covers

    if record.namePrintedAsPinyin is not None:
        return record
    try:
        printable = covers(record.name)
    except PrintingError as e:
        # Issuing without knowing would sign a wrong flag: refuse until the fonts are installed.
        raise AppError(e.code, f"cannot tell whether the name prints: {e.message}", 503) from None
    return record if printable else replace(record, namePrintedAsPinyin=True)
