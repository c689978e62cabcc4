"""fsr.options: option files with a `base:` resolve to the same options as a full copy."""

import pytest
from basicsr.utils.options import yaml_load

from fsr.options import OptionsError, dump_options, load_options, merge_options

BASE = """name: base
train:
  optim_g: {type: Adam, lr: !!float 1e-3}
  selfsup_opt: {type: ReDegradationLoss, loss_weight: 1.0}
  milestones: [10, 20]
network_g: {type: Net, width: 8}
"""


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def test_child_overrides_merge_key_by_key_and_other_values_replace(tmp_path):
    _write(tmp_path, "base.yml", BASE)
    child = _write(tmp_path, "child.yml", "base: base.yml\nname: child\ntrain:\n"
                   "  selfsup_opt: {loss_weight: 4.0}\n  milestones: [5]\n"
                   "network_g: {use_x: false}\n")
    opt = load_options(child)
    assert opt["name"] == "child" and "base" not in opt
    assert opt["train"]["selfsup_opt"] == {"type": "ReDegradationLoss", "loss_weight": 4.0}
    assert opt["train"]["optim_g"] == {"type": "Adam", "lr": 1e-3}   # !!float kept
    assert opt["train"]["milestones"] == [5]                            # lists replace
    assert opt["network_g"] == {"type": "Net", "width": 8, "use_x": False}


def test_null_removes_a_base_value_and_order_is_the_base_s(tmp_path):
    _write(tmp_path, "base.yml", BASE)
    child = _write(tmp_path, "c.yml", "base: base.yml\ntrain: {selfsup_opt: ~}\nextra: 1\n")
    opt = load_options(child)
    assert opt["train"]["selfsup_opt"] is None
    assert list(opt) == ["name", "train", "network_g", "extra"]


def test_a_chain_resolves_relative_to_each_file(tmp_path):
    (tmp_path / "sub").mkdir()
    _write(tmp_path, "base.yml", BASE)
    _write(tmp_path / "sub", "mid.yml", "base: ../base.yml\nnetwork_g: {width: 16}\n")
    top = _write(tmp_path, "top.yml", "base: sub/mid.yml\nname: top\n")
    opt = load_options(top)
    assert opt["network_g"]["width"] == 16 and opt["name"] == "top"


def test_a_file_without_base_reads_as_basicsr_reads_it(tmp_path):
    path = _write(tmp_path, "base.yml", BASE)
    assert load_options(path) == yaml_load(str(path))


def test_the_dump_reads_back_to_the_same_options(tmp_path):
    _write(tmp_path, "base.yml", BASE)
    child = _write(tmp_path, "c.yml", "base: base.yml\ntrain: {selfsup_opt: ~}\n")
    opt = load_options(child)
    dumped = _write(tmp_path, "dumped.yml", dump_options(opt))
    assert yaml_load(str(dumped)) == opt


@pytest.mark.parametrize("files, message", [
    ({"a.yml": "base: b.yml\n", "b.yml": "base: a.yml\n"}, "base chain loops"),
    ({"a.yml": "base: nowhere.yml\n"}, "base 'nowhere.yml' not found"),
    ({"a.yml": "base: [1, 2]\n"}, "base must be a file name"),
    ({"a.yml": "- 1\n- 2\n"}, "must be a mapping"),
    ({"a.yml": "name: [unclosed\n"}, "not valid YAML"),
])
def test_bad_files_get_one_line_naming_the_file(tmp_path, files, message):
    for name, text in files.items():
        _write(tmp_path, name, text)
    with pytest.raises(OptionsError, match=message) as err:
        load_options(tmp_path / "a.yml")
    assert "a.yml" in str(err.value) and "\n" not in str(err.value)


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(OptionsError, match="cannot read option file"):
        load_options(tmp_path / "missing.yml")


def test_merge_does_not_change_its_inputs():
    base, override = {"a": {"x": 1}}, {"a": {"y": 2}}
    assert merge_options(base, override) == {"a": {"x": 1, "y": 2}}
    assert base == {"a": {"x": 1}} and override == {"a": {"y": 2}}
