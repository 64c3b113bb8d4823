# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
# ament_copyright has no wheel; this checks the same header on every Python file.
import pathlib

import pytest

HEADER = ('# Copyright 2026 The sim2online authors',
          '# SPDX-License-Identifier: Apache-2.0')


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    root = pathlib.Path(__file__).resolve().parents[1]
    missing = [str(p.relative_to(root)) for p in sorted(root.rglob('*.py'))
               if tuple(p.read_text().splitlines()[:2]) != HEADER]
    assert not missing, 'files without the license header: ' + ', '.join(missing)
