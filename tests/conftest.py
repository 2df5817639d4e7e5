"""Shared pytest options."""


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite tests/compiling/golden/<scenario>/<dialect>.sql from the current compiler output")
