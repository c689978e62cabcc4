"""Contact sheet of the sample set's test faces: the aligned crop and the 3D prior rendered
from its degraded x4 input (32 px, as the benchmark computes it), with the crop's yaw.

    python bench/studies/contact_sheet.py -o docs/img/samples_test_sheet.png --count 24
"""

from __future__ import annotations

import argparse
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="docs/img/samples_test_sheet.png")
    parser.add_argument("--count", type=int, default=24, help="faces, spread over |yaw|")
    args = parser.parse_args()

    import numpy as np

    from fsr.data.degradations import bicubic_down
    from fsr.data.samples import load_image, load_samples
    from fsr.imageio import write_image
    from fsr.priors import compute_prior, contact_sheet

    test = sorted((s for s in load_samples("test") if s.pose_ok), key=lambda s: abs(s.yaw))
    picks = [test[round(i)] for i in np.linspace(0, len(test) - 1, min(args.count, len(test)))]
    crops, renders, yaws = [], [], []
    for sample in picks:
        gt = load_image(sample, 128)
        lr = (bicubic_down(gt, 4) * 255).round().astype(np.uint8)
        prior = compute_prior(lr, size=128)  # from the degraded 32 px input only
        crops.append(gt)
        renders.append(prior.render)
        yaws.append(sample.yaw)
    sheet = contact_sheet(crops, renders, yaws, tile=128, cols=4)
    write_image(args.output, sheet)
    print(f"wrote {args.output}: {len(picks)} test faces (crop | prior render from the x4 input)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
