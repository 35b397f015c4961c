"""The CLI frame: settings errors become exit 2 with one line per problem, no traceback."""

from __future__ import annotations

import pytest

from rms_ml_push.cli import main


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` prints usage and exits 0."""
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "config" in capsys.readouterr().out


def test_bad_settings_exit_2_one_line_each(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two bad settings give exit code 2 and exactly two problem lines naming the variables."""
    monkeypatch.setenv("RMS_ML_STORE_URL", "mysql://nope")
    monkeypatch.setenv("RMS_ML_DELIVERY__BATCH_SIZE", "0")
    assert main(["config", "check", "--no-rms"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("config error:")]
    assert len(lines) == 2, err
    assert any("RMS_ML_STORE_URL" in line for line in lines)
    assert any("RMS_ML_DELIVERY__BATCH_SIZE" in line for line in lines)
    assert "Traceback" not in err
