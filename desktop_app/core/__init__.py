"""The pure core of CNN Lens: sources, models, results, rendering, pipeline and recording.

Nothing in this package imports Qt; the GUI (`desktop_app.ui`) and the command line (`desktop_app.cli`) are two
front ends over it.
"""
