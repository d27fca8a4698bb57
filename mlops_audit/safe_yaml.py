"""The YAML loader every reader of YAML builds on: PyYAML's safe subset (plain data, never a Python object), parsed
by libyaml when PyYAML was built with it (about eight times faster, and it refuses nesting over 1,000 levels)."""

from __future__ import annotations

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
