"""``python -m pipeline`` runs the ``patnav`` command line."""

from .cli import app

app(prog_name="patnav")
