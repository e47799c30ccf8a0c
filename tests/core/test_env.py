"""Ultralytics runs with a private, offline, analytics-free configuration; the user's own is never touched."""

import json
import os
import subprocess
import sys


def test_import_uses_private_settings_with_sync_off_and_leaves_user_settings_alone(tmp_path):
    home = tmp_path / "home"
    user_settings = home / ".config" / "Ultralytics" / "settings.json"
    user_settings.parent.mkdir(parents=True)
    user_settings.write_text('{"sync": true, "mine": 1}')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YOLO_", "CNNLENS_", "XDG_"))}
    env.update(HOME=str(home), CNNLENS_HOME=str(tmp_path / "cnnlens"))
    code = (
        "import os, json\n"
        "from desktop_app.core.env import import_ultralytics, read_private_settings\n"
        "import_ultralytics()\n"
        "print(json.dumps({'offline': os.environ.get('YOLO_OFFLINE'), 'auto': os.environ.get('YOLO_AUTOINSTALL'),"
        " 'dir': os.environ.get('YOLO_CONFIG_DIR'), 'settings': read_private_settings()}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["offline"] == "true" and report["auto"] == "false"
    assert report["dir"].startswith(str(tmp_path / "cnnlens"))
    assert report["settings"]["sync"] is False
    assert json.loads(user_settings.read_text()) == {"sync": True, "mine": 1}
