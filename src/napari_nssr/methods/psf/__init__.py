"""The psf method: a known PSF (microscope optics or a measured PSF), the filter solved for it and the
restoration of photon-noisy images (``kernels``: PSFs; ``spectrum``: the image spectrum knowing the
PSF; ``restore``: denoise, filter and Richardson-Lucy; ``method``: the method and its settings)."""
