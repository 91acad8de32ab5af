"""The pre-trade gate's position cap as a share of equity (issue 17): a TWAP whose
position would pass ``risk.max_position_size`` of equity is refused up front with the
gate's ``max_position_size`` reason, although it is far within the KRW caps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .test_gate_paths import orders_in, stand_in, twap, write_config

pytestmark = pytest.mark.anyio


def test_a_twap_past_the_share_of_equity_is_refused(workdir: Path) -> None:
    standin, clock = stand_in()
    # 10 M KRW paper wallet: 0.2 of equity is 2 M, far below the 50 M KRW cap.
    config = write_config(workdir, risk={"max_position_size": 0.2})
    result = twap(config, "3000000", standin, clock)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "max_position_size" in lines[0] and "of equity" in lines[0]
    assert orders_in(workdir) == [] and standin.order_posts == 0


def test_a_twap_within_the_share_goes_out(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir, risk={"max_position_size": 0.2})
    result = twap(config, "1500000", standin, clock, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "done" and out["slices_sent"] == 6
