"""Optional, platform-limited packages: ask before using them, skip cleanly where they are missing.

``tflite-micro`` (TensorFlow Lite Micro's Python interpreter) publishes wheels for Linux x86_64
only, so the course installs it only there (the ``micro`` extra carries the environment marker
``sys_platform == 'linux' and platform_machine == 'x86_64'``). A notebook section that needs it asks first::

    from effcourse.deploy import optional
    if optional.available("tflite_micro"):
        ...                                   # run the model on TFLM
    else:
        print(optional.missing_message("tflite_micro"))   # and carry on

Taught in: chapters/ch02_compression/02_quantizing_a_model
"""

from __future__ import annotations

import importlib.util
import platform
import sys

# import name -> (distribution, (sys.platform, machine) pairs it has wheels for, extra that installs it)
PACKAGES = {
    "tflite_micro": ("tflite-micro", (("linux", "x86_64"),), "micro"),
}


def available(module: str) -> bool:
    """True when ``module`` can be imported here (without importing it).

    Example:
        >>> available("numpy")
        True

    Args:
        module: an import name such as ``"tflite_micro"``.

    Returns:
        Whether the module is installed in this environment.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    return importlib.util.find_spec(module) is not None


def missing_message(module: str) -> str:
    """One sentence saying why ``module`` is missing here and what to do.

    Example:
        >>> "pip install" in missing_message("tflite_micro") or "Linux" in missing_message("tflite_micro")
        True

    Args:
        module: an import name listed in :data:`PACKAGES` (others get a generic sentence).

    Returns:
        The explanation, for a notebook to print instead of running the section.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    if module not in PACKAGES:
        return f"{module} is not installed; install it to run this part"
    dist, platforms, extra = PACKAGES[module]
    machine = platform.machine().lower()
    if not any(sys.platform.startswith(p) and machine in (m, "amd64" if m == "x86_64" else m) for p, m in platforms):
        where = ", ".join(f"{p.capitalize()} {m}" for p, m in platforms)
        return (
            f"{dist} publishes wheels for {where} only, so this part is skipped on {sys.platform} {machine}; "
            f"run it on {where} (e.g. a container or Colab) to see it"
        )
    return f'{dist} is not installed: pip install "effcourse[{extra}]" (or make lab) to run this part'


def require(module: str):
    """Import ``module``, or raise ``ModuleNotFoundError`` with :func:`missing_message`.

    Example:
        >>> require("numpy").__name__
        'numpy'

    Args:
        module: an import name.

    Returns:
        The imported module.

    Raises:
        ModuleNotFoundError: the module is not installed (the message says why and what to do).

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    if not available(module):
        raise ModuleNotFoundError(missing_message(module), name=module)
    return importlib.import_module(module)
