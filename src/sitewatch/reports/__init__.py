"""Open-source text reports: read, extract claims, link them to detections."""
