"""Pure model code: fit, predict and evaluate, one sub-package per prediction family."""
