// placeholder: filled in by the change that adds this module
