"""The Streamlit web app (UI only): ``artistrec app`` runs :mod:`artistrec.app.main`.

Every computation goes through :mod:`artistrec.service` or :mod:`artistrec.explore`.
"""

from __future__ import annotations

from pathlib import Path

#: The script ``streamlit run`` starts.
ENTRY_SCRIPT = Path(__file__).with_name("main.py")
