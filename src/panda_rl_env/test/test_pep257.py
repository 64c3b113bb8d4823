# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
import pathlib

from ament_pep257.main import main
import pytest


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257():
    root = pathlib.Path(__file__).resolve().parents[1]
    rc = main(argv=[str(root)])
    assert rc == 0, 'Found code style errors / warnings'
