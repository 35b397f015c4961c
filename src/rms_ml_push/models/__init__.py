"""Pure CPU model code: fit / predict / evaluate, one subpackage per prediction family."""
