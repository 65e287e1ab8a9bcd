"""Search helpers of chapter 7 (automation): one submodule per lesson.

* :mod:`effcourse.search.hyperparameters` — hyper-parameter search: draw a configuration from a
  mixed space (uniform, log-uniform, int, choice), random search over it, and best-so-far curves
  (lesson 1, ``chapters/ch07_automation/01_hyperparameter_search``).
* :mod:`effcourse.search.nasbench` — a course-scale NAS-Bench-101: the cell space (prune, graph
  hash, validity, parameters, FLOPs), the shipped table of its 334 networks trained on the 8x8
  digits (``load()``, ``query(matrix, ops)``) and the training function that made it
  (lesson 2, ``chapters/ch07_automation/02_architecture_search``).
* :mod:`effcourse.search.evolution` — regularised (aging) evolution: ``mutate`` and
  ``evolution_step`` (lesson 2; both are the graded exercises' sealed references).
* :mod:`effcourse.search.compression` — per-layer compression search: the gzip size of a list of
  weight arrays, the best point within a size budget, and the hypervolume of a size/accuracy front
  (lesson 3, ``chapters/ch07_automation/03_compression_search``).

Taught in: chapters/ch07_automation
"""
