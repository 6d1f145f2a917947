"""How chatstack is deployed: the stack definition, the local stage, and (later) Terraform."""
