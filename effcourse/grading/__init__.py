"""Safe autograding: each submission runs in a sandbox; the grader re-checks exported values.

See INSTRUCTORS.md ("Security model") for what is protected and how. Modules:

- :mod:`effcourse.grading.notebooks`: read a submission defensively and rebuild it on the
  trusted source (test cells restored, the learner's answers kept);
- :mod:`effcourse.grading.cut`: the grading cut (only setup, answer, learner and test cells
  run) and the static check that graded cells need nothing else;
- :mod:`effcourse.grading.sandbox`: run a submission's notebooks in one sandbox with no network,
  no course folder, an unprivileged user and hard limits;
- :mod:`effcourse.grading.zygote`: the submission's fork server in that sandbox: imports once,
  forks a fresh kernel per notebook;
- :mod:`effcourse.grading.runner`: execute cell by cell with timeouts, restarts and output caps;
- :mod:`effcourse.grading.grader`: grade a batch into the nbgrader gradebook, with backups, on
  local worker processes, any ``concurrent.futures.Executor`` or a Dask cluster;
- :mod:`effcourse.grading.cli`: ``effcourse validate NB`` and ``effcourse grade ASSIGNMENT``.

Taught in: INSTRUCTORS.md
"""
