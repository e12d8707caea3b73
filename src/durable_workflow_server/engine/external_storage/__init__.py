"""Server-side external payload storage: drivers, offloading over the threshold, the storage test."""
