"""Exception types whose messages a user can act on.

Every error the core raises for bad input or a failing resource derives from `CnnLensError`; front ends show
`str(error)` to the user (status bar, stderr) and keep running.
"""


class CnnLensError(Exception):
    """Base class for every user-facing CNN Lens error."""


class SourceError(CnnLensError):
    """A frame source could not be opened or stopped delivering frames."""


class ModelError(CnnLensError):
    """A model could not be found, downloaded, loaded or run."""


class ModelNotFoundError(ModelError):
    """A model id is not in the catalog and is not a readable model file."""


class ModelUnavailableError(ModelError):
    """A catalog model has no weights on this machine and cannot be downloaded now."""


class ModelTaskError(ModelError):
    """A model's own task does not match the task it was asked to perform."""


class RecordingError(CnnLensError):
    """A recording could not be started or had to stop (unwritable target, disk full)."""


class InsightError(CnnLensError):
    """A view inside the network (feature maps, CAM, FGSM, Teach) cannot be produced for this model or input."""
