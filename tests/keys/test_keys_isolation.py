"""The keys package stands alone: it imports nothing else of TitleCred, and offline it never loads httpx."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

KEYS_DIR = Path(__file__).resolve().parents[2] / "keys"
PROJECT_PACKAGES = {"issuer", "verifier", "schemas", "proofs", "titlecred", "bench", "tests", "conftest"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_keys_imports_no_other_project_package() -> None:
    files = sorted(KEYS_DIR.glob("*.py"))
    assert {p.name for p in files} >= {"__init__.py", "errors.py", "multikey.py", "material.py", "jwk.py",
                                       "state.py", "store.py", "did.py", "publish.py"}
    for path in files:
        offending = {m for m in _imported_modules(path) if m.split(".")[0] in PROJECT_PACKAGES}
        assert not offending, f"{path.name} imports {offending}"


def test_importing_keys_loads_no_project_package_and_offline_no_http_client() -> None:
    code = (
        "import sys\n"
        "import keys, keys.errors, keys.multikey, keys.material, keys.jwk, keys.state, keys.store, keys.did\n"
        "import keys.publish\n"
        "from keys.did import DidResolver\n"
        "pk = 'z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2'\n"
        "DidResolver().resolve_verification_method(f'did:key:{pk}#{pk}')\n"
        "try:\n"
        "    DidResolver().resolve_verification_method('did:web:example.com#key-1')\n"
        "except Exception as e:\n"
        "    assert type(e).__name__ == 'UnresolvableDid', e\n"
        f"project = {sorted(PROJECT_PACKAGES)!r}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(project)), 'httpx' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=KEYS_DIR.parent, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] False"
