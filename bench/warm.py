"""Imported by the forkserver (``set_forkserver_preload``): warms it with everything a run needs."""

from .worker import preload

preload()
