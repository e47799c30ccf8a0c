"""The desktop front end: the only package that imports Qt. `desktop_app.ui.app.run_gui` starts it."""
