"""pyproject.toml's [project.urls] is the one place that names the
repository: the library's constant, the tutorials' notebooks and the
README's install commands follow it."""

import pathlib
import re

from keras_gmlp.version import REPOSITORY_URL
from tests.test_tutorials import make_notebooks

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = pathlib.Path(__file__).parents[1]
GIT_URL = re.compile(r"git\+(https://[^\s\\\"'`)]+)")


def project():
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]


def test_urls_name_the_repository():
    urls = project()["urls"]
    assert urls["Repository"] == REPOSITORY_URL
    assert urls["Homepage"] == REPOSITORY_URL
    assert urls["Issues"] == f"{REPOSITORY_URL}/issues"
    assert urls["Documentation"].startswith(REPOSITORY_URL)


def test_notebooks_use_the_declared_repository():
    module = make_notebooks()
    assert module.REPOSITORY_URL == REPOSITORY_URL
    assert REPOSITORY_URL == f"https://github.com/{module.REPOSITORY}"
    assert f"git+{REPOSITORY_URL}" in module.INSTALL


def test_install_commands_use_the_declared_repository():
    texts = [ROOT / "README.md", *sorted((ROOT / "examples").glob("*.ipynb"))]
    for path in texts:
        for url in GIT_URL.findall(path.read_text(encoding="utf-8")):
            assert url == REPOSITORY_URL, f"{path.name}: {url}"
    assert f"git+{REPOSITORY_URL}" in (ROOT / "README.md").read_text()


def test_license_is_the_declared_one():
    assert project()["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
