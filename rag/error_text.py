"""Error text that may leave the process: an OS error by its errno name and description only.

An OSError's str() quotes the file name it was given ("[Errno 2] No such file or directory:
'/srv/reviews/Priya Raman.pdf'"), and a file or folder name may be personal data.
"""

from __future__ import annotations

import errno


def os_error_text(exc: OSError) -> str:
    """'ENOENT: No such file or directory', never the file names the error carries."""
    name = errno.errorcode.get(exc.errno) if isinstance(exc.errno, int) else None
    description = exc.strerror or type(exc).__name__
    return f"{name}: {description}" if name else description
