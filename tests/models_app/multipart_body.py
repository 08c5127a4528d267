"""Build multipart/form-data bodies whose filenames are repo paths (Django's test client keeps only basenames)."""

from __future__ import annotations

BOUNDARY = "thub-test-boundary-7d1c"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(files: dict[str, bytes], **fields: str) -> bytes:
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
        )
    for path, data in files.items():
        quoted = path.replace('"', "%22")
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
