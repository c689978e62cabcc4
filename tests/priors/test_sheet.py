import numpy as np
import pytest

from fsr.priors import contact_sheet


def test_contact_sheet_layout():
    crops = [np.full((40, 40, 3), 200, np.uint8)] * 5
    renders = [np.full((16, 16, 3), 0.5, np.float32)] * 5
    sheet = contact_sheet(crops, renders, [10.0, -20.0, float("nan"), 0, 45], tile=32, cols=3)
    assert sheet.dtype == np.uint8 and sheet.shape == (2 * (32 + 16 + 4) + 4, 3 * (68 + 4) + 4, 3)
    assert sheet[4 + 10, 4 + 10].tolist() == [200, 200, 200]
    assert sheet[4 + 10, 4 + 36 + 10].tolist() == [128, 128, 128]


def test_contact_sheet_errors():
    with pytest.raises(ValueError):
        contact_sheet([np.zeros((8, 8, 3))], [])
    with pytest.raises(ValueError):
        contact_sheet([np.zeros((8, 8, 3))], [np.zeros((8, 8, 3))], yaws=[1, 2])
