# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
import pathlib

from ament_flake8.main import main_with_errors
import pytest


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8():
    root = pathlib.Path(__file__).resolve().parents[1]
    rc, errors = main_with_errors(argv=[str(root)])
    assert rc == 0, 'Found %d code style errors / warnings:\n' % len(errors) + '\n'.join(errors)
