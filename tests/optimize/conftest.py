"""The search needs the optional ``optimize`` extra (Optuna); without it, these skip."""

import pytest

pytest.importorskip("optuna")
