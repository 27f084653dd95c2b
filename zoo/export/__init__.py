"""Export of zoo models as SavedModels with named signatures (TF Serving layout), and their checks."""
from zoo.export.archive import (check_export, compare_outputs, export_saved_model, signature_docs,
                                weights_from_saved_model)
from zoo.export.endpoint import Endpoint

__all__ = ["Endpoint", "check_export", "compare_outputs", "export_saved_model", "signature_docs",
           "weights_from_saved_model"]
