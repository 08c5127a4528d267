"""``{{ n|iec_size }}``: byte counts in binary units, named as such ("873.0 KiB").

Django's ``filesizeformat`` divides by 1024 but writes "KB", which reads as 1000 bytes; the
hub's limits (HUB_MAX_FILE_SIZE and friends) are powers of 1024, so the pages say KiB/MiB/GiB.
"""

from __future__ import annotations

from django import template

register = template.Library()

_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


@register.filter
def iec_size(value) -> str:
    try:
        size = float(value)
    except (TypeError, ValueError):
        return ""
    if size < 1024:
        return f"{int(size)} byte" + ("" if int(size) == 1 else "s")
    for unit in _UNITS:
        size /= 1024
        if size < 1024 or unit == _UNITS[-1]:
            return f"{size:,.1f} {unit}"
    return ""  # unreachable: the loop returns at the last unit
