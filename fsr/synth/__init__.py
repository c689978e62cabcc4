"""Face synthesis: real crops turned to another head pose (face profiling, synthetic pose).

It sits above :mod:`fsr.pose` and :mod:`fsr.priors` (it fits their mesh and renders with their
rasteriser); neither imports it. :mod:`fsr.synth.profile` renders, :mod:`fsr.synth.profile_io`
caches renders of files, :mod:`fsr.synth.validity` says how much of a render is still a face.
"""
