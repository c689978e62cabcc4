import torch

# One intra-op thread: on a loaded 2-core machine two OpenMP threads ran ~25x slower.
torch.set_num_threads(1)
