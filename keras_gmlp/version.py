__version__ = "0.1.0"
# The repository, as pyproject.toml's [project.urls] declares it, for install
# hints in messages (tests/test_packaging.py keeps the two equal).
REPOSITORY_URL = "https://github.com/keras-gmlp/keras-gmlp"
