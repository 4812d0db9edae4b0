"""Build shim for scrapyd-deploy, which packs the project with ``python setup.py bdist_egg``.

Everything (name, version, packages, package data, the ``scrapy`` settings entry
point Scrapyd reads) is declared in pyproject.toml; without this file
scrapyd-deploy would write its own setup.py into the checkout, with another
project name and every package it finds (tests and benchmarks included).
"""

from setuptools import setup

setup()
