"""The leaderboard shows the papers' published CelebA-Test rows after a matching run's
all-poses table, marked "published, not measured here", in the papers' column order."""

from fsr.bench.leaderboard.published import published_block, published_tables
from fsr.metrics.published import LABEL, TABLES


def _manifest(suite="celeba_test", datasets=None):
    return {"suite": {"name": suite}, "datasets": datasets or {}}


def test_block_has_every_published_row_labelled():
    lines = published_block(_manifest())
    text = "\n".join(lines)
    assert lines[0] == f"#### Published CelebA-Test tables: {LABEL}"
    for t in TABLES["celeba_test"]:
        assert f"**{t.paper}** ({LABEL}). Source: {t.source}." in text
        for method in t.rows:
            assert any(line.startswith(f"| {method} | ") for line in lines), method
    # PMRF's own row, in the papers' order Deg, LMD, LPIPS, PSNR, SSIM, FID, KID, NIQE, precision
    header = next(line for line in lines if line.startswith("| method | Deg"))
    assert header == ("| method | Deg ↓ | LMD ↓ | LPIPS ↓ | PSNR ↑ | SSIM ↑ | FID ↓ | KID ↓ | "
                      "NIQE ↓ | Precision ↑ |")
    assert "| PMRF | 30.67 | 2.030 | 0.3470 | 26.37 | 0.7073 | 37.46 | 0.0257 | 4.118 | 0.7073 |" \
        in lines
    # precision as printed: 0.1600 beside 0.6877
    assert any(line.startswith("| DOT | 43.87 |") and line.endswith("| 0.1600 |") for line in lines)
    assert "MUSIQ ↑" in text and "DISTS: as the paper states -> no fsr row" in text


def test_matches_by_dataset_type_and_not_otherwise():
    by_type = _manifest("my-celeba-run", {"celeba-test": {"type": "celeba-test"}})
    assert published_tables(by_type)[0] == "celeba_test"
    assert published_block(_manifest("ffhq", {"ffhq": {"type": "folder"}})) == []
    assert published_block({"suite": {}, "datasets": {}}) == []
