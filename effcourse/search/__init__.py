"""Search helpers of chapter 7 (automation): one submodule per lesson.

* :mod:`effcourse.search.compression` — per-layer compression search: the gzip size of a list of
  weight arrays, the best point within a size budget, and the hypervolume of a size/accuracy front
  (lesson 3, ``chapters/ch07_automation/03_compression_search``).

Taught in: chapters/ch07_automation
"""
