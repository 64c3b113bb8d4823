# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
# ament_xmllint has no wheel; this checks package.xml is well formed, format 3, complete.
import pathlib
import xml.etree.ElementTree as ET

import pytest


@pytest.mark.linter
@pytest.mark.xmllint
def test_package_xml():
    root = pathlib.Path(__file__).resolve().parents[1]
    tree = ET.parse(root / 'package.xml').getroot()
    assert tree.tag == 'package' and tree.get('format') == '3'
    for tag in ('name', 'version', 'description', 'maintainer', 'license'):
        assert tree.find(tag) is not None and tree.find(tag).text, tag
    assert tree.find('name').text == root.name
    assert tree.find('export/build_type').text == 'ament_python'
