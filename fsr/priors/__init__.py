"""3D facial priors for face SR: a MediaPipe mesh fitted to the (degraded) crop and rendered
pixel-aligned as a shaded face on black, plus a coefficient vector; and readers for the SAM3D
authors' own prior files.

    from fsr.priors import compute_prior, COEFF_LEN
    prior = compute_prior(lr_crop_uint8, size=32)
    prior.render.shape, prior.coeffs.shape, prior.fitted  # -> ((32, 32, 3), (117,), True)
"""

from fsr.priors.authors import AuthorsPriorError, load_authors_prior, split_authors_coeffs
from fsr.priors.coeffs import COEFF_LAYOUT, COEFF_LEN, pack_coeffs, unpack_coeffs
from fsr.priors.prior import Prior, compute_prior, render_mesh
from fsr.priors.sheet import contact_sheet

__all__ = [
    "COEFF_LAYOUT", "COEFF_LEN", "AuthorsPriorError", "Prior", "compute_prior", "contact_sheet",
    "load_authors_prior", "pack_coeffs", "render_mesh", "split_authors_coeffs", "unpack_coeffs",
]
