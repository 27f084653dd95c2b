"""The browser playground's files and its model list, for ``zoo serve``'s REST front end.

    GET /  and  GET /models/NAME        the playground page (index.html; the page picks the model from the URL)
    GET /playground/FILE                a static file from zoo/serving/playground/ (no directory listing)
    GET /playground/models.json         {"models": [{"name", "versions", "card"}]}: the zoo's addition, since
                                        TF Serving has no model list (the page degrades without it)
"""
import json
import mimetypes
from pathlib import Path

ROOT = Path(__file__).parent / "playground"
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".json": "application/json",
         ".png": "image/png"}


def _card(registry, name):
    from zoo.card import read_card_file

    servable = registry.get(name)
    path = servable.path.parent / "card.json"
    if not path.exists():
        return None
    card = read_card_file(path)
    return {k: card.get(k) for k in ("name", "metrics", "signatures") if k in card}


def models_json(registry):
    models = []
    for name in registry.names():
        try:
            card = _card(registry, name)
        except Exception:  # noqa: BLE001  (an unreadable card: the model is still listed)
            card = None
        models.append({"name": name, "versions": sorted(registry.versions(name)), "card": card})
    return json.dumps({"models": models})


def static_file(registry, path):
    """(content type, bytes) for a playground path, or None when ``path`` is not the playground's."""
    if path == "/playground/models.json":
        return "application/json", models_json(registry).encode("utf-8")
    if path in ("/", "/index.html") or (path.startswith("/models/") and "/" not in path[len("/models/"):]):
        return "text/html; charset=utf-8", (ROOT / "index.html").read_bytes()
    if path.startswith("/playground/"):
        name = path[len("/playground/"):]
        target = (ROOT / name).resolve()
        if "/" in name or not target.is_file() or target.parent != ROOT.resolve():
            return None
        kind = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return kind + ("; charset=utf-8" if kind.startswith("text") else ""), target.read_bytes()
    return None
