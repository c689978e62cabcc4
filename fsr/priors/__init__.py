"""3D facial priors for face SR: a MediaPipe mesh fitted to the (degraded) crop and rendered
pixel-aligned as a shaded face on black, plus a coefficient vector; the one prior service that
training, the benchmark and restore use (:mod:`fsr.priors.service`: sources, cache, packer);
and readers for the SAM3D authors' own prior files.

    from fsr.priors import compute_prior, COEFF_LEN
    prior = compute_prior(lr_crop_uint8, size=32)
    prior.render.shape, prior.coeffs.shape, prior.fitted  # -> ((32, 32, 3), (117,), True)

    from fsr.priors import PriorCache, pack_priors
    p = PriorCache(None).get(lq)                   # from the degraded input, at its size
    method(lq_tensor, pack_priors([p]))            # {'render': (1,3,h,w), 'coeffs': (1,117)}
"""

from fsr.priors.authors import AuthorsPriorError, load_authors_prior, split_authors_coeffs
from fsr.priors.coeffs import COEFF_LAYOUT, COEFF_LEN, pack_coeffs, unpack_coeffs
from fsr.priors.prior import Prior, compute_prior, render_mesh
from fsr.priors.service import (
    PRIOR_SOURCES,
    PRIOR_VERSION,
    PriorCache,
    default_prior_dir,
    pack_priors,
)
from fsr.priors.sheet import contact_sheet

__all__ = [
    "COEFF_LAYOUT", "COEFF_LEN", "PRIOR_SOURCES", "PRIOR_VERSION", "AuthorsPriorError", "Prior",
    "PriorCache", "compute_prior", "contact_sheet", "default_prior_dir", "load_authors_prior",
    "pack_coeffs", "pack_priors", "render_mesh", "split_authors_coeffs", "unpack_coeffs",
]
