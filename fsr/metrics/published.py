"""Published CelebA-Test rows, with their sources: shown beside a run's own numbers, marked
"published, not measured here". Never mixed into a run's results or its rankings.

Each table keeps the paper's own column meaning: ``columns`` maps the paper's header to the fsr
metric whose definition it uses (``None`` where fsr has no such row, e.g. DISTS) and says how
the paper computed it. The two tables do not compare with each other: different LQ sets, FID
references and identity code (RestoreFormer++ Deg is 29.63 in PMRF's table, 70.51 in
OSDFace's). Values were transcribed from the table images in the authors' repositories
(``source``), digits as printed.

    >>> rows = published_rows('celeba_test')
    >>> [t.paper for t in rows]
    ['PMRF (ICLR 2025)', 'OSDFace (CVPR 2025)']
    >>> rows[0].rows['PMRF']['identity-deg']
    30.67
"""

from __future__ import annotations

from dataclasses import dataclass, field

LABEL = "published, not measured here"


@dataclass(frozen=True)
class PublishedTable:
    """One paper's table: ``rows[method][column] = value`` under the paper's own protocol."""

    paper: str
    source: str  # where the numbers were read: repository, commit, file
    protocol: str  # LQ set, reference sets, scripts, as the paper's code states them
    columns: dict[str, str | None]  # column key -> how the paper computed it
    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    label: str = LABEL


_PMRF_COLUMNS = ("fid", "kid", "niqe-basicsr", "precision", "psnr", "ssim", "lpips-vgg",
                 "identity-deg", "lmd")
_PMRF = {  # FID KID NIQE Precision PSNR SSIM LPIPS Deg LMD
    "DOT": (100.2, 0.0914, 6.462, 0.1600, 21.32, 0.6636, 0.4756, 43.87, 2.876),
    "RestoreFormer++": (41.15, 0.0290, 4.187, 0.6877, 25.31, 0.6703, 0.3441, 29.63, 2.043),
    "RestoreFormer": (42.30, 0.0301, 4.405, 0.7010, 24.62, 0.6460, 0.3655, 32.13, 2.299),
    "CodeFormer": (53.16, 0.0425, 4.649, 0.6940, 25.15, 0.6700, 0.3432, 37.28, 2.470),
    "VQFRv1": (41.79, 0.0297, 3.693, 0.6593, 24.07, 0.6446, 0.3515, 35.75, 2.429),
    "VQFRv2": (46.77, 0.0346, 4.169, 0.6590, 23.23, 0.6412, 0.3624, 44.38, 3.053),
    "GFPGAN": (46.72, 0.0350, 4.415, 0.6970, 24.99, 0.6774, 0.3643, 36.05, 2.443),
    "DiffBIR": (59.06, 0.0509, 6.084, 0.5643, 25.39, 0.6536, 0.3878, 32.94, 2.006),
    "DifFace": (38.43, 0.0258, 4.288, 0.7413, 24.80, 0.6726, 0.3999, 45.79, 2.965),
    "BFRffusion": (41.53, 0.0301, 4.966, 0.6623, 26.21, 0.6917, 0.3619, 30.98, 1.992),
    "PMRF": (37.46, 0.0257, 4.118, 0.7073, 26.37, 0.7073, 0.3470, 30.67, 2.030),
}

_OSD_COLUMNS = ("lpips", "dists", "musiq", "niqe", "identity-deg", "lmd", "fid", "fid-hq")
_OSD = {  # LPIPS DISTS MUSIQ NIQE Deg LMD FID(FFHQ) FID(HQ)
    "RestoreFormer++": (0.4535, 0.2301, 72.3612, 3.9524, 70.5083, 8.8019, 57.3723, 72.7880),
    "VQFR": (0.3390, 0.2131, 73.2969, 4.8374, 62.2595, 5.7297, 58.1044, 24.9093),
    "CodeFormer": (0.3412, 0.2151, 75.9432, 4.5157, 62.1972, 5.3819, 62.0280, 26.8595),
    "DAEFR": (0.3580, 0.2146, 74.9853, 4.4161, 62.8184, 5.6332, 52.0341, 26.0458),
    "PGDiff (s=1000)": (0.3866, 0.1949, 69.5676, 4.0010, 71.5996, 7.3109, 44.6258, 26.3694),
    "DifFace (s=250)": (0.3469, 0.2126, 66.7451, 4.6381, 63.4511, 5.4759, 49.8075, 22.2370),
    "DiffBIR (s=50)": (0.3740, 0.2340, 75.6360, 6.2801, 61.0238, 5.1042, 71.7767, 32.5109),
    "OSEDiff (s=1)": (0.4708, 0.3165, 51.2566, 6.6968, 72.7112, 10.9948, 89.8160, 68.3579),
    "OSEDiff* (s=1)": (0.3496, 0.2200, 69.9807, 5.3280, 67.4026, 7.4082, 81.3624, 37.1309),
    "OSDFace (s=1)": (0.3365, 0.1773, 75.6398, 3.8840, 60.0708, 5.2867, 45.4150, 17.0617),
}

TABLES = {
    "celeba_test": (
        PublishedTable(
            paper="PMRF (ICLR 2025)",
            source="github.com/ohayonguy/PMRF@b6f16a41af45646a6a726f4fd55459b382594633 "
                   "assets/celeba-test-table.png",
            protocol="GFPGAN's CelebA-Test (3000, 512); evaluation/compute_metrics_blind.py: "
                     "FID/KID/precision by torch-fidelity against all 70k FFHQ-512, NIQE "
                     "BasicSR (Y), PSNR/SSIM BasicSR (RGB, crop 0), LPIPS VGG, Deg and LMD "
                     "VQFR's scripts",
            columns={"fid": "FID vs FFHQ-512 70k (torch-fidelity)", "kid": "KID vs FFHQ-512 "
                     "70k (torch-fidelity)", "niqe-basicsr": "NIQE (BasicSR calculate_niqe, Y)",
                     "precision": None, "psnr": "PSNR", "ssim": "SSIM", "lpips-vgg": "LPIPS VGG",
                     "identity-deg": "Deg (VQFR calculate_cos_dist.py)",
                     "lmd": "LMD (VQFR calculate_landmark_distance.py)"},
            rows={m: dict(zip(_PMRF_COLUMNS, v, strict=True)) for m, v in _PMRF.items()},
        ),
        PublishedTable(
            paper="OSDFace (CVPR 2025)",
            source="github.com/jkwang28/OSDFace@065222742848c7dda06e5a6e99f47e4ceace18d6 "
                   "assets/images/quan-celeba.png",
            protocol="CelebA-Test with DAEFR's LQ set (not GFPGAN's); FID against FFHQ and "
                     "against the HQ set; the metric code is the paper's statement, not "
                     "checked here (the repository ships no evaluation script)",
            columns={"lpips": "LPIPS (network not stated in the table)", "dists": None,
                     "musiq": "MUSIQ", "niqe": "NIQE", "identity-deg": "Deg",
                     "lmd": "LMD", "fid": "FID vs FFHQ", "fid-hq": "FID vs the HQ set"},
            rows={m: dict(zip(_OSD_COLUMNS, v, strict=True)) for m, v in _OSD.items()},
        ),
    ),
}


def published_rows(suite: str) -> tuple[PublishedTable, ...]:
    """The published tables for a suite name ('celeba_test'), or () when there are none."""
    return TABLES.get(suite, ())


__all__ = ["LABEL", "TABLES", "PublishedTable", "published_rows"]
