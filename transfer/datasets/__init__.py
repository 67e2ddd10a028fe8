# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Datasets: TFRecords to read, photos to convert, and how a converted set is published.

  records      the shards of a split (checked once), the TFExample decoder, labels
  photos       listing and decoding photos, re-encoding what is not an RGB JPEG
  convert      photos -> sharded TFRecords in TF-slim's layout
  publish      a converted set appears as a whole, or not at all
  flowers      the flowers photos' download
  demo_photos  the embedded, drawn demo set
"""
