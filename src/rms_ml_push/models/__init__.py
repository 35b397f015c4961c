"""Pure CPU model code: fit, predict and evaluate, one package per prediction family."""
