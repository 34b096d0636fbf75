"""How every benchmark reports: one line per figure, then all of them as one JSON object."""

import json
from typing import Dict


def report(figures: Dict[str, object]) -> None:
  for key, value in figures.items():
    print(f'{key}: {value}')
  print(json.dumps(figures))
