"""Session-wide test settings."""

import os

# OpenMP threads that spin while waiting make torch 10-30x slower whenever the 2 cores are
# shared (measured: Real-ESRGAN on 32x32 took 33 s instead of 1.4 s). Set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
